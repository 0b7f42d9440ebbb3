"""The workspace file layout: one declarative spec per table, read by the reader and the writer.

Each table of the GeoPackage is described once here — layer name, geometry type(s), columns
(name, kind, required or optional, default, NULL allowed) and how a row maps to the frozen model
object of :mod:`gis.model`. :mod:`gis.workspace.writer` turns a Scenario into frames from these
specs and :mod:`gis.workspace.reader` turns the rows back into model objects from the same
specs, so adding a column to an entity is one edit: a :class:`Column` in its table below.

Why hand-written rather than ``geopandas.read_file`` / ``GeoDataFrame.to_file`` alone
------------------------------------------------------------------------------------
pyogrio and geopandas move columns between GDAL and pandas; they do not

* say *where* a value is wrong: a workspace edited in QGIS must fail with file, layer, row
  (the ``fid`` QGIS shows) and column ("shelters row 2 column 'capacity': expected a number,
  got '三百'"), not with a pandas dtype error or a silent NaN;
* tolerate what QGIS editing makes harmless (numbers typed as text, codes typed as numbers,
  levels as "II"/"Ⅲ"/"3级", single-part MultiPoints, missing optional columns) while refusing
  what would corrupt a plan;
* build the model: rows of seven layers and five related tables become one validated
  :class:`~gis.model.Scenario` (inventory, skills and vehicles attached to their owners, ids and
  references checked), and model validation errors are located at the row that caused them;
* keep one layer of mixed geometry types (``GEOMETRY``) exact on a round trip, or repair an
  invalid polygon with a warning.

The libraries still do the IO: pyogrio/GDAL writes every layer and reads the spatial ones.

File layout (schema version :data:`SCHEMA_VERSION`)
---------------------------------------------------
Every spatial layer is in EPSG:4326 (WGS-84 lon/lat). The tables, in the order they are written:

=================== ============== ==========================================================
layer               geometry       columns (see the specs below for kinds and defaults)
=================== ============== ==========================================================
``reliefdesk_meta`` (attributes)   key, value — ``schema_version``, ``scenario_name``,
                                   ``road_network_kind/source/hash/note``, ``saved_at`` and
                                   one ``metadata.<key>`` row per Scenario.metadata entry
``boundary``        GEOMETRY       name (0 or 1 row; Polygon or MultiPolygon)
``townships``       Point          code, name, population, location_source
``stockpiles``      Point          id, name, level, township_code, contact, capacity_m3
                                   (库容 m³; NULL or absent = not stated)
``shelters``        Point          id, name, setting, shelter_class, capacity, occupancy,
                                   township_code
``teams``           Point          id, name, force_type, headcount, status, leader, phone
``incidents``       Point          id, name, category, subtype, level (1..4), reported_at
                                   (ISO 8601 text), affected_people, deadline_min, status,
                                   description, township_code
``hazards``         GEOMETRY       id, name, category, risk_level, description
``closures``        GEOMETRY       id, reason, radius_m, speed_factor, since, until (ISO text)
``demand_points``   Point          id, name, kind (村庄/学校/工厂/其他), population, weight,
                                   township_code — places to reach in time (coverage)
``candidate_sites`` Point          id, name, kind (stockpile/shelter/any), capacity (people),
                                   fixed_cost (万元), note — planner-marked sites for 选址
``materials``       (attributes)   code, name_zh, name_en, unit, unit_weight_kg,
                                   unit_volume_m3, category, divisible
``inventory``       (attributes)   stockpile_id, material, quantity, safety_stock,
                                   production_date, expiry_date (ISO dates; NULL = the
                                   material is absent from that mapping)
``shelter_stock``   (attributes)   shelter_id, material, quantity
``incident_needs``  (attributes)   incident_id, material, quantity
``incident_skills`` (attributes)   incident_id, skill, headcount
``team_skills``     (attributes)   team_id, skill (row order = skill order)
``vehicles``        (attributes)   id, home_id, home_layer (stockpiles/teams), kind,
                                   capacity_kg, capacity_m3, name, speed_factor
``documents``       (attributes)   kind, doc_id, json — plans, the event log, drill
                                   scripts (kind ``drill_scripts``, one row per script)
``road_nodes``      Point          :data:`gis.model.ROAD_NODE_COLUMNS` — only with roads
``road_edges``      LineString     :data:`gis.model.ROAD_EDGE_COLUMNS`
=================== ============== ==========================================================

Hazards (Point, Polygon or MultiPolygon), closures (Point, line or polygon) and the boundary
live in one layer each of geometry type ``GEOMETRY`` ("Unknown"), so each row keeps its own
type and a round trip is exact. QGIS shows such a layer split by geometry type.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import shapely
from shapely.geometry.base import BaseGeometry

from gis.fields import Limit, field_limit
from gis.model import (
    ROAD_EDGE_COLUMNS,
    ROAD_NODE_COLUMNS,
    CandidateSite,
    DemandPoint,
    Hazard,
    Incident,
    IncidentStatus,
    Material,
    RoadClosure,
    Scenario,
    Shelter,
    Stockpile,
    Team,
    TeamStatus,
    Township,
    Vehicle,
)

#: Version of the file layout written by this package. Files with a higher version are refused.
SCHEMA_VERSION: int = 1

META_TABLE = "reliefdesk_meta"
BOUNDARY = "boundary"
MATERIALS = "materials"
DOCUMENTS = "documents"
ROAD_NODES = "road_nodes"
ROAD_EDGES = "road_edges"
WGS84 = "EPSG:4326"

#: ``reliefdesk_meta`` keys holding the :class:`~gis.model.RoadNetworkRef` fields (field → key).
ROAD_REF_KEYS: Mapping[str, str] = {
    "kind": "road_network_kind",
    "source": "road_network_source",
    "content_hash": "road_network_hash",
    "note": "road_network_note",
}
#: ``reliefdesk_meta`` rows ``metadata.<key>`` hold ``Scenario.metadata``.
METADATA_PREFIX = "metadata."


# --------------------------------------------------------------------------------------------
# Spec types
# --------------------------------------------------------------------------------------------

#: What a column holds. ``int``/``float``/``bool`` are numbers (GeoPackage INTEGER / REAL /
#: BOOLEAN); ``datetime`` is ISO 8601 text; ``text`` is text. The reader takes each cell as
#: SQLite stored it (a column's declared type does not stop text in an INTEGER column) and
#: converts it by kind in one place: ``int``/``float`` with :func:`gis.fields.parse_number`
#: (``"1,200"`` and ``"1 200"`` are 1200; ``"约850"``, ``2.5`` people, NaN, ``inf`` are refused)
#: then the field's plausibility :class:`~gis.fields.Limit` (:func:`column_limit`); ``text``
#: loses control characters (:func:`gis.fields.strip_controls`) with a warning.
Kind = Literal["text", "int", "float", "bool", "datetime"]

#: pandas dtype each kind is written with.
DTYPES: Mapping[str, Any] = {
    "text": object,
    "int": "int64",
    "float": "float64",
    "bool": "bool",
    "datetime": object,
}


@dataclass(frozen=True, slots=True)
class Column:
    """One column of a table.

    Attributes
    ----------
    name
        Field name in the file.
    kind
        :data:`Kind`; decides the dtype written and how a cell is read.
    required
        A required column missing from the file is an error; an optional one takes ``default``
        (or ``""`` for text, ``None`` otherwise).
    default
        Value of an optional column that is missing, or NULL in a row.
    nullable
        NULL is a value (``NaN`` for float, ``None`` for datetime; ``""`` too for datetime).
    non_negative
        Checked on read, so the error names this table's row rather than the model object.
    roman
        An ``int`` that may also be text such as ``"II"``, ``"Ⅲ"`` or ``"3级"`` (a response or
        risk level, parsed by the model).
    attr
        The model attribute the column maps to; ``""`` (the default) = the column's name;
        ``None`` = no attribute (e.g. a foreign key written from the owner).
    """

    name: str
    kind: Kind
    required: bool = True
    default: Any = None
    nullable: bool = False
    non_negative: bool = False
    roman: bool = False
    attr: str | None = ""

    def __post_init__(self) -> None:
        if self.kind not in DTYPES:
            raise ValueError(f"column {self.name!r}: unknown kind {self.kind!r}")
        if self.attr == "":
            object.__setattr__(self, "attr", self.name)

    @property
    def dtype(self) -> Any:
        return DTYPES[self.kind]

    def missing_value(self) -> Any:
        """What a NULL in a nullable column reads as (and what an absent entry is written as)."""
        return math.nan if self.kind == "float" else None

    def encode(self, value: Any) -> Any:
        """A model attribute value as stored in the file."""
        if self.kind == "datetime":
            return None if value is None else value.isoformat()
        if isinstance(value, Enum):
            return value.value
        return value


@dataclass(frozen=True, slots=True)
class Geometry:
    """The geometry column of a spatial table.

    ``layer_type`` is the GeoPackage geometry type (``"Unknown"`` = GEOMETRY: each row keeps its
    own type); ``allowed`` the shapely types a row may have. ``attr`` is the model attribute:
    ``"location"`` (a :class:`~gis.model.Location`, stored as a Point) or ``"geometry"``.
    """

    layer_type: str
    allowed: tuple[str, ...]
    attr: str | None = None

    def encode(self, value: Any) -> BaseGeometry:
        if self.attr == "location":
            return shapely.Point(value.lon, value.lat)
        return value

    def decode(self, geom: BaseGeometry) -> Any:
        if self.attr == "location":
            return (geom.x, geom.y)
        return geom


@dataclass(frozen=True, kw_only=True)
class Table:
    """A table of the file: layer name, columns and (for a spatial layer) its geometry."""

    layer: str
    columns: tuple[Column, ...]
    geometry: Geometry | None = None
    #: A layer added after workspaces were first written: absent from a file = no rows.
    optional: bool = False

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


@dataclass(frozen=True, slots=True)
class Ownership:
    """Rows that belong to entities of other tables (vehicles to stockpiles or teams).

    ``owners`` are the owner layers, in the order rows are written; ``attr`` the owner's tuple
    attribute; ``id_column`` names the owner's id, ``layer_column`` its layer (optional in the
    file: when empty the id must be in exactly one owner layer).
    """

    owners: tuple[str, ...]
    attr: str
    id_column: str
    layer_column: str


@dataclass(frozen=True, kw_only=True)
class EntityTable(Table):
    """One row per model object.

    ``model`` is built from the columns with an ``attr`` (plus the geometry and what related
    tables attach); ``key`` is the unique column; ``scenario_attr`` the Scenario tuple holding the
    objects, or ``None`` for objects owned by other entities (see ``owned_by``).
    """

    model: type
    key: str = "id"
    scenario_attr: str | None = None
    owned_by: Ownership | None = None


@dataclass(frozen=True, kw_only=True)
class RelatedTable(Table):
    """Rows attaching items to an owner entity: ``owner_column`` → the owner's key,
    ``item_column`` → a material code or a skill.

    Mapping mode (``sequence_attr`` is ``None``): every other column is a value whose ``attr``
    names the owner's mapping (item → value); a NULL in a nullable value column means the item
    is absent from that mapping. Sequence mode: the items, in row order, form the owner's tuple
    ``sequence_attr``. ``item_refers_to`` names a table the item must be a key of (when that
    table has rows). ``owner_noun`` is how the duplicate-item message names the owner.
    """

    owner: str
    owner_column: str
    item_column: str
    sequence_attr: str | None = None
    item_refers_to: str | None = None
    owner_noun: str = ""

    @property
    def value_columns(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.name not in (self.owner_column, self.item_column))


@dataclass(frozen=True, slots=True)
class RoadLayer:
    """A road network layer, stored verbatim: column → dtype from :mod:`gis.model`."""

    layer: str
    geometry_type: str
    columns: Mapping[str, str]


# --------------------------------------------------------------------------------------------
# The tables
# --------------------------------------------------------------------------------------------

_POINT = Geometry("Point", ("Point",), "location")


def _key(name: str) -> Column:
    """A text column naming another table's row (written from the owner, no model attribute)."""
    return Column(name, "text", attr=None)


META = Table(layer=META_TABLE, columns=(Column("key", "text"), Column("value", "text")))

BOUNDARY_TABLE = Table(
    layer=BOUNDARY,
    columns=(Column("name", "text", required=False),),
    geometry=Geometry("Unknown", ("Polygon", "MultiPolygon")),
)

TOWNSHIPS = EntityTable(
    layer="townships",
    model=Township,
    key="code",
    scenario_attr="townships",
    geometry=_POINT,
    columns=(
        Column("code", "text"),
        Column("name", "text"),
        Column("population", "int", required=False, default=0),
        Column("location_source", "text", required=False),
    ),
)

STOCKPILES = EntityTable(
    layer="stockpiles",
    model=Stockpile,
    scenario_attr="stockpiles",
    geometry=_POINT,
    columns=(
        Column("id", "text"),
        Column("name", "text"),
        Column("level", "text"),
        Column("township_code", "text", required=False),
        Column("contact", "text", required=False),
        # 库容: optional (older workspaces have none), NULL = not stated
        Column("capacity_m3", "float", required=False, nullable=True, non_negative=True),
    ),
)

SHELTERS = EntityTable(
    layer="shelters",
    model=Shelter,
    scenario_attr="shelters",
    geometry=_POINT,
    columns=(
        Column("id", "text"),
        Column("name", "text"),
        Column("setting", "text"),
        Column("shelter_class", "text"),
        Column("capacity", "int"),
        Column("occupancy", "int", required=False, default=0),
        Column("township_code", "text", required=False),
    ),
)

TEAMS = EntityTable(
    layer="teams",
    model=Team,
    scenario_attr="teams",
    geometry=_POINT,
    columns=(
        Column("id", "text"),
        Column("name", "text"),
        Column("force_type", "text"),
        Column("headcount", "int"),
        Column("status", "text", required=False, default=TeamStatus.STANDBY.value),
        Column("leader", "text", required=False),
        Column("phone", "text", required=False),
    ),
)

INCIDENTS = EntityTable(
    layer="incidents",
    model=Incident,
    scenario_attr="incidents",
    geometry=_POINT,
    columns=(
        Column("id", "text"),
        Column("name", "text"),
        Column("category", "text"),
        Column("subtype", "text"),
        Column("level", "int", roman=True),
        Column("reported_at", "datetime"),
        Column("affected_people", "int", required=False, default=0),
        Column("deadline_min", "float", required=False, default=120.0),
        Column("status", "text", required=False, default=IncidentStatus.REPORTED.value),
        Column("description", "text", required=False),
        Column("township_code", "text", required=False),
    ),
)

HAZARDS = EntityTable(
    layer="hazards",
    model=Hazard,
    scenario_attr="hazards",
    geometry=Geometry("Unknown", ("Point", "Polygon", "MultiPolygon"), "geometry"),
    columns=(
        Column("id", "text"),
        Column("name", "text"),
        Column("category", "text"),
        Column("risk_level", "int", roman=True),
        Column("description", "text", required=False),
    ),
)

CLOSURES = EntityTable(
    layer="closures",
    model=RoadClosure,
    scenario_attr="closures",
    geometry=Geometry(
        "Unknown",
        ("Point", "LineString", "MultiLineString", "Polygon", "MultiPolygon"),
        "geometry",
    ),
    columns=(
        Column("id", "text"),
        Column("reason", "text", required=False),
        Column("radius_m", "float", required=False, default=50.0),
        Column("speed_factor", "float", required=False, default=0.0),
        Column("since", "datetime", required=False, nullable=True),
        Column("until", "datetime", required=False, nullable=True),
    ),
)

DEMAND_POINTS = EntityTable(
    layer="demand_points",
    model=DemandPoint,
    optional=True,
    scenario_attr="demand_points",
    geometry=_POINT,
    columns=(
        Column("id", "text"),
        Column("name", "text"),
        Column("kind", "text", required=False, default="村庄"),  # a village list names no kind
        Column("population", "int", required=False, default=0),
        Column("weight", "float", required=False, default=1.0),
        Column("township_code", "text", required=False),
    ),
)

CANDIDATE_SITES = EntityTable(
    layer="candidate_sites",
    model=CandidateSite,
    optional=True,
    scenario_attr="candidate_sites",
    geometry=_POINT,
    columns=(
        Column("id", "text"),
        Column("name", "text"),
        Column("kind", "text", required=False, default="any"),
        Column("capacity", "int", required=False, default=0, non_negative=True),
        Column("fixed_cost", "float", required=False, default=0.0, non_negative=True),
        Column("note", "text", required=False),
    ),
)

MATERIALS_TABLE = EntityTable(
    layer=MATERIALS,
    model=Material,
    key="code",
    scenario_attr="materials",
    columns=(
        Column("code", "text"),
        Column("name_zh", "text"),
        Column("name_en", "text", required=False),
        Column("unit", "text"),
        Column("unit_weight_kg", "float"),
        Column("unit_volume_m3", "float"),
        Column("category", "text"),
        Column("divisible", "bool", required=False, default=False),
    ),
)

INVENTORY = RelatedTable(
    layer="inventory",
    owner="stockpiles",
    owner_column="stockpile_id",
    item_column="material",
    item_refers_to=MATERIALS,
    owner_noun="stockpile ",
    columns=(
        _key("stockpile_id"),
        _key("material"),
        Column("quantity", "float", nullable=True, non_negative=True, attr="inventory"),
        Column("safety_stock", "float", nullable=True, non_negative=True, attr="safety_stock"),
        # 生产日期 / 到期日 per line: ISO dates; optional, so older workspaces still load
        Column(
            "production_date", "datetime", required=False, nullable=True, attr="production_dates"
        ),
        Column("expiry_date", "datetime", required=False, nullable=True, attr="expiry_dates"),
    ),
)

SHELTER_STOCK = RelatedTable(
    layer="shelter_stock",
    owner="shelters",
    owner_column="shelter_id",
    item_column="material",
    item_refers_to=MATERIALS,
    columns=(
        _key("shelter_id"),
        _key("material"),
        Column("quantity", "float", non_negative=True, attr="stock"),
    ),
)

INCIDENT_NEEDS = RelatedTable(
    layer="incident_needs",
    owner="incidents",
    owner_column="incident_id",
    item_column="material",
    item_refers_to=MATERIALS,
    columns=(
        _key("incident_id"),
        _key("material"),
        Column("quantity", "float", non_negative=True, attr="needs"),
    ),
)

INCIDENT_SKILLS = RelatedTable(
    layer="incident_skills",
    owner="incidents",
    owner_column="incident_id",
    item_column="skill",
    owner_noun="incident ",
    columns=(
        _key("incident_id"),
        _key("skill"),
        Column("headcount", "int", attr="required_skills"),
    ),
)

TEAM_SKILLS = RelatedTable(
    layer="team_skills",
    owner="teams",
    owner_column="team_id",
    item_column="skill",
    sequence_attr="skills",
    columns=(_key("team_id"), _key("skill")),
)

VEHICLES = EntityTable(
    layer="vehicles",
    model=Vehicle,
    owned_by=Ownership(
        owners=("stockpiles", "teams"),
        attr="vehicles",
        id_column="home_id",
        layer_column="home_layer",
    ),
    columns=(
        Column("id", "text"),
        Column("home_id", "text"),
        Column("home_layer", "text", required=False, attr=None),
        Column("kind", "text"),
        Column("capacity_kg", "float"),
        Column("capacity_m3", "float"),
        Column("name", "text", required=False),
        Column("speed_factor", "float", required=False, default=1.0),
    ),
)

DOCUMENTS_TABLE = Table(
    layer=DOCUMENTS,
    columns=(Column("kind", "text"), Column("doc_id", "text"), Column("json", "text")),
)

#: Every table but the road layers, in the order they are written.
TABLES: tuple[Table, ...] = (
    META,
    BOUNDARY_TABLE,
    TOWNSHIPS,
    STOCKPILES,
    SHELTERS,
    TEAMS,
    INCIDENTS,
    HAZARDS,
    CLOSURES,
    DEMAND_POINTS,
    CANDIDATE_SITES,
    MATERIALS_TABLE,
    INVENTORY,
    SHELTER_STOCK,
    INCIDENT_NEEDS,
    INCIDENT_SKILLS,
    TEAM_SKILLS,
    VEHICLES,
    DOCUMENTS_TABLE,
)
BY_LAYER: Mapping[str, Table] = {t.layer: t for t in TABLES}

#: Entity tables whose objects are Scenario attributes, in the order they are built.
SCENARIO_ENTITIES: tuple[EntityTable, ...] = tuple(
    t for t in TABLES if isinstance(t, EntityTable) and t.scenario_attr is not None
)
RELATED: tuple[RelatedTable, ...] = tuple(t for t in TABLES if isinstance(t, RelatedTable))
OWNED: tuple[EntityTable, ...] = tuple(
    t for t in TABLES if isinstance(t, EntityTable) and t.owned_by is not None
)

#: The road network layers (stored only when a network is saved with the workspace).
ROAD_LAYERS: tuple[RoadLayer, ...] = (
    RoadLayer(ROAD_NODES, "Point", ROAD_NODE_COLUMNS),
    RoadLayer(ROAD_EDGES, "LineString", ROAD_EDGE_COLUMNS),
)


def column_limit(table: Table, column: Column) -> Limit | None:
    """The plausibility limit of a column, as declared on the model field it fills
    (:data:`gis.fields.FIELD_LIMITS`; a related table's value column: the owner's mapping)."""
    if isinstance(table, RelatedTable):
        return field_limit(entity_table(table.owner).model, column.attr)
    if isinstance(table, EntityTable):
        return field_limit(table.model, column.attr)
    return None


def entity_table(layer: str) -> EntityTable:
    """The entity table of ``layer`` (KeyError for another table)."""
    table = BY_LAYER[layer]
    if not isinstance(table, EntityTable):
        raise KeyError(layer)
    return table


# --------------------------------------------------------------------------------------------
# Result type
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Workspace:
    """What reading a workspace returns (from any storage backend).

    Compared by identity (``eq=False``): GeoDataFrames have no single truth value, so a
    field-wise ``==`` would raise. Compare ``.scenario`` (a value) instead.

    Attributes
    ----------
    path
        The file read (``None`` for a workspace not yet saved).
    scenario
        The county's resources and incidents.
    road_nodes, road_edges
        The road network frames (schema in :data:`ROAD_NODE_COLUMNS` / :data:`ROAD_EDGE_COLUMNS`),
        or ``None`` when the file holds none or ``include_roads=False``.
    documents
        ``kind -> {doc_id: JSON text}``: plans, the event log, templates...
    warnings
        Problems found on read that did not stop it (reprojected layers, repaired geometry,
        skipped documents), followed by :func:`~gis.workspace.checks.validate_scenario`'s
        planner warnings.
    """

    path: Path | None
    scenario: Scenario
    road_nodes: gpd.GeoDataFrame | None = None
    road_edges: gpd.GeoDataFrame | None = None
    documents: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()


__all__ = [
    "SCHEMA_VERSION",
    "Column",
    "EntityTable",
    "Geometry",
    "Kind",
    "Ownership",
    "RelatedTable",
    "RoadLayer",
    "Table",
    "TABLES",
    "Workspace",
]
