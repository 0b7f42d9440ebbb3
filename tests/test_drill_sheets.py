"""The one XLSX writer of the drill outputs (report.xlsx, compare.xlsx, review.xlsx):
names from data stay text, notes sit below the filtered table, a failed write leaves nothing."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from openpyxl import load_workbook

from dispatch.drills.sheets import Sheet, write_sheets
from dispatch.export.pdf_base import ExportError

ROOT = Path(__file__).resolve().parents[1]


def test_sheets_text_stays_text_and_notes_below_the_filter(tmp_path: Path) -> None:
    out = tmp_path / "x.xlsx"
    rows = [('=HYPERLINK("http://x")', 3), ("先滩镇", 1.5)]
    write_sheets(
        [
            Sheet("评分表", ("指标", "数值"), rows, [("说明", "+cmd|' /C calc'!A0")]),
            ("空", ("a",), []),
        ],
        out,
        title="演练报告 =1+1",
    )
    wb = load_workbook(out)
    ws = wb["评分表"]
    assert ws.auto_filter.ref == "A1:B3"  # header and the two rows, not the notes
    assert ws["A2"].data_type == "s" and ws["A2"].value.endswith('HYPERLINK("http://x")')
    assert ws["B2"].value == 3 and ws["A3"].value == "先滩镇"
    assert ws["A4"].value is None  # one blank row, then the notes
    assert ws["A5"].value == "说明" and ws["B5"].data_type == "s"  # text, not a formula
    assert wb["空"].auto_filter.ref == "A1:A2" and wb.sheetnames == ["评分表", "空"]
    assert wb.properties.title == "演练报告 =1+1"
    assert not list(tmp_path.glob("*.tmp"))


def test_sheets_failed_write_leaves_what_was_there(tmp_path: Path) -> None:
    """The workbook is written to a temporary file first: when it cannot take the target's
    place (here a folder of that name), nothing is half-written and nothing is left over."""
    target = tmp_path / "x.xlsx"
    target.mkdir()
    (target / "keep.txt").write_text("kept", encoding="utf-8")
    with pytest.raises(ExportError, match="cannot write XLSX"):
        write_sheets([("a", ("b",), [(1,)])], target)
    assert (target / "keep.txt").read_text(encoding="utf-8") == "kept"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.xlsx"]


def test_drill_outputs_have_one_xlsx_writer() -> None:
    """Only dispatch/drills/sheets.py builds a workbook among the drill modules."""
    builders = []
    for path in sorted((ROOT / "dispatch" / "drills").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = {
            a.name
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("openpyxl")
            for a in node.names
        }
        if "Workbook" in names:
            builders.append(path.name)
    assert builders == ["sheets.py"]
