"""Vocabulary shared by every solver: status, solve statistics, stop/progress callables and the
"what could not be served, and why" record.

Solvers have the shape ``solve(problem, options, *, stop=None, progress=None) -> Result``.
``stop`` is a zero-argument callable returning True when the caller wants the solver to stop
(Cancel button); ``progress`` receives a fraction in [0, 1] and a short message.
Infeasibility is a status, never an exception.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

StopFn = Callable[[], bool]
ProgressFn = Callable[[float, str], None]


class Status(StrEnum):
    OPTIMAL = "OPTIMAL"
    FEASIBLE = "FEASIBLE"
    INFEASIBLE = "INFEASIBLE"
    TIMEOUT = "TIMEOUT"  # time limit reached; the result holds the best found so far (may be empty)
    CANCELLED = "CANCELLED"  # stop() returned True; the result holds the best found so far

    @property
    def label_zh(self) -> str:
        return {
            "OPTIMAL": "最优",
            "FEASIBLE": "可行",
            "INFEASIBLE": "无可行解",
            "TIMEOUT": "超时(当前最优)",
            "CANCELLED": "已取消(当前最优)",
        }[self.value]


class Reason(StrEnum):
    """Why a need was not (fully) served. Values are the Chinese words shown to operators."""

    OUT_OF_STOCK = "库存不足"
    UNREACHABLE = "不可达"
    TOO_LATE = "超出时限"
    NO_TEAM = "无可用队伍"
    NO_VEHICLE = "无可用车辆"
    OVER_CAPACITY = "容量不足"
    CANCELLED = "计算已取消"
    TIME_LIMIT = "计算超时"
    FAILED = "计算失败"  # a stage could not run on this data (its message says why)


@dataclass(frozen=True, slots=True)
class SolveInfo:
    status: Status
    objective: float | None = None
    bound: float | None = None
    runtime_s: float = 0.0
    engine: str = ""

    @property
    def gap(self) -> float | None:
        """Relative gap |objective − bound| / max(|objective|, 1e-9) where a bound exists."""
        if self.objective is None or self.bound is None:
            return None
        return abs(self.objective - self.bound) / max(abs(self.objective), 1e-9)

    def as_json(self) -> dict[str, Any]:
        """The solve's status, figures and engine as the planning CLIs write them to JSON."""
        return {
            "status": self.status.value,
            "status_zh": self.status.label_zh,
            "objective": self.objective,
            "bound": self.bound,
            "gap": self.gap,
            "engine": self.engine,
            "runtime_s": round(self.runtime_s, 3),
        }


@dataclass(frozen=True, slots=True)
class Unserved:
    """A need (material, skill headcount, people to shelter, a visit) that was not met.

    ``what`` is a material code, a skill, ``"people"`` or ``"visit"``; ``quantity`` is the
    amount missing (in the material's unit, persons, or loads); ``message_zh`` is the sentence
    an operator reads, e.g. "缺少 帐篷 120 顶：库存不足".
    """

    site_id: str
    what: str
    quantity: float
    reason: Reason
    message_zh: str
    message_en: str = ""


def never_stop() -> bool:
    return False


def no_progress(fraction: float, message: str) -> None:  # noqa: ARG001
    return None
