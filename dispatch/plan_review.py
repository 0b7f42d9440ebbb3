"""What an approver must see before signing a plan: :func:`review_items` (Qt-free).

One place lists the plan's weak points as plain text lines with a severity, for the GUI's
approval dialog (and anything else that asks before a plan is approved or issued):

- the 部分方案 state (the solve stopped before finishing: not everything was computed);
- every need not on time — unmet (materials, team skills, people to shelter, deliveries no
  vehicle took) or late, by how much — with the reasons, as :mod:`dispatch.timeliness` states
  them (the same lines as the CLI summary, PDF, XLSX and the desk's 未满足或迟到 tab);
- safety stock released (``Plan.safety_releases``).

Each section is a function ``Plan -> Iterable[ReviewItem]`` listed in :data:`SECTIONS`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum

from dispatch.plan import Plan
from dispatch.timeliness import NeedState, problem_lines


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


def _needs(plan: Plan) -> Iterable[ReviewItem]:
    """Every need that is not on time — unmet (materials, skills, people to shelter, visits no
    vehicle makes) or late — as :func:`dispatch.timeliness.problem_lines` defines them."""
    for ln in problem_lines(plan):
        amount = ln.unmet if ln.state is NeedState.UNMET else ln.late
        of = f"（共需 {ln.requested:g}）" if abs(amount - ln.requested) > 1e-6 else ""
        why = f"：{ln.reason}" if ln.reason else ""
        yield ReviewItem(
            Severity.WARNING,
            f"{ln.state.value}：{ln.site_name} {ln.label} {amount:g} {ln.unit}{of}{why}",
        )


def _safety_stock_items(plan: Plan) -> Iterable[ReviewItem]:
    """Safety stock the plan releases, from ``plan.safety_releases`` (stockpile, material,
    quantity, safety stock, site, incident level)."""
    for r in plan.safety_releases:
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
    _needs,
    _safety_stock_items,
)


def review_items(plan: Plan) -> tuple[ReviewItem, ...]:
    """Everything the approver should see before confirming ``plan``: empty when nothing."""
    return tuple(item for section in SECTIONS for item in section(plan))


__all__ = ["SECTIONS", "ReviewItem", "Severity", "review_items"]
