"""A dispatch plan (调度方案): the solvers' decisions, the orders, and an audit snapshot of inputs.

A :class:`Plan` is an immutable record of plain data (no solver objects, no Scenario): it can be
saved as JSON into the workspace (``documents["plans"][plan.number]``), exported, and read back
equal (``Plan.from_json(p.to_json()) == p``). Its inputs snapshot (scenario name and content hash,
options, per-stage solver status and time) lets an auditor reproduce and check it later.

Numbering: a plan is numbered ``<PREFIX>-<YYYYMMDD>-<NNN>`` (e.g. ``HJ-20261122-001``) with the
date taken from the plan's creation time and a per-day sequence; its orders are numbered
``<plan number>-<NN>`` (``HJ-20261122-001-01``).

Status workflow (:data:`TRANSITIONS`): 草稿 → 已批准 → 已下达 → 执行中 → 已完成, and 已作废 from
any state that is not final (作废 needs a reason, kept as the step's note). Each step is recorded
as an :class:`Approval` (who, when, note); a plan cannot be issued before it is approved, nor
completed before it is executing. An approved plan may be sent back (已批准 → 草稿 with
:meth:`Plan.withdraw`) and approved again.

部分方案 (:attr:`Plan.partial`, persisted): a plan whose solve was cancelled, or a stage of
which ran out of time or failed and left work undone (:func:`solve_incomplete`). Approving
one needs an explicit confirmation (``approve(..., allow_partial=True)``); otherwise
:class:`PlanStatusError` says why.

Format versions: 1 (no ``partial``; it is derived from the stages when read) and 2.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import types
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from dispatch.records import (
    AllocationLine,
    Approval,
    DispatchOrder,
    EvacuationMove,
    IncidentOutcome,
    MaterialRef,
    OrderKind,
    Place,
    PlanInputs,
    PlanStatus,
    SafetyStockRelease,
    StageRun,
    TeamDispatch,
    VehicleRoute,
)
from dispatch.results import Reason, Status, Unserved
from gis.errors import ReliefDeskError, ValidationError
from gis.phrases import word

PLAN_FORMAT_VERSION = 2
DEFAULT_PREFIX = "HJ"

_NUMBER_RE = re.compile(r"^(?P<prefix>[A-Za-z0-9]+)-(?P<date>\d{8})-(?P<seq>\d{3,})$")


class PlanStatusError(ReliefDeskError):
    """A plan status change that the workflow does not allow (e.g. issuing a draft)."""


#: Allowed status changes: from → {to: action word recorded in the approval log}.
TRANSITIONS: Mapping[PlanStatus, Mapping[PlanStatus, str]] = {
    PlanStatus.DRAFT: {PlanStatus.APPROVED: "批准", PlanStatus.VOID: "作废"},
    PlanStatus.APPROVED: {
        PlanStatus.ISSUED: "下达",
        PlanStatus.DRAFT: "退回",
        PlanStatus.VOID: "作废",
    },
    PlanStatus.ISSUED: {PlanStatus.EXECUTING: "开始执行", PlanStatus.VOID: "作废"},
    PlanStatus.EXECUTING: {PlanStatus.COMPLETED: "完成", PlanStatus.VOID: "作废"},
    PlanStatus.COMPLETED: {},
    PlanStatus.VOID: {},
}


def workflow_step(
    label: str,
    status: PlanStatus,
    approvals: tuple[Approval, ...],
    to: PlanStatus | str,
    who: str,
    when: datetime,
    note: str = "",
    *,
    partial_text: str = "",
    allow_partial: bool = False,
) -> Approval:
    """The step (:class:`Approval`) that moves a record labelled ``label`` (``方案 HJ-…``) from
    ``status`` to ``to``; :class:`PlanStatusError` when :data:`TRANSITIONS` refuses it.

    The one definition of the workflow rules, used by :meth:`Plan.transition` and by other
    records that follow the same lifecycle (a warning's pre-positioning,
    :mod:`dispatch.warnings.lifecycle`). 作废 needs ``note`` (the reason); approving a record
    with a ``partial_text`` (部分方案) needs ``allow_partial``; a step may not be dated before
    the last of ``approvals``.
    """
    try:
        target = PlanStatus(to)
    except ValueError:
        allowed = "/".join(s.value for s in PlanStatus)
        raise PlanStatusError(f"{label}：未知状态 {to!r}（可选：{allowed}）") from None
    if not isinstance(who, str) or not who.strip():
        raise PlanStatusError(f"{label}：须填写{target.value}的经办人姓名")
    if not isinstance(when, datetime):
        raise PlanStatusError(f"{label}：时间须为 datetime，得到 {when!r}")
    allowed_next = TRANSITIONS[status]
    if target not in allowed_next:
        nxt = "、".join(s.value for s in allowed_next) or "无（已是最终状态）"
        raise PlanStatusError(
            f"{label}：不能从「{status.value}」改为「{target.value}」（可改为：{nxt}）"
        )
    note = (note or "").strip()
    if target == PlanStatus.VOID and not note:
        raise PlanStatusError(f"{label}：作废须填写原因")
    if target == PlanStatus.APPROVED and partial_text:
        if not allow_partial:
            raise PlanStatusError(
                f"{label} 是{partial_text}；批准部分方案须明确确认（命令行加 --allow-partial）"
            )
        note = "确认批准部分方案" + (f"；{note}" if note else "")
    if approvals and when < approvals[-1].when:
        raise PlanStatusError(
            f"{label}：时间 {when.isoformat()} 早于上一步（{approvals[-1].when.isoformat()}）"
        )
    return Approval(allowed_next[target], who.strip(), when, target, note)


#: Unserved reasons that mean "not computed", not "not possible".
_NOT_COMPUTED = (Reason.CANCELLED, Reason.TIME_LIMIT, Reason.FAILED)


def solve_incomplete(
    overall: Status, stages: Iterable[StageRun], unserved: Iterable[Unserved]
) -> bool:
    """True for a 部分方案: the run was cancelled, or a stage stopped (time limit, cancel) or
    failed before it finished its work, so needs were left out because they were not computed
    (reasons 计算已取消 / 计算超时 / 计算失败), not because they are impossible.

    A stage that reached its time limit with a complete result (status TIMEOUT: best found, not
    proven optimal — common on a loaded machine) does not make a plan partial.
    """
    return (
        overall == Status.CANCELLED
        or any(s.status == Status.CANCELLED for s in stages)
        or any(u.reason in _NOT_COMPUTED for u in unserved)
    )


#: id(plan.places) → (that tuple, id → place): the look-up index of recently used plans (the
#: tuple is held, so its id cannot be reused while the entry exists).
_PLACE_INDEX: dict[int, tuple[tuple[Place, ...], dict[str, Place]]] = {}
#: id(plan.unserved) → (that tuple, site id → its shortfalls), the same way.
_UNSERVED_INDEX: dict[int, tuple[tuple[Unserved, ...], dict[str, tuple[Unserved, ...]]]] = {}


#: Why a plan is a 部分方案 (:attr:`Plan.partial_text`), by cause.
PARTIAL_TEXTS: dict[str, str] = {
    "cancelled": "部分方案：计算被取消，未完成的部分未安排",
    "timeout": "部分方案：计算超时，未完成的部分未安排",
    "failed": "部分方案：部分计算步骤失败，相应需求未安排",
}


@dataclass(frozen=True, slots=True)
class Plan:
    """A dispatch plan. Immutable: workflow methods return a new Plan."""

    number: str
    created_at: datetime
    status: PlanStatus
    overall: Status  # worst solver status (CANCELLED if the user stopped the run)
    inputs: PlanInputs
    stages: tuple[StageRun, ...] = ()
    places: tuple[Place, ...] = ()
    allocation: tuple[AllocationLine, ...] = ()
    assignment: tuple[TeamDispatch, ...] = ()
    evacuation: tuple[EvacuationMove, ...] = ()
    routes: tuple[VehicleRoute, ...] = ()
    unserved: tuple[Unserved, ...] = ()
    incidents: tuple[IncidentOutcome, ...] = ()
    orders: tuple[DispatchOrder, ...] = ()
    approvals: tuple[Approval, ...] = ()
    materials: tuple[MaterialRef, ...] = ()
    safety_releases: tuple[SafetyStockRelease, ...] = ()
    #: 部分方案 (see the module docstring); None when built: derived from the stages
    partial: bool | None = None

    def __post_init__(self) -> None:
        if self.partial is None:  # a new plan, or one stored before format version 2
            derived = solve_incomplete(self.overall, self.stages, self.unserved)
            object.__setattr__(self, "partial", derived)

    # ---- look-ups ------------------------------------------------------------------------

    def place(self, place_id: str) -> Place | None:
        entry = _PLACE_INDEX.get(id(self.places))
        if entry is None or entry[0] is not self.places:  # exports ask thousands of times
            if len(_PLACE_INDEX) > 16:
                _PLACE_INDEX.clear()
            entry = (self.places, {p.id: p for p in reversed(self.places)})  # first one wins
            _PLACE_INDEX[id(self.places)] = entry
        return entry[1].get(place_id)

    def place_name(self, place_id: str) -> str:
        p = self.place(place_id)
        return p.name if p is not None else place_id

    def matches(self, scenario: Any) -> bool:
        """True if ``scenario`` has exactly the content this plan was computed from (audit)."""
        return scenario_hash(scenario) == self.inputs.scenario_hash

    def material_label(self, code: str, language: str = "zh_CN") -> str:
        """Name of a material code (or of the ``what`` of an Unserved record) in ``language``
        (English: the catalogue's ``name_en`` where the plan recorded one)."""
        special = {"visit": "配送车次", "people": "转移人员"}
        if code in special:
            return word(special[code], language)
        for m in self.materials:
            if m.code == code:
                return m.name_en if language == "en" and m.name_en else m.name
        return word(code, language)

    def material_unit(self, code: str, language: str = "zh_CN") -> str:
        for m in self.materials:
            if m.code == code:
                return word(m.unit, language)
        return word({"people": "人"}.get(code, ""), language)

    def order(self, number: str) -> DispatchOrder:
        for o in self.orders:
            if o.number == number:
                return o
        raise KeyError(number)

    @property
    def transfer_orders(self) -> tuple[DispatchOrder, ...]:
        return tuple(o for o in self.orders if o.kind == OrderKind.TRANSFER)

    @property
    def deploy_orders(self) -> tuple[DispatchOrder, ...]:
        return tuple(o for o in self.orders if o.kind == OrderKind.DEPLOY)

    @property
    def vehicles_used(self) -> int:
        return sum(1 for r in self.routes if any(t.stops for t in r.trips))

    @property
    def is_partial(self) -> bool:
        """部分方案: the solve stopped before finishing its work (persisted as ``partial``)."""
        return bool(self.partial)

    @property
    def partial_text(self) -> str:
        """Why this is a 部分方案 (one phrase), or '' when it is not one."""
        if not self.partial:
            return ""
        reasons = {u.reason for u in self.unserved}
        if (
            self.overall == Status.CANCELLED
            or any(s.status == Status.CANCELLED for s in self.stages)
            or Reason.CANCELLED in reasons
        ):
            return PARTIAL_TEXTS["cancelled"]
        if Reason.TIME_LIMIT in reasons:
            return PARTIAL_TEXTS["timeout"]
        return PARTIAL_TEXTS["failed"]

    @property
    def status_label(self) -> str:
        """``已批准`` or ``已批准（部分方案）``: the status as lists and headers show it."""
        return f"{self.status.value}（部分方案）" if self.partial else self.status.value

    @property
    def is_final(self) -> bool:
        return not TRANSITIONS[self.status]

    def allowed_next(self) -> tuple[PlanStatus, ...]:
        """The statuses this plan may move to now."""
        return tuple(TRANSITIONS[self.status])

    def unserved_for(self, site_id: str) -> tuple[Unserved, ...]:
        entry = _UNSERVED_INDEX.get(id(self.unserved))
        if entry is None or entry[0] is not self.unserved:  # the HTML map asks once per site
            if len(_UNSERVED_INDEX) > 16:
                _UNSERVED_INDEX.clear()
            index: dict[str, list[Unserved]] = {}
            for u in self.unserved:
                index.setdefault(u.site_id, []).append(u)
            entry = (self.unserved, {k: tuple(v) for k, v in index.items()})
            _UNSERVED_INDEX[id(self.unserved)] = entry
        return entry[1].get(site_id, ())

    @property
    def issued_at(self) -> datetime | None:
        for a in reversed(self.approvals):
            if a.to_status == PlanStatus.ISSUED:
                return a.when
        return None

    # ---- workflow ------------------------------------------------------------------------

    def transition(
        self,
        to: PlanStatus | str,
        who: str,
        when: datetime,
        note: str = "",
        *,
        allow_partial: bool = False,
    ) -> Plan:
        """Return this plan moved to status ``to``, the step recorded; PlanStatusError if illegal.

        作废 (VOID) needs ``note`` (the reason). Approving a 部分方案 needs ``allow_partial``
        (the confirmation is written into the step's note).
        """
        step = workflow_step(
            f"方案 {self.number}",
            self.status,
            self.approvals,
            to,
            who,
            when,
            note,
            partial_text=self.partial_text,
            allow_partial=allow_partial,
        )
        return dataclasses.replace(self, status=step.to_status, approvals=(*self.approvals, step))

    def approve(
        self, who: str, when: datetime, note: str = "", *, allow_partial: bool = False
    ) -> Plan:
        return self.transition(PlanStatus.APPROVED, who, when, note, allow_partial=allow_partial)

    def issue(self, who: str, when: datetime, note: str = "") -> Plan:
        return self.transition(PlanStatus.ISSUED, who, when, note)

    def start(self, who: str, when: datetime, note: str = "") -> Plan:
        """已下达 → 执行中."""
        return self.transition(PlanStatus.EXECUTING, who, when, note)

    def complete(self, who: str, when: datetime, note: str = "") -> Plan:
        return self.transition(PlanStatus.COMPLETED, who, when, note)

    def withdraw(self, who: str, when: datetime, note: str = "") -> Plan:
        return self.transition(PlanStatus.DRAFT, who, when, note)

    def void(self, who: str, when: datetime, reason: str) -> Plan:
        """Any non-final state → 已作废; ``reason`` is required."""
        return self.transition(PlanStatus.VOID, who, when, reason)

    # ---- JSON ----------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        data = to_jsonable(self)
        data["format_version"] = PLAN_FORMAT_VERSION
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Plan:
        if not isinstance(data, Mapping):
            raise ValidationError(f"plan JSON: expected an object, got {type(data).__name__}")
        version = data.get("format_version", PLAN_FORMAT_VERSION)
        if not isinstance(version, int) or version > PLAN_FORMAT_VERSION:
            raise ValidationError(
                f"plan JSON: format_version {version!r} is newer than supported "
                f"({PLAN_FORMAT_VERSION}); update ReliefDesk"
            )
        body = {k: v for k, v in data.items() if k != "format_version"}
        return from_jsonable(cls, body, "plan")

    def to_json(self, *, indent: int | None = 1) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=indent)

    @classmethod
    def from_json(cls, text: str) -> Plan:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValidationError(f"plan JSON: not valid JSON ({exc})") from None
        return cls.from_dict(data)


# --------------------------------------------------------------------------------------------
# Workspace documents: plans are stored as documents["plans"][plan.number] = JSON text
# --------------------------------------------------------------------------------------------

PLANS_DOCUMENT_KIND = "plans"


def with_plan(
    documents: Mapping[str, Mapping[str, str]] | None, plan: Plan
) -> dict[str, dict[str, str]]:
    """A copy of a workspace's ``documents`` with ``plan`` stored (or replaced) under "plans"."""
    out = {str(k): dict(v) for k, v in (documents or {}).items()}
    out.setdefault(PLANS_DOCUMENT_KIND, {})[plan.number] = plan.to_json(indent=None)
    return out


def plans_from_documents(documents: Mapping[str, Mapping[str, str]] | None) -> list[Plan]:
    """Every plan stored in a workspace's documents, oldest number first.

    A stored plan that cannot be read raises ValidationError naming its number.
    """
    out = []
    for number, text in sorted((documents or {}).get(PLANS_DOCUMENT_KIND, {}).items()):
        try:
            out.append(Plan.from_json(text))
        except ValidationError as exc:
            raise ValidationError(f"stored plan {number}: {exc}") from None
    return out


def step_log_entry(
    before: Any, after: Any, *, noun: str = "方案", key: str = "plan"
) -> dict[str, str]:
    """The event-log entry (:mod:`gis.event_log`) of the last step that made ``after``: a
    :class:`Plan`, or another record with ``number``, ``status`` and ``approvals`` following the
    same workflow (``noun`` names it, ``key`` is the entry's key for its number)."""
    step = after.approvals[-1]
    text = f"{noun} {after.number}：{step.action}（{step.who}）" + (
        f"：{step.note}" if step.note else ""
    )
    return {
        key: after.number,
        "incident": f"{noun} {after.number}",
        "from": before.status.value,
        "to": after.status.value,
        "who": step.who,
        "text": text,
    }


def stored_status_label(text: str) -> str:
    """The status label (``已批准``, ``草稿（部分方案）``) of a stored plan's JSON text, without
    building the Plan ('' when the text is not a plan): for plan lists."""
    try:
        data = json.loads(text)
        status = PlanStatus(data["status"]).value
    except (ValueError, KeyError, TypeError):
        return ""
    partial = data.get("partial")
    if partial is None:  # format 1: derive it
        try:
            plan = Plan.from_dict(data)
        except ValidationError:
            return status
        partial = plan.partial
    return f"{status}（部分方案）" if partial else status


# --------------------------------------------------------------------------------------------
# Numbering
# --------------------------------------------------------------------------------------------


def plan_number(prefix: str, when: datetime, seq: int) -> str:
    """``HJ-20261122-001`` from a prefix, the plan's time and a 1-based daily sequence."""
    if not re.fullmatch(r"[A-Za-z0-9]+", prefix or ""):
        raise ValidationError(f"plan number prefix must be letters/digits, got {prefix!r}")
    if not isinstance(seq, int) or seq < 1:
        raise ValidationError(f"plan sequence must be a whole number ≥ 1, got {seq!r}")
    return f"{prefix}-{when:%Y%m%d}-{seq:03d}"


def parse_plan_number(number: str) -> tuple[str, str, int] | None:
    """(prefix, YYYYMMDD, seq) of a plan number, or None if it is not one."""
    m = _NUMBER_RE.match(number or "")
    if m is None:
        return None
    return m["prefix"], m["date"], int(m["seq"])


def next_plan_number(existing: Iterable[str], prefix: str, when: datetime) -> str:
    """The next free number for ``prefix`` on ``when``'s day, given the numbers already used."""
    day = f"{when:%Y%m%d}"
    used = [
        p[2]
        for p in (parse_plan_number(n) for n in existing)
        if p is not None and p[0] == prefix and p[1] == day
    ]
    return plan_number(prefix, when, max(used, default=0) + 1)


# --------------------------------------------------------------------------------------------
# Scenario fingerprint
# --------------------------------------------------------------------------------------------


def _canonical(value: Any) -> Any:
    from shapely.geometry.base import BaseGeometry

    if isinstance(value, BaseGeometry):
        return {"wkb": value.wkb_hex}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            "__type__": type(value).__name__,
            **{
                f.name: _canonical(getattr(value, f.name))
                for f in dataclasses.fields(value)
                # fields added later say so: left out while empty, old fingerprints still match
                if not (f.metadata.get("omit_empty") and not getattr(value, f.name))
            },
        }
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def scenario_hash(scenario: Any) -> str:
    """SHA-256 of a scenario's content (entities, geometry as WKB, metadata): the audit key."""
    text = json.dumps(_canonical(scenario), ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------------------------
# Generic (de)serialisation of the frozen dataclasses above and in orders.py
# --------------------------------------------------------------------------------------------


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def to_jsonable(value: Any) -> Any:
    """``value`` (a frozen dataclass, enum, time, mapping, sequence or scalar) as JSON-ready
    data: dataclasses as objects of their fields, enums as their values, times in ISO 8601,
    NaN/inf as ``null``. Used by :class:`Plan` and by other plan-like records (the 预置方案)."""
    t = type(value)
    if t is str or t is int or t is bool or value is None:  # the bulk: fast paths first
        return value
    if t is float:
        return value if value == value and abs(value) != float("inf") else None
    if t is tuple or t is list:
        return [to_jsonable(v) for v in value]
    names = _FIELD_NAMES.get(t)
    if names is None and dataclasses.is_dataclass(value) and not isinstance(value, type):
        names = _FIELD_NAMES[t] = tuple(f.name for f in dataclasses.fields(value))
    if names is not None:
        return {n: to_jsonable(getattr(value, n)) for n in names}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, float) and not (value == value and abs(value) != float("inf")):
        return None  # NaN / inf are not JSON
    return value


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    if cls not in _HINTS:
        import sys

        module = sys.modules[cls.__module__]
        _HINTS[cls] = typing.get_type_hints(cls, globalns=vars(module))
    return _HINTS[cls]


def from_jsonable(tp: Any, data: Any, where: str) -> Any:
    """JSON-ready ``data`` read back as type ``tp`` (the inverse of :func:`to_jsonable`), checked
    as it goes: a mismatch raises ``ValidationError`` naming ``where`` (``plan.routes[2].id``)."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is Any:
        return data
    if origin in (typing.Union, types.UnionType):
        if data is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return from_jsonable(arg, data, where)
            except (ValidationError, TypeError, ValueError) as exc:
                errors.append(str(exc))
        raise ValidationError(f"plan JSON: {where}: {data!r} does not fit ({'; '.join(errors)})")
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        if not isinstance(data, Mapping):
            raise ValidationError(f"plan JSON: {where}: expected an object, got {data!r}")
        hints = _hints(tp)
        kwargs = {}
        for f in dataclasses.fields(tp):
            if f.name in data:
                kwargs[f.name] = from_jsonable(hints[f.name], data[f.name], f"{where}.{f.name}")
            elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise ValidationError(f"plan JSON: {where}: missing field {f.name!r}")
        try:
            return tp(**kwargs)
        except ValidationError as exc:
            raise ValidationError(f"plan JSON: {where}: {exc}") from None
    if origin is tuple:
        if not isinstance(data, list | tuple):
            raise ValidationError(f"plan JSON: {where}: expected a list, got {data!r}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(from_jsonable(args[0], v, f"{where}[{i}]") for i, v in enumerate(data))
        if len(args) != len(data):
            raise ValidationError(f"plan JSON: {where}: expected {len(args)} items, got {data!r}")
        return tuple(
            from_jsonable(a, v, f"{where}[{i}]") for i, (a, v) in enumerate(zip(args, data))
        )
    if origin in (Mapping, dict, typing.Mapping) or tp in (dict, Mapping):
        if not isinstance(data, Mapping):
            raise ValidationError(f"plan JSON: {where}: expected an object, got {data!r}")
        vt = args[1] if len(args) == 2 else Any
        return {str(k): from_jsonable(vt, v, f"{where}[{k!r}]") for k, v in data.items()}
    if isinstance(tp, type) and issubclass(tp, Enum):
        try:
            return tp(data)
        except ValueError:
            raise ValidationError(f"plan JSON: {where}: {data!r} is not a {tp.__name__}") from None
    if tp is datetime:
        if not isinstance(data, str):
            raise ValidationError(f"plan JSON: {where}: expected an ISO time, got {data!r}")
        try:
            return datetime.fromisoformat(data)
        except ValueError:
            raise ValidationError(f"plan JSON: {where}: {data!r} is not an ISO time") from None
    if tp is float:
        if isinstance(data, bool) or not isinstance(data, int | float):
            raise ValidationError(f"plan JSON: {where}: expected a number, got {data!r}")
        return data
    if tp is int:
        if isinstance(data, bool) or not isinstance(data, int):
            raise ValidationError(f"plan JSON: {where}: expected a whole number, got {data!r}")
        return data
    if tp is str:
        if not isinstance(data, str):
            raise ValidationError(f"plan JSON: {where}: expected text, got {data!r}")
        return data
    if tp is bool:
        if not isinstance(data, bool):
            raise ValidationError(f"plan JSON: {where}: expected true/false, got {data!r}")
        return data
    return data


__all__ = [
    "DEFAULT_PREFIX",
    "PLAN_FORMAT_VERSION",
    "TRANSITIONS",
    "PLANS_DOCUMENT_KIND",
    "from_jsonable",
    "to_jsonable",
    "Plan",
    "PlanStatus",
    "PlanStatusError",
    "next_plan_number",
    "parse_plan_number",
    "plan_number",
    "plans_from_documents",
    "scenario_hash",
    "solve_incomplete",
    "step_log_entry",
    "workflow_step",
    "stored_status_label",
    "with_plan",
]
