"""Filing a warning and its pre-positioning moves in the workspace (``app.py warn --save``).

Under the workspace lock of :mod:`dispatch.plan_store` the workspace is re-read; when its
scenario changed since the plan was computed, nothing is saved. Otherwise, in one atomic write
(:func:`gis.workspace.write_workspace`): the warning with its moves
(:func:`gis.hazard_warnings.with_warning`); the 预置方案 record in status 草稿
(:class:`dispatch.warnings.lifecycle.PrepositionRecord`: the plan lifecycle, its stock lines are
pending transfers until it is 已完成); one event-log entry; and the moved teams set to 待命
(:func:`standby_teams`). The planner only moves teams that are 待命 when it runs, so on a fresh
plan this confirms their status; a team rested (休整) since is called back to 待命, a team sent
out (出动) since refuses the issue (it is busy elsewhere). The teams stay at their bases in the
workspace until the 预置派遣令 are carried out. Stock is not moved in the ledger: the 预置调拨单
are orders, not receipts.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from dispatch.plan import scenario_hash
from dispatch.plan_store import workspace_lock
from dispatch.warnings.lifecycle import PrepositionRecord, preposition_number, with_preposition
from dispatch.warnings.preposition import PrepositionPlan
from gis.errors import WorkspaceError
from gis.event_log import with_log_entry
from gis.hazard_warnings import WARNINGS_DOCUMENT_KIND, HazardWarning, WarningError, with_warning
from gis.model import Scenario, TeamStatus

__all__ = ["not_filed", "preposition_record", "save_warning", "standby_teams", "warning_record"]


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


def standby_teams(scenario: Scenario, team_ids: Iterable[str]) -> tuple[Scenario, tuple[str, ...]]:
    """``scenario`` with the teams ``team_ids`` set to 待命, and the ids whose status changed.

    :class:`WarningError` (nothing changed) when a team is missing or 出动 (sent to an incident
    meanwhile: pre-positioning must not pull it back)."""
    teams = {t.id: t for t in scenario.teams}
    ids = sorted(set(team_ids))
    missing = [i for i in ids if i not in teams]
    if missing:
        raise WarningError(f"预置队伍不在工作区中：{'、'.join(missing)}")
    busy = [teams[i].name for i in ids if teams[i].status == TeamStatus.DEPLOYED]
    if busy:
        raise WarningError(f"队伍已出动，不能预置待命：{'、'.join(busy)}（请重新计算预置）")
    changed = tuple(i for i in ids if teams[i].status != TeamStatus.STANDBY)
    for i in changed:
        scenario = scenario.upsert(dataclasses.replace(teams[i], status=TeamStatus.STANDBY))
    return scenario, changed


def not_filed(documents: Mapping[str, Mapping[str, str]] | None, warning_id: str) -> None:
    """:class:`WarningError` when warning ``warning_id`` is already filed (issuing it again would
    put its 预置方案 back to 草稿)."""
    if warning_id in (documents or {}).get(WARNINGS_DOCUMENT_KIND, {}):
        raise WarningError(f"预警 {warning_id} 已发布，不能重复发布（请重新计算后再发布）")


def preposition_record(warning: HazardWarning, computed_from: str) -> PrepositionRecord:
    """The 预置方案 of ``warning`` in status 草稿 (:mod:`dispatch.warnings.lifecycle`)."""
    return PrepositionRecord(
        number=preposition_number(warning.id),
        warning_id=warning.id,
        created_at=warning.issued_at,
        scenario_hash=computed_from,
        moves=warning.moves,
        teams_standby=tuple(sorted({m["team_id"] for m in warning.moves if m["kind"] == "team"})),
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
        not_filed(full.documents, warning.id)
        moved = {m["team_id"] for m in doc["moves"] if m["kind"] == "team"}
        scenario, _changed = standby_teams(full.scenario, moved)
        record = preposition_record(warning, scenario_hash(full.scenario))
        hazards = "、".join(h.name for h in plan.hazards)
        docs = with_log_entry(
            with_preposition(with_warning(full.documents, warning), record),
            {
                "warning": warning.id,
                "incident": f"预警 {warning.id}",
                "from": "",
                "to": f"{warning.colour_zh}预警",
                "text": f"发布{warning.colour_zh}预警（{hazards}），有效至 "
                f"{warning.valid_until.isoformat(timespec='minutes')}；预置 "
                f"{doc['movements']} 次调动，{len(moved)} 支队伍待命；预置方案 {record.number}"
                "（草稿）",
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
