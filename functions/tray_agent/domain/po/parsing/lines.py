"""Words into text lines, and lines into phrases (runs of words separated by less than a gap)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from tray_agent.domain.po.parsing.pdf_text import Word

# Two words further apart than this many font sizes belong to different cells / columns.
PHRASE_GAP_EM = 0.9


@dataclass(slots=True)
class Phrase:
    words: list[Word]
    # Computed once: the parser reads a phrase's text thousands of times, and a phrase's words
    # never change after build_lines.
    _text: str | None = field(default=None, repr=False, compare=False)

    @property
    def text(self) -> str:
        if self._text is None:
            self._text = " ".join(w.text for w in self.words)
        return self._text

    @property
    def x0(self) -> float:
        return self.words[0].x0

    @property
    def x1(self) -> float:
        return self.words[-1].x1


@dataclass(slots=True)
class Line:
    words: list[Word]
    phrases: list[Phrase] = field(default_factory=list)

    # Per-line results the parser asks for repeatedly (text, extent, header reading), computed on
    # first use after build_lines has finished the line; never changed afterwards.
    memo: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def text(self) -> str:
        text = self.memo.get("text")
        if text is None:
            text = self.memo["text"] = "  ".join(p.text for p in self.phrases)
        return text

    @property
    def top(self) -> float:
        top = self.memo.get("top")
        if top is None:
            top = self.memo["top"] = min(w.top for w in self.words)
        return top

    @property
    def bottom(self) -> float:
        bottom = self.memo.get("bottom")
        if bottom is None:
            bottom = self.memo["bottom"] = max(w.bottom for w in self.words)
        return bottom

    @property
    def x0(self) -> float:
        return self.words[0].x0

    @property
    def x1(self) -> float:
        return self.words[-1].x1

    @property
    def size(self) -> float:
        size = self.memo.get("size")
        if size is None:
            size = self.memo["size"] = max(w.size for w in self.words)
        return size

    @property
    def page(self) -> int:
        return self.words[0].page


def build_lines(words: Iterable[Word]) -> list[Line]:
    """Cluster words whose vertical extents overlap into lines, top to bottom."""
    ordered = sorted(words, key=lambda w: (w.page, _baseline(w), w.x0))
    lines: list[Line] = []
    baselines: list[float] = []
    for word in ordered:
        target = None
        baseline = _baseline(word)
        # Same baseline, within a fraction of the smaller font: a tall heading beside small print
        # must not swallow the lines next to it.
        for index in range(len(lines) - 1, max(-1, len(lines) - 5), -1):
            line = lines[index]
            if line.page != word.page:
                continue
            if abs(baselines[index] - baseline) <= 0.35 * min(word.size, line.words[0].size):
                target = line
                break
        if target is None:
            lines.append(Line(words=[word]))
            baselines.append(baseline)
        else:
            target.words.append(word)
    for line in lines:
        line.words.sort(key=lambda w: w.x0)
        line.phrases = _phrases(line.words)
        line.memo.clear()  # nothing read before the line was complete may stay
    lines.sort(key=lambda ln: (ln.page, ln.top))
    return lines


def _baseline(word: Word) -> float:
    return word.bottom - 0.2 * word.size  # pdf_text puts the box 0.2 font sizes below the baseline


def _phrases(words: list[Word]) -> list[Phrase]:
    phrases: list[Phrase] = []
    for word in words:
        if phrases:
            last = phrases[-1].words[-1]
            if word.x0 - last.x1 <= PHRASE_GAP_EM * max(last.size, word.size, 1.0):
                phrases[-1].words.append(word)
                continue
        phrases.append(Phrase(words=[word]))
    return phrases
