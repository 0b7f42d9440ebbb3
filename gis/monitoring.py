"""Monitoring on hazards (监测): what is watched, thresholds per warning colour, readings.

A hazard can carry one :class:`Monitor` per watched quantity (:data:`QUANTITIES`: 雨量 rain
gauge, 水位 water level, 位移 displacement, 气体浓度 gas sensor) with a threshold per warning
colour (蓝 ≤ 黄 ≤ 橙 ≤ 红, any may be left out) and its readings (time, value), entered by hand
(:meth:`Monitor.with_reading`) or imported from a CSV/XLSX/XLS sheet with a time and a value
column (:func:`read_readings`, through the ledger readers of :mod:`gis.imports.tables`). The
latest reading at or over a threshold proposes a warning of the highest colour it reaches
(:func:`proposal`); the desk or the operator issues it (:mod:`gis.hazard_warnings`).

Storage: monitors are JSON documents of kind :data:`MONITORING_DOCUMENT_KIND` in the
workspace's ``documents`` table, keyed ``<hazard id>/<quantity>`` — like warnings, so a
workspace written before monitoring existed opens unchanged and the schema needs no new layer
(a reading series is a list inside its monitor's document, not a row per reading: a county's
gauges log hourly, a few thousand readings a season).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from gis.errors import DataImportError, ValidationError
from gis.hazard_warnings import COLOUR_ZH, COLOURS

__all__ = [
    "MONITORING_DOCUMENT_KIND",
    "QUANTITIES",
    "Monitor",
    "MonitoringError",
    "Proposal",
    "proposal",
    "read_monitors",
    "read_readings",
    "with_monitor",
]

MONITORING_DOCUMENT_KIND = "monitoring"
#: Watched quantity → (Chinese name, unit).
QUANTITIES: Mapping[str, tuple[str, str]] = {
    "rainfall": ("雨量", "mm"),
    "water_level": ("水位", "m"),
    "displacement": ("位移", "mm"),
    "gas": ("气体浓度", "ppm"),
}
#: Header words of a readings sheet.
TIME_WORDS = ("时间", "监测时间", "观测时间", "日期", "time", "datetime", "timestamp")
VALUE_WORDS = ("数值", "读数", "监测值", "观测值", "值", "value", "reading")


class MonitoringError(ValidationError):
    """A monitor or a reading that cannot be used (unknown quantity, thresholds out of order)."""


@dataclass(frozen=True)
class Monitor:
    """What is watched at one hazard; ``readings`` sorted by time (local time, no zone: a time
    with a zone is converted to local time, so hand entries and imported logs sort together)."""

    hazard_id: str
    quantity: str
    thresholds: Mapping[str, float]  # colour → value at which that colour is proposed
    readings: tuple[tuple[datetime, float], ...] = ()

    def __post_init__(self) -> None:
        if not str(self.hazard_id).strip():
            raise MonitoringError("a monitor names its hazard")
        if self.quantity not in QUANTITIES:
            raise MonitoringError(
                f"watched quantity must be one of {'/'.join(QUANTITIES)}, got {self.quantity!r}"
            )
        th = {}
        for colour, value in dict(self.thresholds).items():
            if colour not in COLOURS:
                raise MonitoringError(f"threshold colour must be one of {'/'.join(COLOURS)}")
            v = float(value)
            if not math.isfinite(v):
                raise MonitoringError(f"{colour} threshold is not a finite number: {value!r}")
            th[colour] = v
        ordered = [th[c] for c in COLOURS if c in th]
        if ordered != sorted(ordered):
            raise MonitoringError(
                "thresholds must rise with the colour (蓝 ≤ 黄 ≤ 橙 ≤ 红), got "
                + ", ".join(f"{COLOUR_ZH[c]} {th[c]:g}" for c in COLOURS if c in th)
            )
        object.__setattr__(self, "thresholds", th)
        readings = []
        for when, value in self.readings:
            v = float(value)
            if not math.isfinite(v):
                raise MonitoringError(f"reading at {when} is not a finite number")
            if when.tzinfo is not None:  # one clock for the series: local time, as gauges log
                when = when.astimezone().replace(tzinfo=None)
            readings.append((when, v))
        object.__setattr__(self, "readings", tuple(sorted(readings, key=lambda r: r[0])))

    @property
    def key(self) -> str:
        return f"{self.hazard_id}/{self.quantity}"

    @property
    def label(self) -> str:
        name, unit = QUANTITIES[self.quantity]
        return f"{name}（{unit}）"

    def with_reading(self, when: datetime, value: float) -> Monitor:
        return replace(self, readings=(*self.readings, (when, value)))

    def with_readings(self, readings: Sequence[tuple[datetime, float]]) -> Monitor:
        return replace(self, readings=(*self.readings, *readings))

    def colour_for(self, value: float) -> str | None:
        """The highest colour whose threshold ``value`` reaches, or None."""
        hit = [c for c in COLOURS if c in self.thresholds and value >= self.thresholds[c]]
        return hit[-1] if hit else None

    def to_json(self) -> dict[str, Any]:
        return {
            "hazard_id": self.hazard_id,
            "quantity": self.quantity,
            "thresholds": dict(self.thresholds),
            "readings": [[w.isoformat(timespec="seconds"), v] for w, v in self.readings],
        }

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Monitor:
        try:
            return cls(
                str(doc["hazard_id"]),
                str(doc["quantity"]),
                dict(doc.get("thresholds", {})),
                tuple((datetime.fromisoformat(w), float(v)) for w, v in doc.get("readings", ())),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise MonitoringError(f"unreadable monitor document: {exc}") from None


@dataclass(frozen=True, slots=True)
class Proposal:
    """A warning the readings propose: the hazard, the colour, the reading that reached it."""

    hazard_id: str
    quantity: str
    colour: str
    at: datetime
    value: float
    threshold: float

    @property
    def text(self) -> str:
        name, unit = QUANTITIES[self.quantity]
        return (
            f"{self.hazard_id} {name} {self.value:g} {unit}（{self.at:%m-%d %H:%M}）达到"
            f"{COLOUR_ZH[self.colour]}预警阈值 {self.threshold:g} {unit}：建议发布{COLOUR_ZH[self.colour]}预警"
        )


def proposal(monitor: Monitor) -> Proposal | None:
    """The warning the latest reading proposes (None: no reading, or under every threshold)."""
    if not monitor.readings:
        return None
    at, value = monitor.readings[-1]
    colour = monitor.colour_for(value)
    if colour is None:
        return None
    return Proposal(
        monitor.hazard_id, monitor.quantity, colour, at, value, monitor.thresholds[colour]
    )


def _score(headers: Sequence[str]) -> float:
    low = [h.strip().lower() for h in headers]
    return float(any(h in TIME_WORDS for h in low)) + float(any(h in VALUE_WORDS for h in low))


def read_readings(
    path: Path | str, *, sheet: str | None = None
) -> tuple[tuple[datetime, float], ...]:
    """(time, value) rows of a CSV/XLSX/XLS sheet with a time and a value column (header words
    :data:`TIME_WORDS` / :data:`VALUE_WORDS`; title rows and 合计 rows skipped by the ledger
    reader). :class:`DataImportError` names the file and row of a bad cell."""
    from gis.imports.tables import read_csv, read_xls, read_xlsx
    from gis.imports.values import datetime_value, is_blank, number_value

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        table = read_csv(path, _score)
    elif suffix == ".xlsx":
        table = read_xlsx(path, _score, sheet)
    elif suffix == ".xls":
        table = read_xls(path, _score, sheet)
    else:
        raise DataImportError(f"{path}: readings must be CSV, XLSX or XLS, got {suffix or '?'}")
    low = [h.strip().lower() for h in table.headers]
    try:
        t_col = next(i for i, h in enumerate(low) if h in TIME_WORDS)
        v_col = next(i for i, h in enumerate(low) if h in VALUE_WORDS)
    except StopIteration:
        raise DataImportError(
            f"{path}: needs a time column (时间/time) and a value column (数值/读数/value)"
        ) from None
    out = []
    for row, values in table.rows:
        t, v = values[t_col], values[v_col]
        if is_blank(t) and is_blank(v):
            continue
        try:
            out.append((datetime_value(t), float(number_value(v)[0])))
        except ValueError as exc:
            raise DataImportError(f"{path} row {row}: {exc}") from None
    return tuple(out)


def read_monitors(documents: Mapping[str, Mapping[str, str]] | None) -> tuple[Monitor, ...]:
    """The workspace's monitors by key (unreadable documents skipped)."""
    stored = (documents or {}).get(MONITORING_DOCUMENT_KIND, {})
    out = []
    for key in sorted(stored):
        try:
            out.append(Monitor.from_json(json.loads(stored[key])))
        except (ValueError, MonitoringError):
            continue
    return tuple(out)


def with_monitor(
    documents: Mapping[str, Mapping[str, str]] | None, monitor: Monitor
) -> dict[str, dict[str, str]]:
    """A copy of ``documents`` with ``monitor`` stored (replacing the one with its key)."""
    docs = {str(k): dict(v) for k, v in (documents or {}).items()}
    docs.setdefault(MONITORING_DOCUMENT_KIND, {})[monitor.key] = json.dumps(
        monitor.to_json(), ensure_ascii=False
    )
    return docs
