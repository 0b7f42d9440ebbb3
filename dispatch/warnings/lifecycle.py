"""A warning's pre-positioning as a record with the dispatch plans' lifecycle (预置方案).

Filed when a warning is issued with its pre-positioning (``app.py warn --save``, the desk's
发布预警): the moves (预置调拨单 lines and 预置派遣令 teams), the teams set to 待命, the
scenario hash it was computed from, and the status 草稿 → 已批准 → 已下达 → 执行中 → 已完成, or
已作废 with a reason. Every step goes through :func:`dispatch.plan.workflow_step` — the one
definition of the rules that :meth:`dispatch.plan.Plan.transition` uses — and is logged with
:func:`dispatch.plan.step_log_entry` (key ``preposition``).

Why not a :class:`dispatch.plan.Plan`: a Plan's lines point at incidents (``AllocationLine.
site_id``, ``TeamDispatch.incident_id``, ``IncidentOutcome``) and its orders carry routed legs;
pre-positioning sends stock and teams to staging points for design incidents that do not exist
in the workspace. Filing it as a Plan would put fake incidents into the dispatch desk's lists,
exports and re-plans. So the record keeps the same status vocabulary
(:class:`dispatch.records.PlanStatus`), steps (:class:`dispatch.records.Approval`) and transition
function, and stores its own move lines; JSON goes through the plans' generic (de)serialiser.

Stock is not moved in the stockpile ledger by any step: while the record is not 已完成 or
已作废 its stock lines are pending transfers (:meth:`PrepositionRecord.pending_transfers`); the
ledger changes when the stock is received and entered there.

Stored in the workspace documents under :data:`PREPOSITIONS_DOCUMENT_KIND`, keyed by number.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from dispatch.plan import from_jsonable, step_log_entry, to_jsonable, workflow_step
from dispatch.records import Approval, PlanStatus
from gis.errors import ValidationError, WorkspaceError
from gis.event_log import with_log_entry

__all__ = [
    "PREPOSITIONS_DOCUMENT_KIND",
    "PrepositionRecord",
    "change_preposition_status",
    "find_preposition",
    "is_preposition_number",
    "preposition_number",
    "read_prepositions",
    "step",
    "stepped",
    "with_preposition",
]

PREPOSITIONS_DOCUMENT_KIND = "prepositions"
FORMAT_VERSION = 1


def preposition_number(warning_id: str) -> str:
    """The pre-positioning record's number: ``<warning id>-YZ`` (one per warning)."""
    return f"{warning_id}-YZ"


def is_preposition_number(number: str) -> bool:
    """True for a 预置方案 number (:func:`preposition_number`), not a dispatch plan's."""
    return str(number).startswith("YJ-") and str(number).endswith("-YZ")


@dataclass(frozen=True, slots=True)
class PrepositionRecord:
    """预置方案: a warning's moves with the plan lifecycle. Immutable; steps return a new one."""

    number: str
    warning_id: str
    created_at: datetime
    scenario_hash: str
    moves: tuple[Mapping[str, Any], ...] = ()
    teams_standby: tuple[str, ...] = ()
    status: PlanStatus = PlanStatus.DRAFT
    approvals: tuple[Approval, ...] = ()
    note: str = ""

    @property
    def is_final(self) -> bool:
        return self.status in (PlanStatus.COMPLETED, PlanStatus.VOID)

    @property
    def pending_transfers(self) -> tuple[Mapping[str, Any], ...]:
        """The stock lines not yet carried out (none once 已完成 or 已作废)."""
        if self.is_final:
            return ()
        return tuple(m for m in self.moves if m.get("kind") == "stock")

    def allowed_next(self) -> tuple[PlanStatus, ...]:
        from dispatch.plan import TRANSITIONS

        return tuple(TRANSITIONS[self.status])

    def transition(
        self, to: PlanStatus | str, who: str, when: datetime, note: str = ""
    ) -> PrepositionRecord:
        """This record moved to ``to`` (:func:`dispatch.plan.workflow_step`'s rules)."""
        step = workflow_step(f"预置方案 {self.number}", self.status, self.approvals, to, who,
                             when, note)  # fmt: skip
        return replace(self, status=step.to_status, approvals=(*self.approvals, step))

    def to_json(self) -> str:
        data = to_jsonable(self)
        data["format_version"] = FORMAT_VERSION
        return json.dumps(data, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> PrepositionRecord:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValidationError(f"pre-positioning record: not valid JSON ({exc})") from None
        if not isinstance(data, dict):
            raise ValidationError("pre-positioning record: expected an object")
        version = data.pop("format_version", FORMAT_VERSION)
        if version != FORMAT_VERSION:
            raise ValidationError(f"pre-positioning record: unknown format_version {version!r}")
        return from_jsonable(cls, data, "preposition")


def with_preposition(
    documents: Mapping[str, Mapping[str, str]] | None, record: PrepositionRecord
) -> dict[str, dict[str, str]]:
    """A copy of ``documents`` with ``record`` stored (replacing one with the same number)."""
    docs = {str(k): dict(v) for k, v in (documents or {}).items()}
    docs.setdefault(PREPOSITIONS_DOCUMENT_KIND, {})[record.number] = record.to_json()
    return docs


def read_prepositions(
    documents: Mapping[str, Mapping[str, str]] | None,
) -> tuple[PrepositionRecord, ...]:
    """The stored records, oldest number first; an unreadable one raises naming its number."""
    out = []
    for number, text in sorted((documents or {}).get(PREPOSITIONS_DOCUMENT_KIND, {}).items()):
        try:
            out.append(PrepositionRecord.from_json(text))
        except ValidationError as exc:
            raise ValidationError(f"stored pre-positioning {number}: {exc}") from None
    return tuple(out)


def find_preposition(
    documents: Mapping[str, Mapping[str, str]] | None, number: str
) -> PrepositionRecord:
    """The stored record ``number`` (or the one of warning ``number``); ValidationError if none."""
    for r in read_prepositions(documents):
        if number in (r.number, r.warning_id):
            return r
    raise ValidationError(f"工作区中没有预置方案 {number}")


def step(
    documents: Mapping[str, Mapping[str, str]] | None,
    number: str,
    to: PlanStatus | str,
    who: str,
    when: datetime,
    note: str = "",
) -> tuple[PrepositionRecord, dict[str, str]]:
    """The stored record ``number`` moved to ``to``, and the step's event-log entry."""
    before = find_preposition(documents, number)
    after = before.transition(to, who, when, note)
    return after, step_log_entry(before, after, noun="预置方案", key="preposition")


def stepped(
    documents: Mapping[str, Mapping[str, str]] | None,
    number: str,
    to: PlanStatus | str,
    who: str,
    when: datetime,
    note: str = "",
) -> tuple[PrepositionRecord, dict[str, dict[str, str]]]:
    """The record moved to ``to`` (:func:`step`) and ``documents`` with it stored and logged."""
    after, log = step(documents, number, to, who, when, note)
    return after, with_log_entry(with_preposition(documents, after), log, now=when)


def change_preposition_status(
    workspace: Path,
    number: str,
    to: PlanStatus | str,
    who: str,
    *,
    note: str = "",
    when: datetime | None = None,
) -> PrepositionRecord:
    """Step the stored record in ``workspace`` (atomic, under the workspace lock); a refused
    step raises :class:`dispatch.plan.PlanStatusError` and nothing is written."""
    from dispatch.plan_store import workspace_lock
    from gis.workspace import read_workspace, write_workspace

    workspace = Path(workspace)
    with workspace_lock(workspace):
        full = read_workspace(workspace, include_roads=True)
        try:
            after, docs = stepped(
                full.documents, number, to, who, when or datetime.now().astimezone(), note
            )
        except ValidationError as exc:
            raise WorkspaceError(str(exc), path=str(workspace)) from None
        write_workspace(
            workspace,
            full.scenario,
            road_nodes=full.road_nodes,
            road_edges=full.road_edges,
            documents=docs,
        )
    return after
