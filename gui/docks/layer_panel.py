"""Layer panel: a checkable tree of map layers with legend swatches (roads by class, incident levels)."""

from __future__ import annotations

from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtGui import QColor, QIcon, QPixmap
from PyQt6.QtWidgets import QTreeWidget, QTreeWidgetItem, QWidget

from gis.model import LEVEL_NAME_ZH, LEVEL_ROMAN
from gui.i18n import tr
from gui.map_page import LAYERS, LEVEL_COLORS, ROAD_CLASSES

LAYER_ROLE = Qt.ItemDataRole.UserRole + 10


def swatch(color: str, *, line: bool = False, size: int = 14) -> QIcon:
    pm = QPixmap(size, size)
    pm.fill(QColor(0, 0, 0, 0))
    from PyQt6.QtGui import QPainter, QPen

    p = QPainter(pm)
    if line:
        p.setPen(QPen(QColor(color), 3))
        p.drawLine(1, size // 2, size - 1, size // 2)
    else:
        p.setBrush(QColor(color))
        p.setPen(QColor("#ffffff"))
        p.drawRect(1, 1, size - 3, size - 3)
    p.end()
    return QIcon(pm)



def _level_label(level: int) -> str:
    """``II级 重大`` / ``Level II Major``: a response level in the legend."""
    return tr("{r}级").format(r=LEVEL_ROMAN[level]) + " " + tr(LEVEL_NAME_ZH[level])

class LayerPanel(QTreeWidget):
    """Emits ``sig_layer_toggled(layer_id, visible)`` when a box is (un)checked."""

    sig_layer_toggled = pyqtSignal(str, bool)
    #: layer ids top (drawn last) to bottom, after a move
    sig_order_changed = pyqtSignal(list)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setHeaderHidden(True)
        self.setRootIsDecorated(True)
        self.items: dict[str, QTreeWidgetItem] = {}
        self._building = True
        for spec in LAYERS:
            item = QTreeWidgetItem(self, [tr(spec.label_zh)])
            item.setData(0, LAYER_ROLE, spec.id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(
                0, Qt.CheckState.Checked if spec.visible else Qt.CheckState.Unchecked
            )
            line = spec.id in ("roads", "routes", "closures", "closed_roads", "boundary", "bridges")
            item.setIcon(0, swatch(spec.color, line=line))
            self.items[spec.id] = item
            if spec.id == "roads":
                for key, (label, color, _w) in ROAD_CLASSES.items():
                    child = QTreeWidgetItem(item, [tr(label)])
                    child.setData(0, LAYER_ROLE, f"roads:{key}")
                    child.setFlags(child.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                    child.setCheckState(0, Qt.CheckState.Checked)
                    child.setIcon(0, swatch(color, line=True))
                    self.items[f"roads:{key}"] = child
            if spec.id == "incidents":
                for lvl in (1, 2, 3, 4):
                    child = QTreeWidgetItem(item, [_level_label(lvl)])
                    child.setIcon(0, swatch(LEVEL_COLORS[lvl]))
                    child.setFlags(Qt.ItemFlag.ItemIsEnabled)
        self.expandItem(self.items["incidents"])
        self._building = False
        self.itemChanged.connect(self._changed)

    def retranslate(self) -> None:
        """Re-word the response-level legend after a language switch (the layer names are
        re-worded by :func:`gui.retranslate.retranslate`)."""
        legend = self.items["incidents"]
        for k in range(legend.childCount()):
            legend.child(k).setText(0, _level_label(k + 1))

    def _changed(self, item: QTreeWidgetItem, column: int) -> None:
        if self._building:
            return
        layer = item.data(0, LAYER_ROLE)
        if not layer:
            return
        visible = item.checkState(0) == Qt.CheckState.Checked
        self.sig_layer_toggled.emit(layer, visible)
        if layer == "roads":
            self._building = True
            for i in range(item.childCount()):
                item.child(i).setCheckState(0, item.checkState(0))
            self._building = False

    def set_visible(self, layer: str, visible: bool) -> None:
        """Check/uncheck a layer (emits ``sig_layer_toggled`` like a user click)."""
        self.items[layer].setCheckState(
            0, Qt.CheckState.Checked if visible else Qt.CheckState.Unchecked
        )

    def is_visible(self, layer: str) -> bool:
        return self.items[layer].checkState(0) == Qt.CheckState.Checked

    def order(self) -> list[str]:
        """Top-level layer ids in panel order (top = drawn on top)."""
        return [self.topLevelItem(i).data(0, LAYER_ROLE) for i in range(self.topLevelItemCount())]

    def move_layer(self, layer: str, delta: int) -> bool:
        """Move a top-level layer up (``delta`` < 0) or down; emits ``sig_order_changed``."""
        item = self.items.get(layer)
        if item is None or item.parent() is not None:
            return False
        row = self.indexOfTopLevelItem(item)
        new = max(0, min(self.topLevelItemCount() - 1, row + delta))
        if new == row:
            return False
        self._building = True
        expanded = item.isExpanded()
        self.takeTopLevelItem(row)
        self.insertTopLevelItem(new, item)
        item.setExpanded(expanded)
        self.setCurrentItem(item)
        self._building = False
        self.sig_order_changed.emit(self.order())
        return True

    def move_current(self, delta: int) -> bool:
        item = self.currentItem()
        while item is not None and item.parent() is not None:
            item = item.parent()
        return bool(item) and self.move_layer(item.data(0, LAYER_ROLE), delta)

    def hidden_layers(self) -> list[str]:
        return [k for k, it in self.items.items() if it.checkState(0) != Qt.CheckState.Checked]
