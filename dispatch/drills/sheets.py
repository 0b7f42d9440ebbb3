"""The one XLSX writer of the drill outputs: ``report.xlsx`` (:mod:`dispatch.drills.report`),
``compare.xlsx`` (:mod:`dispatch.drills.compare_cli`) and ``review.xlsx``
(:mod:`dispatch.drills.review_cli`).

Each sheet is a :class:`Sheet` (name, header row, data rows, and optionally notes written after
one blank row, outside the auto-filter). Cells go through the plan export's sheet grid
(:class:`dispatch.export.xlsx.SheetGrid`, :func:`~dispatch.export.xlsx.sheet_row`), so text
from data is cleaned and stays text (never a formula). The file is written to a temporary
name and renamed: a failed write leaves no half-written file (:class:`ExportError`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from dispatch.export.pdf_base import ExportError
from dispatch.export.xlsx import SheetGrid, sheet_row


@dataclass(frozen=True)
class Sheet:
    """One worksheet: ``rows`` under ``headers`` (auto-filtered), then ``notes`` rows after a
    blank row."""

    name: str
    headers: tuple[str, ...]
    rows: Sequence[Sequence[Any]]
    notes: Sequence[Sequence[Any]] = ()


def _as_sheet(sheet: Sheet | tuple[str, Sequence[str], Sequence[Sequence[Any]]]) -> Sheet:
    if isinstance(sheet, Sheet):
        return sheet
    name, headers, rows = sheet
    return Sheet(name, tuple(headers), rows)


def write_sheets(
    sheets: Iterable[Sheet | tuple[str, Sequence[str], Sequence[Sequence[Any]]]],
    path: Path,
    *,
    title: str | None = None,
) -> Path:
    """An XLSX of ``sheets`` (:class:`Sheet` or ``(name, headers, rows)``) at ``path``
    (atomic; text from data stays text)."""
    wb = Workbook(write_only=True)
    for sheet in map(_as_sheet, sheets):
        g = SheetGrid()
        g.header(1, 1, sheet.headers)
        for i, row in enumerate(sheet.rows, start=2):
            g.put_row(i, 1, sheet_row(*row))
        last = len(sheet.rows) + 1
        for j, note in enumerate(sheet.notes, start=last + 2):
            g.put_row(j, 1, sheet_row(*note))
        ref = f"A1:{get_column_letter(len(sheet.headers))}{max(2, last)}"
        g.write(wb.create_sheet(sheet.name), filter_ref=ref)
    if title is not None:
        wb.properties.title = sheet_row(title)[0]
    wb.properties.creator = "ReliefDesk"
    tmp = path.with_name(path.name + ".tmp")
    try:
        wb.save(tmp)
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ExportError(f"cannot write XLSX {path}: {exc}") from None
    return path


__all__ = ["Sheet", "write_sheets"]
