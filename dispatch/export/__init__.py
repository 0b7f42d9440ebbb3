"""Plan exports: PDF, XLSX, GeoJSON, CSV, offline HTML map, and all six at once.

:func:`export_all` (from :mod:`dispatch.export.bundle`) writes the whole set, each file on its
own (a failing export never blocks the others; :class:`BundleError` names it and why); each
format has its own module.
"""

from dispatch.export.bundle import OUTPUT_FILES, BundleError, export_all

__all__ = ["OUTPUT_FILES", "BundleError", "export_all"]
