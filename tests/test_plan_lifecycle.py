"""Plan lifecycle (issue 8 item 5): 草稿 → 已批准 → 已下达 → 执行中 → 已完成 / 已作废, 部分方案,
the approval review, old plan files, and ``app.py plan-status`` on a demo workspace copy.

Hand-made plans come from ``tests.test_orders.make_plan`` (one depot, two incidents, a tent
shortage); the demo county's plan is the session's ``demo_plan`` and a really cancelled run of
the pipeline on the demo (stopped before its first solver stage).
"""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta
from pathlib import Path

import pytest

import app
from dispatch.pipeline import DispatchOptions, plan_dispatch
from dispatch.plan import (
    TRANSITIONS,
    Plan,
    PlanStatusError,
    next_plan_number,
    plans_from_documents,
    with_plan,
)
from dispatch.plan_review import Severity, review_items
from dispatch.plan_store import renumbered
from dispatch.records import PlanStatus, StageRun
from dispatch.results import Reason, Status, Unserved
from dispatch.summary import summary_text
from gis.event_log import log_entries
from gis.workspace import read_workspace, write_workspace
from tests.test_orders import T0, build_scenario, make_plan

S = PlanStatus
#: The workflow as the issue states it: from → the statuses it may go to.
EXPECTED = {
    S.DRAFT: {S.APPROVED, S.VOID},
    S.APPROVED: {S.ISSUED, S.DRAFT, S.VOID},
    S.ISSUED: {S.EXECUTING, S.VOID},
    S.EXECUTING: {S.COMPLETED, S.VOID},
    S.COMPLETED: set(),
    S.VOID: set(),
}


def plan_in(status: PlanStatus) -> Plan:
    """The hand-made plan walked to ``status`` along the workflow (a minute per step)."""
    plan = make_plan(build_scenario())
    path = {
        S.DRAFT: [],
        S.APPROVED: [S.APPROVED],
        S.ISSUED: [S.APPROVED, S.ISSUED],
        S.EXECUTING: [S.APPROVED, S.ISSUED, S.EXECUTING],
        S.COMPLETED: [S.APPROVED, S.ISSUED, S.EXECUTING, S.COMPLETED],
        S.VOID: [S.VOID],
    }[status]
    for i, step in enumerate(path, start=1):
        plan = plan.transition(step, "值班员", T0 + timedelta(minutes=i), "理由")
    assert plan.status == status
    return plan


@pytest.fixture(scope="module")
def cancelled_demo_plan(demo_scenario, demo_network) -> Plan:
    """The pipeline on the demo county, stopped before its first solver: a real 部分方案."""
    return plan_dispatch(demo_scenario, demo_network, DispatchOptions(seconds=2), stop=lambda: True)


# ---- the workflow ----------------------------------------------------------------------------


@pytest.mark.parametrize("start", list(S))
def test_every_transition_is_allowed_or_refused(start: PlanStatus) -> None:
    assert set(TRANSITIONS[start]) == EXPECTED[start]
    plan = plan_in(start)
    when = T0 + timedelta(hours=1)
    assert set(plan.allowed_next()) == EXPECTED[start]
    assert plan.is_final == (not EXPECTED[start])
    for target in S:
        if target in EXPECTED[start]:
            moved = plan.transition(target, "张局长", when, "原因写明")
            assert moved.status == target
            step = moved.approvals[-1]
            assert (step.who, step.when, step.to_status) == ("张局长", when, target)
            assert step.action == TRANSITIONS[start][target]
            assert moved.approvals[:-1] == plan.approvals  # earlier steps kept
        else:
            with pytest.raises(PlanStatusError, match=f"「{start.value}」改为「{target.value}」"):
                plan.transition(target, "张局长", when, "原因写明")


def test_the_full_path_records_every_step() -> None:
    done = plan_in(S.COMPLETED)
    assert [a.action for a in done.approvals] == ["批准", "下达", "开始执行", "完成"]
    assert done.issued_at == T0 + timedelta(minutes=2)
    assert [a.when for a in done.approvals] == sorted(a.when for a in done.approvals)


@pytest.mark.parametrize("start", [S.DRAFT, S.APPROVED, S.ISSUED, S.EXECUTING])
def test_void_needs_a_reason(start: PlanStatus) -> None:
    plan = plan_in(start)
    when = T0 + timedelta(hours=1)
    for blank in ("", "   "):
        with pytest.raises(PlanStatusError, match="作废须填写原因"):
            plan.void("张局长", when, blank)
    void = plan.void("张局长", when, "  事件已由市级接管 ")
    assert void.status == S.VOID and void.is_final
    assert void.approvals[-1].action == "作废"
    assert void.approvals[-1].note == "事件已由市级接管"
    with pytest.raises(PlanStatusError):
        void.approve("张局长", when)


def test_who_and_time_are_required_and_ordered() -> None:
    plan = plan_in(S.APPROVED)
    with pytest.raises(PlanStatusError, match="经办人姓名"):
        plan.issue(" ", T0 + timedelta(hours=1))
    with pytest.raises(PlanStatusError, match="早于上一步"):
        plan.issue("李四", T0)


# ---- 部分方案 ----------------------------------------------------------------------------------


def test_a_finished_demo_plan_is_not_partial(demo_plan: Plan) -> None:
    # at 2 s a stage may stop at its time limit on a loaded machine (TIMEOUT), its result whole
    assert demo_plan.overall in (Status.OPTIMAL, Status.FEASIBLE, Status.TIMEOUT)
    assert not any(u.reason in (Reason.CANCELLED, Reason.TIME_LIMIT) for u in demo_plan.unserved)
    assert not demo_plan.partial and demo_plan.partial_text == ""
    assert demo_plan.status_label == "草稿"
    assert demo_plan.approve("张局长", demo_plan.created_at).status == S.APPROVED


def test_a_cancelled_demo_run_is_a_partial_plan(cancelled_demo_plan: Plan) -> None:
    plan = cancelled_demo_plan
    assert plan.overall == Status.CANCELLED and plan.partial and plan.is_partial
    assert "计算被取消" in plan.partial_text
    assert plan.status_label == "草稿（部分方案）"
    assert any(u.reason == Reason.CANCELLED for u in plan.unserved)
    # the CLI summary line / GUI overview say so on the first line
    assert "部分方案" in summary_text(plan).splitlines()[0]
    when = plan.created_at + timedelta(minutes=1)
    with pytest.raises(PlanStatusError, match="部分方案.*须明确确认"):
        plan.approve("张局长", when)
    approved = plan.approve("张局长", when, "先按此执行", allow_partial=True)
    assert approved.status == S.APPROVED and approved.partial
    assert approved.approvals[-1].note == "确认批准部分方案；先按此执行"
    # the flag is only needed to approve: issuing the confirmed plan is an ordinary step
    assert approved.issue("李四", when).status == S.ISSUED


def test_partial_is_derived_for_a_stage_that_left_work_undone() -> None:
    plan = make_plan(build_scenario())
    assert not plan.partial  # its unserved tents are 库存不足: a complete plan with a shortage
    fields = {f.name: getattr(plan, f.name) for f in dataclasses.fields(Plan)}
    fields["partial"] = None  # derived again from the changed stages and reasons
    routing = StageRun("车辆路径", Status.TIMEOUT, message="时间用尽")
    # a stage at its time limit with a complete result (best found, not proven) is not partial
    assert not Plan(**{**fields, "stages": (routing,), "overall": Status.TIMEOUT}).partial
    left = Unserved(
        "INC-002", "visit", 1, Reason.TIME_LIMIT, "INC-002 未排车：计算超时，未找到方案"
    )
    timed_out = Plan(**{**fields, "stages": (routing,), "unserved": (*plan.unserved, left)})
    assert timed_out.partial and "计算超时" in timed_out.partial_text
    failed = Unserved("INC-001", "WATER", 5, Reason.FAILED, "物资分配计算失败")
    broken = Plan(**{**fields, "unserved": (*plan.unserved, failed)})
    assert broken.partial and "失败" in broken.partial_text
    stopped = StageRun("队伍派遣", Status.CANCELLED, message="用户取消，未运行")
    assert Plan(**{**fields, "stages": (stopped,)}).partial


# ---- JSON: the flag persists, old plans load ---------------------------------------------------


def test_partial_flag_round_trips_and_old_format_loads(cancelled_demo_plan: Plan) -> None:
    for plan in (cancelled_demo_plan, make_plan(build_scenario())):
        data = plan.to_dict()
        assert data["format_version"] == 2 and data["partial"] is plan.partial
        assert Plan.from_json(plan.to_json()) == plan
        # a plan stored by the previous release: format 1, no "partial"
        old = {k: v for k, v in data.items() if k != "partial"}
        old["format_version"] = 1
        back = Plan.from_dict(json.loads(json.dumps(old)))
        assert back.partial == plan.partial and back == plan
    # an old plan already issued keeps its status and may go on along the new workflow
    issued = plan_in(S.ISSUED).to_dict()
    del issued["partial"]
    issued["format_version"] = 1
    back = Plan.from_dict(issued)
    assert back.status == S.ISSUED and back.issued_at == T0 + timedelta(minutes=2)
    assert back.start("李四", T0 + timedelta(hours=1)).status == S.EXECUTING


# ---- the approval review -----------------------------------------------------------------------


def test_review_lists_partial_state_unmet_needs_and_missing_skills(cancelled_demo_plan) -> None:
    items = review_items(cancelled_demo_plan)
    assert items[0].severity == Severity.ERROR and "部分方案" in items[0].text
    texts = [i.text for i in items]
    # every incident of the demo needs teams; none were sent by the cancelled run
    for o in cancelled_demo_plan.incidents:
        for skill, n in o.required_skills.items():
            assert any(t.startswith(f"未满足：{o.name} {skill} {n:g} 人") for t in texts)
    assert any(t.startswith("未满足：") and "计算已取消" in t for t in texts)
    # a skill shortfall is listed once (from the outcome), not again from the unserved records
    assert len(texts) == len(set(texts))


def test_review_of_a_hand_made_plan_names_the_shortage() -> None:
    items = review_items(make_plan(build_scenario()))
    assert [i.severity for i in items] == [Severity.WARNING]
    assert "库存不足" in items[0].text and "帐篷" in items[0].text


def test_review_of_a_complete_demo_plan_has_no_partial_item(demo_plan: Plan) -> None:
    from dispatch.timeliness import NeedState, problem_lines

    items = review_items(demo_plan)
    assert all(i.severity != Severity.ERROR for i in items)
    texts = [i.text for i in items]
    # every late or unmet line is there once, with its state first, and every safety release
    problems = problem_lines(demo_plan)
    assert sum(t.startswith(("迟到：", "未满足：")) for t in texts) == len(problems)
    late = [ln for ln in problems if ln.state is NeedState.LATE]
    for ln in late:
        assert any(t.startswith(f"迟到：{ln.site_name} {ln.label}") and "迟到" in t for t in texts)
    releases = [t for t in texts if t.startswith("动用安全库存：")]
    assert len(releases) == len(demo_plan.safety_releases)


# ---- app.py plan-status ------------------------------------------------------------------------


def plan_status(ws: Path, *args: str) -> int:
    return app.main(["plan-status", str(ws), *args])


def stored(ws: Path) -> dict[str, Plan]:
    docs = read_workspace(ws, include_roads=False).documents
    return {p.number: p for p in plans_from_documents(docs)}


def test_plan_status_cli_contract(demo_copy, demo_plan, cancelled_demo_plan, capsys) -> None:
    # both plans filed in one write (each write of the demo takes a second or more)
    ws = read_workspace(demo_copy, include_roads=True)
    full = demo_plan.number
    partial = renumbered(cancelled_demo_plan, next_plan_number([full], "HJ", demo_plan.created_at))
    part = partial.number
    docs = with_plan(with_plan(ws.documents, demo_plan), partial)
    write_workspace(
        demo_copy, ws.scenario, road_nodes=ws.road_nodes, road_edges=ws.road_edges, documents=docs
    )
    capsys.readouterr()

    def refused(*args: str, match: str) -> None:
        before = demo_copy.read_bytes()
        assert plan_status(demo_copy, *args) == 2
        out, err = capsys.readouterr()
        assert out == "" and len(err.strip().splitlines()) == 1 and match in err
        assert err.startswith("error: ")
        assert demo_copy.read_bytes() == before  # nothing written

    refused(full, "--to", "已下达", "--who", "李四", match="「草稿」改为「已下达」")
    refused(full, "--to", "已作废", "--who", "李四", match="作废须填写原因")
    refused(full, "--to", "作废", "--who", "李四", match="--to must be one of")
    refused(full, "--to", "已批准", "--who", "  ", match="经办人姓名")
    refused("HJ-19990101-001", "--to", "已批准", "--who", "李四", match="没有编号为")
    refused(part, "--to", "已批准", "--who", "李四", match="--allow-partial")
    assert (
        plan_status(demo_copy.with_name("nope.gpkg"), full, "--to", "已批准", "--who", "李四") == 2
    )
    capsys.readouterr()

    steps = [("已批准", "张局长", "同意"), ("已下达", "值班员李四", "")]
    for to, who, note in steps:
        assert plan_status(demo_copy, full, "--to", to, "--who", who, "--note", note) == 0
        out, err = capsys.readouterr()
        assert err == "" and out.count("\n") == 1
        assert out.startswith(f"方案 {full}：") and f"→ {to}" in out and who in out
    refused(full, "--to", "已完成", "--who", "李四", match="「已下达」改为「已完成」")

    args = (part, "--to", "已批准", "--who", "张局长", "--allow-partial")
    assert plan_status(demo_copy, *args) == 0
    assert "部分方案" in capsys.readouterr().out
    assert plan_status(demo_copy, part, "--to", "已作废", "--who", "张局长", "--note", "重算") == 0
    capsys.readouterr()
    refused(part, "--to", "已作废", "--who", "李四", "--note", "再作废", match="最终状态")
    plans = stored(demo_copy)
    assert plans[full].status == S.ISSUED and plans[full].issued_at is not None
    assert [(a.to_status.value, a.who, a.note) for a in plans[full].approvals] == steps
    assert [(a.to_status, a.note) for a in plans[part].approvals] == [
        (S.APPROVED, "确认批准部分方案"),
        (S.VOID, "重算"),
    ]
    # each step is in the workspace's event log, where the desk shows it
    ws = read_workspace(demo_copy, include_roads=True)
    log = [(e["plan"], e["from"], e["to"], e["who"]) for e in log_entries(ws.documents)]
    assert log == [
        (full, "草稿", "已批准", "张局长"),
        (full, "已批准", "已下达", "值班员李四"),
        (part, "草稿", "已批准", "张局长"),
        (part, "已批准", "已作废", "张局长"),
    ]
    # the workspace's entities and roads are as they were
    assert demo_plan.matches(ws.scenario) and len(ws.road_edges) > 1000
