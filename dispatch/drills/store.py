"""Drill scripts kept in the workspace and in files (Qt-free).

In the workspace a script is one row of the ``documents`` table
(:data:`gis.workspace.schema.DOCUMENTS_TABLE`): ``kind`` = :data:`DRILL_SCRIPTS_KIND`,
``doc_id`` = the script's key, ``json`` = the script in the CLI's file format
(``{"name", "start", "injects": [...]}``, :mod:`dispatch.drills.script`). A workspace written
before drills simply has no such rows, so it opens as before; the generic reader and writer
carry the rows with the other documents, and the desk edits them through the session (undo).

The script is kept as its raw JSON (what the operator typed, even while an inject is still
wrong): :func:`row_problems` checks it with :func:`dispatch.drills.script.parse_script` and
gives a message per inject row, so every wrong row is shown, not only the first.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dispatch.drills.script import DrillScriptError, parse_script
from gis.model import Scenario
from gis.workspace.atomic import write_text_atomically

DRILL_SCRIPTS_KIND = "drill_scripts"

Documents = dict[str, dict[str, str]]

_INJECT_NO = re.compile(r"^inject #(\d+)")


def stored_scripts(documents: Mapping[str, Mapping[str, str]]) -> dict[str, dict[str, Any]]:
    """``key -> script data`` of the scripts stored in ``documents`` (the reader already
    refused rows that are not JSON; a row that is not a JSON object is skipped)."""
    out: dict[str, dict[str, Any]] = {}
    for key, text in (documents.get(DRILL_SCRIPTS_KIND) or {}).items():
        data = json.loads(text)
        if isinstance(data, dict):
            out[key] = data
    return out


def script_text(data: Mapping[str, Any]) -> str:
    """The script as the file format's JSON text (UTF-8, Chinese kept readable)."""
    return json.dumps(data, ensure_ascii=False, indent=1, allow_nan=False)


def with_script(
    documents: Mapping[str, Mapping[str, str]], key: str, data: Mapping[str, Any] | None
) -> Documents:
    """A copy of ``documents`` with the script ``key`` set to ``data`` (None: removed)."""
    out = {str(k): dict(v) for k, v in documents.items()}
    scripts = out.setdefault(DRILL_SCRIPTS_KIND, {})
    if data is None:
        scripts.pop(key, None)
    else:
        scripts[key] = script_text(data)
    if not scripts:
        out.pop(DRILL_SCRIPTS_KIND)
    return out


def new_key(documents: Mapping[str, Mapping[str, str]], name: str) -> str:
    """A key for a new script named ``name`` not used yet in ``documents``."""
    taken = set(documents.get(DRILL_SCRIPTS_KIND) or {})
    base = name.strip() or "演练"
    key, n = base, 2
    while key in taken:
        key, n = f"{base} ({n})", n + 1
    return key


def read_script_file(path: Path | str) -> dict[str, Any]:
    """The raw script data of the file at ``path`` (DrillScriptError if it cannot be read or is
    not a JSON object). Validation against a scenario is :func:`row_problems`' job."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise DrillScriptError(f"drill script {path}: cannot read ({exc})") from None
    except json.JSONDecodeError as exc:
        raise DrillScriptError(f"drill script {path}: not valid JSON ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("injects", []), list):
        raise DrillScriptError(
            f"drill script {path}: expected a JSON object with name, start, injects"
        )
    return data


def write_script_file(path: Path | str, data: Mapping[str, Any]) -> None:
    """Write the script in the file format the CLI reads (atomically)."""
    write_text_atomically(Path(path), script_text(data) + "\n")


def sorted_injects(data: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``data`` with the injects in time order (stable; rows without a number last):
    the table keeps the script in the order the runner needs."""
    out = copy.deepcopy(dict(data))

    def at(raw: Any) -> float:
        try:
            return float(raw.get("at_min"))
        except (AttributeError, TypeError, ValueError):
            return float("inf")

    out["injects"] = sorted(out.get("injects") or [], key=at)
    return out


def row_problems(data: Mapping[str, Any], scenario: Scenario) -> tuple[dict[int, str], str]:
    """``({row: message}, general)``: what :func:`parse_script` finds wrong with each inject
    row (0-based) of ``data`` against ``scenario``, and a message not about one inject ("" when
    none). A wrong row is set aside and the rest checked again, so later rows are checked too
    (a row that depends on a wrong one, e.g. an escalation of an incident whose inject is
    wrong, is reported as well)."""
    rows = list(data.get("injects") or [])
    alive = list(range(len(rows)))
    problems: dict[int, str] = {}
    general = ""
    for _ in range(len(rows) + 1):
        trial = {**data, "injects": [rows[i] for i in alive]}
        if not alive:
            break
        try:
            parse_script(trial, scenario)
            break
        except DrillScriptError as exc:
            text = str(exc)
            m = _INJECT_NO.match(text)
            if m is None:
                general = text
                break
            row = alive[int(m.group(1)) - 1]
            problems[row] = _INJECT_NO.sub(f"inject #{row + 1}", text, count=1)
            alive.remove(row)
    if not rows and not general:
        general = "drill script: 'injects' must be a non-empty list"
    return problems, general


__all__ = [
    "DRILL_SCRIPTS_KIND",
    "new_key",
    "read_script_file",
    "row_problems",
    "script_text",
    "sorted_injects",
    "stored_scripts",
    "with_script",
    "write_script_file",
]
