"""Vector maps for printed reports (reportlab graphics; no map tiles, nothing downloaded).

One definition of how a printed map is laid out: :class:`Projection` (longitude scaled by the
cosine of the mean latitude, so a kilometre is as long east–west as north–south), the scale bar
(:func:`add_scale_bar`) and the north mark (:func:`add_north`). Two kinds of map use them:

- the route map on each order page (:func:`dispatch.export.pdf_order.route_drawing`);
- overview maps (:func:`overview_drawing`) of a whole plan or of two plans: the county outline,
  main roads faint, road closures in red (a point closure as a circle of its radius, a line
  thick, an area shaded), incidents as triangles, route lines in the colours the caller gives
  (a plan's orders, changed orders highlighted, plan A and plan B in two colours) and a legend.

Hand-written on reportlab's shapes (already the PDF library of every export) rather than a
plotting library: the maps must embed in the same A4 story, with the same embedded CJK font,
as vectors.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from reportlab.graphics.shapes import Circle, Drawing, Line, Path, Polygon, PolyLine, Rect, String
from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics

from gis.phrases import say

Coords = tuple[tuple[float, float], ...]

#: colours shared by the overview maps (closures red as on the desk's map)
CLOSURE_COLOUR = "#d62728"
ROAD_COLOUR = "#c9cfd6"
OUTLINE_COLOUR = "#5d6d7e"
INCIDENT_COLOUR = "#1b1b1b"
BACKGROUND = "#f6f8f4"
#: height of an overview map in an A4 report (two fit on a page with their captions)
OVERVIEW_HEIGHT = 112 * mm


def nice_length(m: float) -> float:
    """The largest 1, 2 or 5 × 10^k not above ``m`` (scale-bar lengths)."""
    if m <= 0:
        return 0.0
    exp = 10 ** math.floor(math.log10(m))
    for f in (5, 2, 1):
        if f * exp <= m:
            return f * exp
    return exp


@dataclass(frozen=True)
class Projection:
    """Longitude/latitude → drawing units, fitted to a set of points inside a box."""

    kx: float
    scale: float
    cx: float
    cy: float
    width: float
    height: float
    y_shift: float = 10.0  # room at the bottom for the scale bar

    @classmethod
    def fit(
        cls,
        points: Sequence[tuple[float, float]],
        width: float,
        height: float,
        *,
        pad: float = 14.0,
        reserve: float = 12.0,
        min_share: float = 0.2,
    ) -> Projection:
        """Fit ``points`` (lon, lat; at least one) inside ``width`` × ``height`` less ``pad``
        each side and ``reserve`` at the bottom; a degenerate extent keeps ``min_share`` of the
        larger span so a single point or a straight line is not blown up."""
        lat0 = sum(p[1] for p in points) / len(points)
        kx = math.cos(math.radians(lat0))
        xs = [p[0] * kx for p in points]
        ys = [p[1] for p in points]
        minx, maxx, miny, maxy = min(xs), max(xs), min(ys), max(ys)
        span = max(maxx - minx, maxy - miny, 1e-4)
        scale = min(
            (width - 2 * pad) / max(maxx - minx, span * min_share),
            (height - 2 * pad - reserve) / max(maxy - miny, span * min_share),
        )
        return cls(kx, scale, (minx + maxx) / 2, (miny + maxy) / 2, width, height, reserve - 2)

    def xy(self, lon: float, lat: float) -> tuple[float, float]:
        return (
            self.width / 2 + (lon * self.kx - self.cx) * self.scale,
            (self.height + self.y_shift) / 2 + (lat - self.cy) * self.scale,
        )

    def flat(self, coords: Iterable[tuple[float, float]]) -> list[float]:
        return [c for lon, lat in coords for c in self.xy(lon, lat)]

    @property
    def metres_per_unit(self) -> float:
        return 111_320.0 / self.scale


def add_scale_bar(d: Drawing, proj: Projection, font: str, language: str = "zh_CN") -> None:
    """A scale bar a quarter of the map wide (rounded to 1/2/5 × 10^k m), bottom left."""
    m_per_unit = proj.metres_per_unit
    bar_m = nice_length(m_per_unit * proj.width * 0.25)
    if bar_m <= 0:
        return
    bar_w = bar_m / m_per_unit
    x0, y0 = 8.0, 8.0
    d.add(Line(x0, y0, x0 + bar_w, y0, strokeWidth=1.5))
    d.add(Line(x0, y0 - 2, x0, y0 + 3, strokeWidth=1))
    d.add(Line(x0 + bar_w, y0 - 2, x0 + bar_w, y0 + 3, strokeWidth=1))
    if bar_m >= 1000:
        txt = say("{n} 公里", language, n=f"{bar_m / 1000:g}")
    else:
        txt = say("{n} 米", language, n=f"{bar_m:g}")
    d.add(String(x0 + bar_w + 4, y0 - 2, txt, fontName=font, fontSize=7))


def add_north(d: Drawing, width: float, height: float, font: str) -> None:
    """ "N" over a short arrow shaft, top right."""
    d.add(String(width - 10, height - 14, "N", fontName=font, fontSize=9, textAnchor="middle"))
    d.add(Line(width - 10, height - 26, width - 10, height - 16, strokeWidth=1.2))


def frame(width: float, height: float) -> Drawing:
    """An empty map: the drawing with its pale background and border."""
    d = Drawing(width, height)
    d.add(
        Rect(
            0,
            0,
            width,
            height,
            fillColor=colors.HexColor(BACKGROUND),
            strokeColor=colors.HexColor("#9aa5b1"),
            strokeWidth=0.6,
        )
    )
    return d


# ------------------------------------------------------------------------------------------------
# Overview maps
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MapLine:
    """A line to draw (a route leg): coordinates, colour, width, dash pattern."""

    coords: Coords
    colour: str
    width: float = 1.4
    dash: tuple[float, ...] | None = None


@dataclass(frozen=True)
class MapPoint:
    """A marker: ``shape`` "triangle" (incident), "square" (base) or "circle"."""

    lon: float
    lat: float
    label: str
    colour: str = INCIDENT_COLOUR
    shape: str = "triangle"


@dataclass(frozen=True)
class MapClosure:
    """A closure's geometry as drawn: ``kind`` "point" (``coords`` one point and ``radius_m``),
    "line" or "area" (an outer ring)."""

    kind: str
    coords: Coords
    radius_m: float = 50.0


@dataclass(frozen=True)
class LegendItem:
    """``kind``: "line", "dash", "thick", "triangle", "square" or "closure"."""

    label: str
    colour: str
    kind: str = "line"


@dataclass(frozen=True)
class OverviewLayers:
    """Everything an overview map draws (plain coordinates, lon/lat WGS-84)."""

    outline: tuple[Coords, ...] = ()
    roads: tuple[Coords, ...] = ()
    closures: tuple[MapClosure, ...] = ()
    lines: tuple[MapLine, ...] = ()
    points: tuple[MapPoint, ...] = ()
    legend: tuple[LegendItem, ...] = field(default=())


def _extent_points(layers: OverviewLayers) -> list[tuple[float, float]]:
    pts: list[tuple[float, float]] = [p for ring in layers.outline for p in ring]
    pts += [p for ln in layers.lines for p in ln.coords]
    pts += [(p.lon, p.lat) for p in layers.points]
    pts += [p for c in layers.closures for p in c.coords]
    if not layers.outline and not pts:
        pts += [p for r in layers.roads for p in r]
    return pts


def _path(proj: Projection, lines: Iterable[Coords], **kw: object) -> Path:
    """All ``lines`` as one path (one PDF object: a county's roads stay small)."""
    p = Path(fillColor=None, **kw)
    for ln in lines:
        if len(ln) < 2:
            continue
        x, y = proj.xy(*ln[0])
        p.moveTo(x, y)
        for lon, lat in ln[1:]:
            p.lineTo(*proj.xy(lon, lat))
    return p


def _marker(d: Drawing, shape: str, x: float, y: float, colour: str, size: float = 4.5) -> None:
    fill = colors.HexColor(colour)
    if shape == "triangle":
        d.add(
            Polygon(
                [x, y + size, x - size, y - size * 0.8, x + size, y - size * 0.8],
                fillColor=fill,
                strokeColor=colors.white,
                strokeWidth=0.6,
            )
        )
    elif shape == "square":
        d.add(
            Rect(
                x - size * 0.7,
                y - size * 0.7,
                size * 1.4,
                size * 1.4,
                fillColor=fill,
                strokeColor=colors.white,
                strokeWidth=0.5,
            )
        )
    else:
        d.add(Circle(x, y, size * 0.7, fillColor=fill, strokeColor=colors.white, strokeWidth=0.5))


def _closure(d: Drawing, proj: Projection, c: MapClosure) -> None:
    red = colors.HexColor(CLOSURE_COLOUR)
    if c.kind == "point" and c.coords:
        x, y = proj.xy(*c.coords[0])
        r = max(4.5, c.radius_m / proj.metres_per_unit)
        d.add(Circle(x, y, r, fillColor=colors.white, strokeColor=red, strokeWidth=1.8))
        d.add(Line(x - r * 0.7, y - r * 0.7, x + r * 0.7, y + r * 0.7, strokeColor=red))
    elif c.kind == "line" and len(c.coords) >= 2:
        d.add(PolyLine(proj.flat(c.coords), strokeColor=red, strokeWidth=3.0))
    elif c.kind == "area" and len(c.coords) >= 3:
        d.add(
            Polygon(
                proj.flat(c.coords),
                fillColor=colors.Color(0.84, 0.15, 0.16, alpha=0.25),
                strokeColor=red,
                strokeWidth=1.2,
            )
        )


def _legend(d: Drawing, items: Sequence[LegendItem], width: float, font: str) -> None:
    if not items:
        return
    size = 7.0
    row_h = 10.0
    w_text = max(pdfmetrics.stringWidth(i.label, font, size) for i in items)
    box_w, box_h = w_text + 30, row_h * len(items) + 6
    x0, y0 = width - box_w - 6, 24.0
    d.add(
        Rect(
            x0,
            y0,
            box_w,
            box_h,
            fillColor=colors.Color(1, 1, 1, alpha=0.85),
            strokeColor=colors.HexColor("#9aa5b1"),
            strokeWidth=0.5,
        )
    )
    for k, item in enumerate(items):
        y = y0 + box_h - 8 - k * row_h
        c = colors.HexColor(item.colour)
        if item.kind in ("line", "dash", "thick"):
            d.add(
                Line(
                    x0 + 5,
                    y + 2,
                    x0 + 21,
                    y + 2,
                    strokeColor=c,
                    strokeWidth=3.0 if item.kind == "thick" else 1.5,
                    strokeDashArray=[3, 2] if item.kind == "dash" else None,
                )
            )
        elif item.kind == "closure":
            d.add(Circle(x0 + 13, y + 2, 3.5, fillColor=None, strokeColor=c, strokeWidth=1.4))
        else:
            _marker(d, item.kind, x0 + 13, y + 2, item.colour, 3.5)
        d.add(String(x0 + 25, y - 0.5, item.label, fontName=font, fontSize=size))


def overview_drawing(layers: OverviewLayers, width: float, height: float, font: str) -> Drawing:
    """An overview map of ``layers``: outline, faint roads, closures, route lines, markers
    (labelled where a label does not overlap another), legend, scale bar and north mark."""
    d = frame(width, height)
    pts = _extent_points(layers)
    if not pts:
        d.add(
            String(
                width / 2, height / 2, "无地图数据", fontName=font, fontSize=10, textAnchor="middle"
            )
        )
        return d
    proj = Projection.fit(pts, width, height, pad=10.0, reserve=14.0)
    if layers.outline:
        d.add(_outline(proj, layers.outline))
    if layers.roads:
        d.add(_path(proj, layers.roads, strokeColor=colors.HexColor(ROAD_COLOUR), strokeWidth=0.4))
    for ln in layers.lines:
        if len(ln.coords) < 2:
            continue
        d.add(
            PolyLine(
                proj.flat(ln.coords),
                strokeColor=colors.HexColor(ln.colour),
                strokeWidth=ln.width,
                strokeDashArray=list(ln.dash) if ln.dash else None,
            )
        )
    for c in layers.closures:  # over the routes: a route through a closure must show it
        _closure(d, proj, c)
    placed: list[tuple[float, float, float, float]] = []
    for p in layers.points:
        x, y = proj.xy(p.lon, p.lat)
        _marker(d, p.shape, x, y, p.colour)
        if not p.label:
            continue
        w_label = pdfmetrics.stringWidth(p.label, font, 6.5)
        box = (x + 5, y - 2, x + 7 + w_label, y + 7)
        if any(overlap(box, b) for b in placed):
            continue
        placed.append(box)
        d.add(String(x + 6, y + 0.5, p.label, fontName=font, fontSize=6.5))
    _legend(d, layers.legend, width, font)
    add_scale_bar(d, proj, font)
    add_north(d, width, height, font)
    return d


def _outline(proj: Projection, rings: Sequence[Coords]) -> Path:
    p = Path(
        fillColor=colors.white,
        strokeColor=colors.HexColor(OUTLINE_COLOUR),
        strokeWidth=0.9,
        fillMode=0,  # even-odd: holes stay holes
    )
    for ring in rings:
        if len(ring) < 3:
            continue
        p.moveTo(*proj.xy(*ring[0]))
        for lon, lat in ring[1:]:
            p.lineTo(*proj.xy(lon, lat))
        p.closePath()
    return p


def overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    """Whether two label boxes (x0, y0, x1, y1) overlap."""
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


__all__ = [
    "CLOSURE_COLOUR",
    "INCIDENT_COLOUR",
    "OVERVIEW_HEIGHT",
    "LegendItem",
    "MapClosure",
    "MapLine",
    "MapPoint",
    "OverviewLayers",
    "Projection",
    "add_north",
    "add_scale_bar",
    "frame",
    "nice_length",
    "overlap",
    "overview_drawing",
]
