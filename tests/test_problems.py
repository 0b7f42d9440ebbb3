"""Problem objects and their builders (dispatch/problems.py).

Small hand-made scenarios give exact expected arrays (priorities, available stock and safety
stock, deadlines in seconds, free shelter places); the bundled demo county 合江县 gives the
real shapes, with travel times from its road network — once as it is (every pair reachable) and
once with a ring of road closures that cuts one incident off from all but one stockpile.
"""

from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from shapely.geometry import LineString, Point

from dispatch.problems import (
    LEVEL_WEIGHT,
    NO_DEADLINE,
    UNREACHABLE,
    AllocationProblem,
    AllocationSite,
    AssignmentProblem,
    EvacuationGroup,
    EvacuationProblem,
    build_allocation_problem,
    build_assignment_problem,
    build_evacuation_problem,
    site_priority,
    split_matrix,
)
from gis.model import Incident, Material, RoadClosure, Scenario, Shelter, Stockpile, Team
from tests.conftest import travel_matrix

U = UNREACHABLE
T0 = datetime(2026, 7, 1, 8, 0)


def _read_only(*arrays: np.ndarray) -> None:
    for a in arrays:
        assert not a.flags.writeable
        with pytest.raises(ValueError, match="read-only"):
            a.flat[0] = a.flat[0]


# ---- site_priority --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("level", "deadline_s", "expected"),
    [
        (1, 0, 24),
        (1, 3600, 24),  # the golden hour includes its last second
        (1, 3601, 16),
        (1, 10800, 16),  # 180 min is still "≤ 180 min"
        (1, 10801, 8),
        (2, 2700, 12),
        (2, 3600.5, 8),  # a fraction of a second past the hour
        (3, 7200, 4),
        (3, 86400, 2),
        (4, 60, 3),
        (4, None, 1),
        (2, NO_DEADLINE, 4),
        (2, float(NO_DEADLINE), 4),
    ],
)
def test_site_priority_table(level: int, deadline_s: float | None, expected: int) -> None:
    assert site_priority(level, deadline_s) == expected


@pytest.mark.parametrize("level", [0, 5, -1, 2.5, "I", None])
def test_site_priority_rejects_what_is_not_a_response_level(level) -> None:
    with pytest.raises(ValueError, match=rf"site_priority: level {level!r} is not a response"):
        site_priority(level, 3600)


def test_level_weights_double_per_level() -> None:
    assert dict(LEVEL_WEIGHT) == {1: 8, 2: 4, 3: 2, 4: 1}


@given(
    st.integers(1, 4),
    st.integers(1, 4),
    st.one_of(st.none(), st.integers(0, 10**6)),
    st.one_of(st.none(), st.integers(0, 10**6)),
)
def test_priority_orders_by_level_then_deadline(l1, l2, d1, d2) -> None:
    p1, p2 = site_priority(l1, d1), site_priority(l2, d2)
    assert 1 <= p1 <= 24 and isinstance(p1, int)
    # a more severe level at the same deadline is strictly more important
    if l1 < l2:
        assert site_priority(l1, d1) > site_priority(l2, d1)
    # at the same level, an earlier (or any) deadline is never less important
    key = lambda d: NO_DEADLINE if d is None else d  # noqa: E731
    if l1 == l2 and key(d1) <= key(d2):
        assert p1 >= p2


# ---- split_matrix ------------------------------------------------------------------------------


def test_split_matrix_int_sentinel_and_negative_are_unreachable() -> None:
    raw = np.array([[0, 5, U], [-1, U + 1, 7]], dtype=np.int64)
    sec, ok = split_matrix(raw, (2, 3), "m")
    assert sec.dtype == np.int64 and ok.dtype == bool
    assert sec.tolist() == [[0, 5, U], [U, U, 7]]
    assert ok.tolist() == [[True, True, False], [False, False, True]]
    _read_only(sec, ok)
    assert (
        raw.flags.writeable and raw[1, 0] == -1
    )  # the caller's array is neither frozen nor changed


def test_split_matrix_floats_round_and_non_finite_are_unreachable() -> None:
    raw = np.array([[1.4, 1.6, np.inf], [np.nan, -0.7, 3e9]])
    sec, ok = split_matrix(raw, (2, 3), "m")
    assert sec.tolist() == [[1, 2, U], [U, U, U]]
    assert ok.tolist() == [[True, True, False], [False, False, False]]
    # a list of lists is read like an array
    sec2, _ = split_matrix([[1.4, 1.6, np.inf], [np.nan, -0.7, 3e9]], (2, 3), "m")
    assert sec2.tolist() == sec.tolist()


def test_split_matrix_unsigned_and_int32_sentinels() -> None:
    sec, ok = split_matrix(np.array([[4294967295, 3]], dtype=np.uint32), (1, 2), "m")
    assert sec.tolist() == [[U, 3]] and ok.tolist() == [[False, True]]
    sec, ok = split_matrix(np.array([[U, 3]], dtype=np.int32), (1, 2), "m")
    assert sec.tolist() == [[U, 3]] and ok.tolist() == [[False, True]]


def test_split_matrix_mask_is_taken_from_a_travel_matrix_or_given() -> None:
    tm = SimpleNamespace(seconds=np.array([[10, 20]], np.int32), reachable=np.array([[1, 0]]))
    sec, ok = split_matrix(tm, (1, 2), "m")
    assert sec.tolist() == [[10, U]] and ok.tolist() == [[True, False]]
    # an explicit mask replaces the matrix's own; the sentinel still counts
    sec, ok = split_matrix(tm, (1, 2), "m", reachable=[[False, True]])
    assert sec.tolist() == [[U, 20]] and ok.tolist() == [[False, True]]
    sec, ok = split_matrix(np.array([[10, U]]), (1, 2), "m", reachable=[[True, True]])
    assert sec.tolist() == [[10, U]] and ok.tolist() == [[True, False]]


@pytest.mark.parametrize(
    ("seconds", "reachable", "message"),
    [
        (
            np.zeros((3, 2)),
            None,
            r"^X\.seconds: travel-time matrix has shape \(3, 2\), expected \(2, 3\)$",
        ),
        (
            np.zeros(6),
            None,
            r"^X\.seconds: travel-time matrix has shape \(6,\), expected \(2, 3\)$",
        ),
        (
            np.zeros((2, 3)),
            np.ones((3, 2)),
            r"^X\.seconds: reachable mask has shape \(3, 2\), expected \(2, 3\)$",
        ),
        (
            np.array([["a"] * 3] * 2),
            None,
            r"^X\.seconds: travel-time matrix must hold numbers, got dtype <U1$",
        ),
        (np.ones((2, 3), dtype=bool), None, r"must hold numbers, got dtype bool"),
    ],
)
def test_split_matrix_errors_name_what_is_wrong(seconds, reachable, message) -> None:
    with pytest.raises(ValueError, match=message):
        split_matrix(seconds, (2, 3), "X.seconds", reachable)


# ---- hand-made scenarios -----------------------------------------------------------------------


def _material(code: str, name: str, unit: str, divisible: bool = False) -> Material:
    return Material(code, name, code.lower(), unit, 1.0, 0.01, "生活类", divisible)


MATERIALS = (
    _material("TENT", "救灾帐篷", "顶"),
    _material("WATER", "饮用水", "箱"),
    _material("DIESEL", "柴油", "升", divisible=True),
)


def _incident(iid: str, level: int, deadline_min: float, **kw) -> Incident:
    return Incident(
        iid,
        f"事件{iid}",
        "自然灾害",
        "山洪",
        level,
        (105.9, 28.8),
        T0,
        deadline_min=deadline_min,
        **kw,
    )


@pytest.fixture(scope="module")
def small() -> Scenario:
    """Two depots, three shelters, three teams, five incidents (one closed, one without needs)."""
    return Scenario(
        "小县",
        materials=MATERIALS,
        stockpiles=(
            Stockpile(
                "SA",
                "县库",
                "县级",
                (105.8, 28.8),
                {"TENT": 100, "WATER": 50, "DIESEL": 500.5},
                safety_stock={"TENT": 20, "WATER": 80},  # water: safety above stock
            ),
            Stockpile("SB", "乡库", "乡镇", (105.9, 28.9), {"WATER": 30}),
        ),
        shelters=(
            Shelter("H1", "一中", "室内", "短期", (105.8, 28.7), 500, occupancy=120),
            Shelter("H2", "广场", "室外", "紧急", (105.7, 28.7), 300),
            Shelter("H3", "体育馆", "室内", "长期", (105.6, 28.7), 80, occupancy=80),
        ),
        teams=(
            Team("K1", "消防", "综合性消防救援", (105.8, 28.8), 20, ("水域救援", "城市搜救")),
            Team("K2", "医疗", "医疗", (105.9, 28.8), 8, ("医疗救护",), status="休整"),
            Team("K3", "民兵", "民兵", (105.9, 28.9), 30, (), status="出动"),
        ),
        incidents=(
            # order in the scenario: IV first, so priority order is not scenario order
            _incident("D", 4, 600, needs={"WATER": 10}, affected_people=40),
            _incident(
                "A",
                1,
                45,
                needs={"TENT": 30, "WATER": 0, "DIESEL": 12.5},
                required_skills={"水域救援": 15, "医疗救护": 4},
                affected_people=300,
            ),
            _incident("C", 2, 0.5, required_skills={"城市搜救": 6}),  # no needs, nobody to move
            _incident("B", 3, 120, needs={"WATER": 25}, affected_people=60),
            _incident(
                "Z",
                1,
                30,
                needs={"TENT": 5},
                required_skills={"水域救援": 3},
                affected_people=9,
                status="结束",
            ),
        ),
    )


def test_allocation_site_from_incident(small: Scenario) -> None:
    inc = small.find("A")
    site = AllocationSite.from_incident(inc)
    assert (site.id, site.level, site.deadline_s, site.name, site.kind) == (
        "A",
        1,
        2700,
        "事件A",
        "incident",
    )
    assert site.location == inc.location and site.needs == dict(inc.needs)
    # a default site has no deadline and level III
    bare = AllocationSite("X", {"TENT": 1})
    assert bare.deadline_s == NO_DEADLINE and bare.level == 3 and bare.kind == "incident"


@pytest.mark.parametrize(
    ("minutes", "seconds"),
    [(45, 2700), (0.5, 30), (1.26, 76), (0.001, 0), (600, 36000), (43_200, 2_592_000)]  # 43,200 min: the 30-day limit,
)
def test_deadline_minutes_become_whole_seconds(
    small: Scenario, minutes: float, seconds: int
) -> None:
    inc = _incident("Q", 2, minutes, needs={"TENT": 1}, required_skills={"水域救援": 1})
    assert AllocationSite.from_incident(inc).deadline_s == seconds
    sc = small.replace(incidents=(inc,))
    assert build_allocation_problem(sc, np.zeros((2, 1))).deadline_s.tolist() == [seconds]
    assert build_assignment_problem(sc, np.zeros((3, 1))).deadline_s.tolist() == [seconds]


def test_build_allocation_problem_hand_checked(small: Scenario) -> None:
    seconds = np.array([[600, 1200.4, U], [-5, 300, 900]])
    p = build_allocation_problem(small, seconds)
    # open incidents with needs, in scenario order; C has none, Z is closed
    assert p.site_ids == ("D", "A", "B") and p.site_names == ("事件D", "事件A", "事件B")
    assert p.stockpile_ids == ("SA", "SB")
    # materials in order of first need > 0 (A's WATER 0 does not count; D's WATER comes first)
    assert p.materials == ("WATER", "TENT", "DIESEL") and p.shape == (2, 3, 3)
    assert p.material_names == ("饮用水", "救灾帐篷", "柴油")
    assert p.material_units == ("箱", "顶", "升")
    assert p.divisible.tolist() == [False, False, True]
    # available = stock − safety (never < 0); safety = what the safety stock really holds back
    assert p.available.tolist() == [[0, 80, 500.5], [30, 0, 0]]
    assert p.safety.tolist() == [[50, 20, 0], [0, 0, 0]]
    np.testing.assert_array_equal(p.available + p.safety, [[50, 100, 500.5], [30, 0, 0]])
    assert p.demand.tolist() == [[10, 0, 0], [0, 30, 12.5], [25, 0, 0]]
    assert p.seconds.tolist() == [[600, 1200, U], [U, 300, 900]]
    assert p.reachable.tolist() == [[True, True, False], [False, True, True]]
    assert p.deadline_s.tolist() == [36000, 2700, 7200]
    assert p.level.tolist() == [4, 1, 3]
    assert p.priority.tolist() == [1, 24, 4]  # IV ≥3 h, I ≤1 h, III ≤3 h
    order = sorted(p.site_ids, key=lambda s: -p.priority[p.site_ids.index(s)])
    assert order == ["A", "B", "D"]
    _read_only(p.available, p.safety, p.demand, p.seconds, p.reachable, p.deadline_s, p.level)
    _read_only(p.priority, p.divisible)
    assert seconds.flags.writeable  # the caller's matrix is copied, not frozen


def test_build_allocation_problem_with_extra_sites_materials_and_mask(small: Scenario) -> None:
    shelter = AllocationSite("H1", {"WATER": 4, "QUILT": 2}, level=2, name="一中", kind="shelter")
    sites = [AllocationSite.from_incident(small.find("B"))]
    mask = np.array([[True, False], [True, True]])
    p = build_allocation_problem(
        small,
        np.array([[100, 200], [300, 400]], dtype=np.int32),
        sites=sites,
        extra_sites=[shelter],
        reachable=mask,
        materials=["QUILT", "WATER", "TENT"],
    )
    assert p.site_ids == ("B", "H1") and p.site_names == ("事件B", "一中")
    assert p.materials == ("QUILT", "WATER", "TENT")
    # QUILT is not in this scenario's catalogue: its code is its name, no unit, indivisible
    assert p.material_names == ("QUILT", "饮用水", "救灾帐篷")
    assert p.material_units == ("", "箱", "顶")
    assert p.divisible.tolist() == [False, False, False]
    assert p.demand.tolist() == [[0, 25, 0], [2, 4, 0]]
    assert p.available.tolist() == [[0, 0, 80], [0, 30, 0]]
    assert p.seconds.tolist() == [[100, U], [300, 400]]
    assert p.reachable.tolist() == mask.tolist()
    assert p.deadline_s.tolist() == [7200, NO_DEADLINE] and p.priority.tolist() == [4, 4]


def test_build_allocation_problem_without_sites(small: Scenario) -> None:
    quiet = small.replace(incidents=())
    p = build_allocation_problem(quiet, np.zeros((2, 0)))
    assert p.shape == (2, 0, 0)
    assert p.available.shape == (2, 0) and p.demand.shape == (0, 0) and p.seconds.shape == (2, 0)


def test_build_allocation_problem_rejects_a_matrix_of_the_wrong_shape(small: Scenario) -> None:
    with pytest.raises(
        ValueError,
        match=r"AllocationProblem\.seconds: travel-time matrix has shape \(3, 2\), expected \(2, 3\)",
    ):
        build_allocation_problem(small, np.zeros((3, 2)))


def _alloc(**kw) -> AllocationProblem:
    args = dict(
        stockpile_ids=("S0", "S1"),
        site_ids=("T0",),
        materials=("TENT",),
        available=[[1], [2]],
        demand=[[3]],
        seconds=[[10], [20]],
    )
    args.update(kw)
    return AllocationProblem(**args)


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"stockpile_ids": ("S0", "S0")}, r"AllocationProblem\.stockpile_ids has duplicates"),
        (
            {"site_ids": ("T0", "T0"), "demand": [[1], [1]]},
            r"AllocationProblem\.site_ids has duplicates",
        ),
        ({"materials": ("A", "A")}, r"AllocationProblem\.materials has duplicates"),
        (
            {"available": [[1, 1], [2, 2]]},
            r"AllocationProblem\.available has shape \(2, 2\), expected \(2, 1\)",
        ),
        (
            {"demand": [[3], [4]]},
            r"AllocationProblem\.demand has shape \(2, 1\), expected \(1, 1\)",
        ),
        ({"safety": [[1]]}, r"AllocationProblem\.safety has shape \(1, 1\), expected \(2, 1\)"),
        ({"available": [[-1], [2]]}, r"AllocationProblem\.available must be finite and ≥ 0"),
        ({"demand": [[np.nan]]}, r"AllocationProblem\.demand must be finite and ≥ 0"),
        ({"safety": [[np.inf], [0]]}, r"AllocationProblem\.safety must be finite and ≥ 0"),
        (
            {"seconds": [[10, 20]]},
            r"AllocationProblem\.seconds: travel-time matrix has shape \(1, 2\)",
        ),
        (
            {"deadline_s": [1, 2]},
            r"AllocationProblem\.deadline_s has shape \(2,\), expected \(1,\)",
        ),
        ({"level": [5]}, r"AllocationProblem\.level must be in 1\.\.4"),
        ({"level": [0]}, r"AllocationProblem\.level must be in 1\.\.4"),
        ({"priority": [0]}, r"AllocationProblem\.priority must be integers ≥ 1"),
        (
            {"divisible": [True, False]},
            r"AllocationProblem\.divisible has shape \(2,\), expected \(1,\)",
        ),
        ({"material_names": ("a", "b")}, r"material_names/material_units/site_names length"),
        ({"site_names": ("x", "y")}, r"material_names/material_units/site_names length"),
    ],
)
def test_allocation_problem_validation_names_the_field(kw, message) -> None:
    with pytest.raises(ValueError, match=message):
        _alloc(**kw)


def test_allocation_problem_defaults_and_copies() -> None:
    available = np.array([[1.0], [2.0]])
    p = _alloc(available=available, stockpile_ids=["S0", "S1"])
    assert p.stockpile_ids == ("S0", "S1")  # lists become tuples
    assert p.safety.tolist() == [[0], [0]] and p.level.tolist() == [3]
    assert p.deadline_s.tolist() == [NO_DEADLINE] and p.priority.tolist() == [2]
    assert p.divisible.tolist() == [False]
    assert p.material_names == ("TENT",) and p.material_units == ("",) and p.site_names == ("T0",)
    available[0, 0] = 99  # the problem holds a copy
    assert p.available[0, 0] == 1
    _read_only(p.available, p.safety, p.deadline_s, p.level, p.priority, p.divisible)
    with pytest.raises(AttributeError):
        p.available = np.zeros((2, 1))  # type: ignore[misc]
    # a given priority wins over level and deadline
    assert _alloc(level=[1], deadline_s=[60], priority=[5]).priority.tolist() == [5]


def test_build_assignment_problem_hand_checked(small: Scenario) -> None:
    eta = np.array([[100, 200], [300.4, np.inf], [50, U]])
    p = build_assignment_problem(small, eta, pins=[("K1", "A")], forbids=[("K2", "C")])
    # every team whatever its status (the solver filters); open incidents that require skills
    assert p.team_ids == ("K1", "K2", "K3") and p.team_names == ("消防", "医疗", "民兵")
    assert p.team_status == ("待命", "休整", "出动")
    assert p.team_skills == (("水域救援", "城市搜救"), ("医疗救护",), ())
    assert p.headcount.tolist() == [20, 8, 30] and p.headcount.dtype == np.int64
    assert p.incident_ids == ("A", "C") and p.incident_names == ("事件A", "事件C")
    assert p.requirements == ({"水域救援": 15, "医疗救护": 4}, {"城市搜救": 6})
    assert p.eta_s.tolist() == [[100, 200], [300, U], [50, U]]
    assert p.reachable.tolist() == [[True, True], [True, False], [True, False]]
    assert p.deadline_s.tolist() == [2700, 30]
    assert p.level.tolist() == [1, 2]
    assert p.priority.tolist() == [24, 12]
    assert p.pins == (("K1", "A"),) and p.forbids == (("K2", "C"),)
    _read_only(p.headcount, p.eta_s, p.reachable, p.deadline_s, p.level, p.priority)
    # explicit incidents: used as given, closed ones included
    q = build_assignment_problem(small, np.zeros((3, 1)), incidents=[small.find("Z")])
    assert q.incident_ids == ("Z",) and q.requirements == ({"水域救援": 3},)
    assert q.priority.tolist() == [24]
    with pytest.raises(
        ValueError,
        match=r"AssignmentProblem\.eta_s: travel-time matrix has shape \(2, 3\), expected \(3, 2\)",
    ):
        build_assignment_problem(small, np.zeros((2, 3)))


def _assign(**kw) -> AssignmentProblem:
    args = dict(
        team_ids=("K1", "K2"),
        team_skills=(("a",), ("b",)),
        headcount=[3, 4],
        incident_ids=("N1",),
        requirements=({"a": 2},),
        eta_s=[[10], [20]],
    )
    args.update(kw)
    return AssignmentProblem(**args)


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"team_ids": ("K1", "K1")}, r"AssignmentProblem: duplicate team or incident ids"),
        (
            {"incident_ids": ("N1", "N1"), "requirements": ({}, {})},
            r"duplicate team or incident ids",
        ),
        ({"team_skills": (("a",),)}, r"AssignmentProblem\.team_skills has 1 rows, expected 2"),
        (
            {"requirements": ({"a": 1}, {"b": 1})},
            r"AssignmentProblem\.requirements has 2 rows, expected 1",
        ),
        ({"requirements": ({"a": -1},)}, r"AssignmentProblem\.requirements must be ≥ 0 headcounts"),
        ({"headcount": [3]}, r"AssignmentProblem\.headcount has shape \(1,\), expected \(2,\)"),
        ({"headcount": [3, -4]}, r"AssignmentProblem\.headcount must be ≥ 0"),
        (
            {"eta_s": [[10, 20]]},
            r"AssignmentProblem\.eta_s: travel-time matrix has shape \(1, 2\), expected \(2, 1\)",
        ),
        (
            {"team_status": ("待命",)},
            r"AssignmentProblem\.team_status length differs from team_ids",
        ),
        ({"level": [1, 2]}, r"AssignmentProblem\.level has shape \(2,\), expected \(1,\)"),
        ({"priority": [0]}, r"AssignmentProblem\.priority must be integers ≥ 1"),
    ],
)
def test_assignment_problem_validation_names_the_field(kw, message) -> None:
    with pytest.raises(ValueError, match=message):
        _assign(**kw)


def test_assignment_problem_defaults() -> None:
    p = _assign(requirements=({"a": 2.0},), pins=[["K1", "N1"]])
    assert p.team_status == ("待命", "待命")
    assert p.requirements == ({"a": 2},) and isinstance(p.requirements[0]["a"], int)
    assert p.pins == (("K1", "N1"),) and p.forbids == ()
    assert p.deadline_s.tolist() == [NO_DEADLINE] and p.level.tolist() == [3]
    assert p.priority.tolist() == [2]
    assert p.team_names == ("K1", "K2") and p.incident_names == ("N1",)


def test_build_evacuation_problem_hand_checked(small: Scenario) -> None:
    seconds = np.array([[60, 120, U], [180, -1, 240], [300.6, 360, 420]])
    p = build_evacuation_problem(small, seconds)
    # open incidents with affected people (C has none, Z is closed), scenario order
    assert p.group_ids == ("D", "A", "B") and p.group_names == ("事件D", "事件A", "事件B")
    assert p.people.tolist() == [40, 300, 60]
    # evacuation priority is the level weight alone (deadlines do not count here)
    assert p.priority.tolist() == [1, 8, 2]
    assert p.shelter_ids == ("H1", "H2", "H3") and p.shelter_names == ("一中", "广场", "体育馆")
    assert p.capacity.tolist() == [380, 300, 0]  # free places; a full shelter has 0
    assert p.seconds.tolist() == [[60, 120, U], [180, U, 240], [301, 360, 420]]
    assert p.reachable.tolist() == [[True, True, False], [True, False, True], [True, True, True]]
    _read_only(p.people, p.capacity, p.seconds, p.reachable, p.priority)


def test_build_evacuation_problem_with_given_groups_and_shelters(small: Scenario) -> None:
    groups = [EvacuationGroup("V1", 25, name="石龙村", priority=3), EvacuationGroup("V2", 7)]
    p = build_evacuation_problem(small, [[1, 2]] * 2, groups=groups, shelters=small.shelters[1:])
    assert p.group_ids == ("V1", "V2") and p.group_names == ("石龙村", "V2")
    assert p.people.tolist() == [25, 7] and p.priority.tolist() == [3, 1]
    assert p.shelter_ids == ("H2", "H3") and p.capacity.tolist() == [300, 0]
    with pytest.raises(
        ValueError,
        match=r"EvacuationProblem\.seconds: travel-time matrix has shape \(3, 3\), expected \(2, 2\)",
    ):
        build_evacuation_problem(
            small, np.zeros((3, 3)), groups=groups, shelters=small.shelters[1:]
        )


def _evac(**kw) -> EvacuationProblem:
    args = dict(
        group_ids=("G1",), people=[5], shelter_ids=("H1", "H2"), capacity=[3, 4], seconds=[[1, 2]]
    )
    args.update(kw)
    return EvacuationProblem(**args)


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"shelter_ids": ("H1", "H1")}, r"EvacuationProblem: duplicate group or shelter ids"),
        ({"people": [5, 6]}, r"EvacuationProblem\.people has shape \(2,\), expected \(1,\)"),
        ({"capacity": [3]}, r"EvacuationProblem\.capacity has shape \(1,\), expected \(2,\)"),
        ({"people": [-5]}, r"EvacuationProblem: people and capacity must be ≥ 0"),
        ({"capacity": [3, -1]}, r"EvacuationProblem: people and capacity must be ≥ 0"),
        (
            {"seconds": [[1], [2]]},
            r"EvacuationProblem\.seconds: travel-time matrix has shape \(2, 1\), expected \(1, 2\)",
        ),
        ({"priority": [0]}, r"EvacuationProblem\.priority must be integers ≥ 1"),
    ],
)
def test_evacuation_problem_validation_names_the_field(kw, message) -> None:
    with pytest.raises(ValueError, match=message):
        _evac(**kw)


def test_evacuation_problem_defaults() -> None:
    p = _evac(group_ids=["G1"])
    assert p.group_ids == ("G1",) and p.priority.tolist() == [1]
    assert p.group_names == ("G1",) and p.shelter_names == ("H1", "H2")


# ---- the demo county on its road network -----------------------------------------------------


def test_demo_allocation_problem(demo_scenario, demo_engine) -> None:
    sc, engine = demo_scenario, demo_engine
    incidents = [i for i in sc.open_incidents() if i.needs]
    assert incidents, "the demo county has open incidents with needs"
    m = travel_matrix(engine, sc.stockpiles, incidents)
    p = build_allocation_problem(sc, m)
    assert p.stockpile_ids == tuple(s.id for s in sc.stockpiles)
    assert p.site_ids == tuple(i.id for i in incidents)
    needed = {c for i in incidents for c, q in i.needs.items() if q > 0}
    assert set(p.materials) == needed and len(p.materials) == len(needed)
    assert p.shape == (len(sc.stockpiles), len(incidents), len(needed))
    assert p.available.shape == p.safety.shape == (len(sc.stockpiles), len(needed))
    assert p.seconds.shape == (len(sc.stockpiles), len(incidents)) and p.seconds.dtype == np.int64
    # the demo's roads reach every incident: the problem has the engine's seconds as they are
    assert m.reachable.all() and p.reachable.all()
    np.testing.assert_array_equal(p.seconds, m.seconds)
    for si, s in enumerate(sc.stockpiles):
        for mi, code in enumerate(p.materials):
            assert p.available[si, mi] == s.available(code)
            assert p.available[si, mi] + p.safety[si, mi] == s.inventory.get(code, 0)
    for ti, inc in enumerate(incidents):
        assert p.demand[ti].tolist() == [inc.needs.get(c, 0) for c in p.materials]
        assert p.deadline_s[ti] == round(inc.deadline_min * 60)
        assert p.level[ti] == inc.level
        assert p.priority[ti] == site_priority(inc.level, inc.deadline_min * 60)
    cat = sc.material_index
    assert p.material_names == tuple(cat[c].name_zh for c in p.materials)
    assert p.divisible.tolist() == [cat[c].divisible for c in p.materials]
    # priorities order by level first, then deadline
    ranked = sorted(incidents, key=lambda i: (i.level, i.deadline_min))
    pri = [p.priority[p.site_ids.index(i.id)] for i in ranked]
    assert pri == sorted(pri, reverse=True)
    _read_only(p.available, p.safety, p.demand, p.seconds, p.reachable, p.priority)


def test_demo_assignment_and_evacuation_problems(demo_scenario, demo_engine) -> None:
    sc, engine = demo_scenario, demo_engine
    skilled = [i for i in sc.open_incidents() if i.required_skills]
    a = build_assignment_problem(sc, travel_matrix(engine, sc.teams, skilled))
    assert a.team_ids == tuple(t.id for t in sc.teams)
    assert a.incident_ids == tuple(i.id for i in skilled)
    assert a.eta_s.shape == (len(sc.teams), len(skilled)) and a.reachable.all()
    assert a.headcount.tolist() == [t.headcount for t in sc.teams]
    assert a.team_status == tuple(t.status.value for t in sc.teams)
    assert a.requirements == tuple(dict(i.required_skills) for i in skilled)
    assert a.priority.tolist() == [site_priority(i.level, i.deadline_min * 60) for i in skilled]

    affected = [i for i in sc.open_incidents() if i.affected_people > 0]
    e = build_evacuation_problem(sc, travel_matrix(engine, affected, sc.shelters))
    assert e.group_ids == tuple(i.id for i in affected)
    assert e.people.tolist() == [i.affected_people for i in affected]
    assert e.priority.tolist() == [LEVEL_WEIGHT[i.level] for i in affected]
    assert e.shelter_ids == tuple(s.id for s in sc.shelters)
    assert e.capacity.tolist() == [s.capacity - s.occupancy for s in sc.shelters]
    assert e.seconds.shape == (len(affected), len(sc.shelters)) and e.reachable.all()
    _read_only(a.eta_s, a.headcount, e.seconds, e.capacity, e.people)


def test_demo_unreachable_pairs_stay_unreachable(demo_scenario, demo_network) -> None:
    """A ring of closed roads around one incident: only the stockpile inside the ring reaches it,
    and every builder keeps the other pairs unreachable (sentinel seconds, mask False)."""
    from gis.matrix import TravelTimeEngine

    sc, network = demo_scenario, demo_network
    target = sc.open_incidents()[-1]
    ring = LineString(Point(target.location.lon, target.location.lat).buffer(0.01).exterior.coords)
    closure = RoadClosure("RC-RING", ring, reason="测试：环形封路", speed_factor=0.0)
    engine = TravelTimeEngine(network, (*sc.closures, closure))
    incidents = [i for i in sc.open_incidents() if i.needs]
    m = travel_matrix(engine, sc.stockpiles, incidents)
    col = [i.id for i in incidents].index(target.id)
    cut = ~m.reachable
    assert cut[:, col].sum() >= len(sc.stockpiles) - 1 and cut.any() and not cut.all()
    p = build_allocation_problem(sc, m)
    np.testing.assert_array_equal(p.reachable, m.reachable)
    assert (p.seconds[cut] == UNREACHABLE).all()
    np.testing.assert_array_equal(p.seconds[~cut], m.seconds[~cut])
    # the same with the matrix given as plain seconds plus a mask, and as seconds alone
    q = build_allocation_problem(sc, np.asarray(m.seconds), reachable=m.reachable)
    np.testing.assert_array_equal(q.reachable, m.reachable)
    r = build_allocation_problem(sc, np.asarray(m.seconds))
    np.testing.assert_array_equal(r.reachable, m.reachable)

    teams = travel_matrix(engine, sc.teams, [target])
    a = build_assignment_problem(sc, teams, incidents=[target])
    np.testing.assert_array_equal(a.reachable, teams.reachable)
    assert (a.eta_s[~teams.reachable] == UNREACHABLE).all()

    ev = travel_matrix(engine, [target], sc.shelters)
    group = EvacuationGroup(target.id, target.affected_people, target.location)
    e = build_evacuation_problem(sc, ev, groups=[group])
    np.testing.assert_array_equal(e.reachable, ev.reachable)
    assert (e.seconds[~ev.reachable] == UNREACHABLE).all()
