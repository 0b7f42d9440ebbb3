"""Print/export the current map view to PNG or PDF (文件 → 导出当前地图视图…).

The view is grabbed from the :class:`~gui.map_view.MapView` (what the operator sees, base map
included) and composed with :class:`QPainter` onto a sheet with a title and the time, a legend
of the visible layers (the layer panel's colours), a metric scale bar measured along the view's
bottom edge (``RD.viewInfo``, :func:`gis.measure.scale_bar`) and a north arrow (the map is
north-up Web Mercator); the page's own zoom buttons and scale are hidden while grabbing. PDF: the same sheet on an A4 landscape page (:class:`QPdfWriter`).
Files are written to a temporary name and renamed, so a failed export leaves nothing half-written.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from PyQt6.QtCore import QMarginsF, QPointF, QRectF, QSizeF, Qt, QTimer
from PyQt6.QtGui import (
    QColor,
    QFont,
    QImage,
    QPageLayout,
    QPageSize,
    QPainter,
    QPainterPath,
    QPdfWriter,
    QPen,
)
from PyQt6.QtWidgets import QFileDialog

from gis.measure import format_length, scale_bar
from gis.paths import default_dir
from gui.i18n import tr
from gui.map_page import LAYERS

HEADER = 56
#: show (``""``) or hide (``"none"``) the page's zoom buttons and scale control
CONTROLS_JS = (
    "document.querySelectorAll('.leaflet-control-zoom, .leaflet-control-scale')"
    ".forEach(function (e) {{ e.style.display = '{display}'; }})"
)
LEGEND_W = 190
PAD = 12


def legend_items(hidden: Sequence[str], english: bool) -> list[tuple[str, str]]:
    """(label, colour) of the layers shown on the map, top first."""
    return [
        (spec.label_en if english else spec.label_zh, spec.color)
        for spec in LAYERS
        if spec.id not in set(hidden)
    ]


def compose(
    view: QImage,
    *,
    title: str,
    when: datetime,
    metres_per_px: float,
    legend: Sequence[tuple[str, str]],
) -> QImage:
    """The export sheet: header (title, time), the map with scale bar and north arrow, legend."""
    w = view.width() + LEGEND_W + 3 * PAD
    h = view.height() + HEADER + 2 * PAD
    sheet = QImage(w, h, QImage.Format.Format_RGB32)
    sheet.fill(QColor("#ffffff"))
    p = QPainter(sheet)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    f = QFont(p.font())
    f.setPointSize(16)
    f.setBold(True)
    p.setFont(f)
    p.setPen(QColor("#222222"))
    p.drawText(QRectF(PAD, 6, w - 2 * PAD, 30), Qt.AlignmentFlag.AlignLeft, title)
    f.setPointSize(9)
    f.setBold(False)
    p.setFont(f)
    p.setPen(QColor("#555555"))
    stamp = tr("制图时间 {t}").format(t=when.strftime("%Y-%m-%d %H:%M"))
    p.drawText(QRectF(PAD, 34, w - 2 * PAD, 18), Qt.AlignmentFlag.AlignLeft, stamp)
    # the map
    x0, y0 = PAD, HEADER + PAD
    p.drawImage(QPointF(x0, y0), view)
    p.setPen(QPen(QColor("#333333"), 1))
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.drawRect(QRectF(x0, y0, view.width(), view.height()))
    _north_arrow(p, x0 + view.width() - 34, y0 + 14)
    # legend
    lx = x0 + view.width() + PAD
    p.setPen(QColor("#222222"))
    f.setPointSize(11)
    f.setBold(True)
    p.setFont(f)
    p.drawText(QRectF(lx, y0, LEGEND_W, 20), Qt.AlignmentFlag.AlignLeft, tr("图例"))
    f.setPointSize(9)
    f.setBold(False)
    p.setFont(f)
    for i, (label, color) in enumerate(legend):
        yy = y0 + 28 + i * 20
        p.setPen(QPen(QColor("#555555"), 1))
        p.setBrush(QColor(color))
        p.drawRect(QRectF(lx, yy + 3, 18, 11))
        p.setPen(QColor("#222222"))
        p.drawText(QRectF(lx + 26, yy, LEGEND_W - 26, 18), Qt.AlignmentFlag.AlignLeft, label)
    _scale_bar(p, lx + 8, y0 + 28 + len(legend) * 20 + 40, metres_per_px, LEGEND_W - 80)
    p.end()
    return sheet


def _scale_bar(p: QPainter, x: float, y: float, metres_per_px: float, max_px: float) -> None:
    metres, px = scale_bar(metres_per_px, max_px)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor(255, 255, 255, 210))
    p.drawRect(QRectF(x - 6, y - 22, px + 70, 30))
    half = px / 2
    p.setPen(QPen(QColor("#222222"), 1))
    p.setBrush(QColor("#222222"))
    p.drawRect(QRectF(x, y - 6, half, 6))
    p.setBrush(QColor("#ffffff"))
    p.drawRect(QRectF(x + half, y - 6, half, 6))
    p.drawText(QPointF(x - 2, y - 10), "0")
    p.drawText(QPointF(x + px - 10, y - 10), format_length(metres).replace(".00 ", " "))


def _north_arrow(p: QPainter, cx: float, top: float) -> None:
    path = QPainterPath()
    path.moveTo(cx, top + 8)
    path.lineTo(cx + 10, top + 40)
    path.lineTo(cx, top + 32)
    path.lineTo(cx - 10, top + 40)
    path.closeSubpath()
    p.setPen(QPen(QColor("#222222"), 1))
    p.setBrush(QColor(255, 255, 255, 210))
    p.drawEllipse(QRectF(cx - 18, top - 6, 36, 52))
    p.setBrush(QColor("#222222"))
    p.drawPath(path)
    f = QFont(p.font())
    f.setBold(True)
    p.setFont(f)
    p.drawText(QRectF(cx - 10, top - 6, 20, 14), Qt.AlignmentFlag.AlignCenter, "N")


def write_sheet(sheet: QImage, path: Path) -> Path:
    """Write the sheet as PNG or (by suffix) PDF, atomically."""
    path = Path(path)
    pdf = path.suffix.lower() == ".pdf"
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        if pdf:
            writer = QPdfWriter(str(tmp))
            writer.setPageLayout(
                QPageLayout(
                    QPageSize(QPageSize.PageSizeId.A4),
                    QPageLayout.Orientation.Landscape,
                    QMarginsF(10, 10, 10, 10),
                )
            )
            writer.setResolution(150)
            writer.setTitle(path.stem)
            painter = QPainter(writer)
            area = QRectF(painter.viewport())
            size = QSizeF(sheet.size()).scaled(area.size(), Qt.AspectRatioMode.KeepAspectRatio)
            painter.drawImage(QRectF(QPointF(0, 0), size), sheet)
            painter.end()
        elif not sheet.save(str(tmp), "PNG"):
            raise OSError(f"cannot write {path}")
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def export_view(
    window: Any, path: Path, on_done: Callable[[Path | None, str], None] | None = None
) -> None:
    """Export the window's current map view to ``path`` (.png or .pdf); ``on_done(path, error)``."""
    path = Path(path)

    def measured(raw: Any) -> None:
        # the page's own controls (zoom buttons, scale) are hidden while the view is grabbed
        # (one frame later): the sheet has its own scale bar
        QTimer.singleShot(250, lambda: finish(raw))

    def finish(raw: Any) -> None:
        try:
            info = json.loads(raw) if isinstance(raw, str) else None
            if not info or not info.get("metres_per_px"):
                raise ValueError(tr("地图尚未显示，无法导出"))
            view = window.map.grab().toImage()
            window.map.run_js(CONTROLS_JS.format(display=""))
            ratio = view.width() / max(1, int(info["width"]))
            sheet = compose(
                view,
                title=window.session.scenario.name,
                when=datetime.now(),
                metres_per_px=float(info["metres_per_px"]) / ratio,
                legend=legend_items(
                    window.layer_panel.hidden_layers(), getattr(window, "language", "") == "en"
                ),
            )
            write_sheet(sheet, path)
        except (OSError, ValueError) as exc:
            window.report_error(tr("导出地图失败"), str(exc), "", dialog=window.interactive)
            if on_done:
                on_done(None, str(exc))
            return
        window.statusBar().showMessage(tr("已导出地图：{path}").format(path=path), 8000)
        if on_done:
            on_done(path, "")

    window.map.evaluate(
        "window.RD && RD.map ? (" + CONTROLS_JS.format(display="none") + ", "
        "JSON.stringify(RD.viewInfo())) : null",
        measured,
    )


def export_view_dialog(window: Any) -> None:
    start = str(default_dir(window.session.path) / f"{window.session.scenario.name or 'map'}.png")
    path, _ = QFileDialog.getSaveFileName(
        window,
        tr("导出当前地图视图"),
        start,
        tr("PNG 图片 (*.png);;PDF 文档 (*.pdf)"),
    )
    if not path:
        return
    if Path(path).suffix.lower() not in (".png", ".pdf"):
        path += ".png"
    export_view(window, Path(path))
