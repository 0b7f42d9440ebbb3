"""Plan exports: PDF, XLSX, GeoJSON, CSV, offline HTML map, and all six at once.

:func:`export_all` (from :mod:`dispatch.export.bundle`) writes the whole set as one
transaction; each format has its own module.
"""

from dispatch.export.bundle import OUTPUT_FILES, export_all

__all__ = ["OUTPUT_FILES", "export_all"]
