"""The desk's stock-planning job (Qt-free): :func:`dispatch.planning.stock.plan_stock` and the
``stock.json`` document (the same one ``app.py plan-stock`` writes), computed on a
:class:`gui.workers.JobRunner` thread; the XLSX export reuses the command's writer."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dispatch.planning.stock import StockPlan, StockRequest, plan_stock
from dispatch.planning.stock_cli import stock_json, write_stock_xlsx
from gis.model import Scenario

__all__ = ["StockJobRequest", "StockJobResult", "export_stock_xlsx", "run_stock_job"]


@dataclass(frozen=True)
class StockJobRequest:
    scenario: Scenario
    network: Any
    request: StockRequest


@dataclass(frozen=True)
class StockJobResult:
    plan: StockPlan
    doc: dict[str, Any]


def run_stock_job(job: StockJobRequest, *, stop: Any, progress: Any) -> StockJobResult:
    """Design incidents → recommended stock → gaps (:func:`plan_stock`)."""
    plan = plan_stock(job.scenario, job.network, job.request, stop=stop, progress=progress)
    return StockJobResult(plan, stock_json(plan))


def export_stock_xlsx(result: StockJobResult, path: str | Path) -> None:
    """The command's workbook (储备建议, 采购清单, 低于安全库存, 设计事件, 说明)."""
    write_stock_xlsx(result.plan, result.doc, Path(path))
