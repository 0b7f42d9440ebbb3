"""A GENERATED event history for the demo county, to show the after-action review (复盘).

Writes a copy of a workspace (default: the bundled ``data/hejiang_demo.gpkg``, which is not
changed) whose event log tells a plausible morning of 2026-07-12 (UTC+08:00) ending in the
demo's current incident states, and whose documents hold the two plans issued that morning:

- 05:40 福宝镇山洪 (II 级) 接报, 05:55 研判, 06:10 调度; plan 1 computed at 06:05 from what was
  known then (only this incident), approved 06:15, issued (已下达) 06:20;
- 07:15 先滩镇滑坡 (III 级) 接报, 07:40 研判; 07:52 首报 of 福宝镇山洪 — after its 2 h
  deadline (due 07:40: the review flags it 迟报); 08:30 首报 of 先滩镇滑坡 (on time);
- 09:05 临港工业园区危化品泄漏 (III 级, 事故灾难) 接报 — never reported upward (the review flags
  it 未报 once its 2 h deadline has passed);
- plan 2, a re-plan from plan 1 at 09:30 with all three incidents, approved 09:40, issued 09:45.

Every time, name and decision here is invented for the demo (data/README.md says so). Plans are
made with :func:`dispatch.pipeline.plan_dispatch` (``--seconds`` each), the log entries with
:func:`gis.event_log.with_log_entry` and :func:`dispatch.plan.step_log_entry`, as the desk and
``app.py plan-status`` write them.

Usage::

    .venv/bin/python tools/demo_event_history.py --out /tmp/demo_history.gpkg [--seconds 2]
    .venv/bin/python app.py review /tmp/demo_history.gpkg --out /tmp/review
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

CST = timezone(timedelta(hours=8))
DAY = datetime(2026, 7, 12, tzinfo=CST)

#: (time, incident id, from, to) incident status steps of the generated morning
STATUS_STEPS = (
    ("05:40", "INC-001", "", "接报"),
    ("05:55", "INC-001", "接报", "研判"),
    ("06:10", "INC-001", "研判", "调度"),
    ("07:15", "INC-002", "", "接报"),
    ("07:40", "INC-002", "接报", "研判"),
    ("09:05", "INC-003", "", "接报"),
)
#: (time, incident id, report kind, recipient) information reports upward
REPORTS = (
    ("07:52", "INC-001", "首报", "泸州市应急管理局"),
    ("08:30", "INC-002", "首报", "泸州市应急管理局"),
)
#: (computed at, approved at, issued at) of the two plans
PLANS = (("06:05", "06:15", "06:20"), ("09:30", "09:40", "09:45"))


def at(hhmm: str) -> datetime:
    h, m = hhmm.split(":")
    return DAY.replace(hour=int(h), minute=int(m))


def build_history(scenario: Any, network: Any, seconds: float) -> dict[str, dict[str, str]]:
    """The documents to add: event log entries and the two issued plans (plain data)."""
    from dispatch.drills.review import events, received_times, scenario_as_known
    from dispatch.options import DispatchOptions
    from dispatch.pipeline import plan_dispatch
    from dispatch.plan import step_log_entry, with_plan
    from gis.event_log import report_entry, with_log_entry

    names = {i.id: i.name for i in scenario.incidents}
    timed: list[tuple[datetime, dict[str, Any]]] = []
    for t, iid, old, new in STATUS_STEPS:
        text = f"{names[iid]}：{old} → {new}" if old else f"新事件：{names[iid]}"
        timed.append(
            (
                at(t),
                {"incident_id": iid, "incident": names[iid], "from": old, "to": new, "text": text},
            )
        )
    for t, iid, kind, recipient in REPORTS:
        timed.append((at(t), report_entry(iid, names[iid], kind, recipient)))
    timed.sort(key=lambda x: x[0])

    docs: dict[str, dict[str, str]] = {}
    previous = None
    plan_steps: list[tuple[datetime, dict[str, Any]]] = []
    numbers: list[str] = []
    for made, approved, issued in PLANS:
        # what was known when the plan was made: the status log up to then
        log_so_far: dict[str, dict[str, str]] = {}
        for t, e in timed:
            if t <= at(made):
                log_so_far = with_log_entry(log_so_far, e, now=t)
        evs = events(log_so_far)
        known = scenario_as_known(
            scenario, evs, received_times(scenario, evs), at(made).replace(tzinfo=None)
        )
        options = DispatchOptions(
            seconds=float(seconds), created_at=at(made), existing_numbers=tuple(numbers), seed=0
        )
        plan = plan_dispatch(known, network, options, previous=previous)
        ok = plan.transition(
            "已批准", "值班长", at(approved), "复盘演示（生成）", allow_partial=True
        )
        plan_steps.append((at(approved), step_log_entry(plan, ok)))
        done = ok.transition("已下达", "指挥长", at(issued), "复盘演示（生成）")
        plan_steps.append((at(issued), step_log_entry(ok, done)))
        docs = with_plan(docs, done)
        numbers.append(done.number)
        previous = done
    for t, e in sorted(timed + plan_steps, key=lambda x: x[0]):
        docs = with_log_entry(docs, e, now=t)
    return docs


def write_history_copy(src: Path, out: Path, seconds: float) -> Path:
    """Write ``src`` with the generated history to ``out`` (``src`` is only read)."""
    from gis.loading import load_road_network
    from gis.workspace import read_workspace, write_workspace

    full = read_workspace(src, include_roads=True)
    network = load_road_network(src, full.scenario)
    added = build_history(full.scenario, network, seconds)
    docs = {str(k): dict(v) for k, v in (full.documents or {}).items()}
    for kind, items in added.items():
        docs.setdefault(kind, {}).update(items)
    write_workspace(
        out, full.scenario, road_nodes=full.road_nodes, road_edges=full.road_edges, documents=docs
    )
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--workspace", type=Path, default=ROOT / "data" / "hejiang_demo.gpkg")
    p.add_argument("--out", type=Path, required=True, help="the copy to write (GeoPackage)")
    p.add_argument("--seconds", type=float, default=2.0, help="solver time per plan")
    args = p.parse_args(argv)
    if args.out.resolve() == args.workspace.resolve():
        print("error: --out must not be the source workspace", file=sys.stderr)
        return 2
    write_history_copy(args.workspace, args.out, args.seconds)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
