"""The routing engine protocol and what an engine returns.

An engine turns prepared jobs into per-vehicle trip lists before ``deadline``
(``time.perf_counter()`` seconds), polling ``stop`` and reporting ``progress``. Engines use only
the public names of :mod:`dispatch.routing.model` and :mod:`dispatch.routing.jobs`; the
post-processing (:mod:`dispatch.routing.schedule`) makes their plans exact.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from dispatch.results import ProgressFn, StopFn
from dispatch.routing.jobs import PreparedJobs
from dispatch.routing.model import RoutingOptions, RoutingProblem


@dataclass
class EngineOutput:
    """Per vehicle index (into problem.vehicles): trips as lists of job indices."""

    plans: dict[int, list[list[int]]]
    found: bool
    cancelled: bool = False
    timed_out: bool = False
    note: str = ""
    #: another complete plan to compare after post-processing (the hybrid's PyVRP plan)
    alternative: EngineOutput | None = None


@dataclass(frozen=True)
class EngineTask:
    """What an engine is asked: plan ``prepared.jobs`` of ``problem`` before ``deadline``
    (``time.perf_counter()`` seconds), polling ``stop``; ``initial`` is a plan to start from
    (engines may ignore it)."""

    problem: RoutingProblem
    prepared: PreparedJobs
    options: RoutingOptions
    deadline: float
    stop: StopFn
    progress: ProgressFn
    initial: EngineOutput | None = None


class Engine(Protocol):
    """A routing engine (``PYVRP``, ``ORTOOLS``, ``HYBRID``)."""

    name: str

    def solve(self, task: EngineTask) -> EngineOutput:
        """Plan ``task.prepared.jobs`` (trips per vehicle index)."""
        ...
