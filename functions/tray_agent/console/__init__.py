"""The reviewer and operator console: static files the API serves at ``/console/``.

Plain HTML, CSS and JavaScript modules (no build step, no framework): the browser calls the
same JSON routes as every other client, with the reviewer's bearer token. The files are read
when a console route is hit, never at the API's cold start.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

ASSETS_DIR = Path(__file__).parent
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}


@cache
def asset_names() -> frozenset[str]:
    """The files a request may name: exactly those shipped, so a path never leaves the folder."""
    return frozenset(p.name for p in ASSETS_DIR.iterdir() if p.is_file() and p.suffix in CONTENT_TYPES)


@cache
def read_asset(name: str) -> tuple[str, str] | None:
    """``(text, content type)`` of one shipped asset, or None when there is no such file."""
    if name not in asset_names():
        return None
    path = ASSETS_DIR / name
    return path.read_text(encoding="utf-8"), CONTENT_TYPES[path.suffix]
