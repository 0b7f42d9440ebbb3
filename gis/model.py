"""Domain model of a county's emergency resources.

Every entity is a frozen dataclass validated on construction: an invalid value raises
:class:`gis.errors.ValidationError` whose message names the entity, its id and the field.
Locations are WGS-84 longitude/latitude (EPSG:4326). Quantities are per material code.

Edits never mutate: use :func:`dataclasses.replace` or the ``Scenario.with_*`` helpers, which
return a new object (the GUI's undo stack swaps snapshots).

Size: one validated frozen dataclass per workspace entity next to the Scenario that checks them
together; split apart, the cross-entity rules would sit away from the fields they check.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime
from types import MappingProxyType
from typing import Any, TypeVar

import numpy as np
from shapely.geometry.base import BaseGeometry

from gis.errors import ValidationError
from gis.fields import (
    COST_WAN,
    DEADLINE_MIN,
    DEMAND_WEIGHT,
    PEOPLE,
    RADIUS_M,
    SPEED_FACTOR,
    STORE_M3,
    TEAM_PEOPLE,
    UNIT_KG,
    UNIT_M3,
    VEHICLE_KG,
    VEHICLE_M3,
    FrozenQuantities,
    enum_value,
    field_error,
    quantities,
    require_number,
    require_text,
    short_repr,
)
from gis.vocabulary import (  # noqa: F401  (re-exported: the model's vocabulary)
    CANDIDATE_KIND_ZH,
    INCIDENT_STATUS_ORDER,
    LEVEL_NAME_ZH,
    LEVEL_ROMAN,
    RESPONSE_LEVELS,
    STANDARD_SKILLS,
    CandidateKind,
    DemandKind,
    ForceType,
    IncidentCategory,
    IncidentStatus,
    ShelterClass,
    ShelterSetting,
    StockpileLevel,
    TeamStatus,
    parse_level,
)


def _set(obj: Any, name: str, value: Any) -> None:
    object.__setattr__(obj, name, value)


# --------------------------------------------------------------------------------------------
# Entities
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Location:
    """A WGS-84 point (degrees)."""

    lon: float
    lat: float

    def __post_init__(self) -> None:
        lon = require_number("Location", "lon", self.lon, minimum=None)
        lat = require_number("Location", "lat", self.lat, minimum=None)
        if not -180.0 <= lon <= 180.0:
            raise field_error("Location", "lon", f"must be within -180..180, got {short_repr(lon)}")
        if not -90.0 <= lat <= 90.0:
            raise field_error("Location", "lat", f"must be within -90..90, got {short_repr(lat)}")
        _set(self, "lon", float(lon))
        _set(self, "lat", float(lat))

    @property
    def xy(self) -> tuple[float, float]:
        return (self.lon, self.lat)


def _location(owner: str, value: Any) -> Location:
    if isinstance(value, Location):
        return value
    if isinstance(value, str | bytes):
        raise field_error(owner, "location", f"must be (lon, lat), got text {short_repr(value)}")
    try:
        lon, lat = value
    except (TypeError, ValueError):
        raise field_error(owner, "location", f"must be (lon, lat), got {short_repr(value)}") from None
    try:
        return Location(lon, lat)
    except ValidationError as exc:
        raise ValidationError(f"{owner}: field 'location' invalid — {exc}") from None


@dataclass(frozen=True, slots=True)
class Material:
    """An item of the emergency material catalogue (物资目录)."""

    code: str
    name_zh: str
    name_en: str
    unit: str
    unit_weight_kg: float
    unit_volume_m3: float
    category: str
    divisible: bool = False  # True for items measured in continuous units (litres of fuel...)

    def __post_init__(self) -> None:
        owner = f"Material {short_repr(self.code)}"
        require_text(owner, "code", self.code)
        require_text(owner, "name_zh", self.name_zh)
        require_text(owner, "name_en", self.name_en, allow_empty=True)
        require_text(owner, "unit", self.unit)
        kg = require_number(
            owner, "unit_weight_kg", self.unit_weight_kg, strictly_positive=True, limit=UNIT_KG
        )
        m3 = require_number(
            owner, "unit_volume_m3", self.unit_volume_m3, strictly_positive=True, limit=UNIT_M3
        )
        require_text(owner, "category", self.category)
        _set(self, "unit_weight_kg", float(kg))
        _set(self, "unit_volume_m3", float(m3))
        if not isinstance(self.divisible, bool | np.bool_) and self.divisible not in (0, 1):
            raise field_error(owner, "divisible", f"must be true/false, got {short_repr(self.divisible)}")
        _set(self, "divisible", bool(self.divisible))


@dataclass(frozen=True, slots=True)
class Vehicle:
    """A vehicle or boat based at a stockpile or with a team."""

    id: str
    kind: str  # e.g. 厢式货车, 皮卡, 冲锋舟运输车, 消防车, 救护车
    capacity_kg: float
    capacity_m3: float
    home_id: str  # id of the Stockpile or Team it belongs to
    name: str = ""
    speed_factor: float = 1.0  # < 1 for heavy trucks on mountain roads

    def __post_init__(self) -> None:
        owner = f"Vehicle {short_repr(self.id)}"
        require_text(owner, "id", self.id)
        require_text(owner, "kind", self.kind)
        kg = require_number(owner, "capacity_kg", self.capacity_kg, limit=VEHICLE_KG)
        m3 = require_number(owner, "capacity_m3", self.capacity_m3, limit=VEHICLE_M3)
        require_text(owner, "home_id", self.home_id)
        require_text(owner, "name", self.name, allow_empty=True)
        sf = require_number(
            owner, "speed_factor", self.speed_factor, strictly_positive=True, limit=SPEED_FACTOR
        )
        _set(self, "capacity_kg", float(kg))
        _set(self, "capacity_m3", float(m3))
        _set(self, "speed_factor", float(sf))


def _optional_number(owner: str, fld: str, value: Any, limit: Any) -> float | None:
    """A non-negative number, or ``None`` for not stated (``None``, NaN or empty text)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, str) and not value.strip():
        return None
    return float(require_number(owner, fld, value, limit=limit))


def _vehicles(owner: str, home_id: str, value: Any) -> tuple[Vehicle, ...]:
    vehicles = tuple(value or ())
    for v in vehicles:
        if not isinstance(v, Vehicle):
            raise field_error(owner, "vehicles", f"must hold Vehicle objects, got {short_repr(v)}")
        if v.home_id != home_id:
            raise field_error(owner, "vehicles", f"vehicle {short_repr(v.id)} has home_id {short_repr(v.home_id)}")
    return vehicles


#: Field metadata of fields added after plans were first fingerprinted (see ``Stockpile``).
_OMIT_EMPTY: Mapping[str, bool] = MappingProxyType({"omit_empty": True})


def _dates(owner: str, fld: str, value: Any) -> FrozenQuantities:
    """A read-only mapping material code → :class:`datetime.date` (ISO text and datetimes are
    accepted; a datetime keeps its date)."""
    if not value:
        return FrozenQuantities()
    if not isinstance(value, Mapping):
        raise field_error(owner, fld, f"must be a mapping material code → date, got {short_repr(value)}")
    out: dict[str, date] = {}
    for code, day in value.items():
        require_text(owner, f"{fld}[{short_repr(code)}]", code)
        if isinstance(day, datetime):
            day = day.date()
        elif isinstance(day, str):
            try:
                day = date.fromisoformat(day.strip()[:10])
            except ValueError:
                raise field_error(owner, f"{fld}[{code}]", f"is not an ISO date: {short_repr(day)}") from None
        elif not isinstance(day, date):
            raise field_error(owner, f"{fld}[{code}]", f"must be a date, got {short_repr(day)}")
        out[code] = day
    return FrozenQuantities(out)


@dataclass(frozen=True, slots=True)
class Stockpile:
    """An emergency material depot (应急物资储备库)."""

    id: str
    name: str
    level: StockpileLevel
    location: Location
    inventory: Mapping[str, float] = field(default_factory=dict)
    safety_stock: Mapping[str, float] = field(default_factory=dict)
    vehicles: tuple[Vehicle, ...] = ()
    township_code: str = ""
    contact: str = ""
    #: Per inventory line (material code →): production date (生产日期) and expiry date (到期日).
    #: (``omit_empty``: a scenario fingerprint leaves them out while empty, so fingerprints
    #: taken before these fields existed still match.)
    production_dates: Mapping[str, date] = field(default_factory=dict, metadata=_OMIT_EMPTY)
    expiry_dates: Mapping[str, date] = field(default_factory=dict, metadata=_OMIT_EMPTY)
    #: Storage volume (库容, m³) that stock must fit in; ``None`` = not stated (no limit known).
    capacity_m3: float | None = field(default=None, metadata=_OMIT_EMPTY)

    def __post_init__(self) -> None:
        owner = f"Stockpile {short_repr(self.id)}"
        require_text(owner, "id", self.id)
        require_text(owner, "name", self.name)
        _set(self, "level", enum_value(owner, "level", StockpileLevel, self.level))
        _set(self, "location", _location(owner, self.location))
        _set(self, "inventory", quantities(owner, "inventory", self.inventory))
        _set(self, "safety_stock", quantities(owner, "safety_stock", self.safety_stock))
        _set(self, "vehicles", _vehicles(owner, self.id, self.vehicles))
        require_text(owner, "township_code", self.township_code, allow_empty=True)
        require_text(owner, "contact", self.contact, allow_empty=True)
        _set(self, "production_dates", _dates(owner, "production_dates", self.production_dates))
        _set(self, "expiry_dates", _dates(owner, "expiry_dates", self.expiry_dates))
        _set(self, "capacity_m3", _optional_number(owner, "capacity_m3", self.capacity_m3, STORE_M3))

    def stock_volume_m3(self, materials: Mapping[str, Material]) -> float:
        """Volume (m³) of the inventory, by the materials' unit volumes (unknown codes: 0)."""
        return float(
            sum(q * materials[c].unit_volume_m3 for c, q in self.inventory.items() if c in materials)
        )

    def available(self, code: str, *, release_safety_stock: bool = False) -> float:
        """Quantity that may leave the depot (stock minus safety stock unless released)."""
        stock = self.inventory.get(code, 0)
        if release_safety_stock:
            return stock
        return max(0, stock - self.safety_stock.get(code, 0))


@dataclass(frozen=True, slots=True)
class Shelter:
    """An emergency shelter (避难场所)."""

    id: str
    name: str
    setting: ShelterSetting
    shelter_class: ShelterClass
    location: Location
    capacity: int
    occupancy: int = 0
    stock: Mapping[str, float] = field(default_factory=dict)
    township_code: str = ""

    def __post_init__(self) -> None:
        owner = f"Shelter {short_repr(self.id)}"
        require_text(owner, "id", self.id)
        require_text(owner, "name", self.name)
        _set(self, "setting", enum_value(owner, "setting", ShelterSetting, self.setting))
        _set(self, "shelter_class", enum_value(owner, "shelter_class", ShelterClass, self.shelter_class))
        _set(self, "location", _location(owner, self.location))
        cap = require_number(owner, "capacity", self.capacity, integer=True, limit=PEOPLE)
        occ = require_number(owner, "occupancy", self.occupancy, integer=True, limit=PEOPLE)
        if occ > cap:
            raise field_error(owner, "occupancy", f"({occ:g}) exceeds capacity ({cap:g})")
        _set(self, "capacity", int(cap))
        _set(self, "occupancy", int(occ))
        _set(self, "stock", quantities(owner, "stock", self.stock))
        require_text(owner, "township_code", self.township_code, allow_empty=True)

    @property
    def free_capacity(self) -> int:
        return self.capacity - self.occupancy


@dataclass(frozen=True, slots=True)
class Team:
    """A rescue team (救援队伍)."""

    id: str
    name: str
    force_type: ForceType
    location: Location  # base
    headcount: int
    skills: tuple[str, ...] = ()
    vehicles: tuple[Vehicle, ...] = ()
    status: TeamStatus = TeamStatus.STANDBY
    leader: str = ""
    phone: str = ""

    def __post_init__(self) -> None:
        owner = f"Team {short_repr(self.id)}"
        require_text(owner, "id", self.id)
        require_text(owner, "name", self.name)
        _set(self, "force_type", enum_value(owner, "force_type", ForceType, self.force_type))
        _set(self, "location", _location(owner, self.location))
        hc = require_number(owner, "headcount", self.headcount, integer=True, limit=TEAM_PEOPLE)
        _set(self, "headcount", int(hc))
        if isinstance(self.skills, str | bytes):
            raise field_error(owner, "skills", f"must be a list of skills, got text {short_repr(self.skills)}")
        skills = tuple(self.skills or ())
        for s in skills:
            require_text(owner, "skills", s)
        if len(set(skills)) != len(skills):
            raise field_error(owner, "skills", f"lists a skill twice: {short_repr(skills)}")
        _set(self, "skills", skills)
        _set(self, "vehicles", _vehicles(owner, self.id, self.vehicles))
        _set(self, "status", enum_value(owner, "status", TeamStatus, self.status))
        require_text(owner, "leader", self.leader, allow_empty=True)
        require_text(owner, "phone", self.phone, allow_empty=True)


@dataclass(frozen=True, slots=True)
class Incident:
    """An emergency incident (突发事件)."""

    id: str
    name: str
    category: IncidentCategory
    subtype: str  # 山洪, 滑坡, 森林火灾, 危化品泄漏 ...
    level: int  # 1..4 = I..IV
    location: Location
    reported_at: datetime
    affected_people: int = 0
    needs: Mapping[str, float] = field(default_factory=dict)
    required_skills: Mapping[str, int] = field(default_factory=dict)  # skill -> headcount
    deadline_min: float = 120.0
    status: IncidentStatus = IncidentStatus.REPORTED
    description: str = ""
    township_code: str = ""

    def __post_init__(self) -> None:
        owner = f"Incident {short_repr(self.id)}"
        require_text(owner, "id", self.id)
        require_text(owner, "name", self.name)
        _set(self, "category", enum_value(owner, "category", IncidentCategory, self.category))
        require_text(owner, "subtype", self.subtype)
        _set(self, "level", parse_level(self.level, where=f"{owner}: field 'level'"))
        _set(self, "location", _location(owner, self.location))
        if isinstance(self.reported_at, str):
            try:
                _set(self, "reported_at", datetime.fromisoformat(self.reported_at))
            except ValueError:
                raise field_error(owner, "reported_at", f"is not an ISO time: {short_repr(self.reported_at)}") from None
        elif not isinstance(self.reported_at, datetime):
            raise field_error(owner, "reported_at", f"must be a datetime, got {short_repr(self.reported_at)}")
        ap = require_number(
            owner, "affected_people", self.affected_people, integer=True, limit=PEOPLE
        )
        _set(self, "affected_people", int(ap))
        _set(self, "needs", quantities(owner, "needs", self.needs))
        skills = quantities(owner, "required_skills", self.required_skills)
        for skill, n in skills.items():
            if not float(n).is_integer():
                raise field_error(owner, f"required_skills[{skill}]", f"must be whole people, got {short_repr(n)}")
        _set(self, "required_skills", FrozenQuantities({k: int(v) for k, v in skills.items()}))
        dl = require_number(
            owner, "deadline_min", self.deadline_min, strictly_positive=True, limit=DEADLINE_MIN
        )
        _set(self, "deadline_min", float(dl))
        _set(self, "status", enum_value(owner, "status", IncidentStatus, self.status))
        require_text(owner, "description", self.description, allow_empty=True)
        require_text(owner, "township_code", self.township_code, allow_empty=True)

    @property
    def level_roman(self) -> str:
        return LEVEL_ROMAN[self.level]

    @property
    def is_open(self) -> bool:
        return self.status != IncidentStatus.CLOSED


def _geometry(owner: str, value: Any, allowed: tuple[str, ...]) -> BaseGeometry:
    if not isinstance(value, BaseGeometry):
        raise field_error(owner, "geometry", f"must be a shapely geometry, got {type(value).__name__}")
    if value.is_empty:
        raise field_error(owner, "geometry", "is empty")
    if value.geom_type not in allowed:
        raise field_error(owner, "geometry", f"must be one of {'/'.join(allowed)}, got {value.geom_type}")
    minx, miny, maxx, maxy = value.bounds
    if not all(math.isfinite(c) for c in (minx, miny, maxx, maxy)):
        raise field_error(owner, "geometry", "has non-finite coordinates")
    if minx < -180 or maxx > 180 or miny < -90 or maxy > 90:
        raise field_error(owner, "geometry", f"is outside WGS-84 lon/lat bounds: {value.bounds}")
    if not value.is_valid:
        raise field_error(owner, "geometry", "is not valid (self-intersecting or malformed)")
    return value


@dataclass(frozen=True, slots=True)
class Hazard:
    """A hazard source or risk point (危险源/风险点): point or polygon."""

    id: str
    name: str
    category: str  # 地质灾害隐患点, 危化品企业, 尾矿库, 山洪危险区 ...
    risk_level: int  # 1 (重大) .. 4 (低)
    geometry: BaseGeometry
    description: str = ""

    def __post_init__(self) -> None:
        owner = f"Hazard {short_repr(self.id)}"
        require_text(owner, "id", self.id)
        require_text(owner, "name", self.name)
        require_text(owner, "category", self.category)
        _set(self, "risk_level", parse_level(self.risk_level, where=f"{owner}: field 'risk_level'"))
        _set(
            self,
            "geometry",
            _geometry(owner, self.geometry, ("Point", "Polygon", "MultiPolygon")),
        )
        require_text(owner, "description", self.description, allow_empty=True)


@dataclass(frozen=True, slots=True)
class RoadClosure:
    """A road closure or slow-down (道路中断/管制).

    ``speed_factor`` 0 closes the affected edges; a value in (0, 1) multiplies their speed
    (0.5 = travel takes twice as long). A point closes edges within ``radius_m``; a line closes
    the edges it crosses; a polygon closes edges inside or crossing it.
    """

    id: str
    geometry: BaseGeometry
    reason: str = ""
    radius_m: float = 50.0
    speed_factor: float = 0.0
    since: datetime | None = None
    until: datetime | None = None

    def __post_init__(self) -> None:
        owner = f"RoadClosure {short_repr(self.id)}"
        require_text(owner, "id", self.id)
        _set(
            self,
            "geometry",
            _geometry(
                owner,
                self.geometry,
                ("Point", "LineString", "MultiLineString", "Polygon", "MultiPolygon"),
            ),
        )
        require_text(owner, "reason", self.reason, allow_empty=True)
        radius = require_number(owner, "radius_m", self.radius_m, limit=RADIUS_M)
        sf = require_number(owner, "speed_factor", self.speed_factor)
        if sf >= 1.0:
            raise field_error(owner, "speed_factor", f"must be in [0, 1), got {short_repr(sf)}")
        _set(self, "radius_m", float(radius))
        _set(self, "speed_factor", float(sf))
        for name in ("since", "until"):
            value = getattr(self, name)
            if isinstance(value, str):
                try:
                    _set(self, name, datetime.fromisoformat(value) if value else None)
                except ValueError:
                    raise field_error(owner, name, f"is not an ISO time: {short_repr(value)}") from None
            elif value is not None and not isinstance(value, datetime):
                raise field_error(owner, name, f"must be a datetime or None, got {short_repr(value)}")
        if self.since and self.until:
            try:
                before = self.until < self.since
            except TypeError:
                raise field_error(
                    owner, "until", "mixes a time with a time zone and one without ('since')"
                ) from None
            if before:
                raise field_error(owner, "until", "is before 'since'")

    @property
    def closes(self) -> bool:
        return self.speed_factor == 0.0


@dataclass(frozen=True, slots=True)
class Township:
    """A township-level unit (乡镇/街道) with its seat location."""

    code: str  # 统计用区划代码 (9 digits), e.g. 510522112
    name: str
    location: Location  # seat
    population: int = 0
    location_source: str = ""  # e.g. "GeoNames" or "placed for demo"

    def __post_init__(self) -> None:
        owner = f"Township {short_repr(self.code)}"
        require_text(owner, "code", self.code)
        require_text(owner, "name", self.name)
        _set(self, "location", _location(owner, self.location))
        pop = require_number(owner, "population", self.population, integer=True, limit=PEOPLE)
        _set(self, "population", int(pop))
        require_text(owner, "location_source", self.location_source, allow_empty=True)


@dataclass(frozen=True, slots=True)
class DemandPoint:
    """A place whose people must be reached in time (需求点: village, school, factory …).

    ``weight`` multiplies the population in planning objectives (1 = people count as they
    are); ``township_code`` names the township whose population the point is part of.
    """

    id: str
    name: str
    kind: DemandKind
    location: Location
    population: int = 0
    weight: float = 1.0
    township_code: str = ""

    def __post_init__(self) -> None:
        owner = f"DemandPoint {short_repr(self.id)}"
        require_text(owner, "id", self.id)
        require_text(owner, "name", self.name)
        _set(self, "kind", enum_value(owner, "kind", DemandKind, self.kind))
        _set(self, "location", _location(owner, self.location))
        pop = require_number(owner, "population", self.population, integer=True, limit=PEOPLE)
        _set(self, "population", int(pop))
        weight = require_number(owner, "weight", self.weight, limit=DEMAND_WEIGHT)
        _set(self, "weight", float(weight))
        require_text(owner, "township_code", self.township_code, allow_empty=True)


@dataclass(frozen=True, slots=True)
class CandidateSite:
    """A place a planner marked as a possible new facility (候选站点) for site planning (选址).

    ``kind`` says what it may become (:class:`CandidateKind`; the Chinese names 储备库 /
    避难场所 / 不限 are accepted too); ``capacity`` is the people it could serve or house (0 =
    not stated); ``fixed_cost`` the cost of building it in 万元 (0 = not stated).
    """

    id: str
    name: str
    kind: CandidateKind
    location: Location
    capacity: int = 0
    fixed_cost: float = 0.0
    note: str = ""

    def __post_init__(self) -> None:
        owner = f"CandidateSite {short_repr(self.id)}"
        require_text(owner, "id", self.id)
        require_text(owner, "name", self.name)
        kind = self.kind
        if isinstance(kind, str) and not isinstance(kind, CandidateKind):
            by_zh = {zh: k for k, zh in CANDIDATE_KIND_ZH.items()}
            kind = by_zh.get(kind.strip(), kind.strip().lower())
        _set(self, "kind", enum_value(owner, "kind", CandidateKind, kind))
        _set(self, "location", _location(owner, self.location))
        cap = require_number(owner, "capacity", self.capacity, integer=True, limit=PEOPLE)
        _set(self, "capacity", int(cap))
        cost = require_number(owner, "fixed_cost", self.fixed_cost, limit=COST_WAN)
        _set(self, "fixed_cost", float(cost))
        require_text(owner, "note", self.note, allow_empty=True)

    def serves(self, facilities: str) -> bool:
        """May this site become a facility of the set ``facilities`` (stockpiles/shelters/teams)?"""
        if self.kind is CandidateKind.ANY:
            return True
        return f"{self.kind.value}s" == facilities


#: Road network frames as the workspace stores them and gis.roads builds them: column → dtype
#: (plus ``geometry``: Point for nodes, LineString from u to v for edges, EPSG:4326). The one
#: definition, read by the workspace reader/writer, the road loader and the demo generator.
ROAD_NODE_COLUMNS: Mapping[str, str] = MappingProxyType({"node_id": "int64"})
ROAD_EDGE_COLUMNS: Mapping[str, str] = MappingProxyType(
    {
        "u": "int64",
        "v": "int64",
        "oneway": "bool",
        "highway": "str",
        "name": "str",
        "ref": "str",
        "maxspeed_kmh": "float64",
        "length_m": "float64",
        "bridge": "bool",
    }
)


@dataclass(frozen=True, slots=True)
class RoadNetworkRef:
    """Where a scenario's road network comes from.

    ``kind`` is ``"osm"`` (real OpenStreetMap data), ``"generated"`` (synthetic demo roads) or
    ``"none"``. ``content_hash`` identifies the processed network for the cache.
    """

    kind: str = "none"
    source: str = ""
    content_hash: str = ""
    note: str = ""

    def __post_init__(self) -> None:
        if self.kind not in ("osm", "generated", "none"):
            raise field_error("RoadNetworkRef", "kind", f"must be osm/generated/none, got {short_repr(self.kind)}")


E = TypeVar(
    "E", Stockpile, Shelter, Team, Incident, Hazard, RoadClosure, DemandPoint, CandidateSite
)

#: Scenario fields that hold entity tuples keyed by ``id``.
ENTITY_FIELDS: tuple[str, ...] = (
    "stockpiles",
    "shelters",
    "teams",
    "incidents",
    "hazards",
    "closures",
    "demand_points",
    "candidate_sites",
)


@dataclass(frozen=True, slots=True)
class Scenario:
    """Everything ReliefDesk knows about one county at one moment."""

    name: str
    materials: tuple[Material, ...] = ()
    stockpiles: tuple[Stockpile, ...] = ()
    shelters: tuple[Shelter, ...] = ()
    teams: tuple[Team, ...] = ()
    incidents: tuple[Incident, ...] = ()
    hazards: tuple[Hazard, ...] = ()
    closures: tuple[RoadClosure, ...] = ()
    townships: tuple[Township, ...] = ()
    demand_points: tuple[DemandPoint, ...] = field(default=(), metadata=_OMIT_EMPTY)
    candidate_sites: tuple[CandidateSite, ...] = field(default=(), metadata=_OMIT_EMPTY)
    boundary: BaseGeometry | None = None  # county outline, WGS-84
    road_network: RoadNetworkRef = field(default_factory=RoadNetworkRef)
    metadata: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        require_text("Scenario", "name", self.name)
        for key, text in dict(self.metadata or {}).items():
            require_text("Scenario", f"metadata[{short_repr(key)}]", str(text), allow_empty=True)
            require_text("Scenario", "metadata", str(key), allow_empty=True)
        for fname in ("materials", *ENTITY_FIELDS, "townships"):
            items = tuple(getattr(self, fname) or ())
            expected = _FIELD_TYPES[fname]
            for n, item in enumerate(items):
                if not isinstance(item, expected):
                    raise ValidationError(
                        f"Scenario {short_repr(self.name)}: {fname}[{n}] must be a {expected.__name__}, "
                        f"got {type(item).__name__}"
                    )
            _set(self, fname, items)
        _set(self, "metadata", {str(k): str(v) for k, v in dict(self.metadata or {}).items()})
        if self.boundary is not None:
            _geometry("Scenario", self.boundary, ("Polygon", "MultiPolygon"))
        self._check_unique("materials", [m.code for m in self.materials])
        self._check_unique("townships", [t.code for t in self.townships])
        all_ids: dict[str, str] = {}
        for fname in ENTITY_FIELDS:
            ids = [e.id for e in getattr(self, fname)]
            self._check_unique(fname, ids)
        for fname in ("stockpiles", "teams"):
            for e in getattr(self, fname):
                for v in e.vehicles:
                    if v.id in all_ids:
                        raise ValidationError(
                            f"Scenario {short_repr(self.name)}: vehicle id {short_repr(v.id)} is used by both "
                            f"{all_ids[v.id]} and {e.id}"
                        )
                    all_ids[v.id] = e.id
        known = {m.code for m in self.materials}
        if known:
            for fname, attr in (
                ("stockpiles", "inventory"),
                ("stockpiles", "safety_stock"),
                ("shelters", "stock"),
                ("incidents", "needs"),
            ):
                for e in getattr(self, fname):
                    unknown = sorted(set(getattr(e, attr)) - known)
                    if unknown:
                        raise ValidationError(
                            f"Scenario {short_repr(self.name)}: {fname[:-1]} {short_repr(e.id)} field {short_repr(attr)} names "
                            f"unknown material(s) {', '.join(unknown)}"
                        )

    def _check_unique(self, fname: str, ids: list[str]) -> None:
        seen: set[str] = set()
        for i in ids:
            if i in seen:
                raise ValidationError(f"Scenario {short_repr(self.name)}: {fname} has duplicate id {short_repr(i)}")
            seen.add(i)

    # ---- look-ups --------------------------------------------------------------------------

    def material(self, code: str) -> Material:
        for m in self.materials:
            if m.code == code:
                return m
        raise ValidationError(f"Scenario {short_repr(self.name)}: unknown material {short_repr(code)}")

    @property
    def material_index(self) -> dict[str, Material]:
        return {m.code: m for m in self.materials}

    def find(
        self, entity_id: str
    ) -> Stockpile | Shelter | Team | Incident | Hazard | RoadClosure | DemandPoint | CandidateSite:
        for fname in ENTITY_FIELDS:
            for e in getattr(self, fname):
                if e.id == entity_id:
                    return e  # type: ignore[no-any-return]
        raise KeyError(entity_id)

    def open_incidents(self) -> tuple[Incident, ...]:
        return tuple(i for i in self.incidents if i.is_open)

    def counts(self) -> dict[str, int]:
        out = {"materials": len(self.materials), "townships": len(self.townships)}
        out.update({f: len(getattr(self, f)) for f in ENTITY_FIELDS})
        return out

    # ---- edits: Scenario -> Scenario ---------------------------------------------------------

    def replace(self, **changes: Any) -> Scenario:
        return replace(self, **changes)

    def upsert(self, entity: E) -> Scenario:
        """Return a scenario with ``entity`` added, or replacing the one with the same id."""
        fname = _field_for(entity)
        items = list(getattr(self, fname))
        for i, e in enumerate(items):
            if e.id == entity.id:
                items[i] = entity
                break
        else:
            items.append(entity)
        return replace(self, **{fname: tuple(items)})

    def remove(self, entity_id: str) -> Scenario:
        """Return a scenario without the entity ``entity_id`` (KeyError if absent)."""
        for fname in ENTITY_FIELDS:
            items = getattr(self, fname)
            kept = tuple(e for e in items if e.id != entity_id)
            if len(kept) != len(items):
                return replace(self, **{fname: kept})
        raise KeyError(entity_id)


_TYPE_TO_FIELD: dict[type, str] = {
    Stockpile: "stockpiles",
    Shelter: "shelters",
    Team: "teams",
    Incident: "incidents",
    Hazard: "hazards",
    RoadClosure: "closures",
    DemandPoint: "demand_points",
    CandidateSite: "candidate_sites",
}


_FIELD_TYPES: dict[str, type] = {
    "materials": Material,
    "townships": Township,
    **{f: t for t, f in _TYPE_TO_FIELD.items()},
}


def _field_for(entity: Any) -> str:
    try:
        return _TYPE_TO_FIELD[type(entity)]
    except KeyError:
        raise ValidationError(f"not a scenario entity: {type(entity).__name__}") from None


def entity_fields(cls: type) -> tuple[str, ...]:
    """Names of a dataclass's fields (used by IO and table models)."""
    return tuple(f.name for f in fields(cls))


def iter_entities(scenario: Scenario) -> Iterable[Any]:
    for fname in ENTITY_FIELDS:
        yield from getattr(scenario, fname)
