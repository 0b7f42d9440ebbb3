"""``python app.py drill WS --script drill.json --out DIR [--auto] [--seconds-per-step S]
[--seed N]``: run a drill script headless.

Writes ``DIR/drill.json`` (``steps``: one per inject, in order, with ``at_min``, ``kind``,
``plan_dir``, ``first_plan_s``, ``changed_orders``, ``metrics``; ``baseline``: the plan at the
start; ``scorecard``; ``comparison``: each plan against the one before it and the last against
the baseline, :mod:`dispatch.drills.compare`, judged on the clock as the scorecard; ``notes``),
``DIR/steps/NN/plan.json`` per planned step (the plan format, 00 is the baseline, with its
figures judged on the clock recorded beside the plan's own: :mod:`dispatch.drills.clock`),
``DIR/report.pdf`` and ``DIR/report.xlsx``. The workspace is only read.
Without ``--auto`` no plan is made: each step lists the scenario state, ``plan_dir`` null.

A script that cannot run (:class:`dispatch.drills.script.DrillScriptError`) is reported before
anything runs or is written (app.py prints the one line, exit 2). One line per step goes to
stdout with its simulated and wall-clock time.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from dispatch.drills.clock import step_plan_json
from dispatch.drills.compare import compare_plans, drill_comparison
from dispatch.drills.maps import ground_layers, plan_layers, vehicle_points, with_vehicles
from dispatch.drills.report import write_pdf, write_xlsx
from dispatch.drills.runner import NOTES, DrillStep, run_drill, scenario_state
from dispatch.drills.scorecard import judged, overall, step_record
from dispatch.drills.script import DrillScript, load_script
from dispatch.export.common import clean_text
from dispatch.plan import Plan
from gis.errors import ReliefDeskError, ValidationError, WorkspaceError
from gis.workspace.atomic import write_text_atomically

SCHEMA = "reliefdesk.drill/1"


def _placement_warnings(drill: DrillScript, scenario: Any, network: Any) -> list[str]:
    """New incidents far from any road (they will be reported 不可达), as the GUI warns."""
    from gis.placement import check_incident_location

    out = []
    for inj in drill.injects:
        if inj.incident is not None:
            loc = inj.incident.location
            for w in check_incident_location(scenario, network, loc.lon, loc.lat):
                out.append(f"inject #{inj.index} ({inj.kind}): {w}")
    return out


def step_maps(steps: Sequence[DrillStep], network: Any) -> list[tuple[str, Any]]:
    """One overview map per planned step: the step's scenario (outline, roads, closures so
    far), its plan's routes, the orders changed against the plan before it highlighted, and
    where the vehicles of the plan before it were at the inject (a circle per vehicle under
    way)."""
    out = []
    previous: Plan | None = None
    for s in steps:
        if s.plan is None:
            continue
        changed: list[str] = []
        if previous is not None:
            o = compare_plans(previous, s.plan)["orders"]
            changed = [*o["added"], *o["rerouted"], *o["reloaded"]]
        inj = s.inject
        what = "基准方案" if inj is None else f"{inj.kind_zh} {inj.text}"
        caption = (
            f"步骤 {s.number:02d}（模拟 {s.simulated_at:%H:%M}）：{what} → 方案 {s.plan.number}"
            + (f"；变更指令 {len(changed)} 份" if previous is not None else "")
        )
        ground = ground_layers(s.scenario, network)
        layers = plan_layers(ground, s.plan, changed)
        if previous is not None:  # where the plan in force had its vehicles at the inject
            layers = with_vehicles(layers, vehicle_points(previous, s.simulated_at))
        out.append((clean_text(caption, 200), layers))
        previous = s.plan
    return out


def write_drill(
    out: Path,
    drill: DrillScript,
    steps: Sequence[DrillStep],
    *,
    workspace: str,
    script: str,
    auto: bool,
    seconds_per_step: float,
    seed: int,
    warnings: Sequence[str] = (),
    notes: Sequence[str] = (),
    network: Any = None,
) -> dict[str, Any]:
    """Write ``DIR/drill.json``, ``DIR/steps/NN/plan.json``, ``report.pdf`` and ``report.xlsx``
    for the run ``steps`` (this command's, or a drill run on the desk); returns drill.json's
    data. ``notes`` are put first (e.g. how a desk drill was run). With the road ``network``
    the report has one map per planned step."""
    out.mkdir(parents=True, exist_ok=True)
    records: list[dict[str, Any]] = []
    clocked: dict[int, Plan] = {}  # each step's plan judged on the clock, as the scorecard
    for s in sorted(steps, key=lambda s: s.number):
        plan_dir = None
        if s.plan is not None:
            rel = f"steps/{s.number:02d}"
            clocked[s.number] = judged(s.plan, s.scenario, s.deadlines)
            text = step_plan_json(s.plan, clocked[s.number], s.deadlines)
            write_text_atomically(out / rel / "plan.json", text)
            plan_dir = rel
        records.append(step_record(s, plan_dir, scenario_state(s.scenario)))
    baseline = next((r for r in records if r["kind"] == "baseline"), None)
    inject_steps = [r for r in records if r["kind"] != "baseline"]
    notes = [*notes, *warnings, *NOTES]
    if not auto and not any(s.plan is not None for s in steps):
        notes.insert(0, "未使用 --auto：未生成方案，各步骤只列出情景状态（plan_dir 为 null）。")
    notes.append(
        f"--seed {seed} 传给接受种子的求解器（CP-SAT 人员转移与队伍派遣、PyVRP 车辆路径；"
        "OR-Tools 路径无种子）；各阶段限时，负载较高时结果可能不同，墙钟时间不可复现。"
    )
    data = {
        "schema": SCHEMA,
        "name": drill.name,
        "start": drill.start.isoformat(timespec="minutes"),
        "workspace": str(workspace),
        "script": str(script),
        "auto": bool(auto),
        "seconds_per_step": float(seconds_per_step),
        "seed": int(seed),
        "baseline": baseline,
        "steps": inject_steps,
        "scorecard": overall(records),
        "comparison": drill_comparison(clocked),
        "notes": notes,
    }
    write_text_atomically(out / "drill.json", json.dumps(data, ensure_ascii=False, indent=1))
    maps = step_maps(steps, network) if network is not None else ()
    write_pdf(data, out / "report.pdf", maps)
    write_xlsx(data, out / "report.xlsx")
    return data


def run_drill_cli(
    workspace: Path,
    script: Path,
    out: Path,
    *,
    auto: bool,
    seconds_per_step: float,
    seed: int,
) -> int:
    from gis.loading import load_road_network, open_workspace

    workspace, out = Path(workspace), Path(out)
    if not seconds_per_step > 0:
        raise ValidationError(f"--seconds-per-step must be > 0, got {seconds_per_step}")
    if out.exists() and not out.is_dir():
        raise ValidationError(f"--out {out} exists and is not a folder")
    try:
        ws = open_workspace(workspace)
        network = load_road_network(workspace, ws.scenario)
    except ReliefDeskError:
        raise
    except (OSError, ValueError, KeyError) as exc:
        raise WorkspaceError(f"cannot read workspace: {exc}", path=str(workspace)) from None
    drill = load_script(script, ws.scenario)  # validated before anything runs or is written
    existing = tuple((ws.documents or {}).get("plans", {}).keys())
    warnings = _placement_warnings(drill, ws.scenario, network)
    for w in warnings:
        print(f"warning: {clean_text(w)}", file=sys.stderr)

    def log(step: DrillStep) -> None:
        inj = step.inject
        what = "基准方案" if inj is None else f"{inj.kind_zh} {inj.text}"
        plan = step.plan
        done = (
            "未调度"
            if plan is None
            else f"方案 {plan.number}（{plan.overall.value}），首个方案 "
            f"{plan.inputs.first_plan_s or 0:.2f} 秒"
        )
        print(
            clean_text(
                f"[步骤 {step.number:02d}] 模拟 {step.simulated_at:%Y-%m-%d %H:%M}"
                f"（T+{0 if inj is None else inj.at_min:g} 分）墙钟 "
                f"{step.wall_clock:%H:%M:%S}：{what} → {done}，用时 {step.wall_s:.1f} 秒"
            ),
            flush=True,
        )

    steps = run_drill(
        ws.scenario,
        network,
        drill,
        auto=auto,
        seconds_per_step=seconds_per_step,
        seed=seed,
        existing_numbers=existing,
        log=log,
    )
    data = write_drill(
        out,
        drill,
        steps,
        workspace=str(workspace),
        script=str(script),
        auto=auto,
        seconds_per_step=seconds_per_step,
        seed=seed,
        warnings=warnings,
        network=network,
    )
    inject_steps = data["steps"]
    print(clean_text(f"演练 {drill.name}：{len(inject_steps)} 步；输出 {out}"))
    return 0


__all__ = ["SCHEMA", "run_drill_cli", "write_drill"]
