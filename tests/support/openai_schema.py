"""Checks a request body against the request TypedDicts the ``openai`` package publishes.

``openai.types.chat.completion_create_params.CompletionCreateParamsNonStreaming`` is the SDK's
own description of what ``POST /chat/completions`` takes. This walks it (TypedDicts, unions,
literals, lists, maps) and names the first problem: a key the type does not declare anywhere in
the body, a missing required key, a value of the wrong type. pydantic is not used because it
validates ``Iterable`` fields lazily and cannot forbid extra keys on the SDK's TypedDicts.
"""

from __future__ import annotations

import collections.abc
import types
import typing
from functools import cache
from typing import Any, Literal, NotRequired, Required, Union, get_args, get_origin

from typing_extensions import is_typeddict


class RequestSchemaError(ValueError):
    def __init__(self, path: str, problem: str, *, unknown_key: str | None = None) -> None:
        super().__init__(f"{path or 'body'}: {problem}")
        self.path = path
        self.unknown_key = unknown_key


@cache
def _hints(typed_dict: type) -> dict[str, Any]:
    return typing.get_type_hints(typed_dict, include_extras=True)


@cache
def _required(typed_dict: type) -> frozenset[str]:
    # The SDK's modules use postponed annotations, so ``__required_keys__`` may not see
    # ``Required[...]``: read the resolved hints too.
    declared: set[str] = set(typed_dict.__required_keys__)  # type: ignore[attr-defined]
    for key, hint in _hints(typed_dict).items():
        if get_origin(hint) is Required:
            declared.add(key)
        elif get_origin(hint) is NotRequired:
            declared.discard(key)
    return frozenset(declared)


def chat_completion_params() -> type:
    from openai.types.chat.completion_create_params import CompletionCreateParamsNonStreaming

    return CompletionCreateParamsNonStreaming


def check(value: Any, annotation: Any, path: str = "") -> None:  # noqa: PLR0911, PLR0912 - one case per kind of type
    """Raise ``RequestSchemaError`` if ``value`` does not fit ``annotation``."""
    origin = get_origin(annotation)
    if annotation is Any or annotation is object:
        return
    if origin in (Required, NotRequired, typing.Annotated):
        check(value, get_args(annotation)[0], path)
        return
    if origin in (Union, types.UnionType):
        errors = []
        for option in get_args(annotation):
            try:
                check(value, option, path)
                return
            except RequestSchemaError as exc:
                errors.append(exc)
        # The most specific failure (an unknown key deep inside the matching shape) is the useful one.
        raise max(errors, key=lambda e: (e.unknown_key is not None, len(e.path)))
    if annotation is type(None):
        if value is not None:
            raise RequestSchemaError(path, "expected null")
        return
    if origin is Literal:
        if value not in get_args(annotation):
            raise RequestSchemaError(path, f"{value!r} is not one of {get_args(annotation)}")
        return
    if is_typeddict(annotation):
        _check_typed_dict(value, annotation, path)
        return
    if origin in (dict, collections.abc.Mapping) or annotation is dict:
        if not isinstance(value, dict):
            raise RequestSchemaError(path, "expected an object")
        args = get_args(annotation)
        for key, item in value.items():
            if args:
                check(item, args[1], f"{path}.{key}")
        return
    if origin in (list, collections.abc.Iterable, collections.abc.Sequence) or (
        isinstance(origin, type) and origin.__name__ == "SequenceNotStr"
    ):
        if not isinstance(value, list):
            raise RequestSchemaError(path, "expected an array")
        (item_type,) = get_args(annotation) or (Any,)
        for n, item in enumerate(value):
            check(item, item_type, f"{path}[{n}]")
        return
    if getattr(annotation, "__name__", "") == "SequenceNotStr":
        if not isinstance(value, list):
            raise RequestSchemaError(path, "expected an array")
        return
    if annotation is str:
        if not isinstance(value, str):
            raise RequestSchemaError(path, "expected a string")
        return
    if annotation is bool:
        if not isinstance(value, bool):
            raise RequestSchemaError(path, "expected a boolean")
        return
    if annotation is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise RequestSchemaError(path, "expected an integer")
        return
    if annotation is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise RequestSchemaError(path, "expected a number")
        return
    if isinstance(annotation, typing.TypeAliasType if hasattr(typing, "TypeAliasType") else ()):
        check(value, annotation.__value__, path)
        return
    raise RequestSchemaError(path, f"the checker does not know the type {annotation!r}")


def _check_typed_dict(value: Any, typed_dict: type, path: str) -> None:
    if not isinstance(value, dict):
        raise RequestSchemaError(path, f"expected an object ({typed_dict.__name__})")
    hints = _hints(typed_dict)
    for key in value:
        if key not in hints:
            where = f"{path}.{key}" if path else key
            raise RequestSchemaError(where, f"unknown parameter {key!r}", unknown_key=key)
    for key in _required(typed_dict):
        if key not in value:
            raise RequestSchemaError(f"{path}.{key}" if path else key, "missing required parameter")
    for key, item in value.items():
        check(item, hints[key], f"{path}.{key}" if path else key)
