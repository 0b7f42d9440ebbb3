"""Field validation shared by the domain model, the workspace reader, importers and the GUI's
forms: plausibility limits per field, the one number parser, text rules and read-only quantity
mappings (a leaf: numpy and the standard library only).

Every failure is a :class:`gis.errors.ValidationError` whose message names the owner (entity
and id) and the field: ``Incident 'IN-1': field 'affected_people' must be ≤ 10,000,000 …``.
"""

from __future__ import annotations

import math
import numbers
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Any

import numpy as np

from gis.errors import ValidationError


def field_error(owner: str, fld: str, message: str) -> ValidationError:
    return ValidationError(f"{owner}: field {short_repr(fld)} {message}")


# ---- plausibility limits ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Limit:
    """The plausible range of a field: a value outside it is a typo or corrupt data, refused on
    read (located at layer, row, column), on edit (the form shows the message) and on import.

    Declared once per field in :data:`FIELD_LIMITS`; ``unit`` names what is counted (people,
    kg, m³, min…) in the message, ``reason`` says why no county could exceed ``maximum``.
    """

    unit: str
    maximum: float
    reason: str
    minimum: float = 0.0
    whole: bool = False

    def problem(self, value: float) -> str | None:
        """Why ``value`` is implausible (one phrase), or ``None`` when it is within the limits."""
        if value > self.maximum:
            return (
                f"must be ≤ {self.maximum:,.10g} {self.unit} ({self.reason}), got {show_number(value)}"
            )
        if value < self.minimum:
            return f"must be ≥ {self.minimum:,.10g} {self.unit}, got {show_number(value)}"
        return None


def show_number(value: Any) -> str:
    """A number for a message: ``1e+308`` rather than ``np.float64(1e+308)`` or 309 digits."""
    if isinstance(value, bool | np.bool_):
        return repr(bool(value))
    if isinstance(value, numbers.Integral):
        v = int(value)
        return f"{v:,}" if abs(v) < 10**30 else f"{float(v):.6g}"
    if isinstance(value, numbers.Real):
        return f"{float(value):.10g}"
    return short_repr(value)


def short_repr(value: Any, limit: int = 60) -> str:
    """``repr`` for a one-line message, cut to about ``limit`` characters (numpy scalars shown
    as Python values: ``nan``, not ``np.float64(nan)``)."""
    if isinstance(value, np.generic):
        value = value.item()
    text = repr(value)
    if len(text) <= limit:
        return text
    size = f"{len(value):,} characters" if isinstance(value, str | bytes) else "cut"
    return f"{text[:limit]}… ({size})"


#: People: no county-level incident, shelter or township holds more (the most populous Chinese
#: counties have about 2 million inhabitants; 10 million is a whole prefecture-level city).
PEOPLE = Limit("people", 10_000_000, "more than a county's population", whole=True)
#: One team: the whole rescue force sent to the 2008 Wenchuan earthquake was ~150,000 people
#: for a dozen counties; a single team of a county is far below 100,000.
TEAM_PEOPLE = Limit("people", 100_000, "more than any rescue team", whole=True)
#: One vehicle's payload: China's heaviest legal road trucks carry ~49 t; heavy haulers ~100 t.
VEHICLE_KG = Limit("kg", 100_000, "more than any road vehicle carries (100 t)")
#: One vehicle's cargo volume: a 17.5 m semi-trailer box holds ~110 m³.
VEHICLE_M3 = Limit("m³", 200, "more than any road vehicle holds")
#: One unit of a material (an excavator ~20 t, a container ~70 m³).
UNIT_KG = Limit("kg", 100_000, "heavier than any road vehicle can carry (100 t)")
UNIT_M3 = Limit("m³", 1_000, "bigger than any transportable unit")
#: A response deadline: 30 days; anything longer is recovery, not emergency dispatch.
DEADLINE_MIN = Limit("min", 30 * 24 * 60, "30 days, longer than any emergency response")
#: Units of one material at one place: a county never stocks or needs a billion of one item.
QUANTITY = Limit("units", 1_000_000_000, "more than any county stocks or needs of one item")
#: A closure's radius: 100 km is wider than any county.
RADIUS_M = Limit("m", 100_000, "wider than a county")
#: Vehicle speed factor (× road speed): even an empty light vehicle is not 10× faster.
SPEED_FACTOR = Limit("× road speed", 10, "no vehicle is 10× faster than the road's speed")
#: Planning weight of a demand point (× its population): a school or a hospital may count a few
#: times its head count; a thousandfold weight is a typo.
DEMAND_WEIGHT = Limit("× population", 1_000, "no place counts a thousand times its people")
#: A store's volume: the largest national reserve warehouses hold ~100,000 m³.
STORE_M3 = Limit("m³", 1_000_000, "larger than any reserve warehouse")
#: A site's fixed (building) cost in 万元 (10,000 yuan): 10 billion yuan is no county's budget.
COST_WAN = Limit("万元", 1_000_000, "more than any county spends on one site")

#: The plausibility limit of each numeric field, by model class name and field (mapping fields
#: such as ``Stockpile.inventory`` limit each value). Read by the model's constructors, the
#: workspace reader (to name layer, row and column), the GUI editors and importers.
FIELD_LIMITS: Mapping[tuple[str, str], Limit] = MappingProxyType(
    {
        ("Material", "unit_weight_kg"): UNIT_KG,
        ("Material", "unit_volume_m3"): UNIT_M3,
        ("Vehicle", "capacity_kg"): VEHICLE_KG,
        ("Vehicle", "capacity_m3"): VEHICLE_M3,
        ("Vehicle", "speed_factor"): SPEED_FACTOR,
        ("Stockpile", "inventory"): QUANTITY,
        ("Stockpile", "safety_stock"): QUANTITY,
        ("Shelter", "capacity"): PEOPLE,
        ("Shelter", "occupancy"): PEOPLE,
        ("Shelter", "stock"): QUANTITY,
        ("Team", "headcount"): TEAM_PEOPLE,
        ("Incident", "affected_people"): PEOPLE,
        ("Incident", "needs"): QUANTITY,
        ("Incident", "required_skills"): TEAM_PEOPLE,
        ("Incident", "deadline_min"): DEADLINE_MIN,
        ("RoadClosure", "radius_m"): RADIUS_M,
        ("Township", "population"): PEOPLE,
        ("DemandPoint", "population"): PEOPLE,
        ("DemandPoint", "weight"): DEMAND_WEIGHT,
        ("Stockpile", "capacity_m3"): STORE_M3,
        ("CandidateSite", "capacity"): PEOPLE,
        ("CandidateSite", "fixed_cost"): COST_WAN,
    }
)


def field_limit(model: type | str, fld: str | None) -> Limit | None:
    """The :class:`Limit` of ``model.fld`` (``None`` when the field has none)."""
    if fld is None:
        return None
    name = model if isinstance(model, str) else model.__name__
    return FIELD_LIMITS.get((name, fld))


# ---- numbers as people type them -------------------------------------------------------------

_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
#: Digit groups of three: "1,200", "1 200", "12,345.5" (one separator kind per number).
_GROUPED_NUMBER = re.compile(r"[+-]?\d{1,3}(?P<sep>[, '\u00a0\u202f\u2009])\d{3}(?:(?P=sep)\d{3})*(?:\.\d+)?")


def parse_number(value: Any, *, whole: bool = False) -> int | float:
    """A number from a cell or a form as a person means it, or ``ValueError`` saying why not.

    Accepted: numbers; text such as ``"300"``, ``" 2.5 "``, ``"1e3"``, digits grouped by three
    with one separator kind (``"1,200"``, ``"1 200"``, ``"12,345.5"``) and full-width digits
    (``"１２００"``). Refused: other text (``"约850"``, ``"1,20"``, ``"三百"``), booleans, NaN and
    infinities and, with ``whole``, anything with a fraction (``2.5`` people). Whole numbers come
    back as ``int`` (exact, also beyond 2**53), others as ``float``.
    """
    if isinstance(value, bool | np.bool_):
        raise ValueError(f"expected a number, got {short_repr(value)}")
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        number = float(value)
    elif isinstance(value, str):
        text = unicodedata.normalize("NFKC", value).strip()
        if _PLAIN_NUMBER.fullmatch(text):
            plain = text
        elif _GROUPED_NUMBER.fullmatch(text):
            plain = re.sub(r"[, '\u00a0\u202f\u2009]", "", text)
        else:
            raise ValueError(f"expected a number, got {short_repr(value)}")
        if whole and re.fullmatch(r"[+-]?\d+", plain):
            return int(plain)
        number = float(plain)
    elif isinstance(value, bytes | bytearray | memoryview):
        raise ValueError(f"expected a number, got binary data ({len(bytes(value))} bytes)")
    else:
        raise ValueError(f"expected a number, got {short_repr(value)}")
    if not math.isfinite(number):
        raise ValueError(f"expected a finite number, got {short_repr(value)}")
    if number.is_integer():
        return int(number)
    if whole:
        raise ValueError(f"expected a whole number, got {short_repr(value)}")
    return number


# ---- text: no terminal control characters -----------------------------------------------------

#: Characters refused in text typed by hand and stripped from text read from files: C0 controls
#: but tab and newline (ESC starts terminal escape sequences, NUL ends GeoPackage text), DEL,
#: C1 controls (U+009B is a one-character CSI) and the bidirectional overrides that reorder
#: what a terminal or a PDF shows (U+202A–U+202E, U+2066–U+2069).
CONTROL_CHARACTERS = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]"
)


#: What a spreadsheet runs as a formula when a cell's text starts with it (OWASP "CSV injection").
FORMULA_START: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")


def defuse_formula(value: object) -> object:
    """``value``, with text that a spreadsheet would evaluate defused by a leading apostrophe
    (numbers and other values unchanged): the one rule for CSV exports of plans and layers."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def strip_controls(text: str) -> str:
    """``text`` without :data:`CONTROL_CHARACTERS` (``\\r\\n`` becomes ``\\n``)."""
    return CONTROL_CHARACTERS.sub("", text.replace("\r\n", "\n"))


def require_text(owner: str, fld: str, value: Any, *, allow_empty: bool = False) -> str:
    if not isinstance(value, str):
        raise field_error(owner, fld, f"must be text, got {type(value).__name__}")
    if not allow_empty and not value.strip():
        raise field_error(owner, fld, "must not be empty")
    bad = CONTROL_CHARACTERS.search(value)
    if bad is not None:
        raise field_error(
            owner,
            fld,
            f"contains the control character U+{ord(bad.group()):04X} at position {bad.start()} "
            "(remove it; control characters can rewrite a terminal or an export)",
        )
    return value


def require_number(
    owner: str,
    fld: str,
    value: Any,
    *,
    minimum: float | None = 0.0,
    strictly_positive: bool = False,
    integer: bool = False,
    limit: Limit | None = None,
) -> float:
    try:
        value = parse_number(value, whole=integer)
    except ValueError as exc:
        raise field_error(owner, fld, f"must be a number: {exc}") from None
    if strictly_positive and value <= 0:
        raise field_error(owner, fld, f"must be > 0, got {show_number(value)}")
    if minimum is not None and value < minimum:
        raise field_error(owner, fld, f"must be ≥ {minimum:g}, got {show_number(value)}")
    if limit is not None and (why := limit.problem(value)) is not None:
        raise field_error(owner, fld, why)
    return value


def enum_value(owner: str, fld: str, enum_type: type[StrEnum], value: Any) -> Any:
    try:
        return enum_type(value)
    except ValueError:
        allowed = "/".join(m.value for m in enum_type)
        raise field_error(owner, fld, f"must be one of {allowed}, got {short_repr(value)}") from None


class FrozenQuantities(dict):  # type: ignore[type-arg]
    """A read-only ``dict`` of material code (or skill) → quantity.

    Entities are frozen, so their mappings must be too: every mutator raises ``TypeError``.
    It stays a ``dict`` (equality, JSON, pickling across processes) and is hashable.
    """

    __slots__ = ()

    def _readonly(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("quantities of a model entity are read-only; use dataclasses.replace")

    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = _readonly  # type: ignore[assignment]
    __ior__ = _readonly  # type: ignore[assignment]

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(frozenset(self.items()))

    def __reduce__(self) -> tuple[Any, ...]:
        return (FrozenQuantities, (dict(self),))

    def __copy__(self) -> FrozenQuantities:
        return self

    def __deepcopy__(self, memo: Any) -> FrozenQuantities:
        return self


def quantities(owner: str, fld: str, value: Any) -> FrozenQuantities:
    limit = field_limit(owner.split(" ", 1)[0], fld)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise field_error(owner, fld, f"must be a mapping material code → quantity, got {short_repr(value)}")
    out: dict[str, float] = {}
    for code, qty in value.items():
        require_text(owner, f"{fld}[{short_repr(code)}]", code)
        q = require_number(owner, f"{fld}[{code}]", qty, limit=limit)
        out[code] = int(q) if float(q).is_integer() else float(q)
    return FrozenQuantities(out)
