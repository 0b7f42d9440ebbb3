"""A coverage result as the map's coverage payload (Qt-free, testable without a display).

:func:`coverage_features` returns the GeoJSON FeatureCollection that ``RD.setCoverage(payload)``
draws (``resources/js/reliefdesk_map.js``): the drive-time areas, largest first so the smaller
ones are drawn on top (``role="area"``, ``color``), and the blind spots as points
(``role="blind"``; ``role="new_blind"`` for points a what-if leaves blind that the baseline
reached). With a what-if the areas are the what-if's. Every text that reaches the page as HTML
(``tip``) is escaped here: names come from data.
"""

from __future__ import annotations

import json
from typing import Any

import shapely

from dispatch.planning.coverage import CoverageResult, PointCoverage, WhatIf
from gui.map_page import escape

#: Area colours from the shortest threshold to the longest (ColorBrewer YlGnBu, reversed).
AREA_COLORS: tuple[str, ...] = ("#0c2c84", "#225ea8", "#1d91c0", "#41b6c4", "#7fcdbb", "#c7e9b4")
BLIND_COLOR = "#b2182b"
NEW_BLIND_COLOR = "#ff7f00"


def _minutes_text(minutes: float | None) -> str:
    return "不可达" if minutes is None else f"{minutes:.0f} 分钟"


def _blind(p: PointCoverage, role: str) -> dict[str, Any]:
    s = p.site
    tip = f"{escape(s.name)}（{escape(s.kind)}）· {s.population:,} 人 · {_minutes_text(p.minutes)}"
    return {
        "type": "Feature",
        "properties": {
            "role": role,
            "id": s.id,
            "color": NEW_BLIND_COLOR if role == "new_blind" else BLIND_COLOR,
            "tip": tip,
        },
        "geometry": {"type": "Point", "coordinates": [s.lon, s.lat]},
    }


def coverage_features(base: CoverageResult, what_if: WhatIf | None = None) -> dict[str, Any]:
    """The payload of ``RD.setCoverage`` (see module doc)."""
    shown = what_if.scenario if what_if is not None else base
    shares = {s.minutes: s for s in shown.summary}
    feats: list[dict[str, Any]] = []
    n = len(shown.isochrones)
    for k, iso in reversed(list(enumerate(shown.isochrones))):
        if iso.geometry.is_empty:
            continue
        s = shares[iso.minutes]
        feats.append(
            {
                "type": "Feature",
                "properties": {
                    "role": "area",
                    "minutes": iso.minutes,
                    "color": AREA_COLORS[
                        min(k * len(AREA_COLORS) // max(n, 1), len(AREA_COLORS) - 1)
                    ],
                    "tip": f"≤ {iso.minutes:g} 分钟：{s.share:.1%} 人口（{s.population:,} 人）",
                },
                "geometry": json.loads(shapely.to_geojson(iso.geometry)),
            }
        )
    new = {p.id for p in what_if.newly_blind} if what_if is not None else set()
    for p in shown.blind_spots:
        feats.append(_blind(p, "new_blind" if p.id in new else "blind"))
    return {"type": "FeatureCollection", "features": feats}
