"""PDFium is not thread-safe; the parser must be (moto runs state machines in threads)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from tests.fixtures.po_corpus.generator import CorpusDocument
from tray_agent.config import Settings
from tray_agent.domain.po.parsing import parse_purchase_order


def test_parsing_from_many_threads_at_once_gives_the_same_orders(
    corpus: dict[str, CorpusDocument], settings: Settings
) -> None:
    documents = list(corpus.values())[:4]
    expected = [parse_purchase_order(d.pdf, settings=settings).model_dump(mode="json") for d in documents]

    def parse(index: int) -> dict[str, object]:
        document = documents[index % len(documents)]
        return parse_purchase_order(document.pdf, settings=settings).model_dump(mode="json")

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(parse, range(48)))

    assert results == [expected[i % len(documents)] for i in range(48)]
