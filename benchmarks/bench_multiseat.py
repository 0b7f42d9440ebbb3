"""Several desks on one shared PostGIS workspace, measured (issue 16).

    python benchmarks/bench_multiseat.py [--desks 20] [--seconds 10] [--url ADMIN_URL]

Needs the local cluster (`make db`); the URLs come from ``.db/urls.env`` (or ``--url`` for
rd_admin; the other roles' URLs are the same with their user names and passwords from the
environment file). Works in its own database ``reliefdesk_bench`` (dropped and re-created, the
demo county pushed into it), never in ``reliefdesk``.

N desk threads (half operators, half planners), each with its own connection, edit records of a
small hot set for a bounded time — operators incidents and dispatches (a plan document inserted,
then approved), planners stockpiles and shelters — always read → save over the version read, so
concurrent saves on one record collide. A viewer desk listens for notifications.

Then, from the audit trail the database's triggers wrote:

* **lost** — acknowledged saves with no audit row of that table, key, version, role and value
  (must be 0);
* **unreported** — audit updates that no desk was told about (a save neither acknowledged nor
  refused: must be 0), and version chains with a gap or a repeat (two saves over one version);
* every conflict a desk was told about names a newer version than the one it saved over.

Prints edits/s (and against one desk alone, measured first in the same run), conflicts, lost,
notification latency p50/p95 (commit → delivery in the listener) and missing notifications.

``--receivers R`` (default 2) viewer desks follow the run the way a desk does
(:class:`gis.workspace.postgis_live.LiveFeed`: notification → the changed record read again →
:func:`~gis.workspace.postgis_live.apply_updates` on the desk's in-memory workspace, read from
the demo file like the pushed one): **applied latency** p50/p95 is commit → that record applied
there, for every acknowledged edit (``not_applied`` counts those never applied; must be 0), and
**diverged** counts hot records whose state on a receiving desk differs from a full read of the
database at the end (must be 0); ``full_reread_ms_same_run`` is the previous path's cost (a
whole copy pulled and read, then a 0.2 s debounce before it) measured at the end of the same run.
The GUI adds its queued signal and the map redraw on top.
Figures from a loaded 2-core machine are indicative only.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gis.workspace import read_workspace  # noqa: E402
from gis.workspace.postgis import (  # noqa: E402
    PermissionRefused,
    PostgisStorage,
    SharedWorkspace,
    VersionConflict,
    read_audit,
)
from gis.workspace.postgis_ddl import migrate  # noqa: E402
from gis.workspace.postgis_live import LiveBatch, LiveFeed, apply_updates  # noqa: E402
from gis.workspace.postgis_notify import Change, ChangeListener  # noqa: E402

BENCH_DB = "reliefdesk_bench"
EDITS = {  # role -> (table, column, value maker)
    "operator": [("incidents", "affected_people", lambda r: r.randint(0, 5000))],
    "planner": [
        ("stockpiles", "contact", lambda r: f"值班{r.randint(0, 10**6)}"),
        ("shelters", "occupancy", lambda r: r.randint(0, 50)),
    ],
}


@dataclass
class DeskLog:
    acks: list[tuple[str, str, int, object]] = field(default_factory=list)  # table, key, ver, value
    conflicts: list[tuple[str, str, int, int | None]] = field(default_factory=list)
    refused: int = 0


class Receiver:
    """A desk following the others: its in-memory workspace patched record by record."""

    def __init__(self, url: str) -> None:
        ws = read_workspace(ROOT / "data" / "hejiang_demo.gpkg", include_roads=False)
        self.scenario = ws.scenario
        self.documents = {k: dict(v) for k, v in ws.documents.items()}
        self.applied_at: dict[tuple[str, str, int], float] = {}  # change → when applied
        self.reloads = 0
        self.batches = 0
        self.feed = LiveFeed(url, self._on_batch)

    def _on_batch(self, batch: LiveBatch) -> None:
        self.scenario, self.documents, _done = apply_updates(
            self.scenario, self.documents, batch.updates
        )
        now = time.time()
        self.batches += 1
        self.reloads += batch.reload
        for up in batch.updates:
            for c in up.changes:
                self.applied_at.setdefault((c.table, c.id, c.version), now)


def _urls(admin: str | None) -> dict[str, str]:
    env = ROOT / ".db" / "urls.env"
    found = {}
    if env.exists():
        found = dict(line.split("=", 1) for line in env.read_text().splitlines() if "=" in line)
    urls = {
        r: found.get(f"RELIEFDESK_DB_{r.upper()}", "")
        for r in ("admin", "operator", "planner", "viewer")
    }
    if admin:
        urls["admin"] = admin
    if not all(urls.values()):
        sys.exit("no database URLs: run `make db` first (writes .db/urls.env)")
    return {r: u.rsplit("/", 1)[0] + "/" + BENCH_DB for r, u in urls.items()} | {
        "server": urls["admin"]
    }


def prepare(urls: dict[str, str]) -> None:
    import psycopg

    with psycopg.connect(urls["server"], autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {BENCH_DB} TEMPLATE template1")
    with psycopg.connect(urls["admin"], autocommit=True) as conn:
        migrate(conn)
    ws = read_workspace(ROOT / "data" / "hejiang_demo.gpkg", include_roads=False)
    PostgisStorage(urls["admin"]).write(ws.scenario, documents=ws.documents)


def desk(
    number: int,
    role: str,
    url: str,
    stop: threading.Event,
    log: DeskLog,
    hot: dict[str, list[str]],
    run_id: str,
) -> None:
    rnd = random.Random(number)
    plans = 0
    with SharedWorkspace(url) as ws:
        while not stop.is_set():
            if role == "operator" and rnd.random() < 0.15:  # a dispatch: plan stored, approved
                plans += 1
                doc = f"P-{run_id}-{number:02d}-{plans:04d}"
                rec = ws.insert(
                    "documents", {"kind": "plans", "doc_id": doc, "json": '{"status": "草稿"}'}
                )
                log.acks.append(("documents", rec.key[0] + "/" + doc, rec.version, None))
                new = ws.update("documents", rec.key, {"json": '{"status": "已批准"}'}, rec.version)
                log.acks.append(("documents", "plans/" + doc, new.version, None))
                continue
            table, column, make = rnd.choice(EDITS[role])
            key = (rnd.choice(hot[table]),)
            rec = ws.get(table, key)
            if rec is None:
                continue
            value = make(rnd)
            time.sleep(rnd.random() * 0.01)  # a person's moment between reading and saving
            try:
                new = ws.update(table, key, {column: value}, rec.version)
            except VersionConflict as c:
                log.conflicts.append(
                    (table, key[0], rec.version, None if c.theirs is None else c.theirs.version)
                )
                continue
            except PermissionRefused:
                log.refused += 1
                continue
            log.acks.append((table, key[0], new.version, (column, value)))


def run(
    urls: dict[str, str], n: int, seconds: float, listen: bool, receivers: int = 0
) -> dict[str, object]:
    with SharedWorkspace(urls["admin"]) as admin:
        hot = {
            t: [r[0] for r in admin.conn.execute(f'SELECT id FROM "{t}" ORDER BY fid LIMIT 5')]
            for t in ("incidents", "stockpiles", "shelters")
        }
        since = admin.data_version()
    changes: list[Change] = []
    listener = ChangeListener(urls["viewer"], changes.append).start() if listen else None
    desks = [Receiver(urls["viewer"]) for _ in range(receivers)]
    for d in desks:
        d.feed.start()
    stop = threading.Event()
    logs = [DeskLog() for _ in range(n)]
    roles = ["operator" if i % 2 == 0 else "planner" for i in range(n)]
    threads = [
        threading.Thread(
            target=desk, args=(i, roles[i], urls[roles[i]], stop, logs[i], hot, str(n))
        )
        for i in range(n)
    ]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    if listener is not None:
        time.sleep(1.0)  # the last notifications
        listener.stop()
    res = verify(urls, since, logs, roles, changes, elapsed)
    if desks:
        time.sleep(2.0)  # the last records
        for d in desks:
            d.feed.stop()
        res.update(_applied(urls, logs, desks, hot))
    return res


def _applied(
    urls: dict[str, str], logs: list[DeskLog], desks: list[Receiver], hot: dict[str, list[str]]
) -> dict[str, object]:
    """Commit → applied on each receiving desk for every acknowledged edit; hot records whose
    final state there differs from a full read of the database."""
    with SharedWorkspace(urls["admin"]) as admin:
        committed = {
            (r[0], r[1], int(r[2])): r[3].timestamp()
            for r in admin.conn.execute("SELECT tbl, row_key, version, at FROM audit_log")
        }
    acked = {(t, k, v) for log in logs for (t, k, v, _cv) in log.acks}
    lat: list[float] = []
    not_applied = 0
    for d in desks:
        for k in acked:
            at = d.applied_at.get(k)
            if at is None or k not in committed:
                not_applied += 1
            else:
                lat.append(at - committed[k])
    lat.sort()
    t0 = time.perf_counter()  # the previous path: a whole copy pulled and read per burst
    db = PostgisStorage(urls["viewer"]).read(include_roads=False).scenario
    full_read = time.perf_counter() - t0
    diverged = 0
    for d in desks:
        for table, keys in hot.items():
            mine = {o.id: o for o in getattr(d.scenario, table)}
            theirs = {o.id: o for o in getattr(db, table)}
            diverged += sum(mine.get(k) != theirs.get(k) for k in keys)
    return {
        "receivers": len(desks),
        "applied_latency_ms_p50": round(1000 * statistics.median(lat), 1) if lat else None,
        "applied_latency_ms_p95": round(1000 * lat[int(0.95 * (len(lat) - 1))], 1) if lat else None,
        "applied_within_1s": round(sum(x <= 1.0 for x in lat) / len(lat), 4) if lat else None,
        "full_reread_ms_same_run": round(1000 * full_read, 1),
        "not_applied": not_applied,
        "diverged": diverged,
        "receiver_batches": sum(d.batches for d in desks),
        "receiver_reloads": sum(d.reloads for d in desks),
    }


def verify(
    urls: dict[str, str],
    since: int,
    logs: list[DeskLog],
    roles: list[str],
    changes: list[Change],
    elapsed: float,
) -> dict[str, object]:
    with SharedWorkspace(urls["admin"]) as admin:
        audit = read_audit(admin.conn, since_id=since)
    by_version = {(a.table, a.key, a.version): a for a in audit if a.op != "DELETE"}
    acks = [(i, a) for i, log in enumerate(logs) for a in log.acks]
    lost = 0
    for i, (table, key, version, cv) in acks:
        a = by_version.get((table, key, version))
        ok = a is not None and a.who == f"rd_{roles[i]}"
        if ok and cv is not None:
            column, value = cv
            ok = a.after is not None and a.after.get(column) == value
        lost += not ok
    updates = [a for a in audit if a.op in ("UPDATE", "INSERT")]
    acked = {(t, k, v) for _, (t, k, v, _cv) in acks}
    unreported = sum((a.table, a.key, a.version) not in acked for a in updates)
    chains: dict[tuple[str, str], list[int]] = defaultdict(list)
    for a in updates:
        chains[(a.table, a.key)].append(int(a.version or 0))
    broken = sum(
        any(b - a != 1 for a, b in zip(vs, vs[1:], strict=False)) for vs in chains.values()
    )
    conflicts = [c for log in logs for c in log.conflicts]
    bad_conflicts = sum(
        theirs is not None and theirs <= expected for _, _, expected, theirs in conflicts
    )
    notified = {(c.table, c.id, c.version): c for c in changes}
    lat = sorted(notified[k].latency_s for k in acked if k in notified)
    missing = sum(k not in notified for k in acked) if changes else None
    return {
        "edits": len(acks),
        "seconds": round(elapsed, 2),
        "edits_per_s": round(len(acks) / elapsed, 1),
        "conflicts": len(conflicts),
        "conflicts_not_newer": bad_conflicts,
        "refused": sum(log.refused for log in logs),
        "lost": lost,
        "unreported": unreported,
        "broken_version_chains": broken,
        "notifications": len(changes),
        "missing_notifications": missing,
        "latency_ms_p50": round(1000 * statistics.median(lat), 1) if lat else None,
        "latency_ms_p95": round(1000 * lat[int(0.95 * (len(lat) - 1))], 1) if lat else None,
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--desks", type=int, default=20)
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--url", help="rd_admin URL (default: .db/urls.env)")
    p.add_argument("--receivers", type=int, default=2, help="viewer desks applying records")
    args = p.parse_args()
    urls = _urls(args.url)
    prepare(urls)
    base = run(urls, 1, min(3.0, args.seconds), listen=False)
    res = run(urls, args.desks, args.seconds, listen=True, receivers=args.receivers)
    res["desks"] = args.desks
    res["one_desk_edits_per_s"] = base["edits_per_s"]
    res["ratio_vs_one_desk"] = (
        round(float(res["edits_per_s"]) / float(base["edits_per_s"]), 2)
        if base["edits_per_s"]
        else None
    )
    print(json.dumps(res, ensure_ascii=False, indent=2))
    ok = (
        res["lost"] == 0
        and res["unreported"] == 0
        and res["broken_version_chains"] == 0
        and res["conflicts_not_newer"] == 0
        and base["lost"] == 0
        and res.get("not_applied", 0) == 0
        and res.get("diverged", 0) == 0
    )
    print(
        "OK: no acknowledged edit lost, every conflict reported" if ok else "FAILED",
        file=sys.stderr,
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
