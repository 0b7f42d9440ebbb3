"""The shared-database test fixture: a fresh, migrated database per test session.

URLs come from the environment (``RELIEFDESK_DB_ADMIN`` …) or from ``.db/urls.env`` that
``make db`` writes. Without them the tests skip with the reason — except under ``make test``
(``RELIEFDESK_DB_REQUIRED=1``), which starts the cluster first and must run them. The tests use
their own database ``reliefdesk_test_<pid>`` (created by ``rd_admin``, PostGIS from ``template1``), so
the user's ``reliefdesk`` database is never touched.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.conftest import ROOT

ROLES = {
    "admin": "RELIEFDESK_DB_ADMIN",
    "operator": "RELIEFDESK_DB_OPERATOR",
    "planner": "RELIEFDESK_DB_PLANNER",
    "viewer": "RELIEFDESK_DB_VIEWER",
}
#: one database per test run (two runs on one cluster do not disturb each other); dropped after
TEST_DB = f"reliefdesk_test_{os.getpid()}"


@dataclass(frozen=True)
class SharedDb:
    """Connection URLs of the test database, one per role."""

    admin: str
    operator: str
    planner: str
    viewer: str


def _urls() -> dict[str, str] | None:
    env = {k: os.environ.get(v, "") for k, v in ROLES.items()}
    if all(env.values()):
        return env
    path = ROOT / ".db" / "urls.env"
    if not path.exists():
        return None
    found = dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    urls = {k: found.get(v, "") for k, v in ROLES.items()}
    return urls if all(urls.values()) else None


def _with_db(url: str, dbname: str) -> str:
    return url.rsplit("/", 1)[0] + "/" + dbname


def _unavailable(reason: str) -> None:
    if os.environ.get("RELIEFDESK_DB_REQUIRED"):
        pytest.fail(f"shared database required (make test starts it): {reason}")
    pytest.skip(f"no shared database: {reason} (run `make db`)")


@pytest.fixture(scope="session")
def test_db() -> Iterator[SharedDb]:
    psycopg = pytest.importorskip("psycopg")
    urls = _urls()
    if urls is None:
        _unavailable("RELIEFDESK_DB_* unset and .db/urls.env absent")
    assert urls is not None
    try:
        admin = psycopg.connect(urls["admin"], autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        _unavailable(f"cannot connect: {str(exc).splitlines()[0]}")
    with admin:
        admin.execute(f"DROP DATABASE IF EXISTS {TEST_DB} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {TEST_DB} TEMPLATE template1")
    db = SharedDb(**{k: _with_db(u, TEST_DB) for k, u in urls.items()})
    from gis.workspace.postgis_ddl import migrate

    with psycopg.connect(db.admin, autocommit=True) as conn:
        migrate(conn)
    yield db
    with psycopg.connect(urls["admin"], autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {TEST_DB} WITH (FORCE)")
