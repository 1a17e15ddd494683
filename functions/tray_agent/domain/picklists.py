"""Restricted picklists: their valid values (from Tray's Platform API, cached) and the value meant.

Shared by the monitor (a run failed on a picklist value: map it and retry) and the work engine
(check a value before the trigger, so a run is never started just to fail on it).
"""

from __future__ import annotations

import difflib
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from tray_agent.observability import logger

if TYPE_CHECKING:
    from tray_agent.config import Settings
    from tray_agent.tray import TrayClients


def best_match(value: str, valid: list[str]) -> str | None:
    """The valid value meant by ``value``: same text, else the one value that contains it as a
    word ("SaaS" -> "Technology - SaaS"), else a close spelling; None when unsure."""
    if value in valid:
        return value
    lowered = value.strip().lower()
    same = [v for v in valid if v.lower() == lowered]
    if len(same) == 1:
        return same[0]
    words = [v for v in valid if lowered in {w.strip("-,()/").lower() for w in v.split()}]
    if len(words) == 1:
        return words[0]
    close = difflib.get_close_matches(value, valid, n=2, cutoff=0.85)
    return close[0] if len(close) == 1 else None


class PicklistSource:
    """A connector's picklist values through the Platform API, cached per container with a TTL.

    A picklist changes rarely and a connector call is one Tray request (within the account's
    rate limit): values are kept ``ttl_s`` seconds. ``values`` returns None when Tray cannot say
    (no authentication, an error): the caller then does not block on a check it cannot make.
    """

    def __init__(
        self,
        tray: TrayClients,
        settings: Settings,
        *,
        ttl_s: float | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._tray = tray
        self._settings = settings
        self._ttl_s = settings.picklist_cache_ttl_s if ttl_s is None else ttl_s
        self._monotonic = monotonic
        self._cache: dict[str, tuple[float, list[str]]] = {}
        self._auth: dict[str, str] = {}
        self._lock = threading.Lock()

    def values(self, connector: str, field: str, *, fresh: bool = False) -> list[str] | None:
        key = f"{connector}:{field}"
        with self._lock:
            cached = self._cache.get(key)
        if cached is not None and not fresh and self._monotonic() - cached[0] < self._ttl_s:
            return cached[1]
        from tray_agent.tray import TrayError

        sobject, _, name = field.rpartition(".")
        try:
            result = self._tray.platform.call_connector(
                connector,
                self._settings.monitor_salesforce_connector_version,
                "get_picklist_values",
                auth_id=self._auth_id(connector),
                input={"sobject": sobject or "Account", "field": name},
                idempotent=True,
            )
        except TrayError as exc:
            logger.warning("picklist values unavailable", picklist=key, code=exc.code)
            return cached[1] if cached is not None else None
        raw = result.get("values") or []
        values = [str(v["value"]) for v in raw if isinstance(v, dict) and v.get("active", True)]
        with self._lock:
            self._cache[key] = (self._monotonic(), values)
        return values

    def _auth_id(self, connector: str) -> str | None:
        if connector not in self._auth:
            configured = self._settings.monitor_salesforce_auth_id if connector == "salesforce" else ""
            if configured:
                self._auth[connector] = configured
            else:
                candidates = [
                    auth
                    for auth in self._tray.platform.list_authentications()
                    if connector in f"{auth.id} {auth.name}".lower()
                ]
                # Production credentials first: a sandbox's picklists may differ.
                candidates.sort(key=lambda auth: "prod" not in f"{auth.id} {auth.name}".lower())
                self._auth[connector] = candidates[0].id if candidates else ""
        return self._auth[connector] or None
