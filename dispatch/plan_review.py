"""What an approver must see before signing a plan: :func:`review_items` (Qt-free).

One place lists the plan's weak points as plain text lines with a severity, for the GUI's
approval dialog (and anything else that asks before a plan is approved or issued):

- the 部分方案 state (the solve stopped before finishing: not everything was computed);
- needs not met (materials, people to shelter, deliveries no vehicle took), with the reasons;
- team skills not covered (from the plan's incident outcomes);
- late deliveries and teams, and safety stock released — read from the plan's records by
  :func:`_late_items` (``IncidentOutcome.late`` / ``late_teams``) and
  :func:`_safety_stock_items` (``Plan.safety_releases``); the plan records gain those fields in
  another change (read with ``getattr`` until then), and only these two functions know them.

Each section is a function ``Plan -> Iterable[ReviewItem]`` listed in :data:`SECTIONS`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum

from dispatch.plan import Plan


class Severity(StrEnum):
    ERROR = "error"  # must be confirmed explicitly (a 部分方案)
    WARNING = "warning"  # a need not met or late
    INFO = "info"


@dataclass(frozen=True, slots=True)
class ReviewItem:
    """One line for the approver: ``text`` is a Chinese sentence (names from data as text)."""

    severity: Severity
    text: str


def _partial(plan: Plan) -> Iterable[ReviewItem]:
    if plan.partial:
        yield ReviewItem(Severity.ERROR, plan.partial_text)


def _unmet(plan: Plan) -> Iterable[ReviewItem]:
    skills = {(o.incident_id, s) for o in plan.incidents for s in o.required_skills}
    for u in plan.unserved:
        if (u.site_id, u.what) in skills:  # listed by _skills from the outcome, once
            continue
        where = plan.place_name(u.site_id) if u.site_id else ""
        prefix = f"{where}：" if where and where not in u.message_zh else ""
        yield ReviewItem(Severity.WARNING, f"未满足［{u.reason.value}］{prefix}{u.message_zh}")


def _skills(plan: Plan) -> Iterable[ReviewItem]:
    for o in plan.incidents:
        for skill, need in o.required_skills.items():
            missing = need - o.covered_skills.get(skill, 0)
            if missing > 0:
                yield ReviewItem(
                    Severity.WARNING,
                    f"队伍不足：{o.name} 需「{skill}」{need} 人，缺 {missing} 人",
                )


def _late_items(plan: Plan) -> Iterable[ReviewItem]:
    """Late deliveries and teams, from the incident outcomes' ``late`` ({material: quantity})
    and ``late_teams`` once the plan records carry them (nothing to list before)."""
    for o in plan.incidents:
        late = getattr(o, "late", None) or {}
        for code, q in late.items():
            yield ReviewItem(
                Severity.WARNING,
                f"迟到：{o.name} 的{plan.material_label(code)} {q:g} "
                f"{plan.material_unit(code)}晚于时限送达",
            )
        for team in getattr(o, "late_teams", None) or ():
            yield ReviewItem(
                Severity.WARNING,
                f"迟到：队伍 {plan.place_name(str(team))} 晚于 {o.name} 的时限到达",
            )


def _safety_stock_items(plan: Plan) -> Iterable[ReviewItem]:
    """Safety stock the plan releases, from ``plan.safety_releases`` (stockpile, material,
    quantity, safety stock, site, incident level) once the plan records carry it."""
    for r in getattr(plan, "safety_releases", None) or ():
        unit = plan.material_unit(r.material)
        level = f"{r.level}级事件" if r.level else "避难场所"
        yield ReviewItem(
            Severity.WARNING,
            f"动用安全库存：{plan.place_name(r.stockpile_id)} {plan.material_label(r.material)} "
            f"{r.quantity:g} {unit}（安全库存 {r.safety_stock:g} {unit}）→ "
            f"{plan.place_name(r.site_id)}（{level}）",
        )


#: The sections, in the order the approver reads them.
SECTIONS: tuple[Callable[[Plan], Iterable[ReviewItem]], ...] = (
    _partial,
    _unmet,
    _skills,
    _late_items,
    _safety_stock_items,
)


def review_items(plan: Plan) -> tuple[ReviewItem, ...]:
    """Everything the approver should see before confirming ``plan``: empty when nothing."""
    return tuple(item for section in SECTIONS for item in section(plan))


__all__ = ["SECTIONS", "ReviewItem", "Severity", "review_items"]
