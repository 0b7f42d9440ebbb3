"""JSON text that is safe inside an HTML ``<script>`` element or a ``runJavaScript`` call.

The one definition shared by the desk's map page (:mod:`gui.js_text`) and the offline HTML map
export (:mod:`dispatch.export.html_map`): names from data reach a page only as data, never as
markup or code. A leaf module (standard library only).
"""

from __future__ import annotations

import json
from typing import Any


def json_for_script(value: Any) -> str:
    """Compact JSON of ``value`` with ``<``, ``>``, ``&`` and the JS line separators escaped, so
    no text can close the script element or break out of the literal. NaN/Infinity are refused
    (ValueError): they are not JSON."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


__all__ = ["json_for_script"]
