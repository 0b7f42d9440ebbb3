"""The hybrid routing engine: PyVRP first, then OR-Tools warm-started from PyVRP's routes.

PyVRP gets the first third of the time (two thirds for ``travel_time``, where it is the best
engine), OR-Tools the rest on the exact objective. PyVRP's plan is returned as
``EngineOutput.alternative`` so that :func:`dispatch.routing.solve_routing` keeps the better of
the two after post-processing.
"""

from __future__ import annotations

import time
from dataclasses import replace

from dispatch.routing.engines.base import EngineOutput, EngineTask
from dispatch.routing.engines.ortools import ORTOOLS
from dispatch.routing.engines.pyvrp import PYVRP


class HybridEngine:
    """PyVRP, then OR-Tools from its routes (see the module docstring)."""

    name = "hybrid"

    def solve(self, task: EngineTask) -> EngineOutput:
        t0 = time.perf_counter()
        share = 1 / 3 if task.options.objective == "emergency" else 2 / 3
        mid = t0 + (task.deadline - t0) * share
        first = PYVRP.solve(replace(task, deadline=mid))
        if first.cancelled or task.stop():
            first.cancelled = True
            return first
        out = ORTOOLS.solve(replace(task, initial=first))
        out.alternative = first
        return out


HYBRID = HybridEngine()
