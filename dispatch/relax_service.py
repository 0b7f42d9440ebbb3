"""The desk's "怎样可以满足？" use case (plain Python, no Qt): a plan's late and unmet needs and
the changes that fix them, off the caller's process.

A frozen :class:`RelaxRequest` (the dispatch request the plan was made with — scenario, the
open workspace, its road network — the plan and the time budget) becomes a
:class:`dispatch.relax.RelaxationReport`:

- :func:`run_relax` runs :func:`dispatch.relax.suggest_relaxations` in this process (the road
  network is loaded from the workspace when the request has none);
- :func:`run_relax_in_child` runs the same in a spawned child process through
  :func:`dispatch.child_process.run_in_child` (each check re-plans with the solvers, whose C++
  code may hold the GIL); Cancel is relayed and the child returns what it found so far.

A plan made from another scenario than the request's is refused (:class:`RelaxPlanMismatch`):
its suggestions would be about data the operator no longer sees.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from dispatch.child_process import ChildChannel, ChildStartError, run_in_child
from dispatch.plan import Plan
from dispatch.relax_changes import RelaxationReport
from dispatch.results import ProgressFn, StopFn, never_stop, no_progress
from dispatch.service import LOADING_ROADS, DispatchProcessError, DispatchRequest
from gis.errors import ValidationError

log = logging.getLogger(__name__)

#: After Cancel the child gets this long to hand back what it found (one re-plan at most).
CANCEL_GRACE_S = 15.0


class RelaxPlanMismatch(ValidationError):
    """The plan was not made from the request's scenario."""


@dataclass(frozen=True)
class RelaxRequest:
    """``dispatch``: scenario, options and workspace of the plan; ``budget_s``: whole search."""

    dispatch: DispatchRequest
    plan: Plan
    budget_s: float = 60.0

    def for_child(self) -> RelaxRequest:
        return RelaxRequest(self.dispatch.for_child(), self.plan, self.budget_s)


def run_relax(
    request: RelaxRequest, *, stop: StopFn = never_stop, progress: ProgressFn = no_progress
) -> RelaxationReport:
    """The plan's suggestions, computed in this process."""
    from dispatch.options import DispatchOptions
    from dispatch.relax import suggest_relaxations

    d = request.dispatch
    if not request.plan.matches(d.scenario):
        raise RelaxPlanMismatch(
            f"方案 {request.plan.number} 不是按当前数据生成的，请先重新生成调度方案"
        )
    network = d.network
    if network is None and d.roads_file is not None:
        from gis.loading import load_road_network

        progress(0.0, LOADING_ROADS)
        network = load_road_network(d.roads_file, d.scenario)
    return suggest_relaxations(
        d.scenario,
        network,
        request.plan,
        DispatchOptions.from_dict(request.plan.inputs.options),
        budget_s=float(request.budget_s),
        stop=stop,
        progress=progress,
    )


def _child_main(channel: ChildChannel, request: RelaxRequest) -> RelaxationReport:
    return run_relax(request, stop=channel.stop_requested, progress=channel.progress)


def run_relax_in_child(
    request: RelaxRequest, *, stop: StopFn = never_stop, progress: ProgressFn = no_progress
) -> RelaxationReport:
    """:func:`run_relax` in a spawned child process (in this process if none can start).

    Raises :class:`dispatch.service.DispatchProcessError` when the child fails or dies, and
    :class:`RelaxPlanMismatch` (checked here first) for a plan of another scenario."""
    if not request.plan.matches(request.dispatch.scenario):
        return run_relax(request, stop=stop, progress=progress)  # raises the mismatch
    try:
        run = run_in_child(
            _child_main,
            (request.for_child(),),
            stop=stop,
            on_message=lambda kind, *p: progress(*p) if kind == "progress" else None,
            daemon=False,  # the OR-Tools routing engine starts its own child process
            cancel_grace_s=CANCEL_GRACE_S,
            name="reliefdesk-relax",
        )
    except ChildStartError as exc:
        log.warning("relax child process not started (%s); running in this process", exc)
        return run_relax(request, stop=stop, progress=progress)
    if run.error is not None:
        raise DispatchProcessError(run.error, run.details, kind="error", exitcode=run.exitcode)
    if run.killed or not run.finished:
        raise DispatchProcessError(
            f"计算进程意外退出（退出码 {run.exitcode}）", kind="died", exitcode=run.exitcode
        )
    result: Any = run.result
    return result  # type: ignore[no-any-return]


__all__ = [
    "RelaxPlanMismatch",
    "RelaxRequest",
    "run_relax",
    "run_relax_in_child",
]
