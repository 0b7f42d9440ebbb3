"""Demo resources of 合江县: shelters, depots, teams, hazards and three open incidents.

Names are realistic but invented for the demo (no real facility's capacity or stock is implied).
Every entity sits on or within 60 m of a generated road node inside the county.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import shapely
from shapely.affinity import rotate, scale
from shapely.geometry import Point

from gis.catalogue import PlanTemplates, template_needs
from gis.model import (
    ForceType,
    Hazard,
    Incident,
    IncidentCategory,
    IncidentStatus,
    Location,
    Material,
    Shelter,
    ShelterClass,
    ShelterSetting,
    Stockpile,
    StockpileLevel,
    Team,
    TeamStatus,
    Vehicle,
)
from tools.demo_geo import TownshipSeat, Village, geom_to_wgs, to_utm, to_wgs

SEAT = "510522001"
PORT = "510522002"
FUBAO = "510522112"
XIANTAN = "510522113"


@dataclass
class Placer:
    """Picks road nodes near a point, deterministically, never the same node twice."""

    xy: np.ndarray  # UTM of road nodes
    region: np.ndarray  # region name per node
    boundary_utm: Any
    rng: np.random.Generator
    used: set[int]

    def node(
        self, x: float, y: float, rmin: float = 0.0, rmax: float = 1500.0, region: str | None = None
    ) -> int:
        d = np.hypot(self.xy[:, 0] - x, self.xy[:, 1] - y)
        ok = (d >= rmin) & (d <= rmax)
        if region is not None:
            ok &= self.region == region
        if self.used:
            ok[list(self.used)] = False
        cand = np.flatnonzero(ok)
        if len(cand) == 0:
            order = np.argsort(d)
            cand = np.array([i for i in order[:50] if i not in self.used][:1])
        k = int(self.rng.choice(cand))
        self.used.add(k)
        return k

    def location(self, node: int, offset_m: float = 40.0) -> Location:
        """The node's position moved up to ``offset_m`` (so snapping has something to do)."""
        x, y = self.xy[node]
        ang = self.rng.uniform(0, 2 * np.pi)
        r = self.rng.uniform(0.3, 1.0) * offset_m
        px, py = x + r * np.cos(ang), y + r * np.sin(ang)
        if not self.boundary_utm.contains(Point(px, py)):
            px, py = x, y
        lon, lat = to_wgs(px, py)
        return Location(round(float(lon), 6), round(float(lat), 6))

    def near(self, x: float, y: float, rmin: float = 0.0, rmax: float = 1500.0,
             region: str | None = None, offset_m: float = 40.0) -> Location:
        return self.location(self.node(x, y, rmin, rmax, region), offset_m)


def _inventory(
    materials: tuple[Material, ...], scale_: float, rng: np.random.Generator, base: Mapping[str, int]
) -> tuple[dict[str, float], dict[str, float]]:
    inv: dict[str, float] = {}
    safety: dict[str, float] = {}
    for m in materials:
        b = base.get(m.code)
        if b is None:
            continue
        q = b * scale_ * rng.uniform(0.7, 1.3)
        if q < 1:
            if scale_ < 0.1 and rng.uniform() < 0.5:
                continue
            q = 1
        qty: float = round(q, 0) if m.divisible else int(round(q))
        if m.divisible:
            qty = float(int(qty // 50 * 50) or 50)
        inv[m.code] = qty
        s = qty * 0.2
        safety[m.code] = float(round(s)) if m.divisible else int(round(s))
    return inv, safety


#: County depot base stock (units of data/materials.csv).
COUNTY_STOCK: dict[str, int] = {
    "TENT": 700, "TENT-BIG": 60, "QUILT": 5000, "BLANKET": 2500, "SLEEPBAG": 1200, "FOLDBED": 1200,
    "COAT": 1500, "WATER": 6000, "FOOD": 5000, "MEAL": 2400, "PURIFIER": 12, "TOILET": 40,
    "TARP": 800, "LIFEJACKET": 2000, "LIFEBUOY": 400, "ROPE": 200, "BOAT": 14, "STRETCHER": 120,
    "SANDBAG": 80000, "PUMP": 50, "CHAINSAW": 60, "SHOVEL": 1500, "GENERATOR": 40, "LIGHT": 200,
    "LIGHTTOWER": 8, "FLASHLIGHT": 2000, "SATPHONE": 30, "RADIO": 200, "FIRSTAID": 1500,
    "MEDKIT": 150, "DISINFECT": 900, "MASK": 1500, "RAINCOAT": 4000, "BOOTS": 2000,
    "HELMET": 1500, "GASMASK": 700, "HAZMATSUIT": 80, "ABSORB": 240, "DIESEL": 20000,
    "GASOLINE": 10000,
}


def build_resources(
    *,
    seats: list[TownshipSeat],
    villages: list[Village],
    nodes_xy: np.ndarray,
    node_region: np.ndarray,
    boundary_utm: Any,
    materials: tuple[Material, ...],
    templates: PlanTemplates,
    rng: np.random.Generator,
) -> dict[str, tuple[Any, ...]]:
    """Shelters, stockpiles, teams, hazards and incidents for the demo scenario."""
    placer = Placer(nodes_xy, node_region, boundary_utm, rng, set())
    by = {s.code: s for s in seats}
    seat, port, fubao, xiantan = by[SEAT], by[PORT], by[FUBAO], by[XIANTAN]
    mat_index = {m.code: m for m in materials}
    # the north bank of the Yangtze (reached over one bridge) gets its own depot, team, shelters
    north = sorted((x for x in seats if x.region == "N"), key=lambda x: (-x.population, x.code))
    north_town = north[0] if north else by["510522117"]
    vill_by_town: dict[str, list[Village]] = {}
    for v in villages:
        vill_by_town.setdefault(v.township_code, []).append(v)

    # ------------------------------------------------------------------ shelters
    shelters: list[Shelter] = []

    def shelter(name: str, setting: ShelterSetting, cls: ShelterClass, loc: Location, cap: int,
                town: str, occupancy: int = 0, stock: dict[str, float] | None = None) -> None:
        shelters.append(Shelter(f"SH-{len(shelters) + 1:03d}", name, setting, cls, loc, cap,
                                occupancy, stock or {}, town))

    IN, OUT = ShelterSetting.INDOOR, ShelterSetting.OUTDOOR
    EM, SHORT, LONG = ShelterClass.EMERGENCY, ShelterClass.SHORT_TERM, ShelterClass.LONG_TERM
    shelter("合江县体育馆", IN, SHORT, placer.near(seat.x, seat.y, 300, 1200, "SE"), 3000, SEAT,
            stock={"QUILT": 400, "WATER": 300, "FOLDBED": 200})
    shelter("合江中学", IN, LONG, placer.near(seat.x, seat.y, 500, 1500, "SE"), 2400, SEAT,
            stock={"QUILT": 300, "WATER": 200})
    shelter("合江县人民广场", OUT, EM, placer.near(seat.x, seat.y, 0, 700, "SE"), 3000, SEAT)
    shelter("少岷公园应急避难场所", OUT, EM, placer.near(seat.x, seat.y, 800, 2000, "SE"), 1800, SEAT)
    shelter("合江县实验小学", IN, SHORT, placer.near(seat.x, seat.y, 600, 1800, "SE"), 1200, SEAT,
            occupancy=0)
    shelter("临港街道文化广场", OUT, EM, placer.near(port.x, port.y, 0, 900), 2000, PORT)
    shelter("临港小学", IN, SHORT, placer.near(port.x, port.y, 300, 1200), 800, PORT)
    for s in seats:
        if s.code in (SEAT, PORT):
            continue
        region = s.region
        if int(s.code[-3:]) % 2 == 0:
            shelter(f"{s.name}中心小学", IN, SHORT, placer.near(s.x, s.y, 100, 900, region),
                    int(round(rng.uniform(400, 1200), -1)), s.code)
        else:
            shelter(f"{s.name}文化广场", OUT, EM, placer.near(s.x, s.y, 0, 700, region),
                    int(round(rng.uniform(500, 1500), -1)), s.code)
    for code, n in ((FUBAO, 2), (XIANTAN, 2), (north_town.code, 2), ("510522106", 1)):
        town = by[code]
        extra = [v for v in vill_by_town.get(code, []) if v.region == town.region][:n]
        for v in extra:
            office = "居委会" if v.name.endswith("社区") else "村委会"
            shelter(f"{town.name}{v.name}{office}", IN, EM, placer.near(v.x, v.y, 0, 800, v.region),
                    int(round(rng.uniform(200, 400), -1)), code)
    fubao_school = next(x for x in shelters if x.name.startswith("福宝镇"))
    shelters[shelters.index(fubao_school)] = Shelter(
        fubao_school.id, fubao_school.name, fubao_school.setting, fubao_school.shelter_class,
        fubao_school.location, max(fubao_school.capacity, 900), 120, {"QUILT": 80, "WATER": 60},
        FUBAO,
    )

    # ------------------------------------------------------------------ stockpiles + vehicles
    stockpiles: list[Stockpile] = []
    vehicle_no = [0]

    def vehicle(home: str, kind: str, kg: float, m3: float, speed: float = 1.0,
                name: str = "") -> Vehicle:
        vehicle_no[0] += 1
        return Vehicle(f"VH-{vehicle_no[0]:03d}", kind, kg, m3, home, name, speed)

    def depot_fleet(home: str, county: bool) -> tuple[Vehicle, ...]:
        if county:
            return (
                *(vehicle(home, "厢式货车", 5000, 30, 0.9, f"厢式货车{i + 1}号") for i in range(4)),
                *(vehicle(home, "中型货车", 8000, 40, 0.85, f"中型货车{i + 1}号") for i in range(3)),
                *(vehicle(home, "皮卡", 1000, 4, 1.0, f"皮卡{i + 1}号") for i in range(2)),
                vehicle(home, "冲锋舟运输车", 3000, 20, 0.9, "冲锋舟运输车"),
            )
        return (
            vehicle(home, "厢式货车", 5000, 30, 0.9),
            vehicle(home, "皮卡", 1000, 4, 1.0),
        )

    sid = "SP-001"
    inv, safety = _inventory(materials, 1.0, rng, COUNTY_STOCK)
    stockpiles.append(Stockpile(
        sid, "合江县县级应急物资储备库", StockpileLevel.COUNTY,
        placer.near(port.x, port.y, 800, 2200, "SE"), inv, safety, depot_fleet(sid, True), PORT,
        "县应急管理局物资保障股 0830-5xxxxxx",
    ))
    township_depots = [FUBAO, XIANTAN, north_town.code]
    township_depots += [c for c in ("510522106", "510522105", "510522116", "510522109",
                                    "510522125", "510522101") if c not in township_depots][:5]
    for code in township_depots:
        town = by[code]
        sid = f"SP-{len(stockpiles) + 1:03d}"
        factor = 0.12 if code in (FUBAO, XIANTAN) else 0.07
        inv, safety = _inventory(materials, factor, rng, COUNTY_STOCK)
        stockpiles.append(Stockpile(
            sid, f"{town.name}应急物资储备点", StockpileLevel.TOWNSHIP,
            placer.near(town.x, town.y, 50, 900, town.region), inv, safety,
            depot_fleet(sid, False), code, f"{town.name}应急办",
        ))
    sid = f"SP-{len(stockpiles) + 1:03d}"
    inv, safety = _inventory(materials, 0.15, rng, {k: COUNTY_STOCK[k] for k in (
        "WATER", "FOOD", "MEAL", "QUILT", "TARP", "DIESEL", "GASOLINE", "SANDBAG")})
    stockpiles.append(Stockpile(
        sid, "合江港物流园协议储备仓", StockpileLevel.ENTERPRISE,
        placer.near(port.x, port.y, 1200, 2600, "SE"), inv, safety,
        (vehicle(sid, "中型货车", 8000, 40, 0.85),), PORT, "协议企业（演示）",
    ))

    # ------------------------------------------------------------------ teams
    teams: list[Team] = []
    F = ForceType

    def team(name: str, force: ForceType, base: Location, headcount: int, skills: tuple[str, ...],
             kinds: tuple[tuple[str, float, float], ...], status: TeamStatus = TeamStatus.STANDBY,
             leader: str = "", phone: str = "") -> None:
        tid = f"TM-{len(teams) + 1:03d}"
        vs = tuple(vehicle(tid, k, kg, m3, 0.9 if kg >= 3000 else 1.0) for k, kg, m3 in kinds)
        teams.append(Team(tid, name, force, base, headcount, skills, vs, status, leader, phone))

    fire = (("抢险救援消防车", 2000, 6), ("水罐消防车", 1000, 4))
    team("合江县消防救援大队特勤站", F.FIRE_RESCUE, placer.near(seat.x, seat.y, 300, 1500, "SE"), 45,
         ("水域救援", "城市搜救", "危化品处置", "人员转移"), (*fire, ("冲锋舟运输车", 3000, 20)),
         leader="王建国", phone="0830-119")
    team("临港消防救援站", F.FIRE_RESCUE, placer.near(port.x, port.y, 200, 1200), 25,
         ("危化品处置", "城市搜救", "水域救援"), (*fire, ("危化品洗消车", 3000, 12)))
    team("福宝专职消防站", F.FIRE_RESCUE, placer.near(fubao.x, fubao.y, 100, 900, fubao.region), 20,
         ("森林灭火", "水域救援", "山地搜救"), fire[:1])
    team("合江县森林消防专业队", F.PROFESSIONAL,
         placer.near(fubao.x, fubao.y, 1500, 6000, fubao.region), 30, ("森林灭火", "山地搜救"),
         (("运兵车", 1500, 8), ("皮卡", 1000, 4)))
    team("合江县水上应急救援队", F.PROFESSIONAL, placer.near(seat.x, seat.y, 200, 1500, "SE"), 24,
         ("水域救援", "人员转移"), (("冲锋舟运输车", 3000, 20),))
    team("国网合江县供电公司抢修队", F.PROFESSIONAL, placer.near(seat.x, seat.y, 500, 2000, "SE"),
         18, ("电力抢修",), (("电力抢修车", 2000, 8),))
    team("移动合江分公司应急通信保障队", F.PROFESSIONAL,
         placer.near(seat.x, seat.y, 500, 2000, "SE"), 10, ("通信保障",), (("应急通信车", 1500, 6),))
    team("合江县公路应急抢险队", F.PROFESSIONAL, placer.near(port.x, port.y, 500, 2500), 28,
         ("道路抢通",), (("工程抢险车", 8000, 20), ("皮卡", 1000, 4)))
    team("合江县人民医院紧急医学救援队", F.MEDICAL, placer.near(seat.x, seat.y, 200, 1200, "SE"), 16,
         ("医疗救护", "心理援助"), (("救护车", 500, 3), ("救护车", 500, 3)),
         leader="李敏", phone="0830-120")
    team("合江县中医医院医疗队", F.MEDICAL, placer.near(seat.x, seat.y, 300, 1600, "SE"), 12,
         ("医疗救护",), (("救护车", 500, 3),), status=TeamStatus.RESTING)
    team("福宝镇卫生院医疗分队", F.MEDICAL, placer.near(fubao.x, fubao.y, 50, 800, fubao.region), 8,
         ("医疗救护",), (("救护车", 500, 3),))
    team("合江县人武部民兵应急连", F.MILITIA, placer.near(seat.x, seat.y, 800, 2500, "SE"), 60,
         ("人员转移", "后勤保障", "道路抢通"), (("运兵车", 1500, 8), ("中型货车", 8000, 40)))
    team("先滩镇民兵应急排", F.MILITIA, placer.near(xiantan.x, xiantan.y, 50, 900, xiantan.region),
         30, ("人员转移", "山地搜救"), (("运兵车", 1500, 8),))
    team("合江县蓝天救援队", F.SOCIAL, placer.near(seat.x, seat.y, 600, 2200, "SE"), 22,
         ("水域救援", "山地搜救", "城市搜救"), (("皮卡", 1000, 4), ("冲锋舟运输车", 3000, 20)))
    team("合江县红十字应急救援队", F.SOCIAL, placer.near(seat.x, seat.y, 400, 2000, "SE"), 15,
         ("医疗救护", "心理援助", "后勤保障"), (("救护车", 500, 3),))
    team("福宝镇基层应急队", F.GRASSROOTS, placer.near(fubao.x, fubao.y, 50, 700, fubao.region), 25,
         ("人员转移", "山地搜救", "后勤保障"), (("皮卡", 1000, 4),))
    team("先滩镇基层应急队", F.GRASSROOTS,
         placer.near(xiantan.x, xiantan.y, 50, 700, xiantan.region), 20, ("人员转移", "后勤保障"),
         (("皮卡", 1000, 4),))
    nt = north_town
    team(f"{nt.name}基层应急队", F.GRASSROOTS, placer.near(nt.x, nt.y, 50, 700, nt.region), 18,
         ("人员转移", "水域救援"), (("皮卡", 1000, 4),))

    # ------------------------------------------------------------------ hazards
    hazards: list[Hazard] = []

    def hazard(name: str, category: str, risk: int, geom_utm: Any, desc: str) -> None:
        g = geom_to_wgs(shapely.intersection(geom_utm, boundary_utm.buffer(-50)))
        g = shapely.make_valid(g)
        hazards.append(Hazard(f"HZ-{len(hazards) + 1:03d}", name, category, risk, g, desc))

    def pt(loc: Location) -> Point:
        x, y = to_utm(loc.lon, loc.lat)
        return Point(float(x), float(y))

    xt_v = [v for v in vill_by_town[XIANTAN] if v.region == xiantan.region]
    fb_v = [v for v in vill_by_town[FUBAO] if v.region == fubao.region]
    slide_loc = placer.near(xt_v[0].x, xt_v[0].y, 300, 1500, xiantan.region, 0)
    hazard(f"先滩镇{xt_v[0].name}滑坡隐患点", "地质灾害隐患点", 2, pt(slide_loc),
           "土质滑坡，威胁 42 户 160 人（演示数据）")
    collapse = placer.near(fb_v[0].x, fb_v[0].y, 300, 1500, fubao.region, 0)
    hazard(f"福宝镇{fb_v[0].name}崩塌隐患点", "地质灾害隐患点", 3, pt(collapse),
           "危岩崩塌，威胁道路及 12 户（演示数据）")
    jz = by["510522106"]
    jz_v = [v for v in vill_by_town["510522106"] if v.region == jz.region] or [jz]
    hazard(f"九支镇{getattr(jz_v[0], 'name', '')}滑坡隐患点", "地质灾害隐患点", 3,
           pt(placer.near(jz_v[0].x, jz_v[0].y, 200, 1500, jz.region, 0)),
           "降雨诱发浅层滑坡（演示数据）")
    cw = by["510522116"]
    hazard("车辋镇泥石流隐患沟", "地质灾害隐患点", 3,
           pt(placer.near(cw.x, cw.y, 1500, 5000, cw.region, 0)), "沟谷型泥石流（演示数据）")
    # flash-flood zone: an elongated ellipse along the valley 1–4 km from 福宝 seat
    flood_centre = placer.near(fubao.x, fubao.y, 1200, 3000, fubao.region, 0)
    c = pt(flood_centre)
    ang = float(np.degrees(np.arctan2(c.y - fubao.y, c.x - fubao.x)))
    ellipse = rotate(scale(c.buffer(1000, 32), 3.0, 0.7), ang, origin=c)
    hazard("福宝镇山洪危险区", "山洪危险区", 2, ellipse, "沟道两岸低洼区，强降雨时山洪风险高（演示数据）")
    chem = placer.near(port.x, port.y, 600, 1800, None, 0)
    hazard("临港工业园区危化品储罐区", "危化品企业", 2, pt(chem),
           "液氯/甲醇储罐（虚构企业，演示数据）")
    riverside = Point(seat.x, seat.y + 250).buffer(500, 24)
    hazard("符阳街道沿江低洼区", "内涝风险区", 3, scale(riverside, 2.2, 0.6),
           "长江高水位时易内涝（演示数据）")

    # ------------------------------------------------------------------ incidents
    incidents: list[Incident] = []

    def incident(name: str, category: IncidentCategory, subtype: str, level: int, loc: Location,
                 when: str, affected: int, status: IncidentStatus, town: str, desc: str) -> None:
        needs, skills, deadline = template_needs(templates, subtype, level, affected,
                                                 materials=mat_index)
        incidents.append(Incident(
            f"INC-{len(incidents) + 1:03d}", name, category, subtype, level, loc,
            datetime.fromisoformat(when), affected, needs, skills, deadline, status, desc, town,
        ))

    ell_wgs = hazards[4].geometry
    fx, fy = to_utm(ell_wgs.centroid.x, ell_wgs.centroid.y)
    flood_loc = placer.near(float(fx), float(fy), 0, 1500, fubao.region, 30)
    incident("福宝镇山洪", IncidentCategory.NATURAL, "山洪", 2, flood_loc, "2026-07-12T05:40:00",
             850, IncidentStatus.DISPATCHING, FUBAO,
             "持续强降雨引发山洪，沿河低洼区房屋进水，部分群众被困，需转移安置（演示数据）")
    sx, sy = to_utm(slide_loc.lon, slide_loc.lat)
    incident("先滩镇滑坡", IncidentCategory.NATURAL, "滑坡", 3,
             placer.near(float(sx), float(sy), 50, 800, xiantan.region, 30),
             "2026-07-12T07:15:00", 260, IncidentStatus.ASSESSING, XIANTAN,
             "隐患点发生滑坡，掩埋乡道一段，威胁下方居民（演示数据）")
    cx, cy = to_utm(chem.lon, chem.lat)
    incident("临港工业园区危化品泄漏", IncidentCategory.ACCIDENT, "危化品泄漏", 3,
             placer.near(float(cx), float(cy), 100, 600, None, 20), "2026-07-12T09:05:00", 1200,
             IncidentStatus.REPORTED, PORT,
             "储罐区管线泄漏，下风向 1 km 范围群众需疏散（演示数据）")

    return {
        "shelters": tuple(shelters),
        "stockpiles": tuple(stockpiles),
        "teams": tuple(teams),
        "hazards": tuple(hazards),
        "incidents": tuple(incidents),
    }
