"""文件 → 导入数据… (a one-page wizard) and 文件 → 导出图层… — thin views over
:mod:`gui.services.import_jobs`.

The import dialog walks the steps on one page: file and kind, sheet and coordinate system, the
column mapping (suggested, each header's field editable), a preview (background job: rows to be
added / updated / rejected with the reason, the coordinate system found and any suggestion),
then 导入, which applies the previewed scenario as one undoable edit of the session. The preview
is computed again whenever an option or the mapping changes, and 导入 is only offered when no row
is rejected and the session has not changed since the preview.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PyQt6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from gis.errors import DataImportError
from gis.imports.export import FORMATS, exportable_layers
from gis.imports.mapping import (
    Template,
    importable_kinds,
    kind_fields,
    label,
    load_template,
    save_template,
)
from gis.paths import default_dir
from gui.i18n import tr
from gui.services.import_jobs import ExportRequest, PreviewRequest, export_job, preview_job

KIND_NAMES = {
    "stockpiles": "储备库",
    "inventory": "库存（物资台账）",
    "shelters": "避难场所",
    "teams": "救援队伍",
    "hazards": "危险源",
    "incidents": "突发事件",
    "demand_points": "需求点（村/社区）",
    "candidate_sites": "候选站点",
    "materials": "物资目录",
    "townships": "乡镇",
}
CRS_CHOICES = (
    ("auto", "自动识别"),
    ("wgs84", "WGS-84（GPS）"),
    ("gcj02", "GCJ-02（高德/腾讯）"),
    ("bd09", "BD-09（百度）"),
    ("cgcs2000", "CGCS2000 经纬度"),
    ("EPSG:4545", "CGCS2000 高斯-克吕格 EPSG:4545"),
)
FILE_FILTER = (
    "表格与图层 (*.xlsx *.xls *.csv *.shp *.geojson *.json *.kml *.kmz *.gpkg *.zip);;所有文件 (*)"
)
_IGNORE = "（忽略）"


class ImportDialog(QDialog):
    """The import wizard. ``session`` is the :class:`gui.session.Session`, ``runner`` the
    window's :class:`gui.workers.JobRunner`."""

    def __init__(self, session: Any, runner: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.runner = runner
        self.result: Any = None
        self.base: Any = None
        self.setWindowTitle(tr("导入数据"))
        self.resize(900, 640)
        form = QFormLayout()
        self.file_edit = QLineEdit()
        browse = QPushButton(tr("浏览…"))
        browse.clicked.connect(self.browse)
        row = QHBoxLayout()
        row.addWidget(self.file_edit)
        row.addWidget(browse)
        form.addRow(tr("文件"), row)
        self.kind_combo = QComboBox()
        for kind in importable_kinds():
            self.kind_combo.addItem(tr(KIND_NAMES.get(kind, kind)), kind)
        form.addRow(tr("数据类型"), self.kind_combo)
        self.sheet_edit = QLineEdit()
        self.sheet_edit.setPlaceholderText(tr("工作表或图层名（留空：自动）"))
        form.addRow(tr("工作表/图层"), self.sheet_edit)
        self.crs_combo = QComboBox()
        self.crs_combo.setEditable(True)
        for value, text in CRS_CHOICES:
            self.crs_combo.addItem(tr(text), value)
        form.addRow(tr("坐标系"), self.crs_combo)
        self.update_box = QCheckBox(tr("更新已有条目（按编号，其次按名称匹配）"))
        form.addRow("", self.update_box)
        self.mapping_table = QTableWidget(0, 2)
        self.mapping_table.setHorizontalHeaderLabels([tr("文件中的列"), tr("对应字段")])
        self.mapping_table.horizontalHeader().setStretchLastSection(True)
        self.preview_table = QTableWidget(0, 4)
        self.preview_table.setHorizontalHeaderLabels(
            [tr("结果"), tr("行"), tr("编号"), tr("名称 / 原因")]
        )
        self.preview_table.horizontalHeader().setStretchLastSection(True)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.preview_button = QPushButton(tr("预览"))
        self.preview_button.clicked.connect(self.preview)
        self.buttons = QDialogButtonBox()
        self.import_button = self.buttons.addButton(
            tr("导入"), QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.import_button.setEnabled(False)
        self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.commit)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        self.loaded: Template | None = None  # a mapping template loaded from a file
        head = QHBoxLayout()
        head.addWidget(QLabel(tr("列对应关系（可修改后重新预览）")), 1)
        self.load_mapping_button = QPushButton(tr("载入对应关系…"))
        self.load_mapping_button.clicked.connect(lambda: self.load_mapping())
        self.save_mapping_button = QPushButton(tr("保存对应关系…"))
        self.save_mapping_button.setToolTip(
            tr("保存为模板（JSON，与命令行 --save-mapping / --mapping 相同），明年的台账直接套用")
        )
        self.save_mapping_button.clicked.connect(lambda: self.save_mapping())
        head.addWidget(self.load_mapping_button)
        head.addWidget(self.save_mapping_button)
        layout.addLayout(head)
        layout.addWidget(self.mapping_table, 1)
        layout.addWidget(self.preview_button)
        layout.addWidget(self.preview_table, 2)
        layout.addWidget(self.summary)
        layout.addWidget(self.buttons)
        for signal in (
            self.kind_combo.currentIndexChanged,
            self.crs_combo.currentIndexChanged,
            self.update_box.toggled,
        ):
            signal.connect(self._invalidate)
        self.kind_combo.currentIndexChanged.connect(self._on_kind_changed)
        self.file_edit.textChanged.connect(lambda *_: self.mapping_table.setRowCount(0))

    # ---- inputs --------------------------------------------------------------------------

    def browse(self) -> None:
        start = str(default_dir(self.session.path))
        path, _ = QFileDialog.getOpenFileName(self, tr("选择要导入的文件"), start, tr(FILE_FILTER))
        if path:
            self.file_edit.setText(path)

    def _crs(self) -> str:
        data = self.crs_combo.currentData()
        text = self.crs_combo.currentText().strip()
        return (
            data
            if data is not None and self.crs_combo.itemText(self.crs_combo.currentIndex()) == text
            else text
        )

    def _columns(self) -> dict[str, str | None] | None:
        if self.mapping_table.rowCount() == 0:
            return dict(self.loaded.columns) if self.loaded is not None else None
        out: dict[str, str | None] = {}
        for r in range(self.mapping_table.rowCount()):
            header = self.mapping_table.item(r, 0).text()
            combo = self.mapping_table.cellWidget(r, 1)
            out[header] = combo.currentData()
        return out

    def request(self) -> PreviewRequest:
        return PreviewRequest(
            scenario=self.session.scenario,
            file=Path(self.file_edit.text().strip()),
            kind=str(self.kind_combo.currentData()),
            sheet=self.sheet_edit.text().strip() or None,
            crs=self._crs(),
            update=self.update_box.isChecked(),
            columns=self._columns(),
        )

    def _on_kind_changed(self, *_: Any) -> None:
        self.mapping_table.setRowCount(0)
        if self.loaded is not None and self.loaded.kind != self.kind_combo.currentData():
            self.loaded = None  # a template of another kind does not apply

    # ---- mapping templates (the JSON of app.py import --save-mapping / --mapping) ----------

    def save_mapping(self, path: Path | None = None) -> Path | None:
        """Write the mapping shown (or loaded) as a template; ``path`` None asks for a file."""
        columns = self._columns()
        if not columns:
            self.summary.setText(tr("请先预览，得到列对应关系后再保存"))
            return None
        if path is None:
            start = str(default_dir(self.session.path) / "mapping.json")
            name, _ = QFileDialog.getSaveFileName(
                self, tr("保存对应关系"), start, tr("对应关系模板 (*.json)")
            )
            if not name:
                return None
            path = Path(name)
        crs = self._crs()
        template = Template(
            str(self.kind_combo.currentData()), columns, "" if crs in ("", "auto") else crs
        )
        try:
            save_template(Path(path), template)
        except OSError as exc:
            self.summary.setText(tr("无法保存对应关系：") + f"{path}: {exc.strerror or exc}")
            return None
        self.summary.setText(tr("已保存对应关系：") + str(path))
        return Path(path)

    def load_mapping(self, path: Path | None = None) -> Template | None:
        """Read a template (kind, columns, coordinate system) and preview with it."""
        if path is None:
            start = str(default_dir(self.session.path))
            name, _ = QFileDialog.getOpenFileName(
                self, tr("载入对应关系"), start, tr("对应关系模板 (*.json)")
            )
            if not name:
                return None
            path = Path(name)
        try:
            template = load_template(Path(path))
        except DataImportError as exc:
            self.summary.setText(tr("无法载入对应关系：") + " ".join(str(exc).split())[:400])
            return None
        if template.kind and self.kind_combo.findData(template.kind) >= 0:
            self.kind_combo.setCurrentIndex(self.kind_combo.findData(template.kind))
        if template.crs:
            i = self.crs_combo.findData(template.crs)
            if i >= 0:
                self.crs_combo.setCurrentIndex(i)
            else:
                self.crs_combo.setEditText(template.crs)
        self.mapping_table.setRowCount(0)  # the template's mapping, shown after the preview
        self.loaded = template
        self._invalidate()
        self.summary.setText(tr("已载入对应关系：") + str(path))
        if self.file_edit.text().strip():
            self.preview()
        return template

    # ---- preview and commit --------------------------------------------------------------

    def _invalidate(self, *_: Any) -> None:
        self.result = None
        self.import_button.setEnabled(False)

    def preview(self) -> Any:
        self._invalidate()
        if not self.file_edit.text().strip():
            self.summary.setText(tr("请先选择文件"))
            return None
        request = self.request()
        self.base = request.scenario
        self.preview_button.setEnabled(False)
        self.summary.setText(tr("正在预览…"))
        return self.runner.start(
            tr("导入预览"), preview_job, request, on_done=self._previewed, on_error=self._failed
        )

    def _failed(self, message: str, _trace: str) -> None:
        self.preview_button.setEnabled(True)
        self.summary.setText(tr("无法导入：") + " ".join(message.split())[:400])

    def _previewed(self, result: Any, cancelled: bool) -> None:
        self.preview_button.setEnabled(True)
        if cancelled or result is None:
            self.summary.setText(tr("已取消"))
            return
        self.result = result
        self._fill_mapping(result)
        rows = [(tr("新增"), r) for r in result.added] + [(tr("更新"), r) for r in result.updated]
        rows += [(tr("拒绝"), r) for r in result.rejected]
        self.preview_table.setRowCount(len(rows))
        for i, (what, r) in enumerate(rows):
            text = r.reason or r.name
            for j, value in enumerate((what, str(r.row), r.key, text)):
                self.preview_table.setItem(i, j, QTableWidgetItem(value))  # plain text, never HTML
        parts = [
            tr("新增 {0} 条，更新 {1} 条，拒绝 {2} 条").format(
                len(result.added), len(result.updated), len(result.rejected)
            ),
            tr("坐标系：") + result.crs + (f"（{result.crs_note}）" if result.crs_note else ""),
        ]
        if result.crs_suggestion:
            parts.append(tr("建议：") + result.crs_suggestion)
        if result.unknown_materials:
            parts.append(tr("目录中没有的物资：") + "、".join(result.unknown_materials))
        if result.skipped_rows:
            parts.append(tr("跳过的合计/空行：") + ", ".join(map(str, result.skipped_rows[:20])))
        self.summary.setText("\n".join(parts))
        self.import_button.setEnabled(not result.rejected and bool(result.added or result.updated))

    def _fill_mapping(self, result: Any) -> None:
        if self.mapping_table.rowCount():
            return
        fields = kind_fields(result.kind)
        headers = list(result.mapping) + [h for h in result.headers if h not in result.mapping]
        self.mapping_table.setRowCount(len(headers))
        for r, header in enumerate(headers):
            self.mapping_table.setItem(r, 0, QTableWidgetItem(header))
            combo = QComboBox()
            combo.addItem(tr(_IGNORE), None)
            for f in fields:
                combo.addItem(f"{label(f)}（{f}）", f)
            target = result.mapping.get(header)
            combo.setCurrentIndex(combo.findData(target) if target else 0)
            combo.currentIndexChanged.connect(self._invalidate)
            self.mapping_table.setCellWidget(r, 1, combo)

    def commit(self) -> None:
        result = self.result
        if result is None or result.rejected:
            return
        if self.session.scenario is not self.base:
            QMessageBox.information(self, tr("导入数据"), tr("工作区已改变，请重新预览"))
            self._invalidate()
            return
        n = len(result.added) + len(result.updated)
        name = tr(KIND_NAMES.get(result.kind, result.kind))
        self.session.apply(result.scenario, tr("导入{0} {1} 条").format(name, n))
        self.accept()


class ExportDialog(QDialog):
    """文件 → 导出图层…: layer, format, Shapefile encoding, target file; a background job."""

    def __init__(self, session: Any, runner: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.runner = runner
        self.setWindowTitle(tr("导出图层"))
        form = QFormLayout(self)
        self.layer_combo = QComboBox()
        for layer in exportable_layers():
            self.layer_combo.addItem(tr(KIND_NAMES.get(layer, layer)) + f" ({layer})", layer)
        self.format_combo = QComboBox()
        for fmt in FORMATS:
            self.format_combo.addItem(fmt.upper(), fmt)
        self.encoding_combo = QComboBox()
        self.encoding_combo.addItem("UTF-8", "utf-8")
        self.encoding_combo.addItem(tr("GBK（旧版 ArcGIS）"), "gbk")
        form.addRow(tr("图层"), self.layer_combo)
        form.addRow(tr("格式"), self.format_combo)
        form.addRow(tr("Shapefile 编码"), self.encoding_combo)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.choose_and_export)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.done_message = ""

    def choose_and_export(self) -> None:
        fmt = self.format_combo.currentData()
        layer = self.layer_combo.currentData()
        start = str(default_dir(self.session.path) / f"{layer}.{fmt}")
        path, _ = QFileDialog.getSaveFileName(self, tr("导出图层"), start, f"{fmt.upper()} (*.{fmt})")
        if path:
            self.export_to(Path(path))

    def export_to(self, path: Path) -> Any:
        request = ExportRequest(
            scenario=self.session.scenario,
            layer=self.layer_combo.currentData(),
            fmt=self.format_combo.currentData(),
            out=path,
            encoding=self.encoding_combo.currentData(),
        )
        job = self.runner.start(
            tr("导出图层"), export_job, request, on_done=self._done, on_error=self._failed
        )
        self.accept()
        return job

    def _done(self, summary: Any, cancelled: bool) -> None:
        if summary:
            self.done_message = tr("已导出 {0} 行到 {1}").format(summary["rows"], summary["out"])
            self.session.sig_message.emit("info", self.done_message, "")

    def _failed(self, message: str, _trace: str) -> None:
        self.done_message = message
        self.session.sig_message.emit("warning", " ".join(message.split())[:400], "")


def open_import_dialog(window: Any) -> ImportDialog:
    dialog = ImportDialog(window.session, window.runner, window)
    dialog.show()
    return dialog


def open_export_dialog(window: Any) -> ExportDialog:
    dialog = ExportDialog(window.session, window.runner, window)
    dialog.show()
    return dialog


__all__ = ["ExportDialog", "ImportDialog", "open_export_dialog", "open_import_dialog"]
