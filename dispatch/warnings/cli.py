"""``app.py warn``: a hazard warning's pre-positioning plan as ``preposition.json`` and ``orders.pdf``.

Contract::

    python app.py warn WS --hazard ID [--hazard ID …] --colour blue|yellow|orange|red
                          [--valid-hours H] [--seconds S] --out DIR [--save]

``DIR/preposition.json`` keys:

* ``status`` (OPTIMAL/FEASIBLE/INFEASIBLE/TIMEOUT/CANCELLED), ``status_zh``, ``objective``,
  ``bound``, ``gap``, ``engine``, ``runtime_s`` (the model of
  :mod:`dispatch.warnings.preposition`);
* ``warning``: ``id``, ``hazards``, ``colour``, ``colour_zh``, ``level`` (I–IV), ``issued_at``,
  ``valid_until``;
* ``moves``: each ``kind`` (stock|team), ``from_id``, ``to_id``, ``material`` and ``quantity``
  (stock) or ``team_id`` (team), with names, unit, weight and travel minutes; ``movements``
  (trips: one 预置调拨单 per source × staging point, one 预置派遣令 per team);
* ``threatened``: ``before`` / ``after`` with ``on_time_share`` (need lines of the design
  incidents served in full within the deadline), ``on_time_lines``, ``lines``, ``served_share``;
* ``rest_of_county``: ``before`` / ``after`` with ``share_within_60`` (population share of the
  rest of the county within 60 min of a team), ``floor`` (the share the plan must keep);
* ``design_incidents``, ``staging_points``, ``likely_closures``, ``teams_standby``, ``short``
  (what stays unmet), ``problems``, ``notes``.

``DIR/orders.pdf``: a cover page, then one 预置调拨单 per stock trip and one 预置派遣令 per
team (:mod:`dispatch.warnings.orders_pdf`). With ``--save`` the warning and its moves are filed
in the workspace (:func:`dispatch.warnings.record.save_warning`); without it the workspace file
is not written.

A filed 预置方案 (number ``<warning id>-YZ``) is stepped with ``app.py plan-status WS NUMBER --to
S --who NAME [--note T]`` like a dispatch plan (:func:`run_preposition_status_cli`).

Bad input (unknown hazard, colour not among the four, a hazard with no demand points nearby,
bad option, no workspace or roads): exit code 2 and one line on stderr, nothing written.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np

from dispatch.planning.coverage import FacilitySite
from dispatch.warnings.preposition import (
    PrepositionError,
    PrepositionPlan,
    WarnRequest,
    plan_preposition,
    point_site,
    travel_minutes,
)
from gis.errors import WorkspaceError
from gis.hazard_warnings import COLOURS, WarningError
from gis.model import LEVEL_ROMAN
from gis.workspace.atomic import write_json_atomically

__all__ = ["preposition_json", "run_preposition_status_cli", "run_warn_cli", "warning_id"]


def _num(x: float) -> float | int:
    return int(x) if float(x).is_integer() else round(float(x), 3)


def warning_id(plan: PrepositionPlan) -> str:
    """``YJ-<issued yyyymmddHHMM>-<hazard ids>``: stable for one warning at one time."""
    return f"YJ-{plan.issued_at.strftime('%Y%m%d%H%M')}-{'+'.join(h.id for h in plan.hazards)}"


def preposition_json(plan: PrepositionPlan, scenario: Any) -> dict[str, Any]:
    """The JSON document of ``preposition.json`` (module doc)."""
    r = plan.result
    info = r.info
    P = plan.problem
    names = {e.id: e.name for e in (*scenario.stockpiles, *scenario.shelters, *scenario.teams)}
    s_index = {sid: i for i, sid in enumerate(P.stockpiles)}
    k_index = {p.id: k for k, p in enumerate(P.staging)}
    teams = {t.id: t for t in scenario.teams}
    moves = []
    for m in r.moves:
        row: dict[str, Any] = {
            "kind": m.kind,
            "from_id": m.from_id,
            "to_id": m.to_id,
            "from_name": names.get(m.from_id, m.from_id),
            "to_name": names.get(m.to_id, m.to_id),
        }
        if m.kind == "stock":
            mat = plan.materials[m.material or ""]
            assert m.quantity is not None
            minutes = P.stock_to_staging[s_index[m.from_id], k_index[m.to_id]]
            row.update(
                material=m.material,
                material_name=mat.name_zh,
                unit=mat.unit,
                quantity=_num(m.quantity),
                weight_kg=round(m.quantity * mat.unit_weight_kg, 3),
                minutes=round(float(minutes), 1),
            )
        else:
            t = teams[m.team_id or ""]
            row.update(team_id=m.team_id, headcount=t.headcount, skills=list(t.skills))
        moves.append(row)

    def shares(s: Any) -> dict[str, Any] | None:
        if s is None:
            return None
        return {
            "on_time_share": s.on_time_share,
            "on_time_lines": s.on_time_lines,
            "lines": s.lines,
            "served_share": s.served,
        }

    req = plan.request
    return {
        **info.as_json(),
        "warning": {
            "id": warning_id(plan),
            "hazards": [{"id": h.id, "name": h.name, "category": h.category} for h in plan.hazards],
            "colour": req.colour,
            "colour_zh": plan.colour_zh,
            "level": LEVEL_ROMAN[req.level],
            "issued_at": plan.issued_at.isoformat(timespec="seconds"),
            "valid_until": plan.valid_until.isoformat(timespec="seconds"),
        },
        "moves": moves,
        "movements": r.movements,
        "threatened": {"before": shares(r.before), "after": shares(r.after)},
        "rest_of_county": {
            "before": {"share_within_60": r.rest_before},
            "after": {"share_within_60": r.rest_after},
            "floor": req.floor,
            "facilities": "teams",
            "within_min": req.within_min,
        },
        "design_incidents": [
            {
                "id": e.id,
                "hazard_id": e.hazard_id,
                "hazard_name": e.hazard_name,
                "subtype": e.subtype,
                "level": LEVEL_ROMAN[e.level],
                "affected": e.affected,
                "sites": list(e.sites),
                "deadline_min": e.deadline_min,
                "needs": {c: _num(q) for c, q in e.needs.items()},
                "skills": dict(P.skills[i]) if i < len(P.skills) else {},
                "reach_before": list(e.reach),
            }
            for i, e in enumerate(plan.designs)
        ],
        "staging_points": [
            {"id": p.id, "name": p.name, "kind": p.kind, "lon": p.lon, "lat": p.lat}
            for p in P.staging
        ],
        "likely_closures": [
            {
                "id": c.id,
                "reason": c.reason,
                "speed_factor": c.speed_factor,
                "radius_m": c.radius_m,
                "geometry": c.geometry.wkt,
            }
            for c in plan.closures
        ],
        "teams_standby": sorted({m.team_id for m in r.moves if m.kind == "team" and m.team_id}),
        "short": [{"incident": e, "what": w, "quantity": _num(q)} for e, w, q in r.short],
        "problems": list(r.problems),
        "notes": [
            f"预警区域内道路按通行速度 ×{req.closure_speed_factor:g} 计（可能中断）；"
            f"预置点距预警区域至少 {req.safe_distance_m:g} 米",
            f"受威胁人口：预警危险源 {req.radius_m:g} 米内的需求点",
            "储备库原地不动且保留安全库存：储备库的县域覆盖率不因预置而改变",
            "其余县域覆盖率按救援队伍计（预置会移动的力量）",
            "预警区域内的储备库仍按现有库存计入（未模拟其损毁）",
        ],
    }


def team_minutes(plan: PrepositionPlan, scenario: Any, engine: Any) -> dict[str, float]:
    """Minutes from each moved team's base to its staging point over today's roads."""
    teams = {t.id: t for t in scenario.teams}
    out = {}
    staging = {p.id: p for p in plan.problem.staging}
    for m in plan.result.moves:
        if m.kind != "team":
            continue
        t = teams[m.team_id or ""]
        p = staging[m.to_id]
        mins = travel_minutes(
            engine, [FacilitySite(t.id, t.name, *t.location.xy)], [point_site(p.id, p.lon, p.lat)]
        )
        out[t.id] = float(mins[0, 0]) if np.isfinite(mins[0, 0]) else float("nan")
    return out


def run_warn_cli(
    workspace: Path,
    out: Path,
    *,
    hazards: tuple[str, ...],
    colour: str,
    valid_hours: float = 24.0,
    seconds: float = 20.0,
    save: bool = False,
) -> int:
    """Plan and write ``preposition.json`` and ``orders.pdf``; returns the exit code."""
    from dispatch.warnings.orders_pdf import write_orders_pdf
    from gis.loading import load_road_network, open_workspace
    from gis.matrix import TravelTimeEngine

    if colour not in COLOURS:
        raise WarningError(f"--colour must be one of {'|'.join(COLOURS)}, got {colour!r}")
    request = WarnRequest(tuple(hazards), colour, valid_hours=valid_hours, seconds=seconds)
    try:
        request.check()
    except WarningError as exc:
        raise PrepositionError(str(exc)) from None
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise WorkspaceError("output exists and is not a folder", path=str(out))
    ws = open_workspace(workspace)
    network = load_road_network(workspace, ws.scenario)
    if network is None:
        raise WorkspaceError(
            "workspace has no road network (run import-osm first)", path=str(workspace)
        )
    engine = TravelTimeEngine(network, ws.scenario.closures)
    plan = plan_preposition(ws.scenario, network, request, engine=engine)
    doc = preposition_json(plan, ws.scenario)
    minutes = team_minutes(plan, ws.scenario, engine)
    for row in doc["moves"]:
        if row["kind"] == "team":
            row["minutes"] = round(minutes[row["team_id"]], 1)
    out.mkdir(parents=True, exist_ok=True)
    write_orders_pdf(plan, doc, ws.scenario, engine, out / "orders.pdf")
    write_json_atomically(out / "preposition.json", doc, indent=1)
    if save:
        from dispatch.plan import scenario_hash
        from dispatch.warnings.record import save_warning

        save_warning(workspace, plan, doc, expected_hash=scenario_hash(ws.scenario))
    r = plan.result
    print(
        f"wrote {out / 'preposition.json'} and orders.pdf: {doc['status']}, "
        f"{r.movements} movement(s) ({len(r.moves)} line(s)); threatened on time "
        f"{(r.before.on_time_share if r.before else 0):.0%} → "
        f"{(r.after.on_time_share if r.after else 0):.0%}; rest of county within 60 min "
        f"{(r.rest_before or 0):.1%} → {(r.rest_after or 0):.1%}"
        + ("; saved to the workspace" if save else ""),
        file=sys.stderr,
    )
    return 0


def run_preposition_status_cli(
    workspace: Path, number: str, *, to: str, who: str, note: str = ""
) -> int:
    """``app.py plan-status`` for a 预置方案: the step stored (atomic, under the workspace lock)
    and one line on stdout; a refused step raises (exit 2), nothing written."""
    from dispatch.warnings.lifecycle import change_preposition_status

    rec = change_preposition_status(Path(workspace), number, to, who, note=note)
    step = rec.approvals[-1]
    before = rec.approvals[-2].to_status.value if len(rec.approvals) > 1 else "草稿"
    extra = f"；{step.note}" if step.note else ""
    text = (
        f"预置方案 {rec.number}：{before} → {rec.status.value}（{step.action}：{step.who}，"
        f"{step.when:%Y-%m-%d %H:%M:%S}{extra}）；待执行调拨 {len(rec.pending_transfers)} 条"
    )
    print(" ".join(text.split()))
    return 0
