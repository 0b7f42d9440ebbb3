"""Switching the UI language without a restart: re-word every text a window shows.

Qt's usual answer is a ``retranslateUi()`` per widget class that sets each text again. The
window here is built by many modules (docks, dialogs, panels added by other features), so
instead of a method per class this walks the live widget tree once: each text that is a
message of the translation table — a Chinese source, or the English translation of one — is
replaced by the same message in the new language. Texts that are not messages (place names,
ids, numbers, formatted sentences) are left alone; views that format their texts
(tables, the plan overview, the map) re-word themselves when the window asks them to
(:func:`retranslate_window`, called by ``MainWindow.set_language``).

:func:`ui_texts` is the same walk read-only: the English-UI test uses it to list what shows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import cache

from PyQt6.QtCore import QAbstractItemModel, QObject, QSortFilterProxyModel, Qt
from PyQt6.QtGui import QAction, QStandardItemModel
from PyQt6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QComboBox,
    QGroupBox,
    QLabel,
    QLineEdit,
    QListWidget,
    QMenu,
    QTabBar,
    QTableWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QWidget,
)

from gis.phrases import EN
from gui.i18n import I18N_DIR, read_ts, tr

#: One text slot: (description, getter, setter).
Slot = tuple[str, Callable[[], str], Callable[[str], None]]


@cache
def _sources() -> dict[str, str]:
    """``{shown text: Chinese source}`` for every message (a source maps to itself)."""
    out: dict[str, str] = {}
    for src, text in EN.items():
        out.setdefault(text, src)
        out[src] = src
    for path in sorted(I18N_DIR.glob("reliefdesk_*.ts")):
        for (_ctx, src), text in read_ts(path).items():
            out.setdefault(text, src)
            out[src] = src
    return out


def source_of(text: str) -> str | None:
    """The Chinese message ``text`` shows (in either language), or None if it is not one."""
    return _sources().get(text)


def _item_slots(owner: str, item: QTreeWidgetItem, columns: int) -> Iterator[Slot]:
    for c in range(columns):
        yield (
            f"{owner} item",
            lambda i=item, c=c: i.text(c),
            lambda t, i=item, c=c: i.setText(c, t),
        )
    for k in range(item.childCount()):
        yield from _item_slots(owner, item.child(k), columns)


def _slots(obj: QObject) -> Iterator[Slot]:  # noqa: C901 - one branch per widget kind
    name = type(obj).__name__
    if isinstance(obj, QWidget):
        yield (f"{name} title", obj.windowTitle, obj.setWindowTitle)
        yield (f"{name} tooltip", obj.toolTip, obj.setToolTip)
        yield (f"{name} status tip", obj.statusTip, obj.setStatusTip)
    if isinstance(obj, QAction):
        yield (f"{name} text", obj.text, obj.setText)
        yield (f"{name} status tip", obj.statusTip, obj.setStatusTip)
    if isinstance(obj, QMenu):
        yield (f"{name} title", obj.title, obj.setTitle)
    if isinstance(obj, QAbstractButton | QLabel):
        yield (f"{name} text", obj.text, obj.setText)
    if isinstance(obj, QLineEdit):
        yield (f"{name} placeholder", obj.placeholderText, obj.setPlaceholderText)
    if isinstance(obj, QGroupBox):
        yield (f"{name} title", obj.title, obj.setTitle)
    if isinstance(obj, QTabBar):
        for i in range(obj.count()):
            yield (
                f"{name} tab",
                lambda o=obj, i=i: o.tabText(i),
                lambda t, o=obj, i=i: o.setTabText(i, t),
            )
            yield (
                f"{name} tab tip",
                lambda o=obj, i=i: o.tabToolTip(i),
                lambda t, o=obj, i=i: o.setTabToolTip(i, t),
            )
    if isinstance(obj, QComboBox):
        for i in range(obj.count()):
            yield (
                f"{name} item",
                lambda o=obj, i=i: o.itemText(i),
                lambda t, o=obj, i=i: o.setItemText(i, t),
            )
    if isinstance(obj, QTableWidget):
        for c in range(obj.columnCount()):
            item = obj.horizontalHeaderItem(c)
            if item is not None:
                yield (f"{name} header", item.text, item.setText)
    if isinstance(obj, QTreeWidget):
        header = obj.headerItem()
        if header is not None:
            for c in range(obj.columnCount()):
                yield (
                    f"{name} header",
                    lambda h=header, c=c: h.text(c),
                    lambda t, h=header, c=c: h.setText(c, t),
                )
        for k in range(obj.topLevelItemCount()):
            yield from _item_slots(name, obj.topLevelItem(k), obj.columnCount())
    if isinstance(obj, QListWidget):
        for k in range(obj.count()):
            it = obj.item(k)
            yield (f"{name} item", it.text, it.setText)
    if isinstance(obj, QAbstractItemView) and isinstance(obj.model(), QStandardItemModel):
        model = obj.model()
        for c in range(model.columnCount()):
            it = model.horizontalHeaderItem(c)
            if it is not None:
                yield (f"{name} header", it.text, it.setText)


def _objects(root: QObject) -> Iterator[QObject]:
    yield root
    yield from root.findChildren(QObject)


def _columns(model: QAbstractItemModel) -> int:
    try:
        return model.columnCount()
    except TypeError:  # PyQt6 hides QAbstractListModel.columnCount: one column
        return 1


def ui_texts(root: QObject) -> Iterator[tuple[QObject, str, str]]:
    """``(object, what, text)`` for every non-empty text of ``root`` and its children, plus
    item-view cells and headers (through their models, as views show them)."""
    for obj in _objects(root):
        for what, get, _set in _slots(obj):
            text = get()
            if text:
                yield obj, what, text
        if isinstance(obj, QAbstractItemView) and obj.model() is not None:
            model = obj.model()
            cols = _columns(model)
            for c in range(cols):
                h = model.headerData(c, Qt.Orientation.Horizontal, Qt.ItemDataRole.DisplayRole)
                if h:
                    yield obj, f"{type(obj).__name__} header", str(h)
            for r in range(min(model.rowCount(), 200)):
                for c in range(cols):
                    v = model.data(model.index(r, c), Qt.ItemDataRole.DisplayRole)
                    if v not in (None, ""):
                        yield obj, f"{type(obj).__name__} cell", str(v)


def retranslate(root: QObject) -> int:
    """Re-word the message texts of ``root`` and its children in the language now installed;
    return how many changed."""
    changed = 0
    for obj in _objects(root):
        for _what, get, put in _slots(obj):
            text = get()
            src = source_of(text) if text else None
            if src is None:
                continue
            new = tr(src)
            if new != text:
                put(new)
                changed += 1
    return changed


def retranslate_window(window: QWidget) -> None:
    """Re-word a window after a language switch: the fixed texts (:func:`retranslate`), the
    item models that word their headers and cells when asked (``tr()`` at display time), and
    every child with a ``retranslate()`` method for what it formats itself (the dispatch
    panel's overview and tables, the layer legend)."""
    retranslate(window)
    models = set()
    for view in window.findChildren(QAbstractItemView):
        model = view.model()
        while isinstance(model, QSortFilterProxyModel):
            model = model.sourceModel()
        # ours word their texts with tr() when asked; Qt's item widgets hold set texts
        if model is not None and type(model).__module__.startswith("gui."):
            models.add(model)
    for model in models:
        rows, cols = model.rowCount(), _columns(model)
        if cols:
            model.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, cols - 1)
            if rows:
                model.dataChanged.emit(model.index(0, 0), model.index(rows - 1, cols - 1))
    for child in window.findChildren(QWidget):
        hook = getattr(child, "retranslate", None)
        if callable(hook):
            hook()
