"""JSON text for the map page and ``runJavaScript`` (Qt-free): safe inside ``<script>``.

:func:`js_literal` escapes what could close a script element or break a JS literal;
names from data reach HTML only through :func:`escape` / :func:`popup_html`;
:func:`js_literal_chunked` produces the same text piece by piece, so serialising a 10 MB page
in a worker thread never holds the GIL for long (the GUI thread keeps running).
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import Any

from gis.web_text import json_for_script

__all__ = ["escape", "js_literal", "js_literal_chunked", "popup_html"]


def js_literal(value: Any) -> str:
    """JSON text safe to embed inside a ``<script>`` element or pass to ``runJavaScript``
    (:func:`gis.web_text.json_for_script`, the one definition)."""
    return json_for_script(value)


def js_literal_chunked(value: Any, chunk: int = 500) -> str:
    """The text of :func:`js_literal`, serialised piece by piece.

    One ``json.dumps`` of a 10k-facility page (10 MB) holds the GIL for its whole run, so a
    worker thread building the page stalls the GUI thread; here no single call serialises more
    than ``chunk`` scalars, ``chunk // 5`` plain records or nested lists, or one GeoJSON feature
    (its coordinates again in pieces), and the interpreter can switch threads in between.
    """
    if isinstance(value, dict):
        return (
            "{"
            + ",".join(
                f"{js_literal(str(k))}:{js_literal_chunked(v, chunk)}" for k, v in value.items()
            )
            + "}"
        )
    if not isinstance(value, list | tuple) or not value:
        return js_literal(value)
    first = value[0]
    if isinstance(first, dict) and any(
        isinstance(v, dict) and "geometry" in v or isinstance(v, dict) and "coordinates" in v
        for v in value[:1]
    ):
        return "[" + ",".join(js_literal_chunked(v, chunk) for v in value) + "]"
    step = max(1, chunk // 5) if isinstance(first, dict | list | tuple) else chunk
    if len(value) <= step:
        return js_literal(list(value))
    parts = [js_literal(list(value[i : i + step]))[1:-1] for i in range(0, len(value), step)]
    return "[" + ",".join(parts) + "]"


def escape(value: Any) -> str:
    """``value`` as text safe inside HTML (tooltips, popups): names come from data."""
    return html.escape(str(value), quote=True)


def popup_html(title: str, rows: Iterable[tuple[str, Any]]) -> str:
    """A small attribute table; every value is HTML-escaped."""
    body = "".join(
        f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in rows if v not in ("", None)
    )
    return f'<div class="rd-popup"><div class="rd-title">{escape(title)}</div><table>{body}</table></div>'
