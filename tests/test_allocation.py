"""Material allocation: hand-checked optima, reasons, safety stock, properties, cancel, demo county."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dispatch.allocation import AllocationOptions, solve_allocation
from dispatch.problems import (
    NO_DEADLINE,
    UNREACHABLE,
    AllocationProblem,
    AllocationSite,
    build_allocation_problem,
    site_priority,
)
from dispatch.results import Reason, Status
from gis.model import Incident, Material, Scenario, Shelter, Stockpile

U = UNREACHABLE


def _problem(**kw) -> AllocationProblem:
    s = len(kw["available"])
    t = len(kw["demand"])
    kw.setdefault("stockpile_ids", tuple(f"S{i}" for i in range(s)))
    kw.setdefault("site_ids", tuple(f"T{i}" for i in range(t)))
    kw.setdefault("materials", ("TENT",))
    kw.setdefault("material_names", ("帐篷",) * len(kw["materials"]))
    kw.setdefault("material_units", ("顶",) * len(kw["materials"]))
    return AllocationProblem(**kw)


def _q(result, site, stockpile=None, material=None) -> float:
    return sum(
        ln.quantity
        for ln in result.lines
        if ln.site_id == site
        and (stockpile is None or ln.stockpile_id == stockpile)
        and (material is None or ln.material == material)
    )


# --------------------------------------------------------------------------------------------
# Hand-checked optima
# --------------------------------------------------------------------------------------------


def test_priority_first_then_travel_hand_checked():
    # x: level I, 60 min → priority 24; y: level IV, 120 min → 2. Supply 15 < demand 17.
    # Tier 1: x gets its 8, y the remaining 7. Tier 2: x from A (100 s), y 2 from A + 5 from B:
    # 8·100 + 2·300 + 5·100 = 1900 (the alternative 3A+5B → x, 7A → y costs 3400).
    p = _problem(
        available=[[10], [5]],
        demand=[[8], [9]],
        seconds=[[100, 300], [200, 100]],
        level=[1, 4],
        deadline_s=[3600, 7200],
    )
    r = solve_allocation(p)
    assert r.info.status is Status.OPTIMAL
    assert r.info.objective == 1900 and r.info.bound == 1900
    assert _q(r, "T0", "S0") == 8 and _q(r, "T0", "S1") == 0
    assert _q(r, "T1", "S0") == 2 and _q(r, "T1", "S1") == 5
    (u,) = r.unserved
    assert (u.site_id, u.what, u.quantity, u.reason) == ("T1", "TENT", 2.0, Reason.OUT_OF_STOCK)
    assert u.message_zh == "缺少 帐篷 2 顶：库存不足"
    assert r.weighted_fulfilled == 24 * 8 + 2 * 7
    assert r.weighted_demand == 24 * 8 + 2 * 9


def test_high_priority_far_site_beats_near_low_priority_site():
    p = _problem(
        available=[[10]],
        demand=[[10], [10]],
        seconds=[[5000, 100]],
        level=[1, 4],
    )
    r = solve_allocation(p)
    assert _q(r, "T0") == 10 and _q(r, "T1") == 0
    assert [(u.site_id, u.quantity) for u in r.unserved] == [("T1", 10.0)]


def test_ties_in_priority_are_broken_by_travel_time():
    # Equal priority: any split of 10 units serves the same weighted demand; the nearer site
    # wins every unit because its arc is cheaper.
    p = _problem(available=[[10]], demand=[[10], [10]], seconds=[[900, 300]], level=[2, 2])
    r = solve_allocation(p)
    assert _q(r, "T1") == 10 and r.info.objective == 3000


def test_deadline_excludes_late_stockpile_and_reason_is_too_late():
    # B arrives in time with 3; A has 10 but needs 4000 s > 3600 s.
    p = _problem(
        available=[[10], [3]],
        demand=[[8]],
        seconds=[[4000], [1000]],
        level=[3],
        deadline_s=[3600],
    )
    r = solve_allocation(p)
    assert _q(r, "T0", "S1") == 3 and _q(r, "T0", "S0") == 0
    (u,) = r.unserved
    assert u.reason is Reason.TOO_LATE and u.quantity == 5
    assert "超出时限" in u.message_zh and "60 分钟" in u.message_zh
    late = solve_allocation(p, AllocationOptions(allow_late=True))
    assert _q(late, "T0", "S0") == 5 and _q(late, "T0", "S1") == 3
    assert late.unserved == ()


def test_reasons_unreachable_and_out_of_stock():
    # T0 is cut off from every stockpile; nobody holds any WATER.
    p = _problem(
        materials=("TENT", "WATER"),
        material_names=("帐篷", "饮用水"),
        material_units=("顶", "箱"),
        available=[[5, 0], [5, 0]],
        demand=[[3, 0], [2, 4]],
        seconds=[[U, 100], [U, 200]],
    )
    r = solve_allocation(p)
    by = {(u.site_id, u.what): u for u in r.unserved}
    assert by["T0", "TENT"].reason is Reason.UNREACHABLE
    assert "不可达" in by["T0", "TENT"].message_zh
    assert by["T1", "WATER"].reason is Reason.OUT_OF_STOCK
    assert by["T1", "WATER"].message_zh == "缺少 饮用水 4 箱：库存不足"
    assert _q(r, "T1", material="TENT") == 2
    # The same with an explicit reachable mask instead of the sentinel.
    mask = np.array([[False, True], [False, True]])
    p2 = _problem(
        available=[[5], [5]], demand=[[3], [2]], seconds=[[10, 100], [10, 200]], reachable=mask
    )
    r2 = solve_allocation(p2)
    assert [u.reason for u in r2.unserved] == [Reason.UNREACHABLE]
    # and with float seconds where inf / NaN mean "no path"
    p3 = _problem(available=[[5], [5]], demand=[[3], [2]], seconds=[[np.inf, 100.4], [np.nan, 2e2]])
    r3 = solve_allocation(p3)
    assert [u.reason for u in r3.unserved] == [Reason.UNREACHABLE]
    assert p3.seconds[0, 1] == 100 and _q(r3, "T1") == 2


def test_safety_stock_released_only_for_levels_i_and_ii():
    kw = dict(available=[[6]], safety=[[4]], seconds=[[100, 100]], demand=[[9], [9]])
    r = solve_allocation(_problem(level=[1, 3], **kw))
    # Level I may draw on all 10 (6 ordinary + 4 safety), level III only on the ordinary 6:
    # the optimum serves I fully with all the safety stock, leaving 1 ordinary unit for III.
    assert _q(r, "T0") == 9 and _q(r, "T1") == 1
    (line,) = [ln for ln in r.lines if ln.site_id == "T0"]
    assert line.from_safety_stock == 4
    r = solve_allocation(_problem(level=[3, 3], **kw))
    assert _q(r, "T0") + _q(r, "T1") == 6
    assert all(ln.from_safety_stock == 0 for ln in r.lines)
    r = solve_allocation(_problem(level=[1, 3], **kw), AllocationOptions(release_safety_levels=()))
    assert _q(r, "T0") + _q(r, "T1") == 6


def test_ordinary_stock_is_preferred_to_safety_stock():
    # A (100 s): 5 ordinary + 5 safety; B (130 s): 10 ordinary. Level I site needs 10.
    # 5 A + 5 B = 500 + 650 = 1150 < 5 A + 5 A-safety = 500 + 5·(100 + 60) = 1300.
    p = _problem(
        available=[[5], [10]], safety=[[5], [0]], demand=[[10]], seconds=[[100], [130]], level=[1]
    )
    r = solve_allocation(p)
    assert _q(r, "T0", "S0") == 5 and _q(r, "T0", "S1") == 5 and r.info.objective == 1150
    r0 = solve_allocation(p, AllocationOptions(safety_stock_penalty_s=0))
    assert _q(r0, "T0", "S0") == 10 and r0.info.objective == 1000


def test_divisible_material_is_split_in_fractions_indivisible_rounded_up():
    p = _problem(
        materials=("DIESEL", "TENT"),
        material_names=("柴油", "帐篷"),
        material_units=("升", "顶"),
        divisible=[True, False],
        available=[[10.5, 3]],
        demand=[[7.25, 2.5], [5.0, 0]],
        seconds=[[100, 200]],
        level=[1, 3],
    )
    r = solve_allocation(p)
    assert _q(r, "T0", material="DIESEL") == pytest.approx(7.25)
    assert _q(r, "T1", material="DIESEL") == pytest.approx(3.25)
    assert r.shortfall("T1", "DIESEL") == pytest.approx(1.75)
    assert _q(r, "T0", material="TENT") == 3  # 2.5 tents → 3 whole tents
    # priorities 8 (level I, no deadline) and 2; demand counted as planned (3 whole tents)
    assert r.fulfilment == pytest.approx((8 * (7.25 + 3) + 2 * 3.25) / (8 * (7.25 + 3) + 2 * 5))
    assert all(float(ln.quantity).is_integer() for ln in r.lines if ln.material == "TENT")


def test_priority_formula():
    assert site_priority(1, 3600) == 24
    assert site_priority(2, 2 * 3600) == 8
    assert site_priority(3, 5 * 3600) == 2
    assert site_priority(4, NO_DEADLINE) == 1
    with pytest.raises(ValueError):
        site_priority(5, 10)


def test_bad_shapes_raise_clear_value_errors():
    with pytest.raises(ValueError, match=r"seconds.*shape \(1, 3\).*\(1, 2\)"):
        _problem(available=[[1]], demand=[[1], [1]], seconds=[[1, 2, 3]])
    with pytest.raises(ValueError, match="demand"):
        _problem(available=[[1]], demand=[[1, 2]], seconds=[[1]])
    with pytest.raises(ValueError, match="≥ 0"):
        _problem(available=[[-1]], demand=[[1]], seconds=[[1]])
    with pytest.raises(ValueError, match="engine"):
        solve_allocation(
            _problem(available=[[1]], demand=[[1]], seconds=[[1]]), AllocationOptions(engine="x")
        )


def test_empty_problem_is_optimal_and_empty():
    p = _problem(available=np.zeros((0, 1)), demand=np.zeros((0, 1)), seconds=np.zeros((0, 0)))
    r = solve_allocation(p)
    assert r.info.status is Status.OPTIMAL and r.lines == () and r.unserved == ()
    r = solve_allocation(
        _problem(available=np.zeros((0, 1)), demand=[[4]], seconds=np.zeros((0, 1)))
    )
    assert [u.reason for u in r.unserved] == [Reason.OUT_OF_STOCK]


# --------------------------------------------------------------------------------------------
# Cancel and progress
# --------------------------------------------------------------------------------------------


def _random_problem(seed: int, s: int = 30, t: int = 60, m: int = 10) -> AllocationProblem:
    rng = np.random.default_rng(seed)
    sec = rng.integers(300, 9000, size=(s, t))
    sec[rng.random((s, t)) < 0.05] = U
    return _problem(
        materials=tuple(f"M{i}" for i in range(m)),
        material_names=tuple(f"物资{i}" for i in range(m)),
        material_units=("件",) * m,
        available=rng.integers(0, 200, (s, m)),
        safety=rng.integers(0, 20, (s, m)),
        demand=rng.integers(0, 120, (t, m)),
        seconds=sec,
        level=rng.integers(1, 5, t),
        deadline_s=rng.integers(1800, 4 * 3600, t),
    )


def test_stop_returns_cancelled_promptly_with_materials_done_so_far():
    p = _random_problem(1)
    calls = []

    def stop() -> bool:
        calls.append(1)
        return len(calls) > 3  # three materials are allowed to finish

    r = solve_allocation(p, stop=stop)
    assert len(calls) == 4  # polled before each material; nothing solved after stop() said so
    assert r.info.status is Status.CANCELLED and r.info.bound is None
    done = {ln.material for ln in r.lines}
    assert done <= {"M0", "M1", "M2"} and done
    cancelled = [u for u in r.unserved if u.reason is Reason.CANCELLED]
    assert {u.what for u in cancelled} == {f"M{i}" for i in range(3, 10)}
    # every cancelled need is listed with its full quantity
    assert sum(u.quantity for u in cancelled) == pytest.approx(float(p.demand[:, 3:].sum()))
    r = solve_allocation(p, stop=lambda: True)
    assert r.info.status is Status.CANCELLED and r.lines == ()


def test_time_limit_gives_timeout_and_lists_the_rest():
    p = _random_problem(3, m=3)
    r = solve_allocation(p, AllocationOptions(time_limit_s=0.0))
    assert r.info.status is Status.TIMEOUT and r.lines == ()
    assert {u.reason for u in r.unserved} == {Reason.TIME_LIMIT}
    assert sum(u.quantity for u in r.unserved) == pytest.approx(float(p.demand.sum()))
    assert r.fulfilment == 0.0


def test_progress_reports_each_material_up_to_one():
    p = _random_problem(2, m=4)
    seen: list[float] = []
    solve_allocation(p, progress=lambda f, msg: seen.append(f))
    assert seen == sorted(seen) and seen[-1] == 1.0 and len(seen) == 4


# --------------------------------------------------------------------------------------------
# Properties (hypothesis): feasibility invariants and agreement with an independent LP (GLOP)
# --------------------------------------------------------------------------------------------


@st.composite
def problems(draw):
    s = draw(st.integers(1, 4))
    t = draw(st.integers(1, 5))
    m = draw(st.integers(1, 3))
    ints = lambda lo, hi, n: draw(st.lists(st.integers(lo, hi), min_size=n, max_size=n))  # noqa: E731
    avail = np.array(ints(0, 30, s * m)).reshape(s, m)
    safety = np.array(ints(0, 10, s * m)).reshape(s, m)
    demand = np.array(ints(0, 40, t * m)).reshape(t, m)
    sec = np.array(ints(60, 5000, s * t)).reshape(s, t)
    cut = np.array(draw(st.lists(st.booleans(), min_size=s * t, max_size=s * t))).reshape(s, t)
    sec = np.where(cut & (np.arange(s * t).reshape(s, t) % 3 == 0), U, sec)
    level = ints(1, 4, t)
    deadline = ints(600, 6000, t)
    allow_late = draw(st.booleans())
    release = draw(st.sampled_from([(), (1,), (1, 2)]))
    p = _problem(
        materials=tuple(f"M{i}" for i in range(m)),
        material_names=tuple(f"物资{i}" for i in range(m)),
        material_units=("件",) * m,
        available=avail,
        safety=safety,
        demand=demand,
        seconds=sec,
        level=level,
        deadline_s=deadline,
    )
    return p, AllocationOptions(allow_late=allow_late, release_safety_levels=release)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
@given(problems())
def test_allocation_invariants_and_agreement_with_lp(case):
    p, opt = case
    r = solve_allocation(p, opt)
    assert r.info.status is Status.OPTIMAL
    sp = {s: i for i, s in enumerate(p.stockpile_ids)}
    si = {s: i for i, s in enumerate(p.site_ids)}
    mi = {m: i for i, m in enumerate(p.materials)}
    released = {i for i, lvl in enumerate(p.level) if lvl in opt.release_safety_levels}
    out = np.zeros_like(p.available)
    out_safety = np.zeros_like(p.available)
    for ln in r.lines:
        s, t, j = sp[ln.stockpile_id], si[ln.site_id], mi[ln.material]
        assert ln.quantity > 0 and ln.quantity == int(ln.quantity)
        assert p.reachable[s, t] and ln.travel_s == p.seconds[s, t]
        if not opt.allow_late:
            assert ln.travel_s <= p.deadline_s[t]
        if ln.from_safety_stock:
            assert t in released
        out[s, j] += ln.quantity
        out_safety[s, j] += ln.from_safety_stock
    # never more than stock − safety (plus the released safety stock)
    assert np.all(out - out_safety <= p.available)
    assert np.all(out_safety <= p.safety)
    if not released:
        assert not out_safety.any()
    # delivered + shortfall == demand, for every site × material
    for t, site in enumerate(p.site_ids):
        for j, mat in enumerate(p.materials):
            assert r.shipped(site, mat) + r.shortfall(site, mat) == pytest.approx(p.demand[t, j])
    # an independent LP (GLOP, all materials at once) reaches the same two tiers
    lp = solve_allocation(p, AllocationOptions(**{**_asdict(opt), "engine": "glop"}))
    assert lp.info.status is Status.OPTIMAL
    assert lp.weighted_fulfilled == pytest.approx(r.weighted_fulfilled)
    assert lp.info.objective == pytest.approx(r.info.objective)


def _asdict(opt: AllocationOptions) -> dict:
    return {f: getattr(opt, f) for f in AllocationOptions.__slots__}


def test_mcf_and_lp_agree_on_a_medium_random_instance():
    p = _random_problem(7, s=15, t=40, m=3)
    a = solve_allocation(p)
    b = solve_allocation(p, AllocationOptions(engine="glop"))
    assert a.info.status is b.info.status is Status.OPTIMAL
    assert a.weighted_fulfilled == pytest.approx(b.weighted_fulfilled)
    assert a.info.objective == pytest.approx(b.info.objective)
    assert a.unserved and a.lines  # the instance is genuinely partial


# --------------------------------------------------------------------------------------------
# Builders from gis.model objects
# --------------------------------------------------------------------------------------------


def _scenario() -> Scenario:
    mats = (
        Material("TENT", "帐篷", "Tent", "顶", 35, 0.2, "生活类"),
        Material("DIESEL", "柴油", "Diesel", "升", 0.85, 0.001, "能源类", divisible=True),
    )
    sp = (
        Stockpile(
            "SP1", "县级库", "县级", (105.8, 28.8), {"TENT": 100, "DIESEL": 50.5}, {"TENT": 20}
        ),
        Stockpile("SP2", "乡镇库", "乡镇", (106.0, 28.7), {"TENT": 10}),
    )
    t0 = datetime(2026, 7, 1, 8, 0)
    inc = (
        Incident(
            "I1",
            "山洪",
            "自然灾害",
            "山洪",
            2,
            (106.07, 28.77),
            t0,
            300,
            needs={"TENT": 90},
            deadline_min=45,
        ),
        Incident(
            "I2",
            "滑坡",
            "自然灾害",
            "滑坡",
            4,
            (105.9, 28.9),
            t0,
            10,
            needs={"DIESEL": 20},
            status="结束",
        ),
        Incident(
            "I3",
            "内涝",
            "自然灾害",
            "内涝",
            3,
            (105.85, 28.85),
            t0,
            0,
            needs={"TENT": 30, "DIESEL": 12.5},
            deadline_min=240,
        ),
    )
    sh = (Shelter("H1", "体育馆", "室内", "短期", (105.83, 28.81), 500, 100, {"TENT": 0}),)
    return Scenario("t", materials=mats, stockpiles=sp, incidents=inc, shelters=sh)


def test_build_allocation_problem_from_scenario():
    sc = _scenario()
    extra = AllocationSite("H1", {"TENT": 5}, level=3, kind="shelter")
    p = build_allocation_problem(
        sc, np.array([[1000, 800, 500], [2000, 2500, 100]]), extra_sites=[extra]
    )
    assert p.site_ids == ("I1", "I3", "H1")  # closed incident I2 is left out
    assert p.materials == ("TENT", "DIESEL")
    assert p.available.tolist() == [[80, 50.5], [10, 0]]
    assert p.safety.tolist() == [[20, 0], [0, 0]]
    assert p.demand.tolist() == [[90, 0], [30, 12.5], [5, 0]]
    assert p.divisible.tolist() == [False, True]
    assert p.deadline_s.tolist() == [2700, 14400, NO_DEADLINE]
    assert p.priority.tolist() == [12, 2, 2]
    assert p.material_names == ("帐篷", "柴油")
    r = solve_allocation(p)
    # Tents: 90 ordinary + 20 safety (for level I/II only) against 90 + 30 + 5 needed. I1
    # (priority 12) is served fully and takes all 20 safety tents; the 20 ordinary tents left
    # go to I3 and H1 (both priority 2).
    assert r.shipped("I1", "TENT") == 90
    assert sum(ln.from_safety_stock for ln in r.lines if ln.site_id == "I1") == 20
    assert r.shipped("I3", "TENT") + r.shipped("H1", "TENT") == 20
    assert r.shipped("I3", "DIESEL") == pytest.approx(12.5)
    with pytest.raises(ValueError, match="shape"):
        build_allocation_problem(sc, np.zeros((2, 2)), extra_sites=[extra])


# --------------------------------------------------------------------------------------------
# The bundled demo county, on its road network
# --------------------------------------------------------------------------------------------


def test_demo_county_allocation_on_real_roads(demo_scenario, demo_engine):
    from gis.matrix import UNREACHABLE as ENGINE_SENTINEL

    assert ENGINE_SENTINEL == UNREACHABLE  # the problems read the engine's sentinel
    sc, engine = demo_scenario, demo_engine
    sites = [AllocationSite.from_incident(i) for i in sc.open_incidents() if i.needs]
    m = engine.matrix_lonlat(
        [s.location.lon for s in sc.stockpiles],
        [s.location.lat for s in sc.stockpiles],
        [s.location.lon for s in sites],
        [s.location.lat for s in sites],
    )
    p = build_allocation_problem(sc, m, sites=sites)
    r = solve_allocation(p)
    assert r.info.status is Status.OPTIMAL
    assert r.lines
    stock = {s.id: s for s in sc.stockpiles}
    out: dict[tuple[str, str], float] = {}
    for ln in r.lines:
        out[ln.stockpile_id, ln.material] = out.get((ln.stockpile_id, ln.material), 0) + ln.quantity
        si = p.site_ids.index(ln.site_id)
        assert ln.travel_s <= p.deadline_s[si]  # allow_late is off
    for (sid, code), q in out.items():
        assert q <= stock[sid].inventory.get(code, 0) + 1e-9
    for site in sites:
        for code, need in site.needs.items():
            assert r.shipped(site.id, code) + r.shortfall(site.id, code) == pytest.approx(need)
    # Every shortfall is explained in Chinese with one of the three reasons.
    for u in r.unserved:
        assert u.reason in (Reason.OUT_OF_STOCK, Reason.UNREACHABLE, Reason.TOO_LATE)
        assert u.message_zh.startswith("缺少 ")


def test_shortfall_is_split_between_deadline_and_stock():
    # B arrives in time with 3; A is late with only 2; the site needs 8: of the 5 missing, 2
    # are missing because of the deadline (A holds them) and 3 because nobody holds them.
    p = _problem(
        available=[[2], [3]],
        demand=[[8]],
        seconds=[[4000], [1000]],
        level=[3],
        deadline_s=[3600],
    )
    r = solve_allocation(p)
    assert _q(r, "T0", "S1") == 3
    by = {u.reason: u for u in r.unserved}
    assert set(by) == {Reason.TOO_LATE, Reason.OUT_OF_STOCK} and len(r.unserved) == 2
    assert by[Reason.TOO_LATE].quantity == 2 and by[Reason.OUT_OF_STOCK].quantity == 3
    assert "60 分钟内可送达的储备库已无余量" in by[Reason.TOO_LATE].message_zh
    assert r.shortfall("T0") == 5
    # allowing late deliveries serves exactly the part blamed on the deadline
    late = solve_allocation(p, AllocationOptions(allow_late=True))
    assert late.shortfall("T0") == 3
    assert [u.reason for u in late.unserved] == [Reason.OUT_OF_STOCK]
    # with no on-time stockpile at all the whole shortfall is the deadline's
    far = _problem(available=[[2]], demand=[[8]], seconds=[[4000]], level=[3], deadline_s=[3600])
    (u,) = solve_allocation(far).unserved
    assert u.reason is Reason.TOO_LATE and u.quantity == 8
