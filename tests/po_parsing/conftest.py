from __future__ import annotations

import pytest

from tests.fixtures.po_corpus.generator import CorpusDocument, build_corpus
from tray_agent.config import Settings


@pytest.fixture(scope="session")
def corpus() -> dict[str, CorpusDocument]:
    """One document per layout, generated once per test session (about half a second)."""
    return {document.layout: document for document in build_corpus(seed=11, per_layout=1)}


@pytest.fixture
def settings() -> Settings:
    return Settings()
