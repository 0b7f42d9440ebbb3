"""Qt item models: thin adapters over the Scenario's entity tuples (napari-style).

Each :class:`EntityTableModel` shows one entity kind (``stockpiles``, ``shelters``...) of the
session's current scenario and resets itself when that tuple changes. Cells are plain text
(``DisplayRole``), so names from data are never interpreted as markup. ``SORT_ROLE`` gives the
raw value for numeric sorting and ``ID_ROLE`` the entity id. :func:`make_proxy` adds sorting,
filtering and search.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from PyQt6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QSortFilterProxyModel,
    Qt,
    pyqtSignal,
)
from PyQt6.QtGui import QBrush, QColor

from gis.fields import parse_number
from gis.model import CANDIDATE_KIND_ZH, LEVEL_ROMAN, Scenario
from gui.i18n import tr, tr_noop
from gui.map_page import LEVEL_COLORS

ID_ROLE = Qt.ItemDataRole.UserRole + 1
SORT_ROLE = Qt.ItemDataRole.UserRole + 2


@dataclass(frozen=True, slots=True)
class Column:
    header: str  # Chinese source text (translated at display time)
    value: Callable[[Any, Scenario], Any]
    fmt: Callable[[Any], str] | None = None


def plain_tooltip(text: str) -> str:
    """A tooltip that shows ``text`` literally (Qt renders tooltips that look like HTML as HTML)."""
    import html

    return (
        f"<span style='white-space:pre-wrap'>{html.escape(text, quote=False)}</span>"
        if text
        else ""
    )


def _num(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:,.6f}".rstrip("0").rstrip(".") if abs(v) < 1000 else f"{v:,.0f}"
    return f"{v:,}" if isinstance(v, int) else str(v)


def _word(v: Any) -> str:
    """A Chinese enum word from the model (status, category, force type) in the UI language."""
    return tr(str(v))


def _words(v: Any) -> str:
    """A "、"-joined list of words from the model (skills) in the UI language."""
    return tr("、").join(tr(w) for w in str(v).split("、") if w)


def _coord(v: float) -> str:
    return f"{v:.5f}"


def _geom_kind(g: Any) -> str:
    return {
        "Point": tr("点"),
        "LineString": tr("线"),
        "MultiLineString": tr("线"),
        "Polygon": tr("面"),
        "MultiPolygon": tr("面"),
    }.get(g.geom_type, g.geom_type)


def _time(v: Any) -> str:
    return v.strftime("%Y-%m-%d %H:%M") if v is not None else ""


COLUMNS: dict[str, tuple[Column, ...]] = {
    "stockpiles": (
        Column("编号", lambda e, s: e.id),
        Column("名称", lambda e, s: e.name),
        Column("级别", lambda e, s: e.level.value, _word),
        Column("物资种类", lambda e, s: len(e.inventory)),
        Column("库存总量", lambda e, s: sum(e.inventory.values())),
        Column("车辆", lambda e, s: len(e.vehicles)),
        Column("联系方式", lambda e, s: e.contact),
        Column("库容(m³)", lambda e, s: e.capacity_m3),  # None (not stated): empty
        Column("经度", lambda e, s: e.location.lon, _coord),
        Column("纬度", lambda e, s: e.location.lat, _coord),
    ),
    "shelters": (
        Column("编号", lambda e, s: e.id),
        Column("名称", lambda e, s: e.name),
        Column("类型", lambda e, s: e.setting.value, _word),
        Column("等级", lambda e, s: e.shelter_class.value, _word),
        Column("容量", lambda e, s: e.capacity),
        Column("已安置", lambda e, s: e.occupancy),
        Column("剩余", lambda e, s: e.free_capacity),
        Column("经度", lambda e, s: e.location.lon, _coord),
        Column("纬度", lambda e, s: e.location.lat, _coord),
    ),
    "teams": (
        Column("编号", lambda e, s: e.id),
        Column("名称", lambda e, s: e.name),
        Column("力量类型", lambda e, s: e.force_type.value, _word),
        Column("人数", lambda e, s: e.headcount),
        Column("状态", lambda e, s: e.status.value, _word),
        Column("技能", lambda e, s: "、".join(e.skills), _words),
        Column("车辆", lambda e, s: len(e.vehicles)),
        Column("负责人", lambda e, s: e.leader),
        Column("电话", lambda e, s: e.phone),
    ),
    "incidents": (
        Column("编号", lambda e, s: e.id),
        Column("名称", lambda e, s: e.name),
        Column("级别", lambda e, s: e.level, lambda v: f"{LEVEL_ROMAN[v]}"),
        Column("状态", lambda e, s: e.status.value, _word),
        Column("类别", lambda e, s: e.category.value, _word),
        Column("类型", lambda e, s: e.subtype, _word),
        Column("受影响人数", lambda e, s: e.affected_people),
        Column("时限(分钟)", lambda e, s: e.deadline_min),
        Column("接报时间", lambda e, s: e.reported_at, _time),
    ),
    "hazards": (
        Column("编号", lambda e, s: e.id),
        Column("名称", lambda e, s: e.name),
        Column("类别", lambda e, s: e.category, _word),
        Column("风险等级", lambda e, s: e.risk_level, lambda v: f"{LEVEL_ROMAN[v]}"),
        Column("几何", lambda e, s: _geom_kind(e.geometry)),
        Column("说明", lambda e, s: e.description),
    ),
    "closures": (
        Column("编号", lambda e, s: e.id),
        Column("原因", lambda e, s: e.reason),
        Column("几何", lambda e, s: _geom_kind(e.geometry)),
        Column("效果", lambda e, s: tr("封闭") if e.closes else f"×{e.speed_factor:g}"),
        Column("半径(米)", lambda e, s: e.radius_m),
        Column("开始", lambda e, s: e.since, _time),
        Column("截止", lambda e, s: e.until, _time),
    ),
    "demand_points": (
        Column("编号", lambda e, s: e.id),
        Column("名称", lambda e, s: e.name),
        Column("类型", lambda e, s: e.kind.value, _word),
        Column("人口", lambda e, s: e.population),
        Column("权重", lambda e, s: e.weight),
        Column("所属乡镇", lambda e, s: e.township_code),
        Column("经度", lambda e, s: e.location.lon, _coord),
        Column("纬度", lambda e, s: e.location.lat, _coord),
    ),
    "candidate_sites": (
        Column("编号", lambda e, s: e.id),
        Column("名称", lambda e, s: e.name),
        Column("可建为", lambda e, s: CANDIDATE_KIND_ZH[e.kind], _word),
        Column("可服务/容纳(人)", lambda e, s: e.capacity),
        Column("建设费用(万元)", lambda e, s: e.fixed_cost),
        Column("备注", lambda e, s: e.note),
        Column("经度", lambda e, s: e.location.lon, _coord),
        Column("纬度", lambda e, s: e.location.lat, _coord),
    ),
}

TITLES: dict[str, str] = {
    "stockpiles": "储备库",
    "shelters": "避难场所",
    "teams": "救援队伍",
    "incidents": "突发事件",
    "hazards": "危险源",
    "closures": "道路管制",
    "demand_points": "需求点",
    "candidate_sites": "候选站点",
}


class EntityTableModel(QAbstractTableModel):
    """Rows = the entities of one kind in the current scenario."""

    def __init__(self, kind: str, scenario: Scenario, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.kind = kind
        self.columns: Sequence[Column] = COLUMNS[kind]
        self._scenario = scenario
        #: (column, descending) the rows are kept in; None: the scenario's order
        self._sort: tuple[int, bool] | None = None
        self._rows: tuple[Any, ...] = tuple(getattr(scenario, kind))

    # ---- updates -------------------------------------------------------------------------------

    def set_scenario(self, scenario: Scenario) -> bool:
        """Show ``scenario``; resets only when this kind's tuple changed. Returns True if reset."""
        rows = tuple(getattr(scenario, self.kind))
        same = rows is self._source or rows == self._source
        self._scenario = scenario
        if same:
            self._source = rows
            return False
        shown = self._sorted(rows)
        old = self._shown
        if len(shown) == len(old) and all(
            getattr(a, "id", None) == getattr(b, "id", None) for a, b in zip(shown, old)
        ):  # the same records in the same places (one edited, e.g. by another desk): no reset
            self._source, self._shown = rows, shown
            changed = [i for i, (a, b) in enumerate(zip(shown, old)) if a is not b]
            if changed:
                last = self.columnCount() - 1
                self.dataChanged.emit(self.index(changed[0], 0), self.index(changed[-1], last))
            return False
        self.beginResetModel()
        self._rows = rows
        self.endResetModel()
        return True

    @property
    def _rows(self) -> tuple[Any, ...]:
        return self._shown

    @_rows.setter
    def _rows(self, rows: tuple[Any, ...]) -> None:
        self._source = rows
        self._shown = self._sorted(rows)

    def sort_key(self, column: int) -> Callable[[Any], tuple[int, Any]]:
        """Key of an entity by ``column``'s raw value: numbers numerically, else as text."""
        col = self.columns[column]
        scenario = self._scenario

        def key(entity: Any) -> tuple[int, Any]:
            value = col.value(entity, scenario)
            if isinstance(value, int | float) and not isinstance(value, bool):
                return (0, value)
            return (1, "" if value is None else str(value))

        return key

    def _sorted(self, rows: tuple[Any, ...]) -> tuple[Any, ...]:
        if self._sort is None or not rows:
            return tuple(rows)
        column, descending = self._sort
        return tuple(sorted(rows, key=self.sort_key(column), reverse=descending))

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Keep the rows sorted by ``column`` (one Python ``sorted``: 10k rows in milliseconds,
        where a proxy's per-comparison ``lessThan`` calls took seconds); -1: scenario order."""
        if column < 0 or column >= len(self.columns):
            self._sort = None
        else:
            self._sort = (column, order == Qt.SortOrder.DescendingOrder)
        self.layoutAboutToBeChanged.emit()
        self._shown = self._sorted(self._source)
        self.layoutChanged.emit()

    def entity(self, row: int) -> Any:
        return self._rows[row]

    def row_of(self, entity_id: str) -> int:
        for i, e in enumerate(self._rows):
            if e.id == entity_id:
                return i
        return -1

    # ---- Qt model API ----------------------------------------------------------------------------

    def rowCount(self, parent: QModelIndex | None = None) -> int:  # noqa: N802
        return 0 if parent is not None and parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex | None = None) -> int:  # noqa: N802
        return 0 if parent is not None and parent.isValid() else len(self.columns)

    def headerData(  # noqa: N802
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal:
            return tr(self.columns[section].header)
        return str(section + 1)

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        entity = self._rows[index.row()]
        col = self.columns[index.column()]
        if role == ID_ROLE:
            return entity.id
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole, SORT_ROLE):
            value = col.value(entity, self._scenario)
            if role == SORT_ROLE:
                if isinstance(value, int | float | str):
                    return value
                return "" if value is None else str(value)
            if value is None:
                return ""
            if col.fmt is not None:
                text = col.fmt(value)
            else:
                text = _num(value) if isinstance(value, int | float) else str(value)
            return plain_tooltip(text) if role == Qt.ItemDataRole.ToolTipRole else text
        if role == Qt.ItemDataRole.TextAlignmentRole:
            value = col.value(entity, self._scenario)
            if isinstance(value, int | float) and not isinstance(value, bool):
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if (
            role == Qt.ItemDataRole.BackgroundRole
            and self.kind == "incidents"
            and col.header == "级别"
        ):
            return QBrush(QColor(LEVEL_COLORS[entity.level]))
        return None


class EntityFilterProxy(QSortFilterProxyModel):
    """Sort by raw values; search every column (case-insensitive, plain text)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setSortRole(SORT_ROLE)
        self.setFilterKeyColumn(-1)
        self.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.setDynamicSortFilter(True)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Sorting is done by the source model (see :meth:`EntityTableModel.sort`); the proxy
        keeps its order and only filters."""
        source = self.sourceModel()
        if isinstance(source, EntityTableModel):
            source.sort(column, order)
            return
        super().sort(column, order)

    def lessThan(self, left: QModelIndex, right: QModelIndex) -> bool:  # noqa: N802
        a = left.data(SORT_ROLE)
        b = right.data(SORT_ROLE)
        if isinstance(a, int | float) and isinstance(b, int | float):
            return a < b
        return str(a) < str(b)

    def set_search(self, text: str) -> None:
        self.setFilterFixedString(text)


def make_proxy(model: EntityTableModel) -> EntityFilterProxy:
    proxy = EntityFilterProxy(model)
    proxy.setSourceModel(model)
    return proxy


def parse_quantity(value: Any) -> float | None:
    """A quantity typed in a cell: a finite number ≥ 0 (``"1,000"`` and ``" 12 "`` accepted).

    Returns None for anything else (text, negative, NaN, infinity, booleans).
    """
    try:  # the one strict parser, shared with the workspace reader ("1,20" is not 120)
        number = float(parse_number(value))
    except (ValueError, OverflowError):
        return None
    if number < 0:
        return None
    return number


class MappingModel(QAbstractTableModel):
    """Editable ``key -> number`` table (inventory, needs, skills) used by the editors.

    A typed quantity may carry thousands separators ("1,000", as the table displays it). Text
    that is not a number, negative or not finite is refused: the cell keeps its value and
    ``sig_rejected`` carries a message naming the row and what was typed.
    """

    sig_rejected = pyqtSignal(str)

    def __init__(
        self,
        rows: Sequence[tuple[str, float]] = (),
        *,
        headers: Sequence[str] = (tr_noop("物资"), tr_noop("数量")),
        labels: dict[str, str] | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.rows: list[list[Any]] = [[k, v] for k, v in rows]
        self.headers = list(headers)
        self.labels = labels or {}

    def rowCount(self, parent: QModelIndex | None = None) -> int:  # noqa: N802
        return len(self.rows)

    def columnCount(self, parent: QModelIndex | None = None) -> int:  # noqa: N802
        return 2

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:  # noqa: N802
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return tr(self.headers[section])
        return None

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        key, value = self.rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            if index.column() == 0:
                return tr(self.labels.get(key, key))  # skills are words of the UI language
            return _num(value)
        if role == Qt.ItemDataRole.EditRole:
            return key if index.column() == 0 else value
        return None

    def flags(self, index: QModelIndex) -> Qt.ItemFlag:
        base = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if index.column() == 1:
            return base | Qt.ItemFlag.ItemIsEditable
        return base

    def setData(self, index: QModelIndex, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:  # noqa: N802
        if role != Qt.ItemDataRole.EditRole or index.column() != 1:
            return False
        key = self.rows[index.row()][0]
        number = parse_quantity(value)
        if number is None:
            self.sig_rejected.emit(
                tr("“{key}”的数量无效：{value!r}（须为不小于 0 的数字）").format(
                    key=self.labels.get(key, key), value=value
                )
            )
            return False
        self.rows[index.row()][1] = int(number) if number.is_integer() else number
        self.dataChanged.emit(index, index)
        return True

    def set_value(self, key: str, value: float) -> None:
        for i, row in enumerate(self.rows):
            if row[0] == key:
                row[1] = value
                idx = self.index(i, 1)
                self.dataChanged.emit(idx, idx)
                return
        self.beginInsertRows(QModelIndex(), len(self.rows), len(self.rows))
        self.rows.append([key, value])
        self.endInsertRows()

    def remove_row(self, row: int) -> None:
        if 0 <= row < len(self.rows):
            self.beginRemoveRows(QModelIndex(), row, row)
            del self.rows[row]
            self.endRemoveRows()

    def replace_all(self, rows: Sequence[tuple[str, float]]) -> None:
        self.beginResetModel()
        self.rows = [[k, v] for k, v in rows]
        self.endResetModel()

    def as_dict(self) -> dict[str, float]:
        return {k: v for k, v in self.rows if v not in (None, "")}
