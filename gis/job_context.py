"""The running job's ``stop`` and ``progress``, for work that starts deep inside a call.

Desk jobs are ``fn(data, *, stop, progress)`` (see ``gui/workers.py``), and most code passes
both down explicitly. Some slow work, though, starts far below the job's own code, where no
caller passed them: a travel-time engine that has to compute a road network's node order (its
contraction-hierarchy preprocessing) the first time a coverage analysis, a site choice or a
warning check asks it for a matrix. The job runner opens :func:`job_context` around each job;
such work reads :func:`current_stop` / :func:`current_progress` when it was given none, so the
job's progress bar shows it and the job's Cancel stops it.

Per thread (a :class:`contextvars.ContextVar`): a job's context is seen by the code its thread
runs, not by other jobs. Stdlib only, so the GUI's job runner imports it for free.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextvars import ContextVar

__all__ = ["StopFn", "ProgressFn", "job_context", "current_stop", "current_progress"]

StopFn = Callable[[], bool]
ProgressFn = Callable[[float, str], None]

_CURRENT: ContextVar[tuple[StopFn, ProgressFn] | None] = ContextVar("job_context", default=None)


@contextlib.contextmanager
def job_context(stop: StopFn, progress: ProgressFn) -> Iterator[None]:
    """Make ``stop``/``progress`` the current job's for the code run inside the block."""
    token = _CURRENT.set((stop, progress))
    try:
        yield
    finally:
        _CURRENT.reset(token)


def current_stop() -> StopFn | None:
    """The current job's ``stop``, or None outside a job."""
    cur = _CURRENT.get()
    return None if cur is None else cur[0]


def current_progress() -> ProgressFn | None:
    """The current job's ``progress``, or None outside a job."""
    cur = _CURRENT.get()
    return None if cur is None else cur[1]
