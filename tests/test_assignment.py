"""Team assignment (CP-SAT): hand-checked optima, split headcount, pins/forbids, deadlines,
properties, cancel, builder and the demo county on its roads."""

from __future__ import annotations

import time
from datetime import datetime

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dispatch.assignment import AssignmentOptions, plan_objective, solve_assignment
from dispatch.problems import UNREACHABLE, AssignmentProblem, build_assignment_problem
from dispatch.results import Reason, Status
from gis.model import Incident, Scenario, Team

U = UNREACHABLE
WATER, MED, HAZ, URBAN = "水域救援", "医疗救护", "危化品处置", "城市搜救"


def _problem(**kw) -> AssignmentProblem:
    k = len(kw["team_skills"])
    n = len(kw["requirements"])
    kw.setdefault("team_ids", tuple(f"T{i}" for i in range(k)))
    kw.setdefault("incident_ids", tuple(f"I{i}" for i in range(n)))
    return AssignmentProblem(**kw)


def _where(r) -> dict[str, str]:
    return {a.team_id: a.incident_id for a in r.assignments}


def _base() -> AssignmentProblem:
    # I0: level II, 60 min → priority 12, needs 12 water rescuers.
    # I1: level I, 60 min → priority 24, needs 4 medics and 5 hazmat specialists.
    return _problem(
        team_skills=((WATER,), (WATER, MED), (HAZ,)),
        headcount=[10, 8, 6],
        team_status=("待命", "待命", "出动"),
        requirements=({WATER: 12}, {MED: 4, HAZ: 5}),
        eta_s=[[600, 1200], [900, 300], [100, 100]],
        deadline_s=[3600, 3600],
        level=[2, 1],
    )


def test_hand_checked_optimum_and_reasons():
    # Sending T1 to I0 would close its gap of 2 (weight 12·2) but open a gap of 4 medics at the
    # more urgent I1 (24·4): T1 goes to I1. T2 is deployed (出动) and not available.
    seen: list[float] = []
    r = solve_assignment(_base(), progress=lambda f, msg: seen.append(f))
    assert r.info.status is Status.OPTIMAL
    assert r.info.objective == r.info.bound
    assert seen and all(0.0 <= f <= 1.0 for f in seen)
    assert _where(r) == {"T0": "I0", "T1": "I1"}
    assert r.covered("I0", WATER) == 10 and r.covered("I1", MED) == 4
    by = {(u.site_id, u.what): u for u in r.unserved}
    assert set(by) == {("I0", WATER), ("I1", HAZ)}
    assert by["I0", WATER].quantity == 2 and by["I0", WATER].reason is Reason.NO_TEAM
    assert by["I1", HAZ].quantity == 5
    assert by["I1", HAZ].message_zh == "缺少 危化品处置 5 人：无待命的危化品处置队伍"
    assert r.arrival_s == {"I0": 600, "I1": 300}
    # Allowing deployed teams in: T2 covers the hazmat need.
    r2 = solve_assignment(_base(), AssignmentOptions(available_statuses=("待命", "出动")))
    assert _where(r2)["T2"] == "I1" and r2.covered("I1", HAZ) == 5


def test_headcount_is_split_between_skills_not_double_counted():
    p = _problem(
        team_skills=((WATER, URBAN),),
        headcount=[30],
        requirements=({WATER: 20, URBAN: 20},),
        eta_s=[[600]],
    )
    r = solve_assignment(p)
    (a,) = r.assignments
    assert sum(a.contributes.values()) == 30
    assert r.covered("I0", WATER) + r.covered("I0", URBAN) == 30
    assert sum(u.quantity for u in r.unserved) == 10


def test_last_arrival_versus_sum_of_arrivals():
    # 20 people needed: A (10, 600 s) + B (10, 900 s) are all there at 900 s; C (20) at 1000 s.
    # "last" minimises the time the incident is fully staffed → A + B;
    # "sum" minimises Σ ETA over teams sent (1500 vs 1000) → C.
    p = _problem(
        team_skills=((WATER,),) * 3,
        headcount=[10, 10, 20],
        requirements=({WATER: 20},),
        eta_s=[[600], [900], [1000]],
        level=[3],
    )
    assert set(_where(solve_assignment(p))) == {"T0", "T1"}
    assert set(_where(solve_assignment(p, AssignmentOptions(objective="sum")))) == {"T2"}


def test_no_unneeded_team_is_sent():
    p = _problem(
        team_skills=((MED,),) * 3,
        headcount=[10, 10, 10],
        requirements=({MED: 8},),
        eta_s=[[900], [300], [600]],
    )
    r = solve_assignment(p)
    assert _where(r) == {"T1": "I0"} and r.unserved == ()


def test_hard_deadline_reason_and_soft_deadline_lateness():
    p = _problem(
        team_skills=((HAZ,),),
        headcount=[6],
        requirements=({HAZ: 6},),
        eta_s=[[75 * 60]],
        deadline_s=[3600],
        level=[2],
    )
    hard = solve_assignment(p, AssignmentOptions(hard_deadlines=True))
    assert hard.assignments == ()
    (u,) = hard.unserved
    assert u.reason is Reason.TOO_LATE
    assert u.message_zh.startswith("60 分钟内无可用危化品处置队伍")
    soft = solve_assignment(p)
    assert _where(soft) == {"T0": "I0"} and soft.unserved == ()
    (late,) = soft.late
    assert late.reason is Reason.TOO_LATE and late.quantity == 6
    assert late.message_zh == "60 分钟内无可用危化品处置队伍：6 人预计 75 分钟到达"


def test_unreachable_and_missing_skill_reasons():
    p = _problem(
        team_skills=((WATER,), (MED,)),
        headcount=[10, 5],
        requirements=({WATER: 5, "电力抢修": 3},),
        eta_s=[[U], [300]],
    )
    r = solve_assignment(p)
    assert r.assignments == ()
    by = {u.what: u for u in r.unserved}
    assert by[WATER].reason is Reason.UNREACHABLE and "不可达" in by[WATER].message_zh
    assert by["电力抢修"].reason is Reason.NO_TEAM
    assert "无具备该技能的队伍" in by["电力抢修"].message_zh


def test_zero_teams_and_zero_incidents_give_results_not_exceptions():
    p = _problem(
        team_skills=(),
        headcount=np.zeros(0),
        requirements=({WATER: 5},),
        eta_s=np.zeros((0, 1)),
    )
    r = solve_assignment(p)
    assert r.info.status is Status.OPTIMAL and r.assignments == ()
    assert [(u.what, u.quantity, u.reason) for u in r.unserved] == [(WATER, 5.0, Reason.NO_TEAM)]
    p = _problem(team_skills=((WATER,),), headcount=[5], requirements=(), eta_s=np.zeros((1, 0)))
    r = solve_assignment(p)
    assert r.info.status is Status.OPTIMAL and r.assignments == () and r.unserved == ()


# --------------------------------------------------------------------------------------------
# Pins and forbids
# --------------------------------------------------------------------------------------------


def test_pin_and_forbid_are_honoured():
    pinned = _problem(**{**_fields(_base()), "pins": (("T1", "I0"),)})
    r = solve_assignment(pinned)
    assert _where(r)["T1"] == "I0"
    assert next(a for a in r.assignments if a.team_id == "T1").pinned
    assert r.covered("I1", MED) == 0
    forbidden = _problem(**{**_fields(_base()), "forbids": (("T1", "I1"),)})
    r = solve_assignment(forbidden)
    assert _where(r).get("T1") != "I1"
    # a pin overrides the team's status: T2 is 出动 but the operator sends it
    r = solve_assignment(_problem(**{**_fields(_base()), "pins": (("T2", "I1"),)}))
    assert _where(r)["T2"] == "I1"


@pytest.mark.parametrize(
    ("pins", "forbids", "kw", "needle"),
    [
        ((("T0", "I0"), ("T0", "I1")), (), {}, "队伍 T0 被同时固定到 I0、I1"),
        ((("T0", "I0"),), (("T0", "I0"),), {}, "固定派遣 T0→I0：同一组合同时被禁止"),
        ((("T9", "I0"),), (), {}, "队伍 T9 不存在"),
        ((("T0", "I0"),), (), {"eta_s": [[U, 1200], [900, 300], [100, 100]]}, "道路中断"),
    ],
)
def test_impossible_pins_give_infeasible_naming_the_pin(pins, forbids, kw, needle):
    p = _problem(**{**_fields(_base()), "pins": pins, "forbids": forbids, **kw})
    r = solve_assignment(p)
    assert r.info.status is Status.INFEASIBLE
    assert r.assignments == ()
    assert any(needle in c for c in r.conflicts), r.conflicts


def test_pin_later_than_a_hard_deadline_is_infeasible():
    p = _problem(**{**_fields(_base()), "pins": (("T0", "I1"),), "deadline_s": [3600, 1000]})
    r = solve_assignment(p, AssignmentOptions(hard_deadlines=True))
    assert r.info.status is Status.INFEASIBLE
    assert any("T0→I1" in c and "硬时限" in c for c in r.conflicts)
    assert solve_assignment(p).info.status is Status.OPTIMAL  # soft deadlines: just late


def _fields(p: AssignmentProblem) -> dict:
    names = [
        "team_ids",
        "team_skills",
        "headcount",
        "incident_ids",
        "requirements",
        "eta_s",
        "team_status",
        "deadline_s",
        "level",
    ]
    return {n: getattr(p, n) for n in names}


# --------------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------------

SKILLS = (WATER, MED, HAZ, URBAN)


@st.composite
def cases(draw):
    k = draw(st.integers(0, 6))
    n = draw(st.integers(1, 4))
    skills = tuple(
        tuple(draw(st.lists(st.sampled_from(SKILLS), min_size=1, max_size=3, unique=True)))
        for _ in range(k)
    )
    heads = draw(st.lists(st.integers(1, 20), min_size=k, max_size=k))
    status = tuple(
        draw(st.lists(st.sampled_from(["待命", "待命", "出动", "休整"]), min_size=k, max_size=k))
    )
    reqs = tuple(
        draw(st.dictionaries(st.sampled_from(SKILLS), st.integers(0, 25), max_size=3))
        for _ in range(n)
    )
    eta = np.array(draw(st.lists(st.integers(60, 7200), min_size=k * n, max_size=k * n)))
    eta = eta.reshape(k, n)
    cut = np.array(draw(st.lists(st.booleans(), min_size=k * n, max_size=k * n)), dtype=bool)
    eta = np.where(cut.reshape(k, n) & (eta % 4 == 0), U, eta)
    deadline = draw(st.lists(st.sampled_from([1800, 3600, 7200]), min_size=n, max_size=n))
    level = draw(st.lists(st.integers(1, 4), min_size=n, max_size=n))
    pins, forbids, pinned_teams = [], [], set()
    for kk in range(k):
        for nn in range(n):
            roll = draw(st.integers(0, 9))
            if roll == 0 and kk not in pinned_teams and eta[kk, nn] != U:
                pins.append((f"T{kk}", f"I{nn}"))
                pinned_teams.add(kk)
            elif roll == 1:
                forbids.append((f"T{kk}", f"I{nn}"))
    forbids = [f for f in forbids if f not in pins]
    p = _problem(
        team_skills=skills,
        headcount=np.array(heads, dtype=np.int64),
        team_status=status,
        requirements=reqs,
        eta_s=eta,
        deadline_s=deadline,
        level=level,
        pins=tuple(pins),
        forbids=tuple(forbids),
    )
    opt = AssignmentOptions(
        hard_deadlines=draw(st.booleans()),
        objective=draw(st.sampled_from(["last", "sum"])),
        unmet_weight=draw(st.sampled_from([None, 2_000_000])),
        time_limit_s=20,
    )
    return p, opt


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
@given(cases())
def test_assignment_invariants(case):
    p, opt = case
    r = solve_assignment(p, opt)
    ti = {t: i for i, t in enumerate(p.team_ids)}
    ni = {t: i for i, t in enumerate(p.incident_ids)}
    late_pins = [
        (t, i)
        for t, i in p.pins
        if opt.hard_deadlines and p.eta_s[ti[t], ni[i]] > p.deadline_s[ni[i]]
    ]
    if late_pins:  # a pin later than a hard deadline cannot hold: INFEASIBLE, naming it
        assert r.info.status is Status.INFEASIBLE and r.assignments == ()
        assert all(any(f"{t}→{i}" in c for c in r.conflicts) for t, i in late_pins)
        return
    assert r.info.status is Status.OPTIMAL  # small instances are proven optimal
    teams = [a.team_id for a in r.assignments]
    assert len(teams) == len(set(teams))  # nobody double-booked
    where = _where(r)
    for team, inc in p.pins:
        assert where.get(team) == inc
    for team, inc in p.forbids:
        assert where.get(team) != inc
    pins = set(p.pins)
    for a in r.assignments:
        k, n = ti[a.team_id], ni[a.incident_id]
        assert p.reachable[k, n] and a.eta_s == p.eta_s[k, n]
        if (a.team_id, a.incident_id) not in pins:
            assert p.team_status[k] in opt.available_statuses
            if opt.hard_deadlines:
                assert a.eta_s <= p.deadline_s[n]
        assert sum(a.contributes.values()) <= p.headcount[k]
        assert set(a.contributes) <= set(p.team_skills[k]) & set(p.requirements[n])
    if opt.unmet_weight is not None:  # the reported objective is that of the reported plan
        used = {ti[a.team_id]: ni[a.incident_id] for a in r.assignments}
        take = {
            (ti[a.team_id], ni[a.incident_id], s): q
            for a in r.assignments
            for s, q in a.contributes.items()
        }
        assert plan_objective(p, opt, used, take, opt.unmet_weight) == r.info.objective
    for n, inc in enumerate(p.incident_ids):
        for skill, need in p.requirements[n].items():
            if need <= 0:
                continue
            missing = sum(u.quantity for u in r.unserved if u.site_id == inc and u.what == skill)
            assert missing == max(0, need - r.covered(inc, skill))


# --------------------------------------------------------------------------------------------
# Cancel
# --------------------------------------------------------------------------------------------


def _large(seed: int = 3, k: int = 150, n: int = 50) -> AssignmentProblem:
    rng = np.random.default_rng(seed)
    skills = ["水域救援", "山地搜救", "危化品处置", "医疗救护", "电力抢修", "通信保障", "道路抢通"]
    ts = tuple(tuple(rng.choice(skills, size=rng.integers(1, 4), replace=False)) for _ in range(k))
    reqs = tuple(
        {str(s): int(rng.integers(5, 40)) for s in rng.choice(skills, size=3, replace=False)}
        for _ in range(n)
    )
    return _problem(
        team_skills=ts,
        headcount=rng.integers(5, 40, k),
        requirements=reqs,
        eta_s=rng.integers(300, 7200, (k, n)),
        deadline_s=rng.choice([3600, 7200], n),
        level=rng.integers(1, 5, n),
    )


def test_stop_cancels_promptly_with_best_plan_so_far():
    p = _large()
    flag = {"t": None}

    def stop() -> bool:
        if flag["t"] is None:
            flag["t"] = time.perf_counter()  # first poll: the search has started
        return time.perf_counter() - flag["t"] > 0.3

    r = solve_assignment(p, AssignmentOptions(time_limit_s=60), stop=stop)
    assert r.info.status is Status.CANCELLED
    # prompt: a small fraction of the 60 s budget even with 8 CP-SAT workers on 2 busy cores
    assert time.perf_counter() - flag["t"] < 0.3 + 5.0
    # best plan so far: a real, consistent plan
    assert r.assignments
    teams = [a.team_id for a in r.assignments]
    assert len(teams) == len(set(teams))
    assert r.info.objective is not None  # CP-SAT's incumbent, or the greedy start plan
    assert r.info.bound is None or r.info.bound <= r.info.objective
    # stopped before the search starts: the greedy plan used as the hint is the best so far
    polls = []
    r = solve_assignment(p, stop=lambda: polls.append(1) or True)
    assert len(polls) <= 2  # model building and CP-SAT were never started
    assert r.info.status is Status.CANCELLED and r.info.bound is None
    assert r.assignments and len({a.team_id for a in r.assignments}) == len(r.assignments)


# --------------------------------------------------------------------------------------------
# Builder and the demo county
# --------------------------------------------------------------------------------------------


def test_build_assignment_problem_from_scenario():
    t0 = datetime(2026, 7, 1, 8, 0)
    teams = (
        Team("A", "消防", "综合性消防救援", (105.8, 28.8), 20, (WATER, URBAN)),
        Team("B", "医疗队", "医疗", (105.9, 28.8), 8, (MED,), status="休整"),
    )
    incs = (
        Incident(
            "X",
            "山洪",
            "自然灾害",
            "山洪",
            1,
            (106.0, 28.7),
            t0,
            required_skills={WATER: 15, MED: 5},
            deadline_min=60,
        ),
        Incident("Y", "火灾", "事故灾难", "火灾", 3, (106.1, 28.7), t0, needs={"TENT": 1}),
    )
    sc = Scenario("t", teams=teams, incidents=incs)
    p = build_assignment_problem(sc, [[1200], [600]], pins=[("A", "X")])
    assert p.incident_ids == ("X",)  # Y requires no skills
    assert p.team_status == ("待命", "休整")
    assert p.priority.tolist() == [24] and p.deadline_s.tolist() == [3600]
    r = solve_assignment(p)
    assert _where(r) == {"A": "X"}
    (u,) = r.unserved
    assert u.what == MED and u.message_zh == "缺少 医疗救护 5 人：无待命的医疗救护队伍"
    with pytest.raises(ValueError, match="eta_s"):
        build_assignment_problem(sc, [[1, 2], [3, 4]])


def test_demo_county_team_assignment_on_real_roads(demo_scenario, demo_engine):
    sc, engine = demo_scenario, demo_engine
    incidents = [i for i in sc.open_incidents() if i.required_skills]
    m = engine.matrix_lonlat(
        [t.location.lon for t in sc.teams],
        [t.location.lat for t in sc.teams],
        [i.location.lon for i in incidents],
        [i.location.lat for i in incidents],
    )
    p = build_assignment_problem(sc, m, incidents=incidents)
    r = solve_assignment(p, AssignmentOptions(time_limit_s=20))
    assert r.info.status is Status.OPTIMAL
    assert r.assignments
    standby = {t.id for t in sc.teams if t.status.value == "待命"}
    teams = [a.team_id for a in r.assignments]
    assert len(teams) == len(set(teams)) and set(teams) <= standby
    for inc in incidents:
        for skill, need in inc.required_skills.items():
            missing = sum(u.quantity for u in r.unserved if u.site_id == inc.id and u.what == skill)
            assert r.covered(inc.id, skill) + missing >= need
            assert missing == max(0, need - r.covered(inc.id, skill))
    # the plan is reproducible: CP-SAT's 8 workers may return different splits of a team's
    # people between skills, the reported split is canonical and never over-counts a need
    again = [solve_assignment(p, AssignmentOptions(time_limit_s=20)) for _ in range(4)]
    assert all(a.assignments == r.assignments for a in again)
    for inc in incidents:
        for skill, need in inc.required_skills.items():
            assert r.covered(inc.id, skill) <= need
