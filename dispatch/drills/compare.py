"""Two plans side by side (drill steps, or any two plans of one scenario): per incident the
served and on-time shares and the ETAs (first delivery, last delivery, first team — as clock
times, since two plans made at different times count seconds from different starts), and which
orders were added, removed, rerouted or re-loaded.

Orders are matched by their unit (vehicle or team id). An order is *rerouted* when the sequence
of its legs (from, to, road metres to the metre) differs, *reloaded* when its route is the same
but what it carries (stop by stop) differs. This works on any two plans; a re-plan's own
``inputs.changes`` (:mod:`dispatch.replan`) says the same against its previous plan, with reasons.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from dispatch.plan import Plan
from dispatch.records import DispatchOrder


def _clock(plan: Plan, seconds: float | None) -> str | None:
    if seconds is None:
        return None
    when: datetime = plan.created_at + timedelta(seconds=float(seconds))
    return when.isoformat(timespec="minutes")


def incident_etas(plan: Plan) -> dict[str, dict[str, str | None]]:
    """Per incident: first and last delivery, first team on site (clock times; None: none)."""
    arrivals: dict[str, list[float]] = {}
    for r in plan.routes:
        for t in r.trips:
            for s in t.stops:
                arrivals.setdefault(s.site_id, []).append(float(s.arrival_s))
    teams: dict[str, list[float]] = {}
    for a in plan.assignment:
        teams.setdefault(a.incident_id, []).append(float(a.eta_s))
    out = {}
    for o in plan.incidents:
        arr = arrivals.get(o.incident_id, [])
        tm = teams.get(o.incident_id, [])
        out[o.incident_id] = {
            "first_delivery": _clock(plan, min(arr)) if arr else None,
            "last_delivery": _clock(plan, max(arr)) if arr else None,
            "first_team": _clock(plan, min(tm)) if tm else None,
        }
    return out


def _route_key(o: DispatchOrder) -> tuple[Any, ...]:
    return tuple((lg.from_id, lg.to_id, round(float(lg.metres))) for lg in o.legs)


def _load_key(o: DispatchOrder) -> tuple[Any, ...]:
    """What the order carries, and what is loaded and unloaded at each stop in order (loads
    moved between two trips of one vehicle count as re-loaded, as
    :func:`dispatch.replan.order_changes` counts them)."""

    def items(xs: Any) -> tuple[tuple[str, float], ...]:
        return tuple(sorted((i.material, round(float(i.quantity), 3)) for i in xs))

    return (items(o.items), tuple((st.place_id, st.action, items(st.items)) for st in o.stops))


def _share(x: float | None) -> float | None:
    return None if x is None else round(float(x), 4)


def compare_plans(a: Plan | None, b: Plan) -> dict[str, Any]:
    """``b`` against ``a``: per incident (both plans' incidents) and per order. ``a`` None:
    no plan before ``b`` (every order added; ``plans[0]`` None)."""
    ia = {} if a is None else {o.incident_id: o for o in a.incidents}
    ib = {o.incident_id: o for o in b.incidents}
    ea, eb = ({} if a is None else incident_etas(a)), incident_etas(b)
    incidents = []
    for iid in list(ia) + [i for i in ib if i not in ia]:
        oa, ob = ia.get(iid), ib.get(iid)
        incidents.append(
            {
                "incident_id": iid,
                "name": (ob or oa).name,  # type: ignore[union-attr]
                "served": [_share(oa and oa.served_fraction), _share(ob and ob.served_fraction)],
                "on_time": [_share(oa and oa.on_time_fraction), _share(ob and ob.on_time_fraction)],
                "staff": [_share(oa and oa.staff_fraction), _share(ob and ob.staff_fraction)],
                "eta": [ea.get(iid), eb.get(iid)],
            }
        )
    oa_by = {} if a is None else {o.unit_id: o for o in a.orders}
    ob_by = {o.unit_id: o for o in b.orders}
    added = sorted(set(ob_by) - set(oa_by))
    removed = sorted(set(oa_by) - set(ob_by))
    rerouted, reloaded, same = [], [], []
    for unit in sorted(set(oa_by) & set(ob_by)):
        x, y = oa_by[unit], ob_by[unit]
        if _route_key(x) != _route_key(y):
            rerouted.append(unit)
        elif _load_key(x) != _load_key(y):
            reloaded.append(unit)
        else:
            same.append(unit)
    return {
        "plans": [None if a is None else a.number, b.number],
        "incidents": incidents,
        "orders": {
            "added": added,
            "removed": removed,
            "rerouted": rerouted,
            "reloaded": reloaded,
            "unchanged": len(same),
        },
    }


def drill_comparison(plans: Mapping[int, Plan]) -> list[dict[str, Any]]:
    """Each planned step against the one before it, then the last against the baseline (step
    numbers as in drill.json; 0 = baseline)."""
    numbers = sorted(plans)
    out = []
    for p, q in zip(numbers, numbers[1:], strict=False):
        out.append({"from_step": p, "to_step": q, **compare_plans(plans[p], plans[q])})
    if len(numbers) > 2:
        first, last = numbers[0], numbers[-1]
        out.append(
            {"from_step": first, "to_step": last, **compare_plans(plans[first], plans[last])}
        )
    return out


__all__ = ["compare_plans", "drill_comparison", "incident_etas"]
