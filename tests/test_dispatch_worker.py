"""The dispatch worker (dispatch.worker): one process kept between runs on the demo county —
a re-plan's first plan is relayed, Cancel returns the best plan, a process that died is
replaced at the next run, close() ends it. Runs here are cancelled at once or 1 s long."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from dispatch.options import DispatchOptions
from dispatch.replan import closure_on_route
from dispatch.results import Status
from dispatch.service import DispatchOutcome, DispatchRequest
from dispatch.worker import DispatchWorker
from gis.model import Scenario
from gis.workspace_service import WorkspaceRef


def test_one_process_serves_runs_and_is_replaced_when_it_dies(
    demo_workspace_path: Path, demo_scenario: Scenario
) -> None:
    def request(scenario: Scenario, seconds: float, previous: Any = None) -> DispatchRequest:
        return DispatchRequest(
            scenario,
            DispatchOptions(seconds=seconds),
            WorkspaceRef(path=demo_workspace_path),
            has_roads=True,
            previous_plan=previous,
        )

    worker = DispatchWorker()
    try:
        first = worker.run(request(demo_scenario, 1.0))
        pid = worker._proc.pid
        assert first.plan.routes and first.plan.inputs.previous_plan == ""
        closure = closure_on_route(first.plan)
        closed = dataclasses.replace(demo_scenario, closures=(*demo_scenario.closures, closure))
        shown: list[DispatchOutcome] = []
        again = worker.run(request(closed, 1.0, first.plan), on_first=shown.append)
        assert worker._proc.pid == pid  # the same process, its road network kept
        assert len(shown) == 1 and shown[0].plan.number == again.plan.number
        assert again.plan.inputs.previous_plan == first.plan.number
        # Cancel: the run returns at once with what it has
        cancelled = worker.run(request(closed, 30.0), stop=lambda: True)
        assert cancelled.plan.overall == Status.CANCELLED
        # a process that died is replaced by the next run
        worker._proc.kill()
        worker._proc.join(5)
        assert not worker.alive
        third = worker.run(request(demo_scenario, 30.0), stop=lambda: True)
        assert worker.alive and worker._proc.pid != pid
        assert third.plan.overall == Status.CANCELLED
    finally:
        worker.close()
    assert not worker.alive
