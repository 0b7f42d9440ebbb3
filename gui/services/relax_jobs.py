"""The "怎样可以满足？" job of the desk (Qt-free): a plan's late and unmet needs and the changes
that fix them, each checked by re-planning (:mod:`dispatch.relax_service`).

``relax_job(request, *, stop, progress) -> RelaxationReport`` runs on a
:class:`gui.workers.JobRunner` thread; by default the search itself runs in a spawned child
process (the re-plans run solver C++ code that may hold the GIL), as a dispatch run does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dispatch.relax_changes import RelaxationReport
from dispatch.relax_service import RelaxRequest, run_relax, run_relax_in_child


@dataclass(frozen=True)
class RelaxJobRequest:
    relax: RelaxRequest
    in_child: bool = True


def relax_job(request: RelaxJobRequest, *, stop: Any, progress: Any) -> RelaxationReport:
    """Search the changes for the plan of ``request`` (Cancel returns what was found)."""
    runner = run_relax_in_child if request.in_child else run_relax
    return runner(request.relax, stop=stop, progress=progress)


__all__ = ["RelaxJobRequest", "relax_job"]
