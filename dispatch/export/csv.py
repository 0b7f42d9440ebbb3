"""Flat CSV of a plan's orders: one row per item per stop (UTF-8 with BOM so Excel reads Chinese).

After the columns of the XLSX order sheets: the stop's lateness against its incident's deadline
(迟到(分钟), empty when on time) and, on rows at an incident, that incident's on-time share of
the requested weight (事件按时送达率, 0–1) and its worst lateness (事件最长迟到(分钟)).

Text from data that a spreadsheet would run as a formula (starting with ``= + - @``, tab or CR)
is written with a leading apostrophe (OWASP "CSV injection"); numbers are written as numbers.
"""

from __future__ import annotations

import csv
from pathlib import Path

from dispatch.export.common import ROW_FIELDS, order_rows
from dispatch.plan import Plan
from dispatch.timeliness import incident_deadlines
from gis.fields import defuse_formula
from gis.phrases import say, word

#: (key, header) of the columns after :data:`ROW_FIELDS`
CSV_EXTRA_FIELDS: tuple[tuple[str, str], ...] = (
    ("late_min", "迟到(分钟)"),
    ("incident_on_time_fraction", "事件按时送达率"),
    ("incident_late_by_min", "事件最长迟到(分钟)"),
)
CSV_HEADER: tuple[str, ...] = tuple(label for _, label in ROW_FIELDS + CSV_EXTRA_FIELDS)


def export_csv(plan: Plan, path: Path | str, *, language: str = "zh_CN") -> Path:
    """Write ``path``: header row, then every order's stops and items; Chinese, or English
    headers, kinds, actions, item names and units with ``language="en"`` (names from data as
    they are)."""
    path = Path(path)
    en = language == "en"
    keys = [k for k, _ in ROW_FIELDS + CSV_EXTRA_FIELDS]
    deadlines = incident_deadlines(plan)
    outcome = {o.incident_id: o for o in plan.incidents}
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", newline="", encoding="utf-8-sig") as fh:
        w = csv.writer(fh)
        w.writerow([say(h, language) for h in CSV_HEADER])
        for order in plan.orders:
            for row in order_rows(plan, order, deadlines):
                o = outcome.get(row["place_id"])
                share = o.on_time_fraction if o is not None else None
                row["incident_on_time_fraction"] = "" if share is None else round(share, 4)
                row["incident_late_by_min"] = "" if o is None else round(o.late_by_s / 60.0, 1)
                if en:
                    for k in ("kind", "action", "unit"):
                        row[k] = word(row[k], language)
                    if row["material"]:
                        row["material_name"] = plan.material_label(row["material"], language)
                w.writerow([defuse_formula(row[k]) for k in keys])
    tmp.replace(path)
    return path


__all__ = ["CSV_HEADER", "export_csv"]
