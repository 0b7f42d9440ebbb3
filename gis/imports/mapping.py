"""Column mapping: which column of a ledger fills which workspace field.

The fields of a kind come from its workspace spec (:mod:`gis.workspace.schema`): the columns of
the entity table (or, for ``inventory``, the related table), plus ``lon``/``lat`` (and ``wkt``
for a layer of mixed geometry), ``skills`` for teams and the look-up fields of inventory lines
(``stockpile_name``, ``unit``) and a team's vehicle line (:data:`VEHICLE_FIELDS`). A kind added to the schema (``demand_points``) is importable
with no change here; :data:`FIELD_WORDS` only makes its Chinese headers recognised.

:data:`FIELD_WORDS` lists the header words of each field, Chinese first; the first word is the
header an export writes (so an exported file maps back exactly). A suggestion scores every
(field, header) pair — exact word 3, word inside the header 1 (longer words a little more) —
and assigns greedily, each field and each header at most once. A template (JSON) written by
:func:`save_template` fixes the mapping of next year's ledger.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gis.errors import DataImportError
from gis.workspace.schema import BY_LAYER, EntityTable, RelatedTable, Table

#: Header words per field (first = the header an export writes).
FIELD_WORDS: Mapping[str, tuple[str, ...]] = {
    "id": ("编号", "编码", "代码", "id", "ID"),
    "name": (
        "名称", "储备点名称", "储备库名称", "场所名称", "避难场所名称", "队伍名称", "事件名称",
        "危险源名称", "隐患点名称", "村名", "村庄名称", "单位名称", "name",
    ),
    "level": ("级别", "储备级别", "储备库级别", "响应级别", "事件级别", "层级", "level"),
    "township_code": ("乡镇代码", "区划代码", "所属乡镇代码", "township_code"),
    "contact": ("联系方式", "联系电话", "联系人", "电话", "contact"),
    "setting": ("室内室外", "室内/室外", "场所类型", "setting"),
    "shelter_class": ("避难场所类别", "场所类别", "避难类别", "shelter_class"),
    "capacity": ("容纳人数", "可容纳人数", "容量", "设计容量", "capacity"),
    "occupancy": ("已安置人数", "现有人数", "已用", "occupancy"),
    "force_type": ("队伍类型", "力量类型", "队伍性质", "force_type"),
    "headcount": ("队伍人数", "队员人数", "人数", "headcount"),
    "status": ("状态", "status"),
    "leader": ("负责人", "队长", "leader"),
    "phone": ("联系电话", "电话", "手机", "phone"),
    "category": ("类别", "类型", "事件类别", "危险源类别", "分类", "category"),
    "subtype": ("事件类型", "子类", "subtype"),
    "reported_at": ("接报时间", "报告时间", "发生时间", "reported_at"),
    "affected_people": ("受影响人数", "受灾人数", "影响人数", "affected_people"),
    "deadline_min": ("时限(分钟)", "时限", "deadline_min"),
    "description": ("描述", "说明", "备注", "description"),
    "risk_level": ("风险等级", "风险级别", "等级", "risk_level"),
    "population": ("人口", "常住人口", "户籍人口", "人口数", "population"),
    "code": ("物资编码", "编码", "代码", "code"),
    "name_zh": ("物资名称", "名称", "品名", "name_zh"),
    "name_en": ("英文名称", "name_en"),
    "unit": ("计量单位", "单位", "unit"),
    "unit_weight_kg": ("单件重量(kg)", "单位重量", "单重", "重量", "unit_weight_kg"),
    "unit_volume_m3": ("单件体积(m³)", "单位体积", "体积", "unit_volume_m3"),
    "divisible": ("可分割", "divisible"),
    "lon": ("经度", "东经", "X坐标", "横坐标", "lng", "lon", "longitude", "x"),
    "lat": ("纬度", "北纬", "Y坐标", "纵坐标", "lat", "latitude", "y"),
    "wkt": ("几何(WKT)", "WKT", "geometry"),
    "skills": ("专业技能", "技能", "救援专长", "专长", "skills"),
    "vehicle_kind": ("车辆类型", "车型", "车辆种类", "装备车辆", "车辆", "vehicle_kind"),
    "vehicle_count": ("车辆数", "车辆数量", "车数", "台数", "vehicle_count"),
    "vehicle_capacity_kg": ("载重(kg)", "核定载重", "载重", "载重量", "vehicle_capacity_kg"),
    "vehicle_capacity_m3": ("容积(m³)", "载货容积", "容积", "vehicle_capacity_m3"),
    "stockpile_id": ("储备库编号", "储备点编号", "仓库编号", "stockpile_id"),
    "stockpile_name": (
        "储备库", "储备库名称", "储备点名称", "储备点", "所属储备库", "仓库名称", "存放地点", "stockpile",
    ),
    "material": ("物资", "物资名称", "品名", "物资编码", "material"),
    "quantity": ("数量", "库存数量", "库存", "现有数量", "实有数量", "quantity"),
    "safety_stock": ("安全库存", "最低库存", "safety_stock"),
    "production_date": ("生产日期", "production_date"),
    "expiry_date": ("到期日", "有效期至", "失效日期", "保质期至", "expiry_date"),
    "capacity_m3": ("库容(m³)", "库容", "仓库容积", "储存容积", "capacity_m3"),
    "kind": ("可建为", "候选类型", "需求点类型", "类型", "kind"),
    "fixed_cost": ("建设费用(万元)", "建设费用", "固定费用", "投资", "fixed_cost"),
    "note": ("备注", "note"),
}  # fmt: skip

#: A team's vehicle line (type, count, capacity per vehicle): columns on the team row, or one
#: row per vehicle kind repeating the team (gis.imports.service).
VEHICLE_FIELDS = ("vehicle_kind", "vehicle_count", "vehicle_capacity_kg", "vehicle_capacity_m3")

#: Fields every point layer takes besides its columns.
COORDINATE_FIELDS = ("lon", "lat")


def importable_kinds() -> tuple[str, ...]:
    """Kinds the workspace schema can take: every scenario entity layer and ``inventory``."""
    out = [
        t.layer
        for t in BY_LAYER.values()
        if isinstance(t, EntityTable) and t.scenario_attr is not None and t.layer != "closures"
    ]
    return (*out, "inventory")


def kind_table(kind: str) -> Table:
    """The workspace spec of ``kind`` (:class:`DataImportError` when the schema has none)."""
    if kind not in importable_kinds():
        raise DataImportError(
            f"kind {kind!r} is not a layer of this workspace schema "
            f"(importable: {', '.join(importable_kinds())})"
        )
    return BY_LAYER[kind]


def kind_fields(kind: str) -> tuple[str, ...]:
    """The fields a file of ``kind`` may fill, in spec order."""
    table = kind_table(kind)
    if isinstance(table, RelatedTable):
        values = tuple(c.name for c in table.value_columns)
        return ("stockpile_id", "stockpile_name", "material", *values, "unit")
    assert isinstance(table, EntityTable)
    cols = tuple(c.name for c in table.columns if c.attr is not None)
    extra: tuple[str, ...] = ()
    if table.geometry is not None:
        extra = (
            COORDINATE_FIELDS if table.geometry.attr == "location" else (*COORDINATE_FIELDS, "wkt")
        )
    if kind == "teams":
        extra = (*extra, "skills", *VEHICLE_FIELDS)
    return (*cols, *extra)


def label(name: str) -> str:
    """The Chinese header of a field (an export's header; the field's name when unknown)."""
    words = FIELD_WORDS.get(name)
    return words[0] if words else name


def _norm(text: str) -> str:
    text = unicodedata.normalize("NFKC", str(text)).strip().lower()
    return re.sub(r"[\s_\-:：*＊]+", "", text)


def _bare(text: str) -> str:
    """Without a bracketed note: ``经度(高德)`` → ``经度``."""
    return re.sub(r"[(（\[【].*?[)）\]】]", "", text)


def pair_score(field_name: str, header: str) -> float:
    """How well ``header`` names ``field_name`` (0 = not at all)."""
    h = _norm(header)
    if not h:
        return 0.0
    hb = _bare(h) or h
    best = 0.0
    words = (*FIELD_WORDS.get(field_name, ()), field_name)
    for rank, word in enumerate(words):
        w = _norm(word)
        bonus = len(w) / 10 - rank / 100
        if h == w or hb == w:
            best = max(best, 3 + bonus)
        elif len(w) >= 2 and not w.isascii() and w in hb:
            best = max(best, 1 + bonus)
        elif len(h) == 10 and w.isascii() and len(w) > 10 and w.startswith(h):
            best = max(best, 2.5)  # a Shapefile's 10-character field name
    return best


def suggest(
    kind: str, headers: Sequence[str], fixed: Mapping[str, str | None] | None = None
) -> dict[str, str]:
    """``{header: field}`` for ``kind``: ``fixed`` (a template: header → field or ``None`` =
    ignore) first, then the best-scoring free pairs."""
    fields = kind_fields(kind)
    out: dict[str, str] = {}
    used: set[str] = set()
    for header, target in (fixed or {}).items():
        if header in headers and target is not None:
            if target not in fields:
                raise DataImportError(
                    f"mapping: column {header!r} → {target!r} is not a field of {kind} "
                    f"(fields: {', '.join(fields)})"
                )
            out[header] = target
            used.add(target)
    pairs = []
    for h in headers:
        if not h or h in out or (fixed and h in fixed):
            continue
        for f in fields:
            if f in used:
                continue
            s = pair_score(f, h)
            if s > 0:
                pairs.append((s, -headers.index(h), h, f))
    pairs.sort(reverse=True)
    for _, _, h, f in pairs:
        if h in out or f in used:
            continue
        out[h] = f
        used.add(f)
    return out


def header_scorer(kind: str) -> Any:
    """A score of a candidate header row for ``kind`` (fields it maps, exact matches weigh more)."""

    def score(headers: Sequence[str]) -> float:
        mapping = suggest(kind, list(headers))
        return sum(min(pair_score(f, h), 3.0) for h, f in mapping.items())

    return score


@dataclass(frozen=True)
class Template:
    """A saved mapping: the kind, header → field (``None`` = ignore the column), the CRS."""

    kind: str
    columns: Mapping[str, str | None]
    crs: str = ""


def load_template(path: Path) -> Template:
    """Read a mapping template (:class:`DataImportError` naming the file and what is wrong)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise DataImportError(f"mapping {path}: file not found") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataImportError(f"mapping {path}: not a JSON mapping ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("columns"), dict):
        raise DataImportError(
            f'mapping {path}: expected {{"kind": …, "columns": {{"header": "field"}}}}'
        )
    columns = data["columns"]
    for k, v in columns.items():
        if not isinstance(k, str) or not (v is None or isinstance(v, str)):
            raise DataImportError(
                f"mapping {path}: column {k!r} → {v!r} must map text to a field name or null"
            )
    kind = data.get("kind", "")
    crs = data.get("crs", "")
    if not isinstance(kind, str) or not isinstance(crs, str):
        raise DataImportError(f"mapping {path}: 'kind' and 'crs' must be text")
    return Template(kind=kind, columns=dict(columns), crs=crs)


def save_template(path: Path, template: Template) -> None:
    data = {"kind": template.kind, "columns": dict(template.columns), "crs": template.crs}
    Path(path).write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


__all__ = [
    "FIELD_WORDS",
    "VEHICLE_FIELDS",
    "Template",
    "importable_kinds",
    "kind_fields",
    "kind_table",
    "label",
    "load_template",
    "save_template",
    "suggest",
]
