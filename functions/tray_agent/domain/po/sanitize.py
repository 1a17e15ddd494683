"""Text from documents is made safe to encode before anything stores or prints it.

A PDF's text layer is UTF-16 code units: an emoji (U+1F600) arrives as a surrogate pair, and a
damaged font map can yield one half alone. Python keeps lone surrogates in ``str`` but cannot
encode them as UTF-8, so DynamoDB, S3, JSON for Step Functions and a terminal all fail on them
(``UnicodeEncodeError``). Pairs are joined into their character; a lone half becomes U+FFFD.
"""

from __future__ import annotations

import re
from typing import Any, TypeVar

from pydantic import BaseModel

REPLACEMENT = "\ufffd"
_SURROGATES = re.compile("[\ud800-\udfff]")
_PAIR = re.compile("([\ud800-\udbff])([\udc00-\udfff])")
# Controls other than tab/newline/carriage return make XML, logs and terminals misbehave.
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

_M = TypeVar("_M", bound=BaseModel)


def clean_text(text: str) -> str:
    """``text`` with surrogate pairs joined, lone surrogates and control characters replaced."""
    if _SURROGATES.search(text):
        text = _PAIR.sub(_join_pair, text)
        text = _SURROGATES.sub(REPLACEMENT, text)
    if _CONTROLS.search(text):
        text = _CONTROLS.sub(REPLACEMENT, text)
    return text


def _join_pair(match: re.Match[str]) -> str:
    high, low = ord(match.group(1)), ord(match.group(2))
    return chr(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))


def clean_value(value: Any) -> Any:
    """Every string inside dicts, lists and tuples cleaned; other values unchanged."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_value(k): clean_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(clean_value(v) for v in value)
    return value


def clean_model(model: _M) -> _M:
    """The model with every string field cleaned (a new instance only when something changed)."""
    data = model.model_dump(mode="python")
    cleaned = clean_value(data)
    return model if cleaned == data else type(model).model_validate(cleaned)
