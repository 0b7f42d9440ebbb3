"""Flat CSV of a plan's orders: one row per item per stop (UTF-8 with BOM so Excel reads Chinese).

Text from data that a spreadsheet would run as a formula (starting with ``= + - @``, tab or CR)
is written with a leading apostrophe (OWASP "CSV injection"); numbers are written as numbers.
"""

from __future__ import annotations

import csv
from pathlib import Path

from dispatch.export.common import ROW_FIELDS, order_rows
from dispatch.plan import Plan
from gis.fields import defuse_formula

CSV_HEADER: tuple[str, ...] = tuple(label for _, label in ROW_FIELDS)


def export_csv(plan: Plan, path: Path | str) -> Path:
    """Write ``path``: Chinese header row, then every order's stops and items."""
    path = Path(path)
    keys = [k for k, _ in ROW_FIELDS]
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", newline="", encoding="utf-8-sig") as fh:
        w = csv.writer(fh)
        w.writerow(CSV_HEADER)
        for order in plan.orders:
            for row in order_rows(plan, order):
                w.writerow([defuse_formula(row[k]) for k in keys])
    tmp.replace(path)
    return path


__all__ = ["CSV_HEADER", "export_csv"]
