"""Bringing a county's own data in and getting it out (issue 10).

One job per module, imports pointing down this list:

* :mod:`~gis.imports.service` — the import use case: :class:`ImportRequest` → preview
  (:func:`plan_import`: added / updated / rejected rows with reasons) → atomic commit
  (:func:`run_import`); :mod:`~gis.imports.export` — a layer to XLSX, CSV, GeoJSON, Shapefile
  or KML;
* :mod:`~gis.imports.tables` (XLSX / XLS / CSV ledgers: title rows, merged headers, 合计 rows,
  encodings) and :mod:`~gis.imports.vector` (Shapefile, GeoJSON, KML/KMZ, GeoPackage);
* :mod:`~gis.imports.mapping` (header words → workspace fields, templates) and
  :mod:`~gis.imports.crs` (WGS-84 / GCJ-02 / BD-09 / CGCS2000 / Gauss-Krüger detection);
* :mod:`~gis.imports.values` (units, thousands separators, 是/否, Chinese dates, DMS text).
"""

from __future__ import annotations

from gis.imports.service import ImportRequest, ImportResult, RowOutcome, plan_import, run_import

__all__ = ["ImportRequest", "ImportResult", "RowOutcome", "plan_import", "run_import"]
