"""Cell values as county ledgers write them, normalised for the model.

* numbers with a unit or thousands separators: ``"1,200顶"``, ``"３００ 床"``, ``"45箱"`` →
  :func:`gis.fields.parse_number` after the unit is cut (the one number parser);
* yes/no: ``是/否``, ``有/无``, ``true/false``;
* dates: ``2024年5月1日``, ``2024.5.1``, ``2024/5/1``, ``20240501``, ISO text, Excel dates;
* coordinates in DMS text: ``东经105°50′12″``, ``105度50分12秒``, ``28°48'30"N``;
* text: control characters stripped (:func:`gis.fields.strip_controls`), the apostrophe an
  export put before formula-like text (:func:`gis.fields.defuse_formula`) removed.

Hand-written: these are a few regular expressions over Chinese ledger conventions that no
parsing library covers (dateutil does not read ``2024年5月1日``; no PyPI package reads
``东经105°50′12″``).
"""

from __future__ import annotations

import math
import re
import unicodedata
from datetime import date, datetime, timedelta
from typing import Any

from gis.fields import FORMULA_START, parse_number, strip_controls

#: Units a ledger writes after a count (顶 tents, 床 quilts, 箱 boxes, 件 pieces …) or a size.
UNITS: tuple[str, ...] = (
    "顶", "床", "箱", "件", "个", "台", "套", "张", "条", "把", "部", "副", "卷", "艘", "桶",
    "盒", "双", "块", "座", "袋", "包", "瓶", "升", "吨", "千克", "公斤", "kg", "t", "L", "l",
    "人", "名", "辆", "只", "支", "根", "组", "份", "m³", "m3", "立方米", "平方米", "m²",
)  # fmt: skip
_UNIT_RE = re.compile(
    r"^\s*(?P<num>.*?)\s*(?P<unit>"
    + "|".join(sorted(map(re.escape, UNITS), key=len, reverse=True))
    + r")\s*$"
)

_YES = {"是", "有", "true", "yes", "y", "1", "√", "✓", "可"}
_NO = {"否", "无", "false", "no", "n", "0", "×", "✗", "不可", ""}


def is_blank(value: Any) -> bool:
    """Empty cell: ``None``, NaN, or text of spaces only."""
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def text_value(value: Any) -> str:
    """A cell as text: numbers without ``.0``, dates as ISO, control characters stripped, the
    apostrophe of a defused formula removed."""
    if is_blank(value):
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, datetime):
        return (
            value.isoformat(sep=" ")
            if value.time() != datetime.min.time()
            else value.date().isoformat()
        )
    if isinstance(value, date):
        return value.isoformat()
    text = strip_controls(str(value)).strip()
    if len(text) > 1 and text[0] == "'" and text[1:].startswith(FORMULA_START):
        text = text[1:]
    return text


def number_value(value: Any, *, whole: bool = False) -> tuple[int | float, str]:
    """``(number, unit)`` of a cell such as ``"1,200顶"`` (unit ``""`` when none); ``ValueError``
    saying why not."""
    if isinstance(value, str):
        text = unicodedata.normalize("NFKC", value).strip()
        m = _UNIT_RE.match(text)
        if m and m.group("num"):
            return parse_number(m.group("num"), whole=whole), m.group("unit")
        return parse_number(text, whole=whole), ""
    if isinstance(value, datetime | date):
        raise ValueError(f"expected a number, got a date {value:%Y-%m-%d}")
    return parse_number(value, whole=whole), ""


def bool_value(value: Any) -> bool:
    """是/否 (and true/false, 1/0, 有/无) → bool; ``ValueError`` otherwise."""
    if isinstance(value, bool):
        return value
    text = unicodedata.normalize("NFKC", text_value(value)).strip().lower()
    if text in _YES:
        return True
    if text in _NO:
        return False
    raise ValueError(f"expected 是/否, got {text[:40]!r}")


_DATE_RE = re.compile(
    r"^(?P<y>\d{4})\s*(?:年|[-./])\s*(?P<m>\d{1,2})\s*(?:月|[-./])\s*(?P<d>\d{1,2})\s*日?"
    r"(?:[ T]+(?P<H>\d{1,2})[:时](?P<M>\d{1,2})(?:[:分](?P<S>\d{1,2})秒?)?分?)?\s*$"
)
_MONTH_RE = re.compile(r"^(?P<y>\d{4})\s*(?:年|[-./])\s*(?P<m>\d{1,2})\s*月?$")
_EXCEL_EPOCH = datetime(1899, 12, 30)


def datetime_value(value: Any) -> datetime:
    """A time from a cell: ``2024年5月1日``, ``2024.5.1``, ``2024/5/1 8:30``, ``20240501``,
    ``2024年5月`` (the 1st), ISO text, a date cell, an Excel serial number; ``ValueError``."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    if isinstance(value, int | float) and not isinstance(value, bool):
        if math.isfinite(value) and 20000 <= value <= 80000:  # Excel serial day (1954..2119)
            return _EXCEL_EPOCH + timedelta(days=float(value))
        if float(value).is_integer() and 19000101 <= value <= 21001231:
            value = str(int(value))
        else:
            raise ValueError(f"expected a date, got {value!r}")
    text = unicodedata.normalize("NFKC", text_value(value)).strip()
    try:
        if m := _DATE_RE.match(text):
            return datetime(
                int(m["y"]),
                int(m["m"]),
                int(m["d"]),
                int(m["H"] or 0),
                int(m["M"] or 0),
                int(m["S"] or 0),
            )
        if m := _MONTH_RE.match(text):
            return datetime(int(m["y"]), int(m["m"]), 1)
        if re.fullmatch(r"\d{8}", text):
            return datetime(int(text[:4]), int(text[4:6]), int(text[6:]))
        return datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"expected a date such as 2024年5月1日 or 2024-05-01, got {text[:40]!r}"
        ) from None


_DMS_RE = re.compile(
    r"^(?P<pre>东经|北纬|西经|南纬|[ENWS])?\s*(?P<d>\d+(?:\.\d+)?)\s*(?:°|度|º|˚)\s*"
    r"(?:(?P<m>\d+(?:\.\d+)?)\s*(?:′|'|’|分)\s*)?"
    r"(?:(?P<s>\d+(?:\.\d+)?)\s*(?:″|\"|”|''|秒)\s*)?(?P<post>[ENWS])?$",
    re.IGNORECASE,
)


def coordinate_value(value: Any) -> float:
    """Degrees from a number or text: ``105.8367``, ``东经105°50′12″``, ``105度50分12秒``,
    ``28°48'30"N`` (西经/南纬, W and S are negative); ``ValueError`` otherwise."""
    if isinstance(value, str):
        text = unicodedata.normalize("NFKC", value).strip().replace("′′", "″")
        m = _DMS_RE.match(text)
        if m:
            deg = float(m["d"]) + float(m["m"] or 0) / 60 + float(m["s"] or 0) / 3600
            if m["m"] and float(m["m"]) >= 60 or m["s"] and float(m["s"]) >= 60:
                raise ValueError(f"minutes/seconds must be < 60 in {text[:40]!r}")
            hemi = (m["pre"] or m["post"] or "").upper()
            return -deg if hemi in ("西经", "南纬", "W", "S") else deg
        for prefix in ("东经", "北纬", "E", "N"):
            if text.upper().startswith(prefix):
                text = text[len(prefix) :].strip()
                break
        value = text
    number = parse_number(value)
    return float(number)


__all__ = [
    "UNITS",
    "bool_value",
    "coordinate_value",
    "datetime_value",
    "is_blank",
    "number_value",
    "text_value",
]
