"""Vocabularies of the domain model: the enumerations stored in files (values are the Chinese
terms; English names are for code), the standard skills and the response levels I–IV.

Split from :mod:`gis.model` (which re-exports every name here) to keep that module readable; a
leaf module: it imports nothing of the project but :mod:`gis.errors` and :mod:`gis.fields`.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

import numpy as np

from gis.errors import ValidationError
from gis.fields import short_repr


class StockpileLevel(StrEnum):
    COUNTY = "县级"
    TOWNSHIP = "乡镇"
    VILLAGE = "村"
    ENTERPRISE = "企业"
    SOCIAL = "社会"


class ShelterSetting(StrEnum):
    INDOOR = "室内"
    OUTDOOR = "室外"


class ShelterClass(StrEnum):
    EMERGENCY = "紧急"
    SHORT_TERM = "短期"
    LONG_TERM = "长期"


class ForceType(StrEnum):
    FIRE_RESCUE = "综合性消防救援"
    PROFESSIONAL = "专业救援"
    MEDICAL = "医疗"
    MILITIA = "民兵"
    SOCIAL = "社会应急力量"
    GRASSROOTS = "基层应急队"


class TeamStatus(StrEnum):
    STANDBY = "待命"
    DEPLOYED = "出动"
    RESTING = "休整"


class IncidentCategory(StrEnum):
    NATURAL = "自然灾害"
    ACCIDENT = "事故灾难"
    PUBLIC_HEALTH = "公共卫生事件"
    SOCIAL_SECURITY = "社会安全事件"


class IncidentStatus(StrEnum):
    REPORTED = "接报"
    ASSESSING = "研判"
    DISPATCHING = "调度"
    RESPONDING = "处置中"
    CLOSED = "结束"


class DemandKind(StrEnum):
    VILLAGE = "村庄"
    SCHOOL = "学校"
    FACTORY = "工厂"
    OTHER = "其他"


class CandidateKind(StrEnum):
    """What a planner-marked candidate site (候选站点) may become: the codes of the
    ``candidate_sites`` layer's ``kind`` column (Chinese names in :data:`CANDIDATE_KIND_ZH`)."""

    STOCKPILE = "stockpile"
    SHELTER = "shelter"
    ANY = "any"


#: Chinese name of each candidate kind; also accepted as the kind's value on input.
CANDIDATE_KIND_ZH: Mapping[CandidateKind, str] = {
    CandidateKind.STOCKPILE: "储备库",
    CandidateKind.SHELTER: "避难场所",
    CandidateKind.ANY: "不限",
}


INCIDENT_STATUS_ORDER: tuple[IncidentStatus, ...] = tuple(IncidentStatus)

#: Skills used by the bundled data; teams may carry others (free text is allowed).
STANDARD_SKILLS: tuple[str, ...] = (
    "水域救援",
    "山地搜救",
    "危化品处置",
    "医疗救护",
    "电力抢修",
    "通信保障",
    "道路抢通",
    "森林灭火",
    "城市搜救",
    "心理援助",
    "后勤保障",
    "人员转移",
)

#: Response levels: I (特别重大) is the most severe, IV (一般) the least.
RESPONSE_LEVELS: tuple[int, ...] = (1, 2, 3, 4)
LEVEL_ROMAN: Mapping[int, str] = {1: "I", 2: "II", 3: "III", 4: "IV"}
LEVEL_NAME_ZH: Mapping[int, str] = {1: "特别重大", 2: "重大", 3: "较大", 4: "一般"}


def parse_level(value: Any, *, where: str = "response level") -> int:
    """Accept 1–4, '1'..'4', 'I'..'IV' (any case) or 'Ⅰ'..'Ⅳ'; raise ValidationError otherwise."""
    roman = {"I": 1, "II": 2, "III": 3, "IV": 4, "Ⅰ": 1, "Ⅱ": 2, "Ⅲ": 3, "Ⅳ": 4}
    if isinstance(value, bool):
        raise ValidationError(f"{where}: {short_repr(value)} is not a response level (I–IV)")
    if isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_):
        if math.isfinite(value) and float(value).is_integer() and int(value) in RESPONSE_LEVELS:
            return int(value)
    elif isinstance(value, str):
        text = value.strip().upper().removesuffix("级")
        if text in roman:
            return roman[text]
        if text.isdigit() and int(text) in RESPONSE_LEVELS:
            return int(text)
    raise ValidationError(f"{where}: {short_repr(value)} is not a response level (I–IV)")


#: Id prefixes of new entities, per scenario field (the desk, imports): ``INC-001``.
ID_PREFIX: Mapping[str, str] = {
    "stockpiles": "SP",
    "shelters": "SH",
    "teams": "TM",
    "hazards": "HZ",
    "incidents": "INC",
    "closures": "CL",
    "demand_points": "DP",
    "candidate_sites": "CS",
    "vehicles": "VH",
}


def new_entity_id(prefix: str, used: set[str] | frozenset[str]) -> str:
    """The first free ``PREFIX-NNN`` not in ``used``, as wide as the ids of ``prefix`` already
    there (INC-001 → INC-004, not INC-0001; 3 digits when there are none)."""
    widths = [
        len(i) - len(prefix) - 1
        for i in used
        if i.startswith(prefix + "-") and i[len(prefix) + 1 :].isdigit()
    ]
    width = max(widths, default=3)
    n = 1
    while f"{prefix}-{n:0{width}d}" in used:
        n += 1
    return f"{prefix}-{n:0{width}d}"


__all__ = [

    "CANDIDATE_KIND_ZH",
    "CandidateKind",
    "ID_PREFIX",
    "INCIDENT_STATUS_ORDER",
    "LEVEL_NAME_ZH",
    "LEVEL_ROMAN",
    "RESPONSE_LEVELS",
    "STANDARD_SKILLS",
    "DemandKind",
    "new_entity_id",
    "ForceType",
    "IncidentCategory",
    "IncidentStatus",
    "ShelterClass",
    "ShelterSetting",
    "StockpileLevel",
    "TeamStatus",
    "parse_level",
]
