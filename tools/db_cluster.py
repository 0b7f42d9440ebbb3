"""`make db` / `make db-stop`: a local PostgreSQL + PostGIS cluster in the project's ``.db/``.

``start``: initdb ``.db/data`` (once), start it on 127.0.0.1 on a free port (kept in
``.db/port``) with its socket in ``.db/run`` — no system service; as root the server runs as the
``postgres`` user (PostgreSQL refuses to run as root). Creates the roles ``rd_admin``,
``rd_operator``, ``rd_planner``, ``rd_viewer`` (passwords kept in ``.db/urls.env``), PostGIS in
``template1`` (so every new database has it, and ``rd_admin`` may create test databases), the
database ``reliefdesk`` owned by ``rd_admin``, migrates it
(:func:`gis.workspace.postgis_ddl.migrate`) and writes ``.db/urls.env``::

    RELIEFDESK_DB_ADMIN=postgresql://rd_admin:…@127.0.0.1:PORT/reliefdesk
    RELIEFDESK_DB_OPERATOR=…  RELIEFDESK_DB_PLANNER=…  RELIEFDESK_DB_VIEWER=…

When the ``postgres`` user cannot reach the checkout (under a 0700 ``/root``), the server's own
files (data, socket, log) go to ``/var/tmp/reliefdesk-db-<hash>`` instead, recorded in
``.db/server_dir``; the URLs stay in ``.db/urls.env``.

Running it again is harmless (starts the cluster if stopped, re-checks roles and schema).
``stop``: ``pg_ctl stop -m fast``.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DB_DIR = Path(os.environ.get("RELIEFDESK_DB_DIR", ROOT / ".db"))
#: where the server's own files are (data, socket, log): normally DB_DIR; a checkout the
#: ``postgres`` user cannot reach (under a 0700 /root, say) gets a folder in /var/tmp instead
SERVER_DIR_FILE = DB_DIR / "server_dir"
PORT_FILE = DB_DIR / "port"
URLS = DB_DIR / "urls.env"
BIN = Path("/usr/lib/postgresql/15/bin")
DATABASE = "reliefdesk"
ENV_NAMES = {
    "rd_admin": "RELIEFDESK_DB_ADMIN",
    "rd_operator": "RELIEFDESK_DB_OPERATOR",
    "rd_planner": "RELIEFDESK_DB_PLANNER",
    "rd_viewer": "RELIEFDESK_DB_VIEWER",
}


def _reachable_by_server(path: Path) -> bool:
    if os.geteuid() != 0:
        return True
    probe = ["runuser", "-u", "postgres", "--", "test", "-x", str(path)]
    return subprocess.run(probe, capture_output=True, cwd="/").returncode == 0


def _server_dir(create: bool) -> Path:
    if SERVER_DIR_FILE.exists():
        return Path(SERVER_DIR_FILE.read_text().strip())
    if not create:
        return DB_DIR
    where = DB_DIR
    if not _reachable_by_server(DB_DIR):
        tag = hashlib.sha256(str(DB_DIR.resolve()).encode()).hexdigest()[:12]
        where = Path("/var/tmp") / f"reliefdesk-db-{tag}"
        where.mkdir(mode=0o755, exist_ok=True)
        print(f"the postgres user cannot reach {DB_DIR}: server files in {where}")
    SERVER_DIR_FILE.write_text(f"{where}\n")
    return where


def _set_server_paths(create: bool) -> None:
    global DATA, RUN, LOG
    server = _server_dir(create)
    DATA, RUN, LOG = server / "data", server / "run", server / "postgres.log"


DATA = DB_DIR / "data"
RUN = DB_DIR / "run"
LOG = DB_DIR / "postgres.log"


def _as_server_user(cmd: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return cmd
    return ["runuser", "-u", "postgres", "--", *cmd]


def _run(cmd: list[str]) -> None:
    subprocess.run(_as_server_user(cmd), check=True, cwd="/")


def _free_port() -> int:
    if PORT_FILE.exists():
        port = int(PORT_FILE.read_text().strip())
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT after a stop
            try:
                s.bind(("127.0.0.1", port))
                return port
            except OSError:
                pass
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _running() -> bool:
    if not (DATA / "postmaster.pid").exists():
        return False
    r = subprocess.run(
        _as_server_user([str(BIN / "pg_ctl"), "-D", str(DATA), "status"]),
        capture_output=True,
        cwd="/",
    )
    return r.returncode == 0


def _passwords() -> dict[str, str]:
    old: dict[str, str] = {}
    if URLS.exists():
        from psycopg.conninfo import conninfo_to_dict

        for line in URLS.read_text().splitlines():
            name, _, url = line.partition("=")
            for role, env in ENV_NAMES.items():
                if name == env and url:
                    old[role] = str(conninfo_to_dict(url).get("password", ""))
    return {r: old.get(r) or secrets.token_urlsafe(18) for r in ENV_NAMES}


def start() -> int:
    if not (BIN / "initdb").exists():
        print(
            "PostgreSQL 15 is not installed: run `make db` (installs postgresql-15 and "
            "postgresql-15-postgis-3)",
            file=sys.stderr,
        )
        return 1
    DB_DIR.mkdir(exist_ok=True)
    _set_server_paths(create=True)
    RUN.mkdir(exist_ok=True)
    RUN.chmod(0o700)  # the socket trusts local connections: only the server's user (and root)
    if not (DATA / "PG_VERSION").exists():
        DATA.mkdir(exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(DATA, "postgres")
        _run(
            [
                str(BIN / "initdb"),
                "-D",
                str(DATA),
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--no-locale",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
            ]
        )
    if os.geteuid() == 0:
        shutil.chown(RUN, "postgres")
        LOG.touch()
        shutil.chown(LOG, "postgres")
    if _running():
        port = int(PORT_FILE.read_text().strip())
    else:
        port = _free_port()
        _run(
            [
                str(BIN / "pg_ctl"),
                "-D",
                str(DATA),
                "-l",
                str(LOG),
                "-w",
                "-t",
                "60",
                "-o",
                f"-p {port} -k {RUN} -c listen_addresses=127.0.0.1 -c unix_socket_permissions=0700",
                "start",
            ]
        )
        PORT_FILE.write_text(f"{port}\n")
    import psycopg
    from psycopg import sql

    passwords = _passwords()
    su = dict(host=str(RUN), port=port, user="postgres", autocommit=True)
    for _ in range(50):
        try:
            conn = psycopg.connect(dbname="postgres", **su)
            break
        except psycopg.OperationalError:
            time.sleep(0.2)
    else:
        print(f"the cluster did not accept connections: see {LOG}", file=sys.stderr)
        return 1
    with conn:
        for role, pw in passwords.items():
            extra = " CREATEDB CREATEROLE" if role == "rd_admin" else ""
            exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
            verb = "ALTER" if exists else "CREATE"
            conn.execute(
                sql.SQL("{} ROLE {} LOGIN{} PASSWORD {}").format(
                    sql.SQL(verb), sql.Identifier(role), sql.SQL(extra), sql.Literal(pw)
                )
            )
        with psycopg.connect(dbname="template1", **su) as t1:
            t1.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,)).fetchone():
            conn.execute(f"CREATE DATABASE {DATABASE} OWNER rd_admin")
    urls = {
        role: f"postgresql://{role}:{pw}@127.0.0.1:{port}/{DATABASE}"
        for role, pw in passwords.items()
    }
    from gis.workspace.postgis_ddl import migrate

    with psycopg.connect(urls["rd_admin"], autocommit=True) as admin:
        applied = migrate(admin)
    fd = os.open(URLS, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.writelines(f"{ENV_NAMES[r]}={u}\n" for r, u in urls.items())
    print(
        f"PostgreSQL + PostGIS on 127.0.0.1:{port} (data {DATA}); "
        f"migrations applied now: {applied or 'none'}; URLs in {URLS}"
    )
    return 0


def stop() -> int:
    _set_server_paths(create=False)
    if not _running():
        print("the cluster is not running")
        return 0
    _run([str(BIN / "pg_ctl"), "-D", str(DATA), "-m", "fast", "-w", "stop"])
    return 0


if __name__ == "__main__":
    action = sys.argv[1] if len(sys.argv) > 1 else "start"
    sys.exit({"start": start, "stop": stop}[action]())
