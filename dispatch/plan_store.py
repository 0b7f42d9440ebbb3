"""Plan persistence: file a computed plan into its workspace (GeoPackage documents).

Used by ``app.py dispatch --save`` and ``app.py plan-status`` (:func:`change_plan_status`); the
GUI stores plans through its session instead.

Concurrent saves: two processes filing plans into one workspace at once take turns on an
exclusive lock (a ``WS.gpkg.lock`` file beside the workspace, locked with ``flock`` on POSIX,
``msvcrt.locking`` on Windows; the operating system releases it when a process dies). Holding
it, a save re-reads the workspace's plans, and when the plan's number was taken meanwhile the
plan is renumbered to the next free number of its day (its orders too) before it is written —
so both plans are stored, under different numbers, and the caller learns the number used. The
write itself is atomic (the workspace writer replaces the file), so the file is never
half-written.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from dispatch.plan import (
    PLANS_DOCUMENT_KIND,
    Plan,
    PlanStatus,
    next_plan_number,
    parse_plan_number,
    scenario_hash,
    step_log_entry,
    with_plan,
)
from gis.errors import ValidationError, WorkspaceError
from gis.event_log import with_log_entry

#: How long a save waits for another process's save to finish (seconds).
LOCK_TIMEOUT_S = 120.0


@contextlib.contextmanager
def workspace_lock(workspace: Path, *, timeout_s: float = LOCK_TIMEOUT_S) -> Iterator[None]:
    """Exclusive lock on ``workspace`` among processes using this function (a sidecar lock file).

    Raises :class:`WorkspaceError` when another process holds it for longer than ``timeout_s``.
    """
    lock_path = Path(workspace).with_name(Path(workspace).name + ".lock")
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + timeout_s
        while not _try_lock(fd):
            if time.monotonic() > deadline:
                raise WorkspaceError(
                    f"another process has been saving to the workspace for over {timeout_s:g} s; "
                    "plan not saved",
                    path=str(workspace),
                )
            time.sleep(0.05)
        try:
            yield
        finally:
            _unlock(fd)
    finally:
        os.close(fd)


def _try_lock(fd: int) -> bool:
    try:
        if os.name == "nt":  # pragma: no cover - Windows
            import msvcrt

            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _unlock(fd: int) -> None:
    if os.name == "nt":  # pragma: no cover - Windows
        import msvcrt

        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
    else:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_UN)


def renumbered(plan: Plan, number: str) -> Plan:
    """``plan`` under ``number``; its orders (``<plan number>-NN``) follow."""
    old = plan.number
    orders = tuple(
        dataclasses.replace(o, number=number + o.number[len(old) :])
        if o.number.startswith(old)
        else o
        for o in plan.orders
    )
    return dataclasses.replace(plan, number=number, orders=orders)


def save_plan_to_workspace(workspace: Path, plan: Plan) -> Plan:
    """Store ``plan`` in the workspace's documents (atomic save; roads and entities kept as read).

    Returns the plan as stored: the same, or renumbered when another save took its number since
    it was computed (see the module docstring). Refuses when the workspace changed since the plan
    was computed (its scenario hash differs), so a plan is never filed against data it was not
    made from.
    """
    from gis.workspace import read_workspace, write_workspace

    workspace = Path(workspace)
    with workspace_lock(workspace):
        full = read_workspace(workspace, include_roads=True)
        if scenario_hash(full.scenario) != plan.inputs.scenario_hash:
            raise WorkspaceError(
                "the workspace changed while the plan was computed; plan not saved",
                path=str(workspace),
            )
        taken = tuple((full.documents or {}).get(PLANS_DOCUMENT_KIND, {}))
        if plan.number in taken:
            parsed = parse_plan_number(plan.number)
            if parsed is None:
                raise WorkspaceError(
                    f"a plan numbered {plan.number} is already stored; plan not saved",
                    path=str(workspace),
                )
            plan = renumbered(plan, next_plan_number(taken, parsed[0], plan.created_at))
        write_workspace(
            workspace,
            full.scenario,
            road_nodes=full.road_nodes,
            road_edges=full.road_edges,
            documents=with_plan(full.documents, plan),
        )
    return plan


def change_plan_status(
    workspace: Path,
    number: str,
    to: PlanStatus | str,
    who: str,
    *,
    note: str = "",
    allow_partial: bool = False,
    when: datetime | None = None,
) -> Plan:
    """Move the plan ``number`` stored in ``workspace`` to status ``to`` and store it (atomic,
    under the workspace lock; roads, entities and other documents kept as read).

    The step is also appended to the workspace's event log (:mod:`gis.event_log`), where the
    desk shows it. Returns the updated plan. Raises :class:`dispatch.plan.PlanStatusError` for a step the
    workflow refuses (nothing is written), :class:`WorkspaceError` when no plan has that number
    or a stored plan cannot be read.
    """
    from gis.workspace import read_workspace, write_workspace

    workspace = Path(workspace)
    with workspace_lock(workspace):
        full = read_workspace(workspace, include_roads=True)
        stored = (full.documents or {}).get(PLANS_DOCUMENT_KIND, {})
        text = stored.get(number)
        if text is None:
            have = "、".join(sorted(stored)[-5:]) or "无"
            raise WorkspaceError(
                f"工作区中没有编号为 {number} 的方案（最近的方案：{have}）",
                path=str(workspace),
            )
        try:
            plan = Plan.from_json(text)
        except ValidationError as exc:
            raise WorkspaceError(f"stored plan {number}: {exc}", path=str(workspace)) from None
        now = when or datetime.now().astimezone()
        moved = plan.transition(to, who, now, note, allow_partial=allow_partial)
        docs = with_log_entry(with_plan(full.documents, moved), step_log_entry(plan, moved))
        write_workspace(
            workspace,
            full.scenario,
            road_nodes=full.road_nodes,
            road_edges=full.road_edges,
            documents=docs,
        )
    return moved


__all__ = [
    "LOCK_TIMEOUT_S",
    "change_plan_status",
    "renumbered",
    "save_plan_to_workspace",
    "workspace_lock",
]
