"""Import use case: a file → rows checked against the workspace → preview → all-or-nothing commit.

:func:`plan_import` reads the file (:mod:`~gis.imports.tables`, :mod:`~gis.imports.vector`),
maps its columns (:mod:`~gis.imports.mapping`), converts coordinates
(:mod:`~gis.imports.crs`), normalises values (:mod:`~gis.imports.values`) and builds each row's
model object; an existing object is matched by id, else by name. The result lists what would be
added, updated and rejected (row number and reason) and carries the new Scenario.
:func:`run_import` commits it through the workspace writer (atomic: temporary file, fsync,
replace) only when no row is rejected and it is not a dry run; otherwise the workspace file is
not opened for writing at all, so it stays byte-identical.

Which kinds exist, which fields they have and how a row becomes an object all come from the
workspace specs (:mod:`gis.workspace.schema`): a kind is a spec lookup.
"""

from __future__ import annotations

import dataclasses
import enum
import re
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from gis.catalogue import load_materials, match_material
from gis.errors import DataImportError, ReliefDeskError
from gis.imports import crs as crsmod
from gis.imports.mapping import kind_table, load_template, suggest
from gis.imports.tables import RawTable, read_csv, read_xls, read_xlsx
from gis.imports.values import (
    bool_value,
    coordinate_value,
    datetime_value,
    is_blank,
    number_value,
    text_value,
)
from gis.imports.vector import VECTOR_SUFFIXES, read_vector
from gis.model import Material, Scenario, Vehicle
from gis.vocabulary import ID_PREFIX, new_entity_id
from gis.workspace.schema import Column, EntityTable, RelatedTable

TABLE_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".csv", ".txt")
#: A point farther than this outside the county outline's box is rejected (swapped lon/lat,
#: a wrong zone, a typo): a county is ~100 km across.
FAR_DEG = 1.0


@dataclass(frozen=True)
class ImportRequest:
    """What ``app.py import`` and the desk's wizard ask for."""

    workspace: Path
    file: Path
    kind: str
    sheet: str | None = None
    crs: str = "auto"
    mapping: Path | None = None
    dry_run: bool = False
    update: bool = False
    #: header → field (``None`` = ignore), as edited in the desk's wizard; wins over ``mapping``
    columns: Mapping[str, str | None] | None = None


@dataclass(frozen=True)
class RowOutcome:
    row: int
    key: str = ""
    name: str = ""
    reason: str = ""


@dataclass(frozen=True)
class ImportResult:
    """The preview (and, after :func:`run_import`, whether it was committed)."""

    kind: str
    file: str
    sheet: str
    added: tuple[RowOutcome, ...]
    updated: tuple[RowOutcome, ...]
    rejected: tuple[RowOutcome, ...]
    skipped_rows: tuple[int, ...]
    crs: str
    crs_note: str = ""
    crs_suggestion: str = ""
    unknown_materials: tuple[str, ...] = ()
    mapping: Mapping[str, str] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    encoding: str = ""
    dry_run: bool = False
    committed: bool = False
    headers: tuple[str, ...] = ()
    scenario: Scenario | None = field(default=None, repr=False, compare=False)

    def to_json(self) -> dict[str, Any]:
        def rows(items: Sequence[RowOutcome], reason: bool) -> list[dict[str, Any]]:
            if reason:
                return [{"row": r.row, "reason": r.reason} for r in items]
            return [{"row": r.row, "id": r.key, "name": r.name} for r in items]

        return {
            "kind": self.kind,
            "file": self.file,
            "sheet": self.sheet,
            "dry_run": self.dry_run,
            "committed": self.committed,
            "added": rows(self.added, False),
            "updated": rows(self.updated, False),
            "rejected": rows(self.rejected, True),
            "skipped_rows": list(self.skipped_rows),
            "crs": self.crs,
            "crs_note": self.crs_note,
            "crs_suggestion": self.crs_suggestion,
            "unknown_materials": list(self.unknown_materials),
            "mapping": dict(self.mapping),
            "encoding": self.encoding,
            "warnings": list(self.warnings),
        }


# --------------------------------------------------------------------------------------------
# reading
# --------------------------------------------------------------------------------------------


def read_any(path: Path, kind: str, sheet: str | None) -> RawTable:
    """The file as a :class:`RawTable`, by its ending."""
    from gis.imports.mapping import header_scorer

    if not path.is_file():
        raise DataImportError(
            f"{path}: file not found" if not path.exists() else f"{path}: not a file"
        )
    suffix = path.suffix.lower()
    score = header_scorer(kind)
    if suffix in (".xlsx", ".xlsm"):
        return read_xlsx(path, score, sheet)
    if suffix == ".xls":
        return read_xls(path, score, sheet)
    if suffix in (".csv", ".txt"):
        return read_csv(path, score)
    if suffix in VECTOR_SUFFIXES:
        return read_vector(path, sheet)
    raise DataImportError(
        f"{path}: unknown file type {suffix or '(none)'} "
        f"(expected {', '.join(TABLE_SUFFIXES + VECTOR_SUFFIXES)})"
    )


# --------------------------------------------------------------------------------------------
# values by column kind
# --------------------------------------------------------------------------------------------


class RowError(Exception):
    """One row is rejected: the message is the reason shown to the user."""


def _enum_of(model: type, attr: str) -> type[enum.Enum] | None:
    try:
        hint = typing.get_type_hints(model).get(attr)
    except Exception:  # noqa: BLE001 - unresolved hints: no enum snapping
        return None
    return hint if isinstance(hint, type) and issubclass(hint, enum.Enum) else None


def _snap_enum(text: str, enum_type: type[enum.Enum]) -> str:
    values = [str(m.value) for m in enum_type]
    if text in values:
        return text
    inside = [v for v in values if v in text]
    if len(inside) == 1:
        return inside[0]
    contains = [v for v in values if text and text in v]
    return contains[0] if len(contains) == 1 else text


def _cell(col: Column, value: Any, model: type | None, label: str) -> Any:
    try:
        if col.kind == "text":
            text = text_value(value)
            enum_type = _enum_of(model, col.attr or "") if model is not None else None
            return _snap_enum(text, enum_type) if enum_type is not None else text
        if col.kind in ("int", "float"):
            if col.roman and isinstance(value, str) and not re.fullmatch(r"\s*\d+\s*", value):
                return text_value(value).removesuffix("级")
            number, _unit = number_value(value, whole=col.kind == "int")
            if col.non_negative and number < 0:
                raise ValueError(f"must be ≥ 0, got {number}")
            return number if col.kind == "int" else float(number)
        if col.kind == "bool":
            return bool_value(value)
        if col.kind == "datetime":
            return datetime_value(value)
    except (ValueError, OverflowError) as exc:
        raise RowError(f"{label}: {exc}") from None
    raise AssertionError(col.kind)  # pragma: no cover


# --------------------------------------------------------------------------------------------
# the plan
# --------------------------------------------------------------------------------------------


@dataclass
class _Plan:
    kind: str
    raw: RawTable
    mapping: dict[str, str]
    added: list[RowOutcome] = field(default_factory=list)
    updated: list[RowOutcome] = field(default_factory=list)
    rejected: list[RowOutcome] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    crs: str = ""
    crs_note: str = ""
    crs_suggestion: str = ""

    def column(self, fld: str) -> int | None:
        for header, target in self.mapping.items():
            if target == fld:
                return self.raw.headers.index(header)
        return None

    def header(self, fld: str) -> str:
        for header, target in self.mapping.items():
            if target == fld:
                return header
        return fld

    def value(self, values: Sequence[Any], fld: str) -> Any:
        i = self.column(fld)
        return None if i is None else values[i]


def _locations(plan: _Plan, scenario: Scenario, option: str, point_layer: bool) -> dict[int, Any]:
    """Row number → WGS-84 geometry (Point from lon/lat, or the file's geometry), or a
    :class:`RowError` instance for a row whose coordinates are wrong."""
    raw = plan.raw
    out: dict[int, Any] = {}
    ilon, ilat, iwkt = plan.column("lon"), plan.column("lat"), plan.column("wkt")
    boundary = scenario.boundary
    central = float(boundary.centroid.x) if boundary is not None else None
    if ilon is not None and ilat is not None:
        xs = np.full(len(raw.rows), np.nan)
        ys = np.full(len(raw.rows), np.nan)
        for k, (number, values) in enumerate(raw.rows):
            a, b = values[ilon], values[ilat]
            if is_blank(a) and is_blank(b):
                continue
            try:
                xs[k] = coordinate_value(a)
                ys[k] = coordinate_value(b)
            except (ValueError, OverflowError) as exc:
                out[number] = RowError(
                    f"坐标 {text_value(a)[:30]!r}, {text_value(b)[:30]!r}: {exc}"
                )
        file_system = crsmod.system_of_file_crs(raw.crs)
        headers = (plan.header("lon"), plan.header("lat"))
        try:
            conv = crsmod.detect(
                xs, ys, option=option, headers=headers, file_system=file_system, central_lon=central
            )
        except DataImportError:
            raise
        better, flagged = crsmod.outline_check(boundary, xs, ys, conv)
        _set_crs(plan, conv, better, int(flagged.sum()))
        for k, (number, _) in enumerate(raw.rows):
            if number in out or not np.isfinite(conv.lon[k]) or not np.isfinite(conv.lat[k]):
                continue
            out[number] = shapely.Point(conv.lon[k], conv.lat[k])
            if flagged[k]:
                plan.warnings.append(
                    f"第 {number} 行：按 {crsmod.DISPLAY.get(conv.system, conv.system)} 在县界外，"
                    "按另一坐标系在县界内"
                )
        return out
    if iwkt is not None:
        geoms = []
        for number, values in raw.rows:
            text = text_value(values[iwkt])
            try:
                geoms.append((number, shapely.from_wkt(text) if text else None))
            except shapely.errors.GEOSException as exc:
                out[number] = RowError(f"几何(WKT) {text[:40]!r}: {str(exc)[:80]}")
        return out | _convert_geoms(plan, geoms, option, None, central)
    if raw.geometries is not None:
        geoms = list(zip((n for n, _ in raw.rows), raw.geometries, strict=True))
        return _convert_geoms(plan, geoms, option, raw.crs, central)
    return out


def _set_crs(plan: _Plan, conv: crsmod.Converted, better: str | None, flagged: int) -> None:
    plan.crs = crsmod.DISPLAY.get(
        conv.system, conv.system if not conv.system.startswith("WKT:") else "file .prj"
    )
    plan.crs_note = conv.note
    if better is not None:
        plan.crs_suggestion = (
            f"{flagged} 个点按 {crsmod.DISPLAY[better]} 在县界内、按 {plan.crs} 在县界外："
            f"可试 --crs {better.lower()}"
        )


def _convert_geoms(
    plan: _Plan, geoms: list[tuple[int, Any]], option: str, file_crs: Any, central: float | None
) -> dict[int, Any]:
    present = [(n, g) for n, g in geoms if g is not None and not g.is_empty]
    if not present:
        plan.crs = "-"
        return {}
    coords = shapely.get_coordinates([g for _, g in present])
    file_system = crsmod.system_of_file_crs(file_crs)
    conv = crsmod.detect(
        coords[:, 0],
        coords[:, 1],
        option=option,
        file_system=file_system,
        central_lon=central,
        columns=False,
    )
    _set_crs(plan, conv, None, 0)
    system = conv.system

    def fn(xy: np.ndarray) -> np.ndarray:
        if xy.size == 0:
            return xy
        lon, lat = crsmod.to_wgs(xy[:, 0], xy[:, 1], system)
        return np.column_stack([lon, lat])

    out: dict[int, Any] = {}
    for n, g in present:
        if g.has_z:
            g = shapely.force_2d(g)
        out[n] = shapely.transform(g, fn)
    return out


def _point_for(geom: Any, point_layer: bool) -> Any:
    if not point_layer or geom.geom_type == "Point":
        return geom
    if geom.geom_type == "MultiPoint" and len(geom.geoms) == 1:
        return geom.geoms[0]
    return geom.representative_point()


def _far(scenario: Scenario, geom: Any) -> str | None:
    if scenario.boundary is None:
        return None
    minx, miny, maxx, maxy = scenario.boundary.bounds
    gx0, gy0, gx1, gy1 = geom.bounds
    if gx1 < minx - FAR_DEG or gx0 > maxx + FAR_DEG or gy1 < miny - FAR_DEG or gy0 > maxy + FAR_DEG:
        return f"坐标 ({gx0:.5f}, {gy0:.5f}) 远在县界之外（经纬度填反，或坐标系不对？）"
    return None


def _next_id(kind: str, taken: set[str]) -> str:
    """A new id for ``kind`` as the desk makes them (gis.vocabulary: INC-004 after INC-001)."""
    return new_entity_id(ID_PREFIX.get(kind, kind[:2].upper()), taken)


def _vehicle_line(plan: _Plan, values: Sequence[Any]) -> tuple[str, int, float, float] | None:
    """A team row's vehicle line (type, count, kg and m³ per vehicle); None when it has none.

    Capacities in tonnes (``5吨``, ``5 t`` or a header saying 吨) are converted to kg; a missing
    capacity is 0 (a team's vehicles carry people and their own equipment)."""
    kind = text_value(plan.value(values, "vehicle_kind"))
    count_raw = plan.value(values, "vehicle_count")
    if not kind and is_blank(count_raw):
        return None
    if not kind:
        raise RowError(f"{plan.header('vehicle_count')} 已填，缺少车辆类型")
    count = 1
    if not is_blank(count_raw):
        try:
            count = int(number_value(count_raw, whole=True)[0])
        except (ValueError, OverflowError) as exc:
            raise RowError(f"{plan.header('vehicle_count')}: {exc}") from None
        if not 0 < count <= 200:
            raise RowError(f"{plan.header('vehicle_count')}: 车辆数应为 1–200，实为 {count}")
    caps = []
    for fld in ("vehicle_capacity_kg", "vehicle_capacity_m3"):
        v = plan.value(values, fld)
        if is_blank(v):
            caps.append(0.0)
            continue
        try:
            number, unit = number_value(v)
        except (ValueError, OverflowError) as exc:
            raise RowError(f"{plan.header(fld)}: {exc}") from None
        tonnes = unit.lower() in ("吨", "t") or "吨" in plan.header(fld)
        caps.append(float(number) * (1000.0 if fld.endswith("kg") and tonnes else 1.0))
    return kind, count, caps[0], caps[1]


def _vehicles_for(
    home_id: str, line: tuple[str, int, float, float], taken: set[str]
) -> tuple[Vehicle, ...]:
    kind, count, kg, m3 = line
    out = []
    for _ in range(count):
        vid = _next_id("vehicles", taken)
        taken.add(vid)
        out.append(Vehicle(vid, kind, kg, m3, home_id))
    return tuple(out)


def _entities(
    plan: _Plan, scenario: Scenario, table: EntityTable, option: str, update: bool
) -> Scenario:
    raw = plan.raw
    attr = table.scenario_attr or ""
    existing = list(getattr(scenario, attr))
    key = table.key
    by_key = {getattr(e, key): i for i, e in enumerate(existing)}
    names: dict[str, list[int]] = {}
    name_attr = "name" if any(c.name == "name" for c in table.columns) else "name_zh"
    for i, e in enumerate(existing):
        names.setdefault(getattr(e, name_attr, ""), []).append(i)
    geometry = table.geometry
    point_layer = geometry is not None and geometry.attr == "location"
    locations = _locations(plan, scenario, option, point_layer) if geometry is not None else {}
    catalogue = load_materials() if table.layer == "materials" else ()
    seen: dict[str, int] = {}
    taken = set(by_key)
    # teams: vehicle ids are unique across the workspace; where each row's team went
    vehicle_ids = {v.id for o in (*scenario.stockpiles, *scenario.teams) for v in o.vehicles}
    placed: dict[str, tuple[int, bool]] = {}  # dup key → (index in existing, added here)
    for number, values in raw.rows:
        try:
            changes: dict[str, Any] = {}
            for col in table.columns:
                if col.attr is None or plan.column(col.name) is None:
                    continue
                v = plan.value(values, col.name)
                if is_blank(v):
                    continue
                changes[col.attr] = _cell(col, v, table.model, plan.header(col.name))
            if table.layer == "teams" and not is_blank(sk := plan.value(values, "skills")):
                parts = re.split(r"[、,，;；/\s]+", text_value(sk))
                changes["skills"] = tuple(dict.fromkeys(p for p in parts if p))
            if geometry is not None:
                loc = locations.get(number)
                if isinstance(loc, RowError):
                    raise loc
                if loc is not None:
                    loc = _point_for(loc, point_layer)
                    if (far := _far(scenario, loc)) is not None:
                        raise RowError(far)
                    changes[geometry.attr or ""] = (loc.x, loc.y) if point_layer else loc
            ident = str(changes.get(key, "")).strip()
            name = str(changes.get(name_attr, "")).strip()
            if not ident and not name:
                raise RowError(
                    f"既无{plan.header(key) if plan.column(key) is not None else '编号'}也无名称"
                )
            if table.layer == "materials" and (
                hit := match_material(name or ident, list(catalogue))
            ):
                changes = {
                    **{f.name: getattr(hit, f.name) for f in dataclasses.fields(Material)},
                    **changes,
                }
                ident = str(changes.get(key, "")).strip()
            vline = _vehicle_line(plan, values) if table.layer == "teams" else None
            dup_key = ident or f"name:{name}"
            if dup_key in seen and vline is not None and dup_key in placed:
                # one row per vehicle kind: the team's row repeated with another vehicle line
                i, added_here = placed[dup_key]
                team = existing[i]
                vs = _vehicles_for(team.id, vline, vehicle_ids)
                existing[i] = dataclasses.replace(team, vehicles=(*team.vehicles, *vs))
                target = plan.added if added_here else plan.updated
                target.append(RowOutcome(number, team.id, f"{team.name}（{vline[0]}×{vline[1]}）"))
                continue
            if dup_key in seen:
                raise RowError(f"与第 {seen[dup_key]} 行重复（{ident or name}）")
            seen[dup_key] = number
            index = by_key.get(ident) if ident else None
            if index is None and not ident and name:
                hits = names.get(name, [])
                if len(hits) > 1:
                    raise RowError(f"名称 {name!r} 对应 {len(hits)} 个已有条目：请填写编号")
                index = hits[0] if hits else None
            if index is not None:
                old = existing[index]
                if not update:
                    raise RowError(
                        f"{getattr(old, key)}（{getattr(old, name_attr, '')}）已存在："
                        "如需更新请用 --update（更新已有条目）"
                    )
                changes.pop(key, None)
                if vline is not None:  # the ledger lists the team's vehicles: they replace
                    changes["vehicles"] = _vehicles_for(getattr(old, key), vline, vehicle_ids)
                obj = dataclasses.replace(old, **changes)
                existing[index] = obj
                placed[dup_key] = (index, False)
                plan.updated.append(
                    RowOutcome(number, getattr(obj, key), getattr(obj, name_attr, ""))
                )
                continue
            if not ident:
                ident = _next_id(table.layer, taken)
                changes[key] = ident
            for c in table.columns:  # an optional column the file lacks takes its default
                if not c.required and c.attr and c.attr not in changes and c.default is not None:
                    changes[c.attr] = c.default
            missing = [
                plan.header(c.name) if plan.column(c.name) is not None else c.name
                for c in table.columns
                if c.required and c.attr and c.attr not in changes
            ]
            if geometry is not None and (geometry.attr or "") not in changes:
                missing.append("经度/纬度" if point_layer else "geometry")
            if missing:
                raise RowError(f"缺少 {'、'.join(missing)}")
            if vline is not None:
                changes["vehicles"] = _vehicles_for(ident, vline, vehicle_ids)
            obj = table.model(**changes)
            placed[dup_key] = (len(existing), True)
            taken.add(ident)
            by_key[ident] = len(existing)
            existing.append(obj)
            plan.added.append(RowOutcome(number, ident, getattr(obj, name_attr, "")))
        except RowError as exc:
            plan.rejected.append(RowOutcome(number, reason=str(exc)))
        except (ReliefDeskError, TypeError) as exc:
            plan.rejected.append(RowOutcome(number, reason=" ".join(str(exc).split())[:300]))
    try:
        return scenario.replace(**{attr: tuple(existing)})
    except ReliefDeskError as exc:
        raise DataImportError(f"the imported rows do not fit the workspace: {exc}") from None


def _inventory(plan: _Plan, scenario: Scenario, table: RelatedTable, update: bool) -> Scenario:
    stockpiles = list(scenario.stockpiles)
    by_id = {s.id: i for i, s in enumerate(stockpiles)}
    by_name: dict[str, list[int]] = {}
    for i, s in enumerate(stockpiles):
        by_name.setdefault(s.name, []).append(i)
    materials = list(scenario.materials) or list(load_materials())
    value_cols = {c.name: c for c in table.value_columns}
    seen: dict[tuple[str, str], int] = {}
    unknown: dict[str, None] = {}
    for number, values in plan.raw.rows:
        try:
            sid = text_value(plan.value(values, "stockpile_id"))
            sname = text_value(plan.value(values, "stockpile_name"))
            if sid:
                if sid not in by_id:
                    raise RowError(f"储备库 {sid!r} 不在工作区中")
                si = by_id[sid]
            elif sname:
                hits = by_name.get(sname, [])
                if len(hits) != 1:
                    raise RowError(
                        f"储备库 {sname!r} 不在工作区中"
                        if not hits
                        else f"储备库名称 {sname!r} 不唯一：请填写储备库编号"
                    )
                si = hits[0]
            else:
                raise RowError("缺少储备库（储备库编号或储备库名称）")
            mtext = text_value(plan.value(values, "material"))
            if not mtext:
                raise RowError("缺少物资名称")
            mat = match_material(mtext, materials)
            if mat is None:
                unknown[mtext] = None
                raise RowError(f"未知物资 {mtext!r}（物资目录中没有：可作为新物资加入目录）")
            sp = stockpiles[si]
            line = (sp.id, mat.code)
            if line in seen:
                raise RowError(f"与第 {seen[line]} 行重复（{sp.name} {mat.name_zh}）")
            seen[line] = number
            qty_raw = plan.value(values, "quantity")
            if is_blank(qty_raw):
                raise RowError(f"缺少数量（{plan.header('quantity')}）")
            try:
                qty, unit = number_value(qty_raw)
            except (ValueError, OverflowError) as exc:
                raise RowError(f"{plan.header('quantity')}: {exc}") from None
            unit = text_value(plan.value(values, "unit")) or unit
            if unit and unit != mat.unit:
                raise RowError(f"计量单位 {unit!r} 与目录中 {mat.name_zh} 的单位 {mat.unit!r} 不同")
            inv = dict(sp.inventory)
            exists = mat.code in inv
            if exists and not update:
                raise RowError(
                    f"{sp.name} 已有 {mat.name_zh}：如需更新请用 --update（更新已有条目）"
                )
            changes: dict[str, Any] = {"inventory": {**inv, mat.code: qty}}
            for name in ("safety_stock", "production_date", "expiry_date"):
                col = value_cols.get(name)
                v = plan.value(values, name)
                if col is None or is_blank(v):
                    continue
                parsed = _cell(col, v, None, plan.header(name))
                current = dict(getattr(sp, col.attr or ""))
                current[mat.code] = parsed.date() if col.kind == "datetime" else parsed
                changes[col.attr or ""] = current
            made = changes.get("production_dates", sp.production_dates).get(mat.code)
            expires = changes.get("expiry_dates", sp.expiry_dates).get(mat.code)
            if isinstance(made, date) and isinstance(expires, date) and expires < made:
                raise RowError(f"到期日 {expires} 早于生产日期 {made}")
            stockpiles[si] = dataclasses.replace(sp, **changes)
            target = plan.updated if exists else plan.added
            target.append(RowOutcome(number, f"{sp.id}/{mat.code}", f"{sp.name} {mat.name_zh}"))
        except RowError as exc:
            plan.rejected.append(RowOutcome(number, reason=str(exc)))
        except (ReliefDeskError, TypeError) as exc:
            plan.rejected.append(RowOutcome(number, reason=" ".join(str(exc).split())[:300]))
    plan.unknown = list(unknown)
    plan.crs = "-"
    try:
        return scenario.replace(stockpiles=tuple(stockpiles))
    except ReliefDeskError as exc:
        raise DataImportError(f"the imported rows do not fit the workspace: {exc}") from None


def plan_import(request: ImportRequest, scenario: Scenario) -> ImportResult:
    """Read ``request.file`` and work out what importing it into ``scenario`` would do."""
    table = kind_table(request.kind)
    option = crsmod.parse_crs_option(request.crs)
    fixed: Mapping[str, str | None] = {}
    if request.mapping is not None:
        template = load_template(request.mapping)
        if template.kind and template.kind != request.kind:
            raise DataImportError(
                f"mapping {request.mapping}: made for kind {template.kind!r}, not {request.kind!r}"
            )
        fixed = template.columns
        if template.crs and request.crs in ("", "auto"):
            option = crsmod.parse_crs_option(template.crs)
    if request.columns is not None:
        fixed = {**fixed, **request.columns}
    raw = read_any(request.file, request.kind, request.sheet)
    mapping = suggest(request.kind, list(raw.headers), fixed)
    if not mapping:
        raise DataImportError(
            f"{request.file}: no column matches a field of {request.kind} "
            f"(columns: {', '.join(h for h in raw.headers if h)[:200] or 'none'})"
        )
    plan = _Plan(request.kind, raw, mapping, warnings=list(raw.notes))
    if isinstance(table, RelatedTable):
        new = _inventory(plan, scenario, table, request.update)
    else:
        assert isinstance(table, EntityTable)
        new = _entities(plan, scenario, table, option, request.update)
    return ImportResult(
        kind=request.kind,
        file=str(request.file),
        sheet=raw.sheet,
        added=tuple(plan.added),
        updated=tuple(plan.updated),
        rejected=tuple(plan.rejected),
        skipped_rows=raw.skipped,
        crs=plan.crs or "-",
        crs_note=plan.crs_note,
        crs_suggestion=plan.crs_suggestion,
        unknown_materials=tuple(plan.unknown),
        mapping=mapping,
        warnings=tuple(plan.warnings),
        encoding=raw.encoding,
        dry_run=request.dry_run,
        headers=tuple(h for h in raw.headers if h),
        scenario=new,
    )


def run_import(request: ImportRequest) -> ImportResult:
    """Plan the import and, unless it is a dry run or a row is rejected, commit it atomically.

    Raises :class:`DataImportError` (or another :class:`ReliefDeskError`) on bad input; the
    workspace is then untouched."""
    from gis.workspace import GeoPackageStorage

    storage = GeoPackageStorage(request.workspace)
    if not Path(request.workspace).is_file():
        raise DataImportError(f"workspace {request.workspace} does not exist")
    ws = storage.read(include_roads=True)
    result = plan_import(request, ws.scenario)
    if request.dry_run or result.rejected or not (result.added or result.updated):
        return result
    assert result.scenario is not None
    storage.write(
        result.scenario,
        road_nodes=ws.road_nodes,
        road_edges=ws.road_edges,
        documents=ws.documents,
    )
    return dataclasses.replace(result, committed=True)


__all__ = ["ImportRequest", "ImportResult", "RowOutcome", "plan_import", "read_any", "run_import"]
