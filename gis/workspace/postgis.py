"""A workspace in a shared PostgreSQL/PostGIS database: the storage backend and record edits.

:class:`PostgisStorage` implements :class:`gis.workspace.storage.WorkspaceStorage` over a
database URL (``postgresql://user:password@host:port/db``) whose schema
:mod:`gis.workspace.postgis_ddl` created (tables named like the GeoPackage layers):

* ``write`` (``app.py db-push``) builds the frames with the GeoPackage writer's own
  :func:`~gis.workspace.writer.scenario_frames` and replaces every table in one transaction
  (``COPY``, geometry as EWKB): all of it or none of it; one ``RELOAD`` notification.
* ``pull`` (``app.py db-pull``) reads the tables back into the same frames and writes an
  ordinary GeoPackage through the writer (atomic replace); ``read`` pulls into a temporary file
  and reads it with the GeoPackage reader, so a database workspace is checked row by row exactly
  like a file (one reader, one set of messages).

Several desks edit one record at a time through :class:`SharedWorkspace`: every row carries a
``version`` the database increments; :meth:`SharedWorkspace.update` says
``WHERE version = expected`` and a stale save raises :class:`VersionConflict` carrying both
records (the desk's and the database's). What a role may not do is refused by the database
(grants, row-level security) and surfaces as :class:`PermissionRefused`.

psycopg (3) is imported lazily: a desk on GeoPackage files never loads it.
"""

from __future__ import annotations

import json
import math
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from gis.errors import WorkspaceError
from gis.model import Scenario
from gis.workspace.atomic import replace_atomically, resolve_target
from gis.workspace.checks import check_documents, check_road_frame
from gis.workspace.postgis_ddl import CHANNEL, GEOM, LATEST, key_columns, schema_version
from gis.workspace.reader import read_road_frames, read_workspace
from gis.workspace.schema import BY_LAYER, ROAD_LAYERS, TABLES, WGS84, RoadLayer, Table, Workspace
from gis.workspace.writer import scenario_frames, table_frame, write_layers

URL_SCHEMES = ("postgresql://", "postgres://")


def is_database_url(text: str | Path) -> bool:
    """Whether a workspace argument names a database rather than a file."""
    return isinstance(text, str) and text.startswith(URL_SCHEMES)


def public_url(url: str) -> str:
    """The URL without its password (for messages, titles and ``info``)."""
    from psycopg.conninfo import conninfo_to_dict

    try:
        d = conninfo_to_dict(url)
    except Exception:  # noqa: BLE001 - a malformed URL: show only its scheme
        return url.split("://", 1)[0] + "://…"
    host = d.get("host", "")
    port = f":{d['port']}" if d.get("port") else ""
    user = f"{d['user']}@" if d.get("user") else ""
    return f"postgresql://{user}{host}{port}/{d.get('dbname', '')}"


def connect(url: str, *, autocommit: bool = False) -> Any:
    """A psycopg connection, or a :class:`WorkspaceError` naming the server (no password)."""
    import psycopg

    try:
        return psycopg.connect(url, autocommit=autocommit, connect_timeout=10)
    except (psycopg.Error, ValueError) as exc:
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise WorkspaceError(f"无法连接共享数据库: {msg}", path=public_url(url)) from None


def _check_schema(conn: Any, url: str) -> None:
    have = schema_version(conn)
    if have == 0:
        raise WorkspaceError(
            "the database has no ReliefDesk schema (run `make db` or migrate it as rd_admin)",
            path=public_url(url),
        )
    if have > LATEST:
        raise WorkspaceError(
            f"the database schema is version {have}; this ReliefDesk knows up to {LATEST}",
            path=public_url(url),
        )


class PermissionRefused(WorkspaceError):
    """The database refused a change for the connected role (grant or row-level security)."""

    def __init__(self, message: str, *, table: str, sqlstate: str | None) -> None:
        super().__init__(message, layer=table)
        self.table = table
        self.sqlstate = sqlstate


# --------------------------------------------------------------------------------------------
# Values between frames and the database
# --------------------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """A frame cell as the database takes it (NaN → NULL, numpy scalars → Python)."""
    if value is None:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _ewkb(geom: BaseGeometry | None) -> str | None:
    if geom is None or shapely.is_missing(geom):
        return None
    return shapely.to_wkb(shapely.set_srid(geom, 4326), hex=True, include_srid=True)


def _copy_frame(cur: Any, layer: str, names: list[str], frame: pd.DataFrame, spatial: bool) -> None:
    from psycopg import sql

    cols = [*names, GEOM] if spatial else names
    stmt = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(layer), sql.SQL(", ").join(map(sql.Identifier, cols))
    )
    data = [frame[n].tolist() for n in names]
    geoms = list(frame.geometry) if spatial else None
    with cur.copy(stmt) as copy:
        for i in range(len(frame)):
            row = [_plain(col[i]) for col in data]
            if geoms is not None:
                row.append(_ewkb(geoms[i]))
            copy.write_row(row)


def select_rows(
    conn: Any,
    layer: str,
    names: list[str],
    spatial: bool,
    *,
    where: tuple[str, str | list[str]] | None = None,
) -> tuple[dict[str, list[Any]], list[Any]]:
    """Columns ``names`` of a table's rows in ``fid`` order (only those whose column
    ``where[0]`` is ``where[1]`` — or one of the list ``where[1]`` — as text, when given) and
    their geometries."""
    return rows_of(start_select(conn, layer, names, spatial, where=where), names, spatial)


def start_select(
    conn: Any,
    layer: str,
    names: list[str],
    spatial: bool,
    *,
    where: tuple[str, str | list[str]] | None = None,
) -> Any:
    """:func:`select_rows`' query, sent; its cursor (in a psycopg pipeline, several are sent
    before the first answer is awaited: one round trip). :func:`rows_of` reads it."""
    from psycopg import sql

    cols = [sql.Identifier(n) for n in names]
    if spatial:
        cols.append(sql.SQL("ST_AsBinary({})").format(sql.Identifier(GEOM)))
    cond, params = sql.SQL(""), []
    if where is not None:
        op = sql.SQL("= ANY(%s)" if isinstance(where[1], list) else "= %s")
        cond = sql.SQL(" WHERE {}::text {}").format(sql.Identifier(where[0]), op)
        params = [where[1]]
    return conn.execute(
        sql.SQL("SELECT {} FROM {}{} ORDER BY fid").format(
            sql.SQL(", ").join(cols), sql.Identifier(layer), cond
        ),
        params,
    )


def rows_of(cursor: Any, names: list[str], spatial: bool) -> tuple[dict[str, list[Any]], list[Any]]:
    """The columns and geometries a :func:`start_select` cursor returns."""
    rows = cursor.fetchall()
    columns = {n: [r[i] for r in rows] for i, n in enumerate(names)}
    geoms = (
        [shapely.from_wkb(bytes(r[-1])) if r[-1] is not None else None for r in rows]
        if spatial
        else []
    )
    return columns, geoms


def _road_frame(conn: Any, spec: RoadLayer) -> gpd.GeoDataFrame:
    names = list(spec.columns)
    columns, geoms = select_rows(conn, spec.layer, names, True)
    data = {
        n: pd.Series(columns[n], dtype=object if t == "str" else t) for n, t in spec.columns.items()
    }
    return gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(geoms, crs=WGS84))


# --------------------------------------------------------------------------------------------
# The storage backend
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PostgisStorage:
    """A workspace in a shared PostGIS database (see the module docstring)."""

    url: str = field(repr=False)  # holds the password: never in a repr, log or traceback

    @property
    def location(self) -> str:
        return public_url(self.url)

    def describe(self) -> str:
        return f"PostGIS {self.location}"

    @contextmanager
    def _conn(self) -> Iterator[Any]:
        conn = connect(self.url, autocommit=True)  # transactions are explicit
        try:
            _check_schema(conn, self.url)
            yield conn
        finally:
            conn.close()

    def write(
        self,
        scenario: Scenario,
        *,
        road_nodes: gpd.GeoDataFrame | None = None,
        road_edges: gpd.GeoDataFrame | None = None,
        documents: Mapping[str, Mapping[str, str]] | None = None,
    ) -> None:
        import psycopg

        where = self.location
        if not isinstance(scenario, Scenario):
            raise WorkspaceError(f"expected a Scenario, got {type(scenario).__name__}", path=where)
        if (road_nodes is None) != (road_edges is None):
            raise WorkspaceError("road_nodes and road_edges must be given together", path=where)
        docs = check_documents(documents, where)
        roads = None
        if road_nodes is not None:
            roads = [
                check_road_frame(frame, spec, where)
                for spec, frame in zip(ROAD_LAYERS, (road_nodes, road_edges), strict=True)
            ]
        frames = scenario_frames(scenario, docs, where)
        with self._conn() as conn:
            try:
                with conn.transaction(), conn.cursor() as cur:
                    cur.execute("SET LOCAL reliefdesk.bulk = 'on'")
                    for table in reversed(TABLES):
                        cur.execute(f'DELETE FROM "{table.layer}"')
                    for spec in ROAD_LAYERS:
                        cur.execute(f'TRUNCATE "{spec.layer}" RESTART IDENTITY')
                    for table in TABLES:
                        names = [c.name for c in table.columns]
                        _copy_frame(
                            cur, table.layer, names, frames[table.layer], table.geometry is not None
                        )
                    for spec, frame in zip(ROAD_LAYERS, roads or (), strict=False):
                        _copy_frame(cur, spec.layer, list(spec.columns), frame, True)
                    payload = json.dumps({"table": "*", "id": "", "version": 0, "op": "RELOAD"})
                    cur.execute("SELECT pg_notify(%s, %s)", (CHANNEL, payload))
            except psycopg.errors.InsufficientPrivilege as exc:
                raise PermissionRefused(
                    f"数据库拒绝写入（只有 rd_admin 可以推送整个工作区）: {exc.diag.message_primary}",
                    table="*",
                    sqlstate=exc.sqlstate,
                ) from None
            except psycopg.Error as exc:
                raise WorkspaceError(f"push failed, nothing changed: {exc}", path=where) from None

    def frames(self) -> tuple[dict[str, pd.DataFrame], list[gpd.GeoDataFrame] | None]:
        """Every table as the writer's frames, and the road frames (``None`` when empty)."""
        with self._conn() as conn, conn.transaction():
            # one consistent picture of every table, even while desks keep saving
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            frames: dict[str, pd.DataFrame] = {}
            for table in TABLES:
                names = [c.name for c in table.columns]
                columns, geoms = select_rows(conn, table.layer, names, table.geometry is not None)
                if table.geometry is not None:
                    columns["geometry"] = geoms
                frames[table.layer] = table_frame(table, columns, self.location)
            roads = [_road_frame(conn, spec) for spec in ROAD_LAYERS]
        meta = frames.get("reliefdesk_meta")
        if meta is not None and len(meta) == 0:
            raise WorkspaceError(
                "the database holds no workspace yet: push one first with "
                "`python app.py db-push WS.gpkg URL` (as rd_admin)",
                path=self.location,
            )
        if len(roads[0]) == 0 and len(roads[1]) == 0:
            return frames, None
        return frames, roads

    def pull(self, path: str | Path) -> None:
        """Write an offline GeoPackage copy of the database workspace (atomic replace)."""
        target = resolve_target(Path(path))
        if not (target.parent if str(target.parent) else Path(".")).is_dir():
            raise WorkspaceError(f"directory {target.parent} does not exist", path=str(path))
        frames, roads = self.frames()
        replace_atomically(target, lambda tmp: write_layers(tmp, frames, roads), spath=str(path))

    @contextmanager
    def pulled(self) -> Iterator[Path]:
        """A temporary GeoPackage copy, removed afterwards."""
        with tempfile.TemporaryDirectory(prefix="reliefdesk-db-") as tmp:
            path = Path(tmp) / "workspace.gpkg"
            self.pull(path)
            yield path

    def read(self, *, include_roads: bool = True) -> Workspace:
        with self.pulled() as path:
            ws = read_workspace(path, include_roads=include_roads)
        return Workspace(
            path=None,
            scenario=ws.scenario,
            road_nodes=ws.road_nodes,
            road_edges=ws.road_edges,
            documents=ws.documents,
            warnings=ws.warnings,
        )

    def read_roads(self) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame] | None:
        with self.pulled() as path:
            return read_road_frames(path)


# --------------------------------------------------------------------------------------------
# Record edits by several desks
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Record:
    """One row: its table, key (values of :func:`~gis.workspace.postgis_ddl.key_columns`),
    version, column values and geometry (``None`` for attribute tables)."""

    table: str
    key: tuple[str, ...]
    version: int
    values: Mapping[str, Any] = field(default_factory=dict)
    geometry: BaseGeometry | None = None


class VersionConflict(WorkspaceError):
    """A save over a newer version: ``mine`` is what this desk tried to save (with the version
    it had read), ``theirs`` the record as the database holds it now (``None``: deleted)."""

    def __init__(self, mine: Record, theirs: Record | None) -> None:
        now = "已被删除" if theirs is None else f"现为版本 {theirs.version}"
        super().__init__(
            f"记录 {mine.table}/{'/'.join(mine.key)} 已被他人修改（您基于版本 {mine.version}，{now}）",
            layer=mine.table,
        )
        self.mine = mine
        self.theirs = theirs


def _table(layer: str) -> Table:
    table = BY_LAYER.get(layer)
    if table is None:
        raise WorkspaceError(f"unknown table {layer!r}", layer=layer)
    return table


class SharedWorkspace:
    """One desk's connection to the shared workspace: read, insert, update, delete records.

    Each call is its own transaction (committed before it returns: an acknowledged edit is
    durable and its notification sent), unless made inside ``with ws.conn.transaction():``
    (one desk edit of several rows: :func:`gis.workspace.postgis_sync.send_rows`). Not
    thread-safe: one per thread.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.conn = connect(url, autocommit=True)
        _check_schema(self.conn, url)
        # read once: a refusal inside a failed transaction cannot query it any more
        self._role = str(self.conn.execute("SELECT session_user").fetchone()[0])

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> SharedWorkspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def role(self) -> str:
        return self._role

    def data_version(self) -> int:
        """A number that grows with every committed change (the last audit row): record it
        with a plan to tell later whether the data changed since."""
        return int(self.conn.execute("SELECT coalesce(max(id), 0) FROM audit_log").fetchone()[0])

    def _where(self, table: Table, key: tuple[str, ...]) -> tuple[Any, list[Any]]:
        from psycopg import sql

        names = key_columns(table)
        if len(key) != len(names):
            raise WorkspaceError(f"key {key!r} does not match {names}", layer=table.layer)
        cond = sql.SQL(" AND ").join(
            sql.SQL("{}::text = %s").format(sql.Identifier(n)) for n in names
        )
        return cond, [str(k) for k in key]

    def _columns(self, table: Table, values: Mapping[str, Any]) -> list[str]:
        known = {c.name for c in table.columns}
        bad = [n for n in values if n not in known]
        if bad:
            raise WorkspaceError(f"unknown column(s) {', '.join(bad)}", layer=table.layer)
        return list(values)

    @staticmethod
    def _returning(table: Table) -> Any:
        """The columns a :class:`Record` is built from (:meth:`_record`), in that order."""
        from psycopg import sql

        cols = [sql.Identifier(c.name) for c in table.columns] + [sql.Identifier("version")]
        if table.geometry is not None:
            cols.append(sql.SQL("ST_AsBinary({})").format(sql.Identifier(GEOM)))
        return sql.SQL(", ").join(cols)

    @staticmethod
    def _record(table: Table, key: tuple[str, ...], row: Any) -> Record:
        names = [c.name for c in table.columns]
        wkb = row[-1] if table.geometry is not None else None
        geom = shapely.from_wkb(bytes(wkb)) if wkb is not None else None
        values = dict(zip(names, row, strict=False))
        return Record(table.layer, tuple(key), int(row[len(names)]), values, geom)

    def get(self, layer: str, key: tuple[str, ...]) -> Record | None:
        """The record as stored now, or ``None``."""
        from psycopg import sql

        table = _table(layer)
        cond, params = self._where(table, key)
        row = self.conn.execute(
            sql.SQL("SELECT {} FROM {} WHERE {}").format(
                self._returning(table), sql.Identifier(layer), cond
            ),
            params,
        ).fetchone()
        return None if row is None else self._record(table, key, row)

    @contextmanager
    def _refusals(self, layer: str) -> Iterator[None]:
        import psycopg

        try:
            yield
        except psycopg.errors.InsufficientPrivilege as exc:
            raise PermissionRefused(
                f"数据库拒绝：角色 {self.role} 无权修改 {layer}（{exc.diag.message_primary}）",
                table=layer,
                sqlstate=exc.sqlstate,
            ) from None
        except psycopg.errors.IntegrityError as exc:
            raise WorkspaceError(f"数据库拒绝：{exc.diag.message_primary}", layer=layer) from None

    def insert(
        self, layer: str, values: Mapping[str, Any], geometry: BaseGeometry | None = None
    ) -> Record:
        from psycopg import sql

        table = _table(layer)
        names = self._columns(table, values)
        params = [_plain(values[n]) for n in names]
        cols = [sql.Identifier(n) for n in names]
        marks = [sql.Placeholder() for _ in names]
        if table.geometry is not None and geometry is not None:
            cols.append(sql.Identifier(GEOM))
            marks.append(sql.SQL("ST_GeomFromEWKB(decode(%s, 'hex'))"))
            params.append(_ewkb(geometry))
        key_names = key_columns(table)
        with self._refusals(layer):
            row = self.conn.execute(
                sql.SQL("INSERT INTO {} ({}) VALUES ({}) RETURNING {}, version").format(
                    sql.Identifier(layer),
                    sql.SQL(", ").join(cols),
                    sql.SQL(", ").join(marks),
                    sql.SQL(", ").join(
                        sql.SQL("{}::text").format(sql.Identifier(k)) for k in key_names
                    ),
                ),
                params,
            ).fetchone()
        return Record(layer, tuple(row[:-1]), int(row[-1]), dict(values), geometry)

    def update(
        self,
        layer: str,
        key: tuple[str, ...],
        changes: Mapping[str, Any],
        expected_version: int,
        geometry: BaseGeometry | None = None,
    ) -> Record:
        """Save ``changes`` over the version this desk read; returns the new record.

        Raises :class:`VersionConflict` when the row has another version now (or is gone),
        :class:`PermissionRefused` when the role may not change it.
        """
        from psycopg import sql

        table = _table(layer)
        names = self._columns(table, changes)
        sets = [sql.SQL("{} = %s").format(sql.Identifier(n)) for n in names]
        params: list[Any] = [_plain(changes[n]) for n in names]
        if geometry is not None and table.geometry is not None:
            sets.append(
                sql.SQL("{} = ST_GeomFromEWKB(decode(%s, 'hex'))").format(sql.Identifier(GEOM))
            )
            params.append(_ewkb(geometry))
        if not sets:
            raise WorkspaceError("nothing to change", layer=layer)
        cond, key_params = self._where(table, key)
        with self._refusals(layer):
            row = self.conn.execute(
                sql.SQL("UPDATE {} SET {} WHERE {} AND version = %s RETURNING {}").format(
                    sql.Identifier(layer), sql.SQL(", ").join(sets), cond, self._returning(table)
                ),
                [*params, *key_params, expected_version],
            ).fetchone()
        if row is not None:  # the row as this statement left it (not a later read)
            return self._record(table, key, row)
        theirs = self.get(layer, key)
        if theirs is not None and theirs.version == expected_version:
            # the row is there at the version we hold, yet the UPDATE matched nothing:
            # row-level security hid it from this role's UPDATE
            raise PermissionRefused(
                f"数据库拒绝：角色 {self.role} 无权修改 {layer}/{'/'.join(key)}（行级安全策略）",
                table=layer,
                sqlstate=None,
            )
        raise VersionConflict(
            Record(layer, tuple(key), expected_version, dict(changes), geometry), theirs
        )

    def delete(self, layer: str, key: tuple[str, ...], expected_version: int) -> None:
        from psycopg import sql

        table = _table(layer)
        cond, key_params = self._where(table, key)
        with self._refusals(layer):
            row = self.conn.execute(
                sql.SQL("DELETE FROM {} WHERE {} AND version = %s RETURNING version").format(
                    sql.Identifier(layer), cond
                ),
                [*key_params, expected_version],
            ).fetchone()
        if row is None:
            theirs = self.get(layer, key)
            if theirs is not None and theirs.version == expected_version:
                raise PermissionRefused(
                    f"数据库拒绝：角色 {self.role} 无权删除 {layer}/{'/'.join(key)}（行级安全策略）",
                    table=layer,
                    sqlstate=None,
                )
            raise VersionConflict(Record(layer, tuple(key), expected_version), theirs)


# --------------------------------------------------------------------------------------------
# The audit trail (written by the database's triggers; read here)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditEntry:
    """One audited row change: who (the database role), when, table, row key, operation, the
    row's version after it, and the row before and after as JSON objects."""

    id: int
    at: Any  # datetime with time zone
    who: str
    table: str
    key: str
    op: str
    version: int | None
    before: Mapping[str, Any] | None
    after: Mapping[str, Any] | None


def read_audit(
    conn: Any, *, table: str | None = None, since_id: int = 0, limit: int | None = None
) -> list[AuditEntry]:
    """Audit rows after ``since_id`` (oldest first), optionally of one table."""
    sql_text = (
        "SELECT id, at, who, tbl, row_key, op, version, before, after FROM audit_log "
        "WHERE id > %s AND (%s::text IS NULL OR tbl = %s) ORDER BY id"
    )
    params: list[Any] = [since_id, table, table]
    if limit is not None:
        sql_text += " LIMIT %s"
        params.append(limit)
    return [AuditEntry(*row) for row in conn.execute(sql_text, params).fetchall()]
