"""After-action review (复盘) of a real event from a workspace's event log (issue 14 §5).

Qt-free. From the event log (:mod:`gis.event_log`: incident status steps 接报 → 研判 → 调度 →
处置中 → 结束, information reports, plan workflow steps), the incidents' and closures' own
times and the plans stored in the workspace, :func:`review` builds:

- **a timeline** of what was known and decided when: each entry with its time, the incidents
  known by then and the plan in force (the last plan issued, 已下达, and not yet voided or
  completed);
- **information reports** (信息报告): per incident the time it was received (its 接报 entry,
  else ``Incident.reported_at``), the deadline for the first report upward (首报) by response
  level and category (:class:`ReportDeadlines`: configurable; the defaults and their sources are
  :data:`DEFAULT_RULES`), the first report logged, and the state 按时 / 迟报 / 未报（已超时） /
  未报（未到时限）;
- **decisions against the optimiser**: at each moment something became known (an incident
  received, a closure began) or a plan was issued, the scenario *as then known* (incidents
  received by then, not yet 结束, their deadlines shortened by the time since 接报; closures in
  force) is re-planned with :func:`dispatch.pipeline.plan_dispatch` (``seconds`` each) and
  compared with the plan in force then (:func:`dispatch.drills.compare.compare_plans`).

Times: the log stores ISO times with an offset, incidents and closures often naive local times;
both are compared as the wall-clock time written (an offset is dropped, not converted), so a
log written in one time zone is consistent. What the scenario as then known cannot know: an
incident's level, people and needs are the workspace's current ones (the log records status
steps, not edits of those fields); stockpile stock and team status are the current ones too.
The review's ``notes`` say so.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from dispatch.drills.compare import compare_plans
from dispatch.drills.runner import remaining_deadlines
from dispatch.options import DispatchOptions
from dispatch.plan import Plan, PlanStatus
from gis.errors import ValidationError
from gis.event_log import REPORT_KEY, log_entries
from gis.model import LEVEL_ROMAN, Incident, IncidentStatus, Scenario

#: at most this many re-planned moments (the earliest first); the rest are listed, not re-planned
MAX_MOMENTS = 8


@dataclass(frozen=True)
class ReportRule:
    """Minutes from 接报 to the first report upward (首报) for a level and/or category."""

    minutes: float
    source: str
    level: int | None = None  # 1..4 = I..IV; None: any level
    category: str | None = None  # IncidentCategory value; None: any category
    assumption: bool = False  # the default is not stated by the source as such

    def matches(self, level: int, category: str) -> bool:
        return (self.level is None or self.level == level) and (
            self.category is None or self.category == category
        )

    @property
    def specificity(self) -> int:
        return (self.level is not None) + 2 * (self.category is not None)


_PLAN_2006 = (
    "《国家突发公共事件总体应急预案》（国务院，2006）4.2 信息报告：特别重大或者重大突发公共事件"
    "发生后要立即报告，最迟不得超过 4 小时（按原文记忆引用，本版本未对照官方文本复核）"
)
_REG_493 = (
    "《生产安全事故报告和调查处理条例》（国务院令第 493 号，2007）第十一条：安全生产监督管理"
    "部门和负有安全生产监督管理职责的有关部门逐级上报事故情况，每级上报的时间不得超过 2 小时"
)

#: the built-in deadlines for the first report upward after 接报 (see README "After-action review")
DEFAULT_RULES: tuple[ReportRule, ...] = (
    ReportRule(120, _REG_493, category="事故灾难"),
    ReportRule(
        120,
        _PLAN_2006 + "；默认取 2 小时为假设（许多省级总体预案对特别重大、重大事件要求更短），"
        "请按本县预案设置",
        level=1,
        assumption=True,
    ),
    ReportRule(
        120,
        _PLAN_2006 + "；默认取 2 小时为假设（同上），请按本县预案设置",
        level=2,
        assumption=True,
    ),
    ReportRule(
        240,
        _PLAN_2006 + "；该 4 小时原文针对特别重大、重大事件，用于较大事件为假设",
        level=3,
        assumption=True,
    ),
    ReportRule(
        240,
        _PLAN_2006 + "；该 4 小时原文针对特别重大、重大事件，用于一般事件为假设",
        level=4,
        assumption=True,
    ),
)


@dataclass(frozen=True)
class ReportDeadlines:
    """The rules in force; the most specific matching rule wins (category and level > category
    > level), ties: the shorter deadline."""

    rules: tuple[ReportRule, ...] = DEFAULT_RULES

    def rule_for(self, level: int, category: str) -> ReportRule | None:
        found = [r for r in self.rules if r.matches(level, category)]
        if not found:
            return None
        return min(found, key=lambda r: (-r.specificity, r.minutes))


_LEVELS = {"I": 1, "II": 2, "III": 3, "IV": 4, "1": 1, "2": 2, "3": 3, "4": 4}


def load_deadlines(path: Path) -> ReportDeadlines:
    """Read a deadlines file: ``{"first_report": [{"level": "II", "category": "事故灾难",
    "minutes": 60, "source": "..."}, ...]}`` (level and category optional; replaces the
    defaults). Errors name the file and the rule."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        items = data["first_report"]
        if not isinstance(items, list) or not items:
            raise ValueError("'first_report' must be a non-empty list")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValidationError(f"deadlines file {path}: {exc}") from None
    rules = []
    for n, item in enumerate(items, start=1):
        where = f"deadlines file {path}: rule #{n}"
        if not isinstance(item, dict):
            raise ValidationError(f"{where} is not an object")
        level = item.get("level")
        if level is not None and str(level).upper() not in _LEVELS:
            raise ValidationError(f"{where}: level must be I, II, III or IV, got {level!r}")
        category = item.get("category")
        if category is not None and category not in {c.value for c in _categories()}:
            raise ValidationError(f"{where}: unknown category {category!r}")
        minutes = item.get("minutes")
        if isinstance(minutes, bool) or not isinstance(minutes, int | float) or not minutes > 0:
            raise ValidationError(f"{where}: minutes must be a number > 0, got {minutes!r}")
        rules.append(
            ReportRule(
                float(minutes),
                str(item.get("source") or "本县设置"),
                None if level is None else _LEVELS[str(level).upper()],
                category,
                bool(item.get("assumption", False)),
            )
        )
    return ReportDeadlines(tuple(rules))


def _categories() -> Any:
    from gis.vocabulary import IncidentCategory

    return IncidentCategory


def wall(value: Any) -> datetime | None:
    """A time as its wall-clock value (offset dropped; see the module docstring)."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if not isinstance(value, datetime):
        return None
    return value.replace(tzinfo=None)


def _iso(t: datetime | None) -> str | None:
    return None if t is None else t.isoformat(timespec="minutes")


@dataclass(frozen=True)
class Event:
    """One event-log entry with its wall-clock time."""

    time: datetime
    entry: Mapping[str, Any]

    @property
    def incident_id(self) -> str:
        return str(self.entry.get("incident_id") or "")

    @property
    def kind(self) -> str:
        e = self.entry
        if REPORT_KEY in e:
            return "信息报告"
        if e.get("plan"):
            return "方案"
        if e.get("closure_id"):
            return "道路"
        if e.get("incident_id"):
            return "事件状态"
        return "其他"


def events(documents: Mapping[str, Mapping[str, str]] | None) -> list[Event]:
    """The log's entries with a readable time, in time order (ties: log order)."""
    out = []
    for e in log_entries(documents):
        t = wall(e.get("time"))
        if t is not None:
            out.append(Event(t, e))
    return sorted(out, key=lambda ev: ev.time)


def received_times(scenario: Scenario, evs: Sequence[Event]) -> dict[str, datetime]:
    """Per incident: its first 接报 entry, else its ``reported_at``."""
    out: dict[str, datetime] = {}
    for ev in evs:
        if ev.kind == "事件状态" and ev.entry.get("to") == IncidentStatus.REPORTED.value:
            out.setdefault(ev.incident_id, ev.time)
    for inc in scenario.incidents:
        t = wall(inc.reported_at)
        if inc.id not in out and t is not None:
            out[inc.id] = t
    return out


def status_at(incident_id: str, evs: Sequence[Event], when: datetime) -> str | None:
    """The incident's status by its last status entry at or before ``when`` (None: none)."""
    status = None
    for ev in evs:
        if ev.time > when:
            break
        if ev.kind == "事件状态" and ev.incident_id == incident_id and ev.entry.get("to"):
            status = str(ev.entry["to"])
    return status


def plan_in_force(plans: Sequence[Plan], when: datetime) -> Plan | None:
    """The plan last issued (已下达) at or before ``when`` and not voided or completed by then."""
    best: tuple[datetime, Plan] | None = None
    for p in plans:
        issued = [wall(a.when) for a in p.approvals if a.to_status == PlanStatus.ISSUED]
        issued_t = [t for t in issued if t is not None and t <= when]
        if not issued_t:
            continue
        ended = any(
            a.to_status in (PlanStatus.VOID, PlanStatus.COMPLETED)
            and (wall(a.when) or when) <= when
            for a in p.approvals
        )
        if ended:
            continue
        t = max(issued_t)
        if best is None or t > best[0]:
            best = (t, p)
    return None if best is None else best[1]


def scenario_as_known(
    scenario: Scenario, evs: Sequence[Event], received: Mapping[str, datetime], when: datetime
) -> Scenario:
    """The scenario as known at ``when``: incidents received by then and not 结束 (status as
    logged then), closures begun and not ended, deadlines shortened by the time since 接报."""
    incidents = []
    for inc in scenario.incidents:
        t = received.get(inc.id)
        if t is None or t > when:
            continue
        status = status_at(inc.id, evs, when) or inc.status.value
        if status == IncidentStatus.CLOSED.value:
            continue
        try:
            incidents.append(dataclasses.replace(inc, status=IncidentStatus(status)))
        except ValueError:  # a status word the vocabulary does not know: keep the current one
            incidents.append(inc)
    closures = tuple(
        c
        for c in scenario.closures
        if (c.since is None or wall(c.since) <= when)  # type: ignore[operator]
        and (c.until is None or wall(c.until) > when)  # type: ignore[operator]
    )
    known = dataclasses.replace(scenario, incidents=tuple(incidents), closures=closures)
    return remaining_deadlines(known, dict(received), when)


def report_checks(
    incidents: Sequence[Incident],
    evs: Sequence[Event],
    received: Mapping[str, datetime],
    deadlines: ReportDeadlines,
    as_of: datetime,
) -> list[dict[str, Any]]:
    """Per incident: received, rule, due, first report, state, minutes late."""
    out = []
    for inc in incidents:
        got = received.get(inc.id)
        rule = deadlines.rule_for(int(inc.level), inc.category.value)
        reports = [ev for ev in evs if ev.kind == "信息报告" and ev.incident_id == inc.id]
        first = reports[0].time if reports else None
        row: dict[str, Any] = {
            "incident_id": inc.id,
            "name": inc.name,
            "level": LEVEL_ROMAN.get(int(inc.level), str(inc.level)),
            "category": inc.category.value,
            "received": _iso(got),
            "deadline_min": None if rule is None else rule.minutes,
            "due": None,
            "first_report": _iso(first),
            "reports": len(reports),
            "state": "无时限规则",
            "late_min": None,
            "overdue": False,
            "source": None if rule is None else rule.source,
            "assumption": None if rule is None else rule.assumption,
        }
        if rule is not None and got is not None:
            due = got + timedelta(minutes=rule.minutes)
            row["due"] = _iso(due)
            if first is not None:
                late = (first - due).total_seconds() / 60.0
                row["state"] = "迟报" if late > 0 else "按时"
                row["late_min"] = round(late, 1) if late > 0 else 0.0
                row["overdue"] = late > 0
            elif as_of > due:
                row["state"] = "未报（已超时）"
                row["late_min"] = round((as_of - due).total_seconds() / 60.0, 1)
                row["overdue"] = True
            else:
                row["state"] = "未报（未到时限）"
        out.append(row)
    return out


def _known_text(known: Scenario) -> str:
    return f"已知事件 {len(known.incidents)} 起，封闭道路 {len(known.closures)} 处"


def timeline(
    scenario: Scenario,
    evs: Sequence[Event],
    received: Mapping[str, datetime],
    plans: Sequence[Plan],
    incident: str | None,
) -> list[dict[str, Any]]:
    """The log's entries (and receipts or closures the log does not hold), in time order."""
    rows: list[tuple[datetime, str, str, str]] = []
    logged = {ev.incident_id for ev in evs if ev.entry.get("to") == IncidentStatus.REPORTED.value}
    for ev in evs:
        text = str(ev.entry.get("text") or f"{ev.entry.get('from', '')} → {ev.entry.get('to', '')}")
        rows.append((ev.time, ev.kind, ev.incident_id, text))
    for inc in scenario.incidents:
        if inc.id not in logged and inc.id in received:
            rows.append(
                (received[inc.id], "事件状态", inc.id, f"{inc.name}：接报（事件的接报时间）")
            )
    for c in scenario.closures:
        if c.since is not None:
            rows.append((wall(c.since), "道路", "", f"道路封闭 {c.id}：{c.reason or '—'}"))  # type: ignore[arg-type]
    rows.sort(key=lambda r: r[0])
    out = []
    for t, kind, iid, text in rows:
        if incident and iid and iid != incident:
            continue
        known = scenario_as_known(scenario, evs, received, t)
        p = plan_in_force(plans, t)
        out.append(
            {
                "time": _iso(t),
                "kind": kind,
                "incident_id": iid or None,
                "text": text,
                "known": _known_text(known),
                "plan_in_force": None if p is None else p.number,
            }
        )
    return out


def moments(
    scenario: Scenario,
    evs: Sequence[Event],
    received: Mapping[str, datetime],
    plans: Sequence[Plan],
    incident: str | None,
) -> list[tuple[datetime, str]]:
    """When something became known or a plan was issued: (time, what), earliest first."""
    found: dict[datetime, list[str]] = {}
    names = {i.id: i.name for i in scenario.incidents}
    for iid, t in received.items():
        if incident is None or iid == incident:
            found.setdefault(t, []).append(f"接报 {names.get(iid, iid)}")
    for c in scenario.closures:
        t = wall(c.since)
        if t is not None:
            found.setdefault(t, []).append(f"道路封闭 {c.id}")
    for p in plans:
        for a in p.approvals:
            t = wall(a.when)
            if a.to_status == PlanStatus.ISSUED and t is not None:
                found.setdefault(t, []).append(f"方案 {p.number} 下达")
    return [(t, "；".join(found[t])) for t in sorted(found)]


def _brief(cmp: Mapping[str, Any], incident: str | None) -> dict[str, Any]:
    rows = [i for i in cmp["incidents"] if incident is None or i["incident_id"] == incident]
    return {**cmp, "incidents": rows}


def review(
    scenario: Scenario,
    documents: Mapping[str, Mapping[str, str]] | None,
    plans: Sequence[Plan],
    *,
    replan: Callable[[Scenario, datetime], Plan] | None,
    deadlines: ReportDeadlines = ReportDeadlines(),
    incident: str | None = None,
    as_of: datetime | None = None,
    max_moments: int = MAX_MOMENTS,
) -> dict[str, Any]:
    """The review as plain data (review.json's content but the workspace fields).

    ``replan(known_scenario, when)`` makes the optimiser's plan at a moment (None: no re-runs);
    ``as_of``: when unreported incidents are judged (default: now, or the last log time if later).
    A re-planned moment also carries ``"_plans"``: the plan in force (or None) and the proposed
    plan as objects, for maps; :mod:`dispatch.drills.review_cli` removes them before writing.
    """
    if incident is not None and incident not in {i.id for i in scenario.incidents}:
        have = "、".join(i.id for i in scenario.incidents) or "无"
        raise ValidationError(f"--incident {incident}: no such incident (incidents: {have})")
    evs = events(documents)
    received = received_times(scenario, evs)
    last = evs[-1].time if evs else None
    now = datetime.now().replace(microsecond=0)
    as_of = as_of or (max(now, last) if last else now)
    incidents = [i for i in scenario.incidents if incident is None or i.id == incident]
    decisions = []
    for n, (t, what) in enumerate(moments(scenario, evs, received, plans, incident)):
        known = scenario_as_known(scenario, evs, received, t)
        in_force = plan_in_force(plans, t)
        rec: dict[str, Any] = {
            "time": _iso(t),
            "trigger": what,
            "known": _known_text(known),
            "known_incidents": [i.id for i in known.incidents],
            "plan_in_force": None if in_force is None else in_force.number,
            "proposed": None,
            "comparison": None,
            "replanned": False,
        }
        if replan is not None and known.incidents and n < max_moments:
            proposed = replan(known, t)
            rec["replanned"] = True
            rec["proposed"] = {"plan": proposed.number, "status": proposed.overall.value}
            rec["comparison"] = _brief(compare_plans(in_force, proposed), incident)
            rec["_plans"] = (in_force, proposed)
        decisions.append(rec)
    latency = []
    for inc in incidents:
        got = received.get(inc.id)
        first_issue = None
        for p in plans:
            if inc.id not in {o.incident_id for o in p.incidents}:
                continue
            for a in p.approvals:
                t = wall(a.when)
                if a.to_status == PlanStatus.ISSUED and t is not None:
                    first_issue = t if first_issue is None else min(first_issue, t)
        latency.append(
            {
                "incident_id": inc.id,
                "name": inc.name,
                "received": _iso(got),
                "first_plan_issued": _iso(first_issue),
                "minutes": None
                if got is None or first_issue is None
                else round((first_issue - got).total_seconds() / 60.0, 1),
            }
        )
    return {
        "as_of": _iso(as_of),
        "incident": incident,
        "deadlines": [dataclasses.asdict(r) for r in deadlines.rules],
        "timeline": timeline(scenario, evs, received, plans, incident),
        "reports": report_checks(incidents, evs, received, deadlines, as_of),
        "decision_latency": latency,
        "moments": decisions,
        "notes": list(NOTES),
    }


NOTES = (
    "时间按记录中的钟面时间比较（带时区的记录去掉时区后比较，不做换算）。",
    "“当时已知”的情景：该时刻前已接报且未结束的事件、已开始且未结束的道路封闭；事件的级别、"
    "人数与需求为工作区当前值（事件记录只记状态变化），储备与队伍状态亦为当前值。",
    "“优化方案”为按当时已知情景重新运行调度流程（每个时刻限时求解）的结果，与当时实际生效的"
    "方案（最后一次下达且未作废、未完成的方案）对比；无生效方案时实际一侧为空。",
    "信息报告时限自接报起算，按事件级别与类别取最具体的规则；标注为假设的默认值请按本县预案设置"
    "（--deadlines）。",
)


def default_replan(
    network: Any, seconds: float, seed: int = 0, existing: Sequence[str] = ()
) -> Callable[[Scenario, datetime], Plan]:
    """``replan`` for :func:`review`: :func:`dispatch.pipeline.plan_dispatch` at the moment
    (numbered after ``existing`` and the proposals before it, so none shares a stored number)."""
    from dispatch.pipeline import plan_dispatch

    numbers = list(existing)

    def run(known: Scenario, when: datetime) -> Plan:
        options = DispatchOptions(
            seconds=float(seconds),
            created_at=when,
            seed=int(seed),
            existing_numbers=tuple(numbers),
        )
        plan = plan_dispatch(known, network, options)
        numbers.append(plan.number)
        return plan

    return run


__all__ = [
    "DEFAULT_RULES",
    "MAX_MOMENTS",
    "NOTES",
    "Event",
    "ReportDeadlines",
    "ReportRule",
    "default_replan",
    "events",
    "load_deadlines",
    "moments",
    "plan_in_force",
    "received_times",
    "report_checks",
    "review",
    "scenario_as_known",
    "status_at",
    "timeline",
    "wall",
]
