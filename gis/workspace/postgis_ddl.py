"""The shared PostGIS workspace's schema: DDL from the table specs, roles, audit, versioned migrations.

The tables are those of the GeoPackage (:data:`gis.workspace.schema.TABLES` and
:data:`~gis.workspace.schema.ROAD_LAYERS`), with the same names and columns, generated from the
same specs — one definition of each table. Each table gets a ``fid`` (``bigserial``, the row
order the GeoPackage keeps) and a geometry column ``geom`` in EPSG:4326; every table but the road
layers also gets ``version`` (1 on insert, +1 on every update, set by a trigger so no client can
forge it: an update says ``WHERE version = expected`` and a stale one changes nothing).

Written by the database, not by the desks:

* ``audit_log`` — one row per inserted, updated or deleted row (who = ``session_user``, when,
  table, row key, version, before/after as JSON), by the ``SECURITY DEFINER`` trigger function
  ``rd_audit()``; nobody but the owner may write it. ``plan_events`` is the view of plan status
  steps (approvals, issue) read from it.
* a ``NOTIFY reliefdesk`` per row change, delivered when the transaction commits (JSON payload:
  table, id, version, op, who, at = the database clock in epoch seconds).

Roles (created cluster-wide by ``tools/db_cluster.py``; granted here): ``rd_viewer`` reads;
``rd_operator`` writes incidents (with their needs and skills), closures, and the plan,
event-log, warning, monitoring and pre-positioning documents; ``rd_planner`` writes facilities,
teams, vehicles, inventory, materials, demand points and the 预案 template, map-layer and
drill-script documents; ``rd_admin`` owns everything (schema, users).
Documents are split between operator and planner by row-level security on ``kind``.

Migrations are numbered; ``schema_migrations`` records the ones applied. :func:`migrate` applies
the missing ones in order, each in its own transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from gis.workspace.schema import (
    BOUNDARY,
    DOCUMENTS,
    META_TABLE,
    ROAD_LAYERS,
    TABLES,
    EntityTable,
    RelatedTable,
    Table,
)

#: The NOTIFY channel of row changes.
CHANNEL = "reliefdesk"
#: Geometry column name in the database.
GEOM = "geom"
ROLES = ("rd_admin", "rd_operator", "rd_planner", "rd_viewer")

#: Tables each role may change (besides reading everything).
OPERATOR_TABLES = ("incidents", "incident_needs", "incident_skills", "closures", DOCUMENTS)
PLANNER_TABLES = (
    "stockpiles",
    "shelters",
    "teams",
    "team_skills",
    "vehicles",
    "inventory",
    "shelter_stock",
    "materials",
    "demand_points",
    "townships",
    "hazards",
    DOCUMENTS,
)
#: Document kinds each role may write (row-level security on ``documents.kind``): operators
#: the plans (with their approvals), the event log, and (migration 3) the hazard warnings, the
#: monitoring records and the warnings' pre-positioning records — issued, read and stepped at
#: the duty desk, each with its event-log entry in the same edit, so one role sends the whole
#: edit; planners the 预案 templates, the map layers (rivers, township areas) and the drill
#: scripts prepared ahead of an exercise.
OPERATOR_DOCUMENTS = ("plans", "event_log", "warnings", "monitoring", "prepositions")
PLANNER_DOCUMENTS = ("plan_templates", "map_layers", "drill_scripts")
#: The kinds migrations 1 and 2 granted (kept as they were: a migration never changes once
#: shipped).
_V1_DOCUMENTS = {"rd_operator": ("plans", "event_log"), "rd_planner": ("plan_templates",)}
_V2_DOCUMENTS = {"rd_operator": ("plans", "event_log"), "rd_planner": PLANNER_DOCUMENTS}


def writable_documents(role: str) -> tuple[str, ...]:
    """The document kinds ``role`` may write (a desk sends no others: they stay local)."""
    if role == "rd_admin":
        return (*OPERATOR_DOCUMENTS, *PLANNER_DOCUMENTS)
    return {"rd_operator": OPERATOR_DOCUMENTS, "rd_planner": PLANNER_DOCUMENTS}.get(role, ())


def writable_tables(role: str) -> frozenset[str]:
    """The tables ``role`` may change (what the desk enables; the database enforces it)."""
    if role == "rd_admin":
        return frozenset(t.layer for t in TABLES)
    return frozenset({"rd_operator": OPERATOR_TABLES, "rd_planner": PLANNER_TABLES}.get(role, ()))


_PG_TYPES = {
    "text": "text",
    "int": "bigint",
    "float": "double precision",
    "bool": "boolean",
    "datetime": "text",  # ISO 8601 text, exactly as the GeoPackage stores it
    "int64": "bigint",
    "float64": "double precision",
    "str": "text",
}
_PG_GEOMETRY = {
    "Point": "Point",
    "LineString": "LineString",
    "Unknown": "Geometry",
}


def key_columns(table: Table) -> tuple[str, ...]:
    """The columns naming one row of ``table`` (audit, notifications, record edits)."""
    if isinstance(table, EntityTable):
        return (table.key,)
    if isinstance(table, RelatedTable):
        return (table.owner_column, table.item_column)
    if table.layer == DOCUMENTS:
        return ("kind", "doc_id")
    if table.layer == META_TABLE:
        return ("key",)
    if table.layer == BOUNDARY:
        return ("fid",)
    raise KeyError(table.layer)  # pragma: no cover - a table added without a key


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _create_table(table: Table) -> list[str]:
    cols = ["fid bigserial PRIMARY KEY"]
    cols += [f"{_ident(c.name)} {_PG_TYPES[c.kind]}" for c in table.columns]
    if table.geometry is not None:
        cols.append(f"{GEOM} geometry({_PG_GEOMETRY[table.geometry.layer_type]}, 4326)")
    cols.append("version bigint NOT NULL DEFAULT 1")
    keys = key_columns(table)
    name = _ident(table.layer)
    out = [f"CREATE TABLE {name} ({', '.join(cols)})"]
    if keys != ("fid",):
        out.append(f"CREATE UNIQUE INDEX ON {name} ({', '.join(map(_ident, keys))})")
    if table.geometry is not None:
        out.append(f"CREATE INDEX ON {name} USING gist ({GEOM})")
    args = ", ".join("'" + k + "'" for k in keys)
    out.append(
        f"CREATE TRIGGER rd_version BEFORE UPDATE ON {name} FOR EACH ROW EXECUTE FUNCTION rd_version()"
    )
    out.append(
        f"CREATE TRIGGER rd_audit AFTER INSERT OR UPDATE OR DELETE ON {name} "
        f"FOR EACH ROW EXECUTE FUNCTION rd_audit({args})"
    )
    return out


_FUNCTIONS = [
    """CREATE FUNCTION rd_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.version := OLD.version + 1;
  RETURN NEW;
END $$""",
    """CREATE TABLE audit_log (
  id bigserial PRIMARY KEY,
  at timestamptz NOT NULL DEFAULT clock_timestamp(),
  who text NOT NULL,
  tbl text NOT NULL,
  row_key text NOT NULL,
  op text NOT NULL,
  version bigint,
  before jsonb,
  after jsonb,
  txid bigint NOT NULL DEFAULT txid_current()
)""",
    "CREATE INDEX ON audit_log (tbl, row_key)",
    f"""CREATE FUNCTION rd_audit() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, pg_temp AS $$
DECLARE
  rec jsonb := CASE WHEN TG_OP = 'DELETE' THEN to_jsonb(OLD) ELSE to_jsonb(NEW) END;
  k text := '';
  v bigint := (rec->>'version')::bigint;
BEGIN
  FOR i IN 0 .. TG_NARGS - 1 LOOP
    k := k || CASE WHEN i > 0 THEN '/' ELSE '' END || coalesce(rec->>TG_ARGV[i], '');
  END LOOP;
  INSERT INTO audit_log (who, tbl, row_key, op, version, before, after)
  VALUES (session_user, TG_TABLE_NAME, k, TG_OP, v,
          CASE WHEN TG_OP <> 'INSERT' THEN to_jsonb(OLD) END,
          CASE WHEN TG_OP <> 'DELETE' THEN to_jsonb(NEW) END);
  IF coalesce(current_setting('reliefdesk.bulk', true), '') <> 'on' THEN
    PERFORM pg_notify('{CHANNEL}', json_build_object(
      'table', TG_TABLE_NAME, 'id', k, 'version', v, 'op', TG_OP, 'who', session_user,
      'at', extract(epoch FROM clock_timestamp()))::text);
  END IF;
  RETURN NULL;
END $$""",
    "REVOKE ALL ON FUNCTION rd_audit() FROM PUBLIC",
]

_PLAN_EVENTS = """CREATE VIEW plan_events AS
SELECT a.id, a.at, a.who, a.after->>'doc_id' AS plan,
       (a.before->>'json')::jsonb->>'status' AS status_before,
       (a.after->>'json')::jsonb->>'status' AS status_after, a.version
FROM audit_log a
WHERE a.tbl = 'documents' AND a.after->>'kind' = 'plans'
  AND (a.before IS NULL OR (a.before->>'json')::jsonb->>'status'
       IS DISTINCT FROM (a.after->>'json')::jsonb->>'status')"""


def _grants() -> list[str]:
    readers = "rd_operator, rd_planner, rd_viewer"
    out = [
        f"GRANT USAGE ON SCHEMA public TO {readers}",
        f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {readers}",
    ]
    for role, tables in (("rd_operator", OPERATOR_TABLES), ("rd_planner", PLANNER_TABLES)):
        for t in tables:
            out.append(f"GRANT INSERT, UPDATE, DELETE ON {_ident(t)} TO {role}")
            out.append(f"GRANT USAGE ON SEQUENCE {_ident(t + '_fid_seq')} TO {role}")
    out.append("ALTER TABLE documents ENABLE ROW LEVEL SECURITY")
    out.append("CREATE POLICY read_all ON documents FOR SELECT USING (true)")
    out += _document_policies(_V1_DOCUMENTS)
    return out


def _document_policies(kinds_of: dict[str, tuple[str, ...]], *, replace: bool = False) -> list[str]:
    """Row-level security on ``documents.kind``: each role writes only its kinds."""
    out = []
    for role, kinds in kinds_of.items():
        allowed = ", ".join("'" + k + "'" for k in kinds)
        for cmd, clause in (
            ("INSERT", f"WITH CHECK (kind IN ({allowed}))"),
            ("UPDATE", f"USING (kind IN ({allowed})) WITH CHECK (kind IN ({allowed}))"),
            ("DELETE", f"USING (kind IN ({allowed}))"),
        ):
            name = f"{role}_{cmd.lower()}"
            if replace:
                out.append(f"DROP POLICY IF EXISTS {name} ON documents")
            out.append(f"CREATE POLICY {name} ON documents FOR {cmd} TO {role} {clause}")
    return out


def _map_layers_and_drills() -> list[str]:
    """Migration 2: planners also write the map layers and the drill scripts (sent row by row
    when edited, like the templates), so neither stays only in one desk's copy."""
    return _document_policies(_V2_DOCUMENTS, replace=True)


def _warnings_monitoring_prepositions() -> list[str]:
    """Migration 3: operators also write the hazard warnings, monitoring records and
    pre-positioning records (sent as document rows like plans, applied live on other desks)."""
    return _document_policies(
        {"rd_operator": OPERATOR_DOCUMENTS, "rd_planner": PLANNER_DOCUMENTS}, replace=True
    )


def _initial() -> list[str]:
    out = list(_FUNCTIONS)
    for table in TABLES:
        out += _create_table(table)
    for spec in ROAD_LAYERS:  # stored verbatim: no version, audit or notifications
        cols = ["fid bigserial PRIMARY KEY"]
        cols += [f"{_ident(n)} {_PG_TYPES[t]}" for n, t in spec.columns.items()]
        cols.append(f"{GEOM} geometry({_PG_GEOMETRY[spec.geometry_type]}, 4326)")
        out.append(f"CREATE TABLE {_ident(spec.layer)} ({', '.join(cols)})")
    # every document is JSON (the plan_events view reads plan statuses out of it)
    out.append("ALTER TABLE documents ADD CHECK (json IS NULL OR (json::jsonb) IS NOT NULL)")
    out.append(_PLAN_EVENTS)
    out += _grants()
    return out


@dataclass(frozen=True)
class Migration:
    """One numbered schema step: SQL statements run in one transaction."""

    number: int
    name: str
    statements: Callable[[], Sequence[str]]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "workspace tables, audit, roles", _initial),
    Migration(2, "planners write map layers and drill scripts", _map_layers_and_drills),
    Migration(
        3, "operators write warnings, monitoring, prepositions", _warnings_monitoring_prepositions
    ),
)
#: The schema version a fully migrated database has.
LATEST = MIGRATIONS[-1].number


def migrate(conn: Any) -> list[int]:
    """Apply the missing migrations in order (as the schema owner, ``rd_admin``); returns the
    numbers applied. ``conn`` is a psycopg connection; each migration is its own transaction."""
    with conn.transaction():
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (number int PRIMARY KEY, name text "
            "NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        conn.execute("GRANT SELECT ON schema_migrations TO rd_operator, rd_planner, rd_viewer")
    applied = []
    for m in MIGRATIONS:
        with conn.transaction():
            conn.execute("LOCK TABLE schema_migrations IN EXCLUSIVE MODE")
            done = conn.execute(
                "SELECT 1 FROM schema_migrations WHERE number = %s", (m.number,)
            ).fetchone()
            if done:
                continue
            for stmt in m.statements():
                conn.execute(stmt)
            conn.execute(
                "INSERT INTO schema_migrations (number, name) VALUES (%s, %s)", (m.number, m.name)
            )
            applied.append(m.number)
    return applied


def schema_version(conn: Any) -> int:
    """The highest migration applied (0 for a database without the schema)."""
    row = conn.execute("SELECT to_regclass('schema_migrations') IS NOT NULL").fetchone()
    if not row or not row[0]:
        return 0
    (n,) = conn.execute("SELECT coalesce(max(number), 0) FROM schema_migrations").fetchone()
    return int(n)
