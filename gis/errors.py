"""Domain errors. Every error names *what* is wrong and *where* (file, layer, row, column, id).

All subclass :class:`ValueError` (as osmnx does) so callers that only know the standard library
still catch them; the CLI turns any :class:`ReliefDeskError` into one line on stderr and exit 2.
"""

from __future__ import annotations


class ReliefDeskError(ValueError):
    """Base class of every error ReliefDesk raises on purpose."""


class ValidationError(ReliefDeskError):
    """A domain value is invalid (negative stock, level V, unknown material, NaN coordinate...)."""


class WorkspaceError(ReliefDeskError):
    """A workspace file cannot be read or written.

    The message always names the file and, where known, the layer, row and column.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        layer: str | None = None,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        self.path = path
        self.layer = layer
        self.row = row
        self.column = column
        where = []
        if path is not None:
            where.append(f"file {path}")
        if layer is not None:
            where.append(f"layer {layer!r}")
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column {column!r}")
        text = f"{', '.join(where)}: {message}" if where else message
        super().__init__(text)


class Cancelled(ReliefDeskError):
    """A ``stop`` callable asked the work to stop before it finished (nothing was changed)."""


class RoadNetworkError(ReliefDeskError):
    """A road network cannot be loaded, built or used."""


class NetworkUnavailableError(RoadNetworkError):
    """Downloading needs the internet and it is not reachable."""


class DataImportError(ReliefDeskError):
    """A file cannot be imported or exported (unreadable, no header row, unknown kind or
    coordinate system...). The message names the file and, where known, the sheet, row and
    column; the workspace is left untouched."""
