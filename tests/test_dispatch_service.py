"""dispatch.service without Qt: the demo county in this process and in a spawned child, Cancel
returning the best plan (CANCELLED), a child that dies or raises reported clearly, and the
fallback to this process when no child can be started.

The ``present`` hooks are module-level functions of this module (a child imports them by name).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dispatch.options import DispatchOptions
from dispatch.plan import Plan, scenario_hash
from dispatch.results import Status
from dispatch.service import (
    LOADING_ROADS,
    DispatchOutcome,
    DispatchProcessError,
    DispatchRequest,
    run_dispatch,
    run_dispatch_in_child,
)
from dispatch.summary import summary_text
from gis.workspace_service import WorkspaceRef


def _stops(plan: Plan) -> int:
    return sum(len(t.stops) for r in plan.routes for t in r.trips)


def _die(plan: Plan) -> None:
    os._exit(3)


def _boom(plan: Plan) -> None:
    raise RuntimeError(f"boom {plan.number}")


def _request(scenario, path, *, seconds: float = 1.0, network=None, has_roads=True):
    return DispatchRequest(
        scenario=scenario,
        options=DispatchOptions(seconds=seconds),
        workspace=WorkspaceRef(path=path),
        has_roads=has_roads,
        network=network,
    )


def _check(out: DispatchOutcome, scenario) -> None:
    plan = out.plan
    assert plan.matches(scenario) and plan.allocation and plan.assignment and plan.routes
    assert Plan.from_json(out.plan_json) == plan
    # the desk shows the incident figures as a table: the text has the rest
    assert out.summary == summary_text(plan, max_unserved=50, incident_table=False)
    assert out.scenario_hash == scenario_hash(scenario) == plan.inputs.scenario_hash
    assert plan.overall in (Status.OPTIMAL, Status.FEASIBLE, Status.TIMEOUT)
    assert not out.cancelled


def test_importing_the_service_loads_neither_qt_nor_the_solvers() -> None:
    """A caller that always solves in a child never loads the solver stack (nor Qt)."""
    code = (
        "import sys, dispatch.service; "
        "print(sorted(m for m in ('PyQt6', 'dispatch.pipeline', 'gis.matrix', 'ortools', 'pyvrp')"
        " if m in sys.modules))"
    )
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


def test_in_process_loads_the_roads_of_the_workspace(demo_scenario, demo_workspace_path):
    msgs: list[str] = []
    out = run_dispatch(
        _request(demo_scenario, demo_workspace_path),
        progress=lambda f, m="": msgs.append(m),
        present=_stops,
    )
    _check(out, demo_scenario)
    assert msgs[0] == LOADING_ROADS and out.network is not None
    assert out.plan.inputs.road_network.endswith(out.network.content_hash)
    assert out.presentation == _stops(out.plan) > 0


def test_in_a_child_process(demo_scenario, demo_network, demo_workspace_path):
    request = _request(demo_scenario, demo_workspace_path, network=demo_network)
    # the network is loaded in the child from the workspace (its cache), not pickled
    assert request.for_child().network is None
    assert _request(demo_scenario, None, network=demo_network).for_child().network is demo_network
    msgs: list[str] = []
    out = run_dispatch_in_child(request, progress=lambda f, m="": msgs.append(m), present=_stops)
    _check(out, demo_scenario)
    assert LOADING_ROADS in msgs and any("车辆路径" in m for m in msgs)
    assert out.network is demo_network  # the caller's, untouched
    assert out.presentation == _stops(out.plan) > 0


@pytest.mark.parametrize("in_child", [False, True], ids=["in-process", "child"])
def test_cancel_returns_the_best_plan_marked_cancelled(
    in_child, demo_scenario, demo_network, demo_workspace_path
):
    seen: list[str] = []
    asked: list[float] = []

    def stop() -> bool:
        if not asked and any("车辆路径" in m for m in seen):
            asked.append(time.perf_counter())
        return bool(asked)

    run = run_dispatch_in_child if in_child else run_dispatch
    request = _request(demo_scenario, demo_workspace_path, seconds=120, network=demo_network)
    out = run(request, stop=stop, progress=lambda f, m="": seen.append(m))
    waited = time.perf_counter() - asked[0]
    assert waited < 10.0, f"cancel took {waited:.1f} s"
    assert out.cancelled and out.plan.overall == Status.CANCELLED
    assert any(s.status == Status.CANCELLED for s in out.plan.stages)
    assert out.plan.allocation and out.plan.assignment  # decided before the cancel
    assert Plan.from_json(out.plan_json) == out.plan


def test_a_child_that_dies_is_reported_with_its_exit_code(demo_scenario, demo_workspace_path):
    request = _request(demo_scenario, demo_workspace_path)
    with pytest.raises(DispatchProcessError) as info:
        run_dispatch_in_child(request, present=_die)
    err = info.value
    assert err.kind == "died" and err.exitcode == 3
    assert "退出码 3" in str(err)


def test_an_error_in_the_child_keeps_its_message_and_traceback(demo_scenario):
    request = _request(demo_scenario, None, has_roads=False)
    with pytest.raises(DispatchProcessError) as info:
        run_dispatch_in_child(request, present=_boom)
    err = info.value
    assert err.kind == "error" and str(err).startswith("RuntimeError: boom ")
    assert "Traceback" in err.details and "_boom" in err.details


def test_falls_back_to_this_process_when_no_child_starts(demo_scenario):
    """A ``present`` that cannot be pickled (a lambda): the child is not started, the run is
    made here, without roads (straight-line estimates)."""
    request = _request(demo_scenario, None, has_roads=False)
    assert request.roads_file is None
    out = run_dispatch_in_child(request, present=lambda plan: plan.number)
    assert out.presentation == out.plan.number
    assert out.plan.matches(demo_scenario)
