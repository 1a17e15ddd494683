"""Words into text lines, and lines into phrases (runs of words separated by less than a gap)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from tray_agent.domain.po.parsing.pdf_text import Word

# Two words further apart than this many font sizes belong to different cells / columns.
PHRASE_GAP_EM = 0.9


@dataclass(slots=True)
class Phrase:
    words: list[Word]

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)

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

    @property
    def text(self) -> str:
        return "  ".join(p.text for p in self.phrases)

    @property
    def top(self) -> float:
        return min(w.top for w in self.words)

    @property
    def bottom(self) -> float:
        return max(w.bottom for w in self.words)

    @property
    def x0(self) -> float:
        return self.words[0].x0

    @property
    def x1(self) -> float:
        return self.words[-1].x1

    @property
    def size(self) -> float:
        return max(w.size for w in self.words)

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
