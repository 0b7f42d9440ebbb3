"""Dispatch jobs of the desk (Qt-free): run a dispatch, export a plan, preload modules.

Each job is ``run(request, *, stop, progress) -> result`` with a frozen request and result
(:class:`gui.workers.JobRunner` runs it on a thread). The use case itself is
:mod:`dispatch.service`; what is added here is presentation: the map payload of the plan
(:func:`gui.plan_layers.route_features`), computed next to the plan — in the child process of a
child run, else in the job's thread — never on the GUI thread.

Progress messages are the pipeline's texts, :data:`dispatch.service.LOADING_ROADS` and
:data:`EXPORTING`; the controller words them.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dispatch.child_process import ChildStartError
from dispatch.plan import Plan
from dispatch.service import DispatchOutcome, DispatchRequest, run_dispatch, run_dispatch_in_child
from dispatch.worker import DispatchWorker
from gui.plan_layers import route_features

log = logging.getLogger(__name__)

#: the progress text of an export (untranslated)
EXPORTING = "导出调度指令…"


# ---- run -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunRequest:
    """A dispatch run of the desk; ``in_child``: solve in a spawned child process (the default:
    the GUI process then never runs solver code), else in the job's thread."""

    dispatch: DispatchRequest
    in_child: bool = True


@dataclass(frozen=True)
class RunResult:
    """The outcome of a run and its map payload (a GeoJSON FeatureCollection)."""

    outcome: DispatchOutcome
    routes: Mapping[str, Any]

    @property
    def plan(self) -> Plan:
        return self.outcome.plan


def _with_fallback(worker: DispatchWorker) -> Callable[..., DispatchOutcome]:
    def run(dispatch: DispatchRequest, **kw: Any) -> DispatchOutcome:
        try:
            return worker.run(dispatch, **kw)
        except ChildStartError as exc:
            log.warning("dispatch worker not started (%s); one child for this run", exc)
            return run_dispatch_in_child(dispatch, **kw)

    return run


def _result(outcome: DispatchOutcome) -> RunResult:
    routes = outcome.presentation
    if routes is None:  # e.g. a child that could not be started ran without it
        routes = route_features(outcome.plan)
    return RunResult(outcome=outcome, routes=routes)


def run_job(
    request: RunRequest,
    *,
    stop: Any,
    progress: Any,
    on_first: Callable[[RunResult], None] | None = None,
    worker: DispatchWorker | None = None,
) -> RunResult:
    """Compute a plan and its map payload, off the GUI thread. A re-plan (the request has a
    ``previous_plan``) hands its first complete plan to ``on_first`` (in the job's thread).
    ``worker``: solve in this kept-alive process (``in_child`` runs; a new child per run when
    it cannot be started)."""
    runner = run_dispatch_in_child if request.in_child else run_dispatch
    if request.in_child and worker is not None:
        runner = _with_fallback(worker)
    first = None
    if on_first is not None and request.dispatch.previous_plan is not None:

        def first(outcome: DispatchOutcome) -> None:
            on_first(_result(outcome))

    outcome = runner(
        request.dispatch, stop=stop, progress=progress, present=route_features, on_first=first
    )
    return _result(outcome)


# ---- export ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportRequest:
    plan: Plan
    folder: Path
    #: language of the files that have one (dispatch.export.bundle.LANGUAGE_FILES): Chinese
    #: for the teams by default, whatever the UI language
    language: str = "zh_CN"


@dataclass(frozen=True)
class ExportResult:
    """The files written (name → path), for the plan numbered ``plan_number``."""

    plan_number: str
    folder: Path
    files: Mapping[str, Path]


def export_job(request: ExportRequest, *, stop: Any, progress: Any) -> ExportResult:
    """Write the plan's six files into ``request.folder`` (:func:`dispatch.export.export_all`)."""
    from dispatch.export.bundle import export_all

    progress(0.1, EXPORTING)
    files = export_all(request.plan, Path(request.folder), language=request.language)
    return ExportResult(request.plan.number, Path(request.folder), dict(files))


# ---- preload ---------------------------------------------------------------------------------

#: Modules the GUI process needs for plans and exports (their imports hold the GIL, up to
#: ~0.1 s each), imported by :func:`preload_job` once, before any run.
BASE_MODULES: tuple[str, ...] = (
    "dispatch.service",
    "dispatch.plan",
    "dispatch.orders",
    "dispatch.summary",
    "dispatch.export.pdf",
    "dispatch.export.xlsx",
    "dispatch.export.geojson",
    "dispatch.export.html_map",
    "dispatch.export.csv",
)
#: The solver stack, preloaded too when runs are solved in this process (``in_child=False``).
SOLVER_MODULES: tuple[str, ...] = (
    "dispatch.pipeline",
    "dispatch.problems",
    "dispatch.evacuation",
    "dispatch.allocation",
    "dispatch.assignment",
    "dispatch.routing",
    "dispatch.routing.engines.pyvrp",
    "dispatch.routing.engines.ortools",
    "gis.matrix",
)


def preload_modules(in_child: bool) -> tuple[str, ...]:
    """What to preload: the solver stack only when runs are solved in this process."""
    return BASE_MODULES if in_child else (*BASE_MODULES, *SOLVER_MODULES)


def preload_job(modules: tuple[str, ...] | None, *, stop: Any, progress: Any) -> int:
    """Import ``modules`` (default all) in the background; returns how many loaded."""
    n = 0
    for name in modules or (*BASE_MODULES, *SOLVER_MODULES):
        if stop():
            break
        try:
            importlib.import_module(name)
            n += 1
        except Exception:  # the real run reports it
            log.exception("preload of %s failed", name)
    return n


__all__ = [
    "BASE_MODULES",
    "EXPORTING",
    "SOLVER_MODULES",
    "ExportRequest",
    "ExportResult",
    "RunRequest",
    "RunResult",
    "export_job",
    "preload_job",
    "preload_modules",
    "run_job",
]
