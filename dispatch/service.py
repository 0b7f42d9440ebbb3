"""The dispatch use case behind the desk's "生成调度方案" (plain Python, no Qt, no folium).

A frozen :class:`DispatchRequest` (scenario, options, the open workspace as a
:class:`gis.workspace_service.WorkspaceRef`, whether it has roads, optionally a road network
already in memory) becomes a frozen :class:`DispatchOutcome` (the plan, its workspace document
text, the overview text and the hash of the scenario it was made from):

- :func:`run_dispatch` runs :func:`dispatch.pipeline.plan_dispatch` in this process (the road
  network is loaded from the workspace when the request has none);
- :func:`run_dispatch_in_child` runs the same in a spawned child process through
  :func:`dispatch.child_process.run_in_child`: C++ solver calls that hold Python's GIL cannot
  stall the caller's process (the desk's event loop). Cancel (``stop()``) is relayed; the child
  returns its best plan (status CANCELLED); a child that has not returned :data:`HARD_STOP_S`
  after the Cancel is killed; a child that dies is reported with its exit code
  (:class:`DispatchProcessError`); a child that cannot be started (e.g. an in-memory network
  that cannot be pickled) makes the run fall back to this process.

``present`` (optional, both functions): a module-level function ``Plan -> Any`` computed next to
the plan — in the child for a child run — and returned as :attr:`DispatchOutcome.presentation`
(the desk passes :func:`gui.plan_layers.route_features`, its map payload). Progress messages are
the pipeline's (Chinese) texts plus :data:`LOADING_ROADS`; the caller words them.

Re-plans: :attr:`DispatchRequest.previous_plan` is the plan being replaced (passed explicitly,
never looked up); ``on_first`` (both functions) then receives the first complete plan as a
:class:`DispatchOutcome` as soon as it exists (from a child: sent as a ``"first_plan"``
message), before the final, improved plan is returned.

The solver stack (:mod:`dispatch.pipeline` and below) is imported only when a run starts in this
process, so a caller that always solves in a child never loads it.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from dispatch.child_process import ChildChannel, ChildStartError, run_in_child
from dispatch.options import DispatchOptions
from dispatch.plan import Plan
from dispatch.results import ProgressFn, Status, StopFn, never_stop, no_progress
from gis.model import Scenario
from gis.workspace_service import WorkspaceRef

log = logging.getLogger(__name__)

#: After Cancel, the child process gets this long to hand back its best plan before it is killed.
HARD_STOP_S = 20.0
#: Child → parent progress messages are throttled to this interval (unless the text changes).
PROGRESS_INTERVAL_S = 0.05
#: The progress text while the road network is loaded (untranslated; the caller words it).
LOADING_ROADS = "加载道路网络…"
#: Lines of unserved needs in the overview text.
SUMMARY_MAX_UNSERVED = 50

Present = Callable[[Plan], Any]
#: Receives a re-plan's first complete plan (see the module docstring).
OnFirst = Callable[["DispatchOutcome"], None]


@dataclass(frozen=True)
class DispatchRequest:
    """One dispatch run.

    ``workspace``: the open workspace (its :attr:`~WorkspaceRef.read_from` file holds the road
    network when ``has_roads``). ``network``: a road network already in memory (None: loaded
    from the workspace when it has roads, else travel times are straight-line estimates).
    ``previous_plan``: the current plan when this run re-plans it (warm start, issued orders
    kept, changes listed; see :func:`dispatch.pipeline.plan_dispatch`). ``track_fleet``:
    vehicles of an issued ``previous_plan`` continue from where they are at the plan's time
    (drills: :meth:`dispatch.drills.session.DrillSession.replan_request`).
    """

    scenario: Scenario
    options: DispatchOptions
    workspace: WorkspaceRef | None = None
    has_roads: bool = False
    network: Any = None
    previous_plan: Plan | None = None
    track_fleet: bool = False

    @property
    def roads_file(self) -> Path | None:
        """The file the road network is loaded from (None: no roads in a file)."""
        if not self.has_roads or self.workspace is None:
            return None
        return self.workspace.read_from

    def for_child(self) -> DispatchRequest:
        """The request as sent to a child: the network is loaded there (processed-network cache
        on disk) when a file holds it, else the in-memory network is pickled."""
        if self.roads_file is not None and self.network is not None:
            return replace(self, network=None)
        return self


@dataclass(frozen=True)
class DispatchOutcome:
    """A computed plan and what the desk shows of it.

    ``plan_json``: the workspace document text (serialising takes ~0.1 s, so it is done where
    the plan was computed). ``summary``: the overview text. ``scenario_hash``: of the request's
    scenario. ``network``: the network used (in-process runs only). ``presentation``: what
    ``present(plan)`` returned (None without ``present``).
    """

    plan: Plan
    plan_json: str
    summary: str
    scenario_hash: str
    network: Any = None
    presentation: Any = None

    @property
    def cancelled(self) -> bool:
        return self.plan.overall == Status.CANCELLED


class DispatchProcessError(RuntimeError):
    """The dispatch child process failed, died or was killed.

    ``kind``: ``"error"`` (the run raised; ``details`` is its traceback), ``"died"`` (ended
    without a result; ``exitcode``) or ``"killed"`` (no result :data:`HARD_STOP_S` after
    Cancel). The message is in Chinese; callers may reword ``died``/``killed`` from the fields.
    """

    def __init__(
        self,
        message: str,
        details: str = "",
        *,
        kind: str = "error",
        exitcode: int | None = None,
    ) -> None:
        super().__init__(message)
        self.details = details
        self.kind = kind
        self.exitcode = exitcode


def _load_network(request: DispatchRequest, progress: ProgressFn) -> Any:
    if request.network is not None or request.roads_file is None:
        return request.network
    from gis.loading import load_road_network

    progress(0.0, LOADING_ROADS)
    return load_road_network(request.roads_file, request.scenario)


def _outcome(
    request: DispatchRequest, plan: Plan, network: Any, present: Present | None
) -> DispatchOutcome:
    from dispatch.plan import scenario_hash
    from dispatch.replan import changes_text
    from dispatch.summary import summary_text

    return DispatchOutcome(
        plan=plan,
        plan_json=plan.to_json(indent=None),
        # the desk shows the incident table as a table widget (gui/docks/dispatch_panel.py)
        summary=summary_text(plan, max_unserved=SUMMARY_MAX_UNSERVED, incident_table=False)
        + changes_text(plan),
        scenario_hash=scenario_hash(request.scenario),
        network=network,
        presentation=present(plan) if present is not None else None,
    )


def run_dispatch(
    request: DispatchRequest,
    *,
    stop: StopFn = never_stop,
    progress: ProgressFn = no_progress,
    present: Present | None = None,
    on_first: OnFirst | None = None,
) -> DispatchOutcome:
    """Compute the plan of ``request`` in this process (a cancelled run returns its best plan).

    With ``request.previous_plan`` and ``on_first``, the first complete plan is handed to
    ``on_first`` (in this thread) while the run goes on improving it."""
    from dispatch.pipeline import plan_dispatch

    # A full (generation 2) garbage collection stops every thread for its whole pass: ~0.1 s
    # over the heap of a loaded workspace (measured in bench_gui_responsiveness). The objects
    # alive now (workspace, network, modules) are frozen for the run so the collector scans
    # only what the run allocates; unfrozen afterwards so nothing leaks.
    gc.freeze()
    try:
        network = _load_network(request, progress)
        first = None
        if on_first is not None:

            def first(plan: Plan) -> None:
                on_first(_outcome(request, plan, network, present))

        plan = plan_dispatch(
            request.scenario,
            network,
            request.options,
            stop=stop,
            progress=progress,
            previous=request.previous_plan,
            on_first_plan=first,
            track_fleet=request.track_fleet,
        )
        return _outcome(request, plan, network, present)
    finally:
        gc.unfreeze()


def _child_main(
    channel: ChildChannel, request: DispatchRequest, present: Present | None
) -> dict[str, Any]:
    """Body of the dispatch child: the run as :func:`wire_outcome` sends it; a
    re-plan's first complete plan is sent as a ``"first_plan"`` message."""

    def first(out: DispatchOutcome) -> None:
        channel.send("first_plan", wire_outcome(out))

    out = run_dispatch(
        request,
        stop=channel.stop_requested,
        progress=channel.progress,
        present=present,
        on_first=first if request.previous_plan is not None else None,
    )
    return wire_outcome(out)


def wire_outcome(out: DispatchOutcome) -> dict[str, Any]:
    """What travels from a child process (also used by :mod:`dispatch.worker`): the outcome
    without the network. The plan travels as its JSON (what is stored) and pickled (read back
    ~20× faster than parsing the JSON: the first plan of a re-plan reaches the desk sooner)."""
    return {
        "plan": out.plan,
        "plan_json": out.plan_json,
        "summary": out.summary,
        "scenario_hash": out.scenario_hash,
        "presentation": out.presentation,
    }


def unwire_outcome(result: Mapping[str, Any], network: Any) -> DispatchOutcome:
    """A :class:`DispatchOutcome` from what :func:`wire_outcome` sent."""
    # reading the plan back allocates ~10^5 objects (~0.1 s of Python): that may set off a full
    # collection over the whole heap of this process, which stops every thread (the desk's GUI
    # thread too) for ~0.15 s. Frozen as in run_dispatch, the collector scans only the new ones.
    gc.freeze()
    try:
        plan = result.get("plan")
        if not isinstance(plan, Plan):
            plan = Plan.from_json(result["plan_json"])
    finally:
        gc.unfreeze()
    return DispatchOutcome(
        plan=plan,
        plan_json=result["plan_json"],
        summary=result["summary"],
        scenario_hash=result["scenario_hash"],
        network=network,
        presentation=result["presentation"],
    )


def run_dispatch_in_child(
    request: DispatchRequest,
    *,
    stop: StopFn = never_stop,
    progress: ProgressFn = no_progress,
    present: Present | None = None,
    on_first: OnFirst | None = None,
) -> DispatchOutcome:
    """:func:`run_dispatch` in a spawned child process, driven from the calling thread
    (``on_first`` is called in this thread too).

    Raises :class:`DispatchProcessError` when the child fails, dies or has to be killed; runs
    in this process instead when the child cannot be started.
    """

    def relay(kind: str, *payload: Any) -> None:
        if kind == "progress":
            progress(*payload)
        elif kind == "first_plan" and on_first is not None:
            on_first(unwire_outcome(payload[0], request.network))

    try:
        run = run_in_child(
            _child_main,
            (request.for_child(), present),
            stop=stop,
            on_message=relay,
            daemon=False,  # the OR-Tools routing engine starts its own child process
            cancel_grace_s=HARD_STOP_S,
            progress_interval_s=PROGRESS_INTERVAL_S,
            name="reliefdesk-dispatch",
        )
    except ChildStartError as exc:
        log.warning("dispatch child process not started (%s); solving in this process", exc)
        return run_dispatch(
            request, stop=stop, progress=progress, present=present, on_first=on_first
        )
    if run.error is not None:
        log.error("dispatch child process failed:\n%s", run.details)
        raise DispatchProcessError(run.error, run.details, kind="error", exitcode=run.exitcode)
    if run.killed:
        raise DispatchProcessError(
            f"计算进程在取消后 {HARD_STOP_S:.0f} 秒内未返回，已强制终止",
            kind="killed",
            exitcode=run.exitcode,
        )
    if not run.finished:
        raise DispatchProcessError(
            f"计算进程意外退出（退出码 {run.exitcode}）", kind="died", exitcode=run.exitcode
        )
    return unwire_outcome(run.result, request.network)


__all__ = [
    "HARD_STOP_S",
    "LOADING_ROADS",
    "OnFirst",
    "DispatchOutcome",
    "DispatchProcessError",
    "DispatchRequest",
    "run_dispatch",
    "run_dispatch_in_child",
    "unwire_outcome",
    "wire_outcome",
]
