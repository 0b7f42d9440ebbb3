"""The shared workspace's audit trail as a table for people: CSV or XLSX (``app.py db-audit``).

Rows come from :func:`gis.workspace.postgis.read_audit` (written by the database's triggers);
the files are written by the layer export's own table writers (:mod:`gis.imports.export`:
formulas defused in CSV, text cells never formulas in XLSX), into a temporary file that
replaces the target, so a failed export leaves nothing half-written.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from gis.errors import WorkspaceError
from gis.imports.export import _write_csv, _write_xlsx  # the one writer of table exports
from gis.workspace.postgis import AuditEntry, connect, read_audit

HEADERS = ("序号", "时间", "用户", "表", "记录", "操作", "版本", "修改前", "修改后")


def audit_rows(entries: list[AuditEntry]) -> list[list[Any]]:
    """Plain cells: the time as ISO text, before/after as compact JSON text."""

    def js(d: Any) -> str:
        return "" if d is None else json.dumps(d, ensure_ascii=False, sort_keys=True)

    return [
        [
            e.id,
            e.at.isoformat(timespec="milliseconds"),
            e.who,
            e.table,
            e.key,
            e.op,
            "" if e.version is None else e.version,
            js(e.before),
            js(e.after),
        ]
        for e in entries
    ]


def export_audit(url: str, out: Path, *, table: str | None = None) -> int:
    """Write the audit trail (of one table, or all) to ``out`` (.csv or .xlsx); the row count."""
    out = Path(out)
    fmt = out.suffix.lower().lstrip(".")
    if fmt not in ("csv", "xlsx"):
        raise WorkspaceError(f"{out}: expected a .csv or .xlsx file name")
    if not out.parent.is_dir():
        raise WorkspaceError(f"{out}: directory {out.parent} does not exist")
    with connect(url, autocommit=True) as conn:
        rows = audit_rows(read_audit(conn, table=table))
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".audit-") as tmpdir:
        tmp = Path(tmpdir) / out.name
        if fmt == "xlsx":
            _write_xlsx(tmp, "审计记录", list(HEADERS), rows)
        else:
            _write_csv(tmp, list(HEADERS), rows)
        tmp.replace(out)
    return len(rows)
