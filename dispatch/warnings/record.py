"""Filing a warning and its pre-positioning moves in the workspace (``app.py warn --save``).

Under the workspace lock of :mod:`dispatch.plan_store` the workspace is re-read; when its
scenario changed since the plan was computed, nothing is saved. Otherwise, in one atomic write
(:func:`gis.workspace.write_workspace`): the warning with its moves
(:func:`gis.hazard_warnings.with_warning`), one event-log entry, and the moved teams set to 待命
(only teams on standby are moved, so their status is confirmed, not changed; the teams stay at
their bases in the workspace until the 预置派遣令 are carried out). Stock is not moved in the
ledger either: the 预置调拨单 are orders, not receipts.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from dispatch.plan import scenario_hash
from dispatch.plan_store import workspace_lock
from dispatch.warnings.preposition import PrepositionPlan
from gis.errors import WorkspaceError
from gis.event_log import with_log_entry
from gis.hazard_warnings import HazardWarning, with_warning
from gis.model import TeamStatus

__all__ = ["save_warning", "warning_record"]


def warning_record(plan: PrepositionPlan, doc: dict[str, Any]) -> HazardWarning:
    """The warning as stored: colour, times, hazards and the plan's move lines."""
    keep = ("kind", "from_id", "to_id", "material", "quantity", "team_id")
    return HazardWarning(
        id=doc["warning"]["id"],
        colour=plan.request.colour,
        issued_at=plan.issued_at,
        valid_until=plan.valid_until,
        hazard_ids=tuple(h.id for h in plan.hazards),
        note=f"预置方案 {doc['status_zh']}：{doc['movements']} 次调动",
        moves=tuple({k: m[k] for k in keep if k in m} for m in doc["moves"]),
    )


def save_warning(
    workspace: Path, plan: PrepositionPlan, doc: dict[str, Any], *, expected_hash: str = ""
) -> HazardWarning:
    """Record the warning and its moves atomically (module doc); returns the stored warning.

    ``expected_hash``: the scenario hash the plan was computed from (default: the scenario read
    now — the command reads and saves within one run).
    """
    from gis.workspace import read_workspace, write_workspace

    workspace = Path(workspace)
    warning = warning_record(plan, doc)
    with workspace_lock(workspace):
        full = read_workspace(workspace, include_roads=True)
        if expected_hash and scenario_hash(full.scenario) != expected_hash:
            raise WorkspaceError(
                "the workspace changed while the pre-positioning was computed; not saved",
                path=str(workspace),
            )
        scenario = full.scenario
        moved = {m["team_id"] for m in doc["moves"] if m["kind"] == "team"}
        for t in scenario.teams:
            if t.id in moved and t.status != TeamStatus.STANDBY:
                scenario = scenario.upsert(dataclasses.replace(t, status=TeamStatus.STANDBY))
        hazards = "、".join(h.name for h in plan.hazards)
        docs = with_log_entry(
            with_warning(full.documents, warning),
            {
                "warning": warning.id,
                "incident": f"预警 {warning.id}",
                "from": "",
                "to": f"{warning.colour_zh}预警",
                "text": f"发布{warning.colour_zh}预警（{hazards}），有效至 "
                f"{warning.valid_until.isoformat(timespec='minutes')}；预置 "
                f"{doc['movements']} 次调动，{len(moved)} 支队伍待命",
            },
            now=plan.issued_at,
        )
        write_workspace(
            workspace,
            scenario,
            road_nodes=full.road_nodes,
            road_edges=full.road_edges,
            documents=docs,
        )
    return warning
