"""The six-file export of a plan as one transaction: all written, or the old files kept.

:func:`export_all` writes ``plan.json``, the PDF, XLSX, GeoJSON, CSV and the offline HTML map
(:data:`OUTPUT_FILES`) into a staging folder and moves them over the old ones only when every
export succeeded. The exporters are imported when called (the PDF one is slow to import).
"""

from __future__ import annotations

from pathlib import Path

from dispatch.plan import Plan
from gis.errors import ValidationError

OUTPUT_FILES = ("plan.json", "orders.pdf", "orders.xlsx", "plan.geojson", "plan.csv", "plan.html")


def export_all(plan: Plan, out: Path) -> dict[str, Path]:
    """Write the six output files of a plan into ``out`` (created if needed).

    All six are first written into a staging folder inside ``out`` and only moved over the
    existing files once every export succeeded: a failing export (disk full, unwritable
    folder, a bug on odd data) raises and leaves the files of an earlier run untouched, never a
    mix of old and new files.
    """
    import os
    import shutil

    from dispatch.export.csv import export_csv
    from dispatch.export.geojson import export_geojson
    from dispatch.export.html_map import export_html
    from dispatch.export.pdf import export_pdf
    from dispatch.export.xlsx import export_xlsx

    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ValidationError(f"output folder {out} is an existing file, not a folder")
    out.mkdir(parents=True, exist_ok=True)
    files = {name: out / name for name in OUTPUT_FILES}
    staging = out / f".reliefdesk-export-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        staged = {name: staging / name for name in OUTPUT_FILES}
        staged["plan.json"].write_text(plan.to_json(), encoding="utf-8")
        export_pdf(plan, staged["orders.pdf"])
        export_xlsx(plan, staged["orders.xlsx"])
        export_geojson(plan, staged["plan.geojson"])
        export_csv(plan, staged["plan.csv"])
        export_html(plan, staged["plan.html"])
        for name in OUTPUT_FILES:
            staged[name].replace(files[name])
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return files


__all__ = ["OUTPUT_FILES", "export_all"]
