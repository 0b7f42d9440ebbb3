"""文件 → 导入数据… and 导出图层… without a main window: the dialog previews a real ledger in a
background job, shows rejected rows, commits as one undoable edit of the session, and exports a
layer in the background."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("PyQt6.QtWidgets")

from gis.workspace import read_workspace  # noqa: E402
from gui.import_dialog import ExportDialog, ImportDialog  # noqa: E402
from gui.session import Session  # noqa: E402
from gui.workers import JobRunner  # noqa: E402

pytestmark = pytest.mark.gui
TIMEOUT_MS = 60_000


@pytest.fixture
def parts(qapp, demo_workspace_path: Path):
    session = Session()
    session.load(read_workspace(demo_workspace_path, include_roads=False), demo_workspace_path)
    runner = JobRunner()
    yield session, runner
    runner.cancel_all()
    runner.wait(30_000)
    session.undo_stack.clear()
    for obj in (session, runner):
        obj.deleteLater()
    qapp.processEvents()


def test_import_wizard_previews_commits_and_undoes(qtbot, parts, tmp_path: Path) -> None:
    session, runner = parts
    before = session.scenario
    sp = before.stockpiles[0]
    f = tmp_path / "台账.csv"
    f.write_text(
        "储备库名称,级别,经度(高德),纬度(高德)\n"
        f"新建储备点,乡镇,{sp.location.lon + 0.01},{sp.location.lat}\n"
        f"坏行,乡镇,abc,{sp.location.lat}\n",
        encoding="gb18030",
    )
    dialog = ImportDialog(session, runner)
    qtbot.addWidget(dialog)
    dialog.file_edit.setText(str(f))
    dialog.kind_combo.setCurrentIndex(dialog.kind_combo.findData("stockpiles"))
    dialog.preview()
    qtbot.waitUntil(
        lambda: dialog.result is not None or "无法" in dialog.summary.text(), timeout=TIMEOUT_MS
    )
    assert dialog.result.crs == "GCJ-02"
    assert dialog.preview_table.rowCount() == 2 and dialog.preview_table.item(1, 0).text() == "拒绝"
    assert not dialog.import_button.isEnabled()  # a rejected row: all or nothing
    assert dialog.mapping_table.rowCount() == 4
    f.write_text(
        "储备库名称,级别,经度(高德),纬度(高德)\n"
        f"新建储备点,乡镇,{sp.location.lon + 0.01},{sp.location.lat}\n",
        encoding="gb18030",
    )
    dialog.preview()
    qtbot.waitUntil(lambda: dialog.import_button.isEnabled(), timeout=TIMEOUT_MS)
    dialog.commit()
    assert len(session.scenario.stockpiles) == len(before.stockpiles) + 1
    assert session.undo_stack.undoText().startswith("导入")
    session.undo_stack.undo()
    assert session.scenario == before


def test_export_dialog_writes_in_the_background(qtbot, parts, tmp_path: Path) -> None:
    session, runner = parts
    dialog = ExportDialog(session, runner)
    qtbot.addWidget(dialog)
    dialog.layer_combo.setCurrentIndex(dialog.layer_combo.findData("shelters"))
    dialog.format_combo.setCurrentIndex(dialog.format_combo.findData("xlsx"))
    out = tmp_path / "shelters.xlsx"
    dialog.export_to(out)
    qtbot.waitUntil(lambda: bool(dialog.done_message), timeout=TIMEOUT_MS)
    assert out.is_file() and str(len(session.scenario.shelters)) in dialog.done_message


def test_wizard_saves_and_loads_a_mapping_template_the_cli_uses(
    qtbot, parts, tmp_path: Path
) -> None:
    """保存对应关系… writes the JSON of ``app.py import --save-mapping``; ``--mapping`` and
    载入对应关系… read it back (kind, columns, ignored columns, coordinate system)."""
    import contextlib
    import io
    import json
    import shutil

    import app

    session, runner = parts
    sp = session.scenario.stockpiles[0]
    f = tmp_path / "台账.csv"
    f.write_text(
        "名称,储备级别,X坐标(高德),Y坐标(高德),备注\n"
        f"新建储备点,乡镇,{sp.location.lon + 0.01},{sp.location.lat},备用仓库\n",
        encoding="utf-8",
    )
    dialog = ImportDialog(session, runner)
    qtbot.addWidget(dialog)
    dialog.file_edit.setText(str(f))
    dialog.kind_combo.setCurrentIndex(dialog.kind_combo.findData("stockpiles"))
    dialog.crs_combo.setCurrentIndex(dialog.crs_combo.findData("gcj02"))
    assert dialog.save_mapping(tmp_path / "none.json") is None  # nothing to save yet
    dialog.preview()
    qtbot.waitUntil(lambda: dialog.import_button.isEnabled(), timeout=TIMEOUT_MS)
    # the operator ignores 储备级别 (the mapping as edited is what gets saved)
    rows = {
        dialog.mapping_table.item(r, 0).text(): r for r in range(dialog.mapping_table.rowCount())
    }
    level_combo = dialog.mapping_table.cellWidget(rows["储备级别"], 1)
    level_combo.setCurrentIndex(0)  # （忽略）
    saved = dialog.save_mapping(tmp_path / "map.json")
    data = json.loads(saved.read_text(encoding="utf-8"))
    assert data["kind"] == "stockpiles" and data["crs"] == "gcj02"
    assert data["columns"]["储备级别"] is None
    assert data["columns"]["名称"] == "name" and data["columns"]["X坐标(高德)"] == "lon"

    # the CLI reads it: same mapping, the ignored column stays out
    ws = tmp_path / "ws.gpkg"
    shutil.copy(session.path, ws)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = app.main(
            [
                "import",
                str(ws),
                str(f),
                "--kind",
                "stockpiles",
                "--mapping",
                str(saved),
                "--dry-run",
            ]
        )
    summary = json.loads(out.getvalue())
    assert code == 0 and summary["crs"] == "GCJ-02"
    assert summary["mapping"] == {h: v for h, v in data["columns"].items() if v is not None}

    # a new wizard loads it: kind and coordinate system set, 储备级别 still ignored
    second = ImportDialog(session, runner)
    qtbot.addWidget(second)
    second.kind_combo.setCurrentIndex(second.kind_combo.findData("teams"))
    second.file_edit.setText(str(f))
    assert second.load_mapping(saved) is not None
    assert second.kind_combo.currentData() == "stockpiles" and second._crs() == "gcj02"
    qtbot.waitUntil(lambda: second.result is not None, timeout=TIMEOUT_MS)
    assert "储备级别" not in second.result.mapping
    assert dict(second.result.mapping) == summary["mapping"]
    # a broken template is a message, not a traceback
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    assert second.load_mapping(bad) is None and "无法载入对应关系" in second.summary.text()
