"""A real desk window following 20 editing desks on the shared database (issue 16): commit →
record applied in the window's session (map and tables notified), measured.

    python benchmarks/bench_live_desk.py [--desks 20] [--seconds 10]

Needs the local cluster (`make db`; URLs from ``.db/urls.env``); works in the benchmark's own
database ``reliefdesk_bench`` (re-created, the demo county pushed: see ``bench_multiseat.py``,
whose desk threads make the edits). The main window (offscreen Qt, ``interactive=False``) opens
the database as ``rd_viewer`` through 文件 → 连接共享数据库…'s own path; while the desk threads
edit, the GUI thread runs the event loop. For every acknowledged edit: the time from the audit
row's commit time to the moment the window's session held that record (after
``SharedDbView.apply_records``: session and undo snapshots patched, ``sig_scenario_changed`` /
``sig_documents_changed`` emitted, tables updated, the map's update call queued — the page
draws it asynchronously). Prints p50/p95, the share within 1 s, edits never applied (must be 0),
hot records that differ from a full read of the database at the end (must be 0), and the
previous path's cost measured at the end of the same run (one full pull and read of a copy).
The editing desks run as threads of a second process (as other machines would be: they do not
share the window's GIL). Figures from a loaded 2-core machine are indicative only.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_multiseat import DeskLog, _urls, desk, prepare  # noqa: E402

from gis.workspace.postgis import PostgisStorage, SharedWorkspace  # noqa: E402


def _edit(
    urls: dict[str, str], n: int, seconds: float, hot: dict[str, list[str]], out: mp.Queue
) -> None:
    """The editing desks (threads of one process), for ``seconds``; their logs to ``out``."""
    stop = threading.Event()
    logs = [DeskLog() for _ in range(n)]
    roles = ["operator" if i % 2 == 0 else "planner" for i in range(n)]
    threads = [
        threading.Thread(target=desk, args=(i, roles[i], urls[roles[i]], stop, logs[i], hot, "g"))
        for i in range(n)
    ]
    for t in threads:
        t.start()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join()
    out.put(logs)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--desks", type=int, default=20)
    p.add_argument("--seconds", type=float, default=10.0)
    args = p.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")
    tmp = Path(tempfile.mkdtemp(prefix="bench_live_desk_"))
    for name in ("SETTINGS", "RECOVERY", "LOG", "CACHE"):
        os.environ[f"RELIEFDESK_{name}_DIR"] = str(tmp / name.lower())
    urls = _urls(None)
    prepare(urls)

    import PyQt6.QtWebEngineWidgets  # noqa: F401  (before the QApplication)
    from PyQt6.QtWidgets import QApplication

    from gui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv)
    w = MainWindow(interactive=False)
    w.show()
    view = w.shared_db

    def spin(cond, limit: float = 120.0) -> None:  # noqa: ANN001
        t = time.monotonic()
        while not cond():
            app.processEvents()
            time.sleep(0.002)
            if time.monotonic() - t > limit:
                raise TimeoutError("the desk did not get there")

    view.open(urls["viewer"])
    spin(lambda: view.live and view.loading is None and view.controller.connected)
    applied_at: dict[tuple[str, str, int], float] = {}
    stages: dict[tuple[str, str, int], tuple[float, float]] = {}  # heard, fetched

    apply_ms: list[float] = []

    def record(updates) -> None:  # noqa: ANN001 - the view's own slot, timed
        t0 = time.perf_counter()
        view.apply_records(updates)
        apply_ms.append(1000 * (time.perf_counter() - t0))
        now = time.time()
        for up in updates:
            for c in up.changes:
                k = (c.table, c.id, c.version)
                if k not in applied_at:
                    applied_at[k] = now
                    stages[k] = (c.received, up.fetched)

    view.controller.sig_updates.disconnect(view.apply_records)
    view.controller.sig_updates.connect(record)
    with SharedWorkspace(urls["admin"]) as admin:
        hot = {
            t: [r[0] for r in admin.conn.execute(f'SELECT id FROM "{t}" ORDER BY fid LIMIT 5')]
            for t in ("incidents", "stockpiles", "shelters")
        }
        since = admin.data_version()
    load0 = os.getloadavg()[0]
    out: mp.Queue = mp.get_context("spawn").Queue()
    editors = mp.get_context("spawn").Process(
        target=_edit, args=(urls, args.desks, args.seconds, hot, out)
    )
    editors.start()  # the other desks: another process, as other machines would be
    logs: list[DeskLog] = []
    spin(lambda: not out.empty(), args.seconds + 120)
    logs = out.get()
    editors.join()
    settle = time.monotonic() + 3.0
    spin(lambda: time.monotonic() > settle)
    with SharedWorkspace(urls["admin"]) as admin:
        committed = {
            (r[0], r[1], int(r[2])): r[3].timestamp()
            for r in admin.conn.execute(
                "SELECT tbl, row_key, version, at FROM audit_log WHERE id > %s", (since,)
            )
        }
    acked = {(t, k, v) for log in logs for (t, k, v, _cv) in log.acks}
    lat = sorted(applied_at[k] - committed[k] for k in acked if k in applied_at and k in committed)
    done = [k for k in acked if k in applied_at and k in committed]

    def p50(values: list[float]) -> float | None:
        return round(1000 * statistics.median(values), 1) if values else None

    t0 = time.perf_counter()
    db = PostgisStorage(urls["viewer"]).read(include_roads=False)
    full = time.perf_counter() - t0
    s = w.session.scenario
    diverged = sum(
        {o.id: o for o in getattr(s, table)}.get(k)
        != {o.id: o for o in getattr(db.scenario, table)}.get(k)
        for table, keys in hot.items()
        for k in keys
    )
    docs_diverged = sum(
        w.session.documents.get("plans", {}).get(k) != v
        for k, v in db.documents.get("plans", {}).items()
    )
    res = {
        "desks": args.desks,
        "seconds": args.seconds,
        "acknowledged_edits": len(acked),
        "applied_latency_ms_p50": round(1000 * statistics.median(lat), 1) if lat else None,
        "applied_latency_ms_p95": round(1000 * lat[int(0.95 * (len(lat) - 1))], 1) if lat else None,
        "applied_within_1s": round(sum(x <= 1.0 for x in lat) / len(lat), 4) if lat else None,
        "not_applied": len(acked) - len(lat),
        "p50_ms_commit_to_heard": p50([stages[k][0] - committed[k] for k in done]),
        "p50_ms_heard_to_read": p50([stages[k][1] - stages[k][0] for k in done]),
        "p50_ms_read_to_applied": p50([applied_at[k] - stages[k][1] for k in done]),
        "gui_applies": len(apply_ms),
        "gui_apply_ms_p50_max": [round(statistics.median(apply_ms), 1), round(max(apply_ms), 1)]
        if apply_ms
        else None,
        "diverged_records": diverged,
        "diverged_plans": docs_diverged,
        "undo_steps": w.session.undo_stack.count(),
        "full_reread_ms_same_run": round(1000 * full, 1),
        "load_average_before_after": [round(load0, 2), round(os.getloadavg()[0], 2)],
    }
    print(json.dumps(res, ensure_ascii=False, indent=2))
    view.controller.close()
    w.session.undo_stack.setClean()
    w.close()
    w.runner.wait(10000)
    w.map.dispose()
    ok = res["not_applied"] == 0 and diverged == 0 and docs_diverged == 0
    print("OK: every acknowledged edit applied at the desk" if ok else "FAILED", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
