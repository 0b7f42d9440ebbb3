"""The desk's coverage job (Qt-free): a baseline coverage, an optional what-if beside it, and the
map payload, computed on a :class:`gui.workers.JobRunner` thread.

The use case is :mod:`dispatch.planning.coverage`; this adds the what-if wiring (a named bridge
out, one facility removed) and the map payload (:func:`gui.coverage_layers.coverage_features`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dispatch.planning.coverage import CoverageRequest, CoverageResult, WhatIf, what_if
from gis.model import Scenario
from gui.coverage_layers import coverage_features

__all__ = ["CoverageJobRequest", "CoverageJobResult", "run_coverage_job"]


@dataclass(frozen=True)
class CoverageJobRequest:
    """``bridge``: name of a bridge to close for the what-if; ``removed``: a facility id."""

    scenario: Scenario
    network: Any
    request: CoverageRequest
    bridge: str = ""
    removed: str = ""

    @property
    def has_what_if(self) -> bool:
        return bool(self.bridge or self.removed)


@dataclass(frozen=True)
class CoverageJobResult:
    baseline: CoverageResult
    what_if: WhatIf | None
    features: dict[str, Any]


def run_coverage_job(job: CoverageJobRequest, *, stop: Any, progress: Any) -> CoverageJobResult:
    """Baseline and what-if (:func:`dispatch.planning.coverage.what_if`), then the map payload."""
    progress(0.05, "计算覆盖…")
    base, diff = what_if(
        job.scenario,
        job.network,
        job.request,
        bridge=job.bridge,
        removed=(job.removed,) if job.removed else (),
    )
    progress(0.95, "绘制…")
    return CoverageJobResult(base, diff, coverage_features(base, diff))
