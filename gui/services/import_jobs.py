"""Qt-free job bodies of the desk's 导入数据… wizard and 导出图层… dialog.

The preview runs :func:`gis.imports.plan_import` on the session's current scenario (not on the
file on disk), so the commit is one undoable edit of the open workspace: the window applies the
preview's scenario through :meth:`gui.session.Session.apply`, and the user saves as usual.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gis.imports import ImportRequest, ImportResult, plan_import
from gis.imports.export import write_layer
from gis.model import Scenario


@dataclass(frozen=True)
class PreviewRequest:
    """What the wizard asks: the file, its kind and options, and the scenario it goes into."""

    scenario: Scenario
    file: Path
    kind: str
    sheet: str | None = None
    crs: str = "auto"
    update: bool = False
    columns: Mapping[str, str | None] | None = None


def preview_job(
    request: PreviewRequest, *, stop: Callable[[], bool], progress: Callable[[float, str], None]
) -> ImportResult:
    """Read the file and work out the rows (a dry run; nothing is written)."""
    progress(0.1, f"读取 {request.file.name}…")
    result = plan_import(
        ImportRequest(
            workspace=Path(),
            file=request.file,
            kind=request.kind,
            sheet=request.sheet,
            crs=request.crs,
            update=request.update,
            dry_run=True,
            columns=request.columns,
        ),
        request.scenario,
    )
    progress(1.0, "预览完成")
    return result


@dataclass(frozen=True)
class ExportRequest:
    scenario: Scenario
    layer: str
    fmt: str
    out: Path
    encoding: str = "utf-8"


def export_job(
    request: ExportRequest, *, stop: Callable[[], bool], progress: Callable[[float, str], None]
) -> dict[str, Any]:
    progress(0.1, f"导出 {request.layer}…")
    return write_layer(
        request.scenario, request.layer, request.fmt, request.out, encoding=request.encoding
    )


__all__ = ["ExportRequest", "PreviewRequest", "export_job", "preview_job"]
