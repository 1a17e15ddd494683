"""Reading intake records: what became of a dropped document (for the API and the demo)."""

from __future__ import annotations

from datetime import timedelta

from tray_agent.config import Settings
from tray_agent.data.po_intake import IntakeRepository
from tray_agent.errors import NotFoundError
from tray_agent.models.po_pipeline import IntakeRecord


class IntakeQueries:
    def __init__(self, repository: IntakeRepository) -> None:
        self._repository = repository

    def get(self, intake_id: str) -> IntakeRecord:
        record = self._repository.get(intake_id)
        if record is None:
            raise NotFoundError(f"no PO intake {intake_id!r}")
        return record

    def for_object(self, bucket: str, key: str) -> list[IntakeRecord]:
        return sorted(
            self._repository.for_object(bucket, key),
            key=lambda r: (r.attachment_index is not None, r.attachment_index or 0),
        )


def build_intake_queries(settings: Settings) -> IntakeQueries:
    return IntakeQueries(
        IntakeRepository(settings.po_intake_table, retention=timedelta(days=settings.decision_retention_days))
    )
