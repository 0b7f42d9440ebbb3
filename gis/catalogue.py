"""The bundled emergency material catalogue (物资目录) and incident plan templates (预案模板).

* ``data/materials.csv`` — one row per :class:`gis.model.Material`: ``code, name_zh, name_en,
  unit, unit_weight_kg, unit_volume_m3, category, divisible`` (an optional ``spec`` column is a
  free-text specification and is ignored here).
* ``data/plan_templates.json`` — per incident subtype (山洪, 滑坡, 危化品泄漏 …) and response
  level I–IV: material needs per 100 affected people, required skills × headcount and the default
  deadline in minutes. :func:`template_needs` turns a template into an incident's needs.

Bad files raise :class:`gis.errors.ValidationError` naming the file, row/key and column.
"""

from __future__ import annotations

import csv
import json
import math
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gis.errors import ValidationError
from gis.model import LEVEL_ROMAN, IncidentCategory, Material, parse_level

__all__ = [
    "DATA_DIR",
    "MATERIALS_CSV",
    "MATERIAL_SYNONYMS",
    "PLAN_TEMPLATES_JSON",
    "PlanTemplate",
    "PlanTemplates",
    "load_materials",
    "load_plan_templates",
    "match_material",
    "template_needs",
]

DATA_DIR = Path(__file__).resolve().parents[1] / "data"
MATERIALS_CSV = DATA_DIR / "materials.csv"
PLAN_TEMPLATES_JSON = DATA_DIR / "plan_templates.json"

_MATERIAL_COLUMNS = (
    "code",
    "name_zh",
    "name_en",
    "unit",
    "unit_weight_kg",
    "unit_volume_m3",
    "category",
    "divisible",
)
_TRUE = {"true", "1", "yes", "y", "是", "t"}
_FALSE = {"false", "0", "no", "n", "否", "f", ""}


def _parse_bool(text: str, where: str) -> bool:
    value = text.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValidationError(f"{where}: {text!r} is not a yes/no value (true/false)")


def load_materials(path: str | Path | None = None) -> tuple[Material, ...]:
    """Read a material catalogue CSV (default: the bundled ``data/materials.csv``).

    Parameters
    ----------
    path
        CSV file in UTF-8 (a BOM is accepted) with the columns listed in the module docstring.

    Returns
    -------
    tuple of Material
        In file order.

    Raises
    ------
    ValidationError
        Missing file or column, a bad number, a duplicate code; the message names file, row and
        column.
    """
    p = Path(path) if path is not None else MATERIALS_CSV
    try:
        text = p.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ValidationError(f"material catalogue {p}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationError(f"material catalogue {p}: cannot be read ({exc})") from None
    reader = csv.DictReader(text.splitlines())
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in _MATERIAL_COLUMNS if c not in header]
    if missing:
        raise ValidationError(
            f"material catalogue {p}: missing column(s) {', '.join(missing)} "
            f"(found {', '.join(header) or 'none'})"
        )
    out: list[Material] = []
    seen: dict[str, int] = {}
    for row_no, raw in enumerate(reader, start=2):  # row 1 is the header
        row = {(k or "").strip(): (v or "").strip() for k, v in raw.items()}
        where = f"material catalogue {p}, row {row_no}"
        numbers: dict[str, float] = {}
        for col in ("unit_weight_kg", "unit_volume_m3"):
            try:
                numbers[col] = float(row[col])
            except ValueError:
                raise ValidationError(
                    f"{where}, column {col!r}: {row[col]!r} is not a number"
                ) from None
        divisible = _parse_bool(row["divisible"], f"{where}, column 'divisible'")
        try:
            material = Material(
                code=row["code"],
                name_zh=row["name_zh"],
                name_en=row["name_en"],
                unit=row["unit"],
                unit_weight_kg=numbers["unit_weight_kg"],
                unit_volume_m3=numbers["unit_volume_m3"],
                category=row["category"],
                divisible=divisible,
            )
        except ValidationError as exc:
            raise ValidationError(f"{where}: {exc}") from None
        if material.code in seen:
            raise ValidationError(
                f"{where}, column 'code': duplicate code {material.code!r} "
                f"(first on row {seen[material.code]})"
            )
        seen[material.code] = row_no
        out.append(material)
    if not out:
        raise ValidationError(f"material catalogue {p}: no rows")
    return tuple(out)


@dataclass(frozen=True, slots=True)
class PlanTemplate:
    """One 预案 entry: what an incident of ``subtype`` at ``level`` needs."""

    subtype: str
    category: IncidentCategory
    level: int  # 1..4 = I..IV
    needs_per_100: Mapping[str, float] = field(default_factory=dict)
    skills: Mapping[str, int] = field(default_factory=dict)
    deadline_min: float = 120.0


#: subtype → level (1..4) → template
PlanTemplates = Mapping[str, Mapping[int, PlanTemplate]]


def _number(value: Any, where: str, *, integer: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValidationError(f"{where}: {value!r} is not a finite number")
    if value < 0:
        raise ValidationError(f"{where}: {value!r} must be ≥ 0")
    if integer and not float(value).is_integer():
        raise ValidationError(f"{where}: {value!r} must be a whole number")
    return value


def load_plan_templates(path: str | Path | None = None) -> dict[str, dict[int, PlanTemplate]]:
    """Read plan templates JSON (default: the bundled ``data/plan_templates.json``).

    Returns
    -------
    dict
        ``{subtype: {level: PlanTemplate}}`` with levels 1..4 (I..IV).

    Raises
    ------
    ValidationError
        Missing file, bad JSON, unknown category or level, negative or non-numeric values; the
        message names the file and the key path.
    """
    p = Path(path) if path is not None else PLAN_TEMPLATES_JSON
    try:
        doc = json.loads(p.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise ValidationError(f"plan templates {p}: file not found") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValidationError(f"plan templates {p}: cannot be read ({exc})") from None
    templates = doc.get("templates") if isinstance(doc, dict) else None
    if not isinstance(templates, dict) or not templates:
        raise ValidationError(f"plan templates {p}: no 'templates' object")
    out: dict[str, dict[int, PlanTemplate]] = {}
    for subtype, entry in templates.items():
        where = f"plan templates {p}, templates[{subtype!r}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("levels"), dict):
            raise ValidationError(f"{where}: must be an object with 'category' and 'levels'")
        try:
            category = IncidentCategory(entry.get("category"))
        except ValueError:
            allowed = "/".join(c.value for c in IncidentCategory)
            raise ValidationError(
                f"{where}.category: {entry.get('category')!r} is not one of {allowed}"
            ) from None
        levels: dict[int, PlanTemplate] = {}
        for level_key, spec in entry["levels"].items():
            lwhere = f"{where}.levels[{level_key!r}]"
            level = parse_level(level_key, where=lwhere)
            if not isinstance(spec, dict):
                raise ValidationError(f"{lwhere}: must be an object")
            needs_raw = spec.get("needs_per_100", {})
            skills_raw = spec.get("skills", {})
            if not isinstance(needs_raw, dict) or not isinstance(skills_raw, dict):
                raise ValidationError(f"{lwhere}: 'needs_per_100' and 'skills' must be objects")
            needs = {
                str(k): float(_number(v, f"{lwhere}.needs_per_100[{k!r}]"))
                for k, v in needs_raw.items()
            }
            skills = {
                str(k): int(_number(v, f"{lwhere}.skills[{k!r}]", integer=True))
                for k, v in skills_raw.items()
            }
            deadline = float(_number(spec.get("deadline_min"), f"{lwhere}.deadline_min"))
            if deadline <= 0:
                raise ValidationError(f"{lwhere}.deadline_min: must be > 0, got {deadline!r}")
            levels[level] = PlanTemplate(subtype, category, level, needs, skills, deadline)
        out[str(subtype)] = levels
    return out


def template_needs(
    templates: PlanTemplates,
    subtype: str,
    level: Any,
    affected_people: int,
    *,
    materials: Mapping[str, Material] | None = None,
) -> tuple[dict[str, float], dict[str, int], float]:
    """Needs, required skills and deadline for an incident, from its template.

    Parameters
    ----------
    templates
        As returned by :func:`load_plan_templates`.
    subtype
        Incident subtype, e.g. ``"山洪"``.
    level
        Response level: 1–4, ``"I"``–``"IV"``, ``"Ⅱ"``, ``"II级"`` …
    affected_people
        People affected; quantities scale with it (per 100 people).
    materials
        Optional ``{code: Material}``: items not ``divisible`` are rounded *up* to whole units.
        Without it every quantity is rounded up to a whole unit.

    Returns
    -------
    needs : dict
        Material code → quantity (items with a zero result are left out).
    skills : dict
        Skill → headcount.
    deadline_min : float
        Default deadline in minutes.

    Raises
    ------
    ValidationError
        Unknown subtype or level, or a negative/non-integer ``affected_people``.
    """
    key = subtype.strip() if isinstance(subtype, str) else subtype
    if key not in templates:
        known = ", ".join(sorted(templates))
        raise ValidationError(f"plan templates: no template for subtype {subtype!r} ({known})")
    lvl = parse_level(level, where=f"plan templates [{subtype}]: level")
    by_level = templates[key]
    if lvl not in by_level:
        have = ", ".join(LEVEL_ROMAN[x] for x in sorted(by_level))
        raise ValidationError(
            f"plan templates [{subtype}]: no level {LEVEL_ROMAN[lvl]} template (has {have})"
        )
    if (
        isinstance(affected_people, bool)
        or not isinstance(affected_people, int | float)
        or not math.isfinite(affected_people)
        or affected_people < 0
        or not float(affected_people).is_integer()
    ):
        raise ValidationError(
            f"plan templates [{subtype}]: affected_people must be a whole number ≥ 0, "
            f"got {affected_people!r}"
        )
    tpl = by_level[lvl]
    needs: dict[str, float] = {}
    for code, rate in tpl.needs_per_100.items():
        qty = rate * affected_people / 100.0
        divisible = materials is not None and code in materials and materials[code].divisible
        value: float = round(qty, 1) if divisible else math.ceil(qty - 1e-9)
        if value > 0:
            needs[code] = value
    return needs, dict(tpl.skills), tpl.deadline_min


#: Other names ledgers use for catalogue materials (code → names), beside ``name_zh``, the code
#: and ``name_en``. Matching also accepts a ledger name containing a catalogue name
#: (``救灾帐篷（12平方米）``) — see :func:`match_material`.
MATERIAL_SYNONYMS: Mapping[str, tuple[str, ...]] = {
    "TENT": ("帐篷", "单帐篷", "救灾单帐篷", "12平方米帐篷"),
    "TENT-BIG": ("大帐篷", "棉帐篷", "36平方米帐篷"),
    "QUILT": ("被子", "救灾棉被"),
    "BLANKET": ("毯子", "救灾毛毯"),
    "FOLDBED": ("行军床", "折叠床铺"),
    "COAT": ("大衣", "军大衣"),
    "WATER": ("瓶装饮用水", "瓶装水", "矿泉水", "纯净水", "桶装水"),
    "FOOD": ("方便面", "压缩饼干", "干粮"),
    "MEAL": ("自热食品", "自热饭"),
    "PURIFIER": ("净水设备", "净水器"),
    "TARP": ("彩条布", "防水篷布"),
    "LIFEJACKET": ("救生背心",),
    "ROPE": ("绳索", "安全绳"),
    "BOAT": ("橡皮艇", "救生艇", "冲锋艇"),
    "SANDBAG": ("沙袋", "编织袋(空)", "麻袋"),
    "PUMP": ("水泵", "排水泵"),
    "GENERATOR": ("发电机组", "应急发电机"),
    "FLASHLIGHT": ("手电", "强光手电"),
    "RADIO": ("手持对讲机",),
    "FIRSTAID": ("急救箱", "医药箱"),
    "MASK": ("口罩",),
    "BOOTS": ("胶鞋", "水靴"),
}


def _material_key(text: str) -> str:
    text = unicodedata.normalize("NFKC", str(text)).strip().lower()
    text = re.sub(r"[(（\[【].*?[)）\]】]", "", text)
    return re.sub(r"[\s·_\-]+", "", text)


def match_material(name: str, materials: tuple[Material, ...] | list[Material]) -> Material | None:
    """The catalogue material a ledger's name means, or ``None``.

    In order: the code, ``name_zh`` or ``name_en`` (case, spaces, full-width forms and a
    bracketed specification ignored); a synonym of :data:`MATERIAL_SYNONYMS`; the one material
    whose ``name_zh`` or synonym is the longest part of the name (``瓶装饮用水`` → 饮用水)."""
    key = _material_key(name)
    if not key:
        return None
    for m in materials:
        if key in (_material_key(m.code), _material_key(m.name_zh), _material_key(m.name_en)):
            return m
    for m in materials:
        if key in (_material_key(s) for s in MATERIAL_SYNONYMS.get(m.code, ())):
            return m
    best: tuple[int, Material] | None = None
    tie = False
    for m in materials:
        for word in (m.name_zh, *MATERIAL_SYNONYMS.get(m.code, ())):
            w = _material_key(word)
            if len(w) >= 2 and w in key:
                if best is None or len(w) > best[0]:
                    best, tie = (len(w), m), False
                elif len(w) == best[0] and best[1] is not m:
                    tie = True
    return None if best is None or tie else best[1]
