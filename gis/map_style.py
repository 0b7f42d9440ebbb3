"""The map's look, declared once (Qt-free): colours, road classes and the QGIS layer styles.

The app's Leaflet page (gui/map_page.py) and the ``layer_styles`` table written into every
workspace (the OGC GeoPackage / QGIS convention: QGIS applies the default style of a layer when
it opens it) both read the colours here, so QGIS shows the workspace as the app does.

:data:`LAYER_STYLES` says, per GeoPackage layer, how it is drawn (symbol kind, colour, optional
categories on one column, label column); :func:`style_qml` and :func:`style_sld` turn one entry
into QGIS QML and OGC SLD 1.1 text. Both are built with :mod:`xml.etree.ElementTree`, so names
and values are always escaped XML. Hand-written: no maintained Python library writes QML.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

#: Colours of incidents by response level (I red, II orange, III yellow, IV blue).
LEVEL_COLORS: Mapping[int, str] = {1: "#d7191c", 2: "#f07c19", 3: "#f5d10f", 4: "#2c7bb6"}
HAZARD_COLORS: Mapping[int, str] = {1: "#7b1fa2", 2: "#9c27b0", 3: "#ba68c8", 4: "#ce93d8"}
SHELTER_COLOR = "#2e7d32"
STOCKPILE_COLOR = "#8d5524"
TEAM_COLOR = "#1565c0"
BOUNDARY_COLOR = "#333333"
TOWNSHIP_COLOR = "#444444"
WATER_COLOR = "#6baed6"
BRIDGE_COLOR = "#6a1b9a"
VILLAGE_COLOR = "#7f6a4f"
CANDIDATE_COLOR = "#6a3d9a"
#: people moved to shelters (the HTML map export's straight lines)
EVACUATION_COLOR = "#7f8c8d"
#: Route line colours, one per vehicle, cycled (ColorBrewer Dark2 + Set1, readable on a light
#: base map): the desk's routes layer and the HTML map export (dispatch.export.common).
ROUTE_COLORS: tuple[str, ...] = (
    "#1b9e77",
    "#d95f02",
    "#7570b3",
    "#e7298a",
    "#66a61e",
    "#e6ab02",
    "#a6761d",
    "#377eb8",
    "#e41a1c",
    "#984ea3",
    "#ff7f00",
    "#4daf4a",
    "#f781bf",
    "#17becf",
    "#8c564b",
    "#666666",
)


def route_color(index: int) -> str:
    """The ``index``-th route colour (cycled)."""
    return ROUTE_COLORS[index % len(ROUTE_COLORS)]


def place_color(kind: str, level: int = 0) -> str:
    """The marker colour of a plan's place by kind (``stockpile``/``shelter``/``team``/
    ``incident``/``group``) as the desk draws it; incidents by response ``level``."""
    if kind == "incident":
        return LEVEL_COLORS.get(int(level), LEVEL_COLORS[4])
    return {
        "stockpile": STOCKPILE_COLOR,
        "shelter": SHELTER_COLOR,
        "team": TEAM_COLOR,
        "group": EVACUATION_COLOR,
    }.get(kind, TOWNSHIP_COLOR)


#: Road display classes: key -> (label_zh, colour, weight in px). Keys group OSM ``highway``.
ROAD_CLASSES: dict[str, tuple[str, str, float]] = {
    "motorway": ("高速", "#e4572e", 4.0),
    "trunk": ("国道", "#f28c28", 3.5),
    "primary": ("省道", "#f2b134", 3.0),
    "secondary": ("县道", "#c9a227", 2.4),
    "tertiary": ("乡道", "#8c8c8c", 1.8),
    "village": ("村道", "#b0b0b0", 1.2),
    "other": ("其他", "#cfcfcf", 1.0),
}

HIGHWAY_TO_CLASS: Mapping[str, str] = MappingProxyType(
    {
        "motorway": "motorway",
        "motorway_link": "motorway",
        "trunk": "trunk",
        "trunk_link": "trunk",
        "primary": "primary",
        "primary_link": "primary",
        "secondary": "secondary",
        "secondary_link": "secondary",
        "tertiary": "tertiary",
        "tertiary_link": "tertiary",
        "unclassified": "village",
        "residential": "village",
    }
)

_PX_MM = 0.26  # one screen pixel in millimetres (QGIS symbol units)


@dataclass(frozen=True, slots=True)
class Category:
    """One value of the styled column: its colour, label and line width (px, lines only)."""

    value: str
    color: str
    label: str
    width_px: float = 1.0


@dataclass(frozen=True, slots=True)
class LayerStyle:
    """How one GeoPackage layer is drawn: ``kind`` is ``marker``, ``line`` or ``fill``."""

    layer: str
    name: str  # the style's name shown in QGIS (Chinese)
    kind: str
    color: str
    width_px: float = 1.0
    column: str = ""  # categorised on this column (empty: one symbol)
    categories: tuple[Category, ...] = ()
    label: str = ""  # label column (empty: no labels)
    label_max_scale: int = 0  # labels only when zoomed in beyond 1:N (0: always)
    dashed: bool = False
    hollow: bool = False  # fill without colour (outline only)
    geometry_column: str = "geom"


def _road_categories() -> tuple[Category, ...]:
    cats = [
        Category(hw, ROAD_CLASSES[cls][1], f"{ROAD_CLASSES[cls][0]}（{hw}）", ROAD_CLASSES[cls][2])
        for hw, cls in HIGHWAY_TO_CLASS.items()
    ]
    label, color, width = ROAD_CLASSES["other"]
    return (*cats, Category("", color, label, width))  # "" = all other values (QGIS)


def _level_categories(colors: Mapping[int, str], suffix: str) -> tuple[Category, ...]:
    roman = {1: "I", 2: "II", 3: "III", 4: "IV"}
    return tuple(Category(str(k), c, f"{roman[k]}{suffix}") for k, c in colors.items())


#: The styles written into every workspace (table ``layer_styles``).
LAYER_STYLES: tuple[LayerStyle, ...] = (
    LayerStyle("boundary", "县界", "fill", BOUNDARY_COLOR, 2.5, dashed=True, hollow=True),
    LayerStyle(
        "road_edges", "道路（按等级）", "line", ROAD_CLASSES["other"][1], column="highway",
        categories=_road_categories(), label="name", label_max_scale=50_000,
    ),
    LayerStyle("townships", "乡镇驻地", "marker", TOWNSHIP_COLOR, label="name"),
    LayerStyle(
        "demand_points", "村/社区", "marker", VILLAGE_COLOR, label="name", label_max_scale=60_000
    ),
    LayerStyle("stockpiles", "储备库", "marker", STOCKPILE_COLOR, label="name"),
    LayerStyle("candidate_sites", "候选站点", "marker", CANDIDATE_COLOR, label="name"),
    LayerStyle("shelters", "避难场所", "marker", SHELTER_COLOR, label="name"),
    LayerStyle("teams", "救援队伍", "marker", TEAM_COLOR, label="name"),
    LayerStyle(
        "incidents", "突发事件（按响应级别）", "marker", LEVEL_COLORS[1], column="level",
        categories=_level_categories(LEVEL_COLORS, "级响应"), label="name",
    ),
    LayerStyle(
        "hazards", "危险源/风险点（按风险等级）", "fill", HAZARD_COLORS[1], column="risk_level",
        categories=_level_categories(HAZARD_COLORS, "级风险"), label="name",
    ),
    LayerStyle("closures", "道路管制", "fill", "#c0392b", 2.0, dashed=True),
)  # fmt: skip


def _rgba(color: str, alpha: int = 255) -> str:
    c = color.lstrip("#")
    return f"{int(c[0:2], 16)},{int(c[2:4], 16)},{int(c[4:6], 16)},{alpha}"


def _opt(parent: ET.Element, name: str, value: str) -> None:
    ET.SubElement(parent, "Option", name=name, type="QString", value=value)


def _symbol(parent: ET.Element, style: LayerStyle, name: str, color: str, width_px: float) -> None:
    sym = ET.SubElement(
        parent, "symbol", type=style.kind, name=name, alpha="1", clip_to_extent="1", force_rhr="0"
    )
    cls = {"marker": "SimpleMarker", "line": "SimpleLine", "fill": "SimpleFill"}[style.kind]
    layer = ET.SubElement(sym, "layer", {"class": cls, "enabled": "1", "locked": "0", "pass": "0"})
    opts = ET.SubElement(layer, "Option", type="Map")
    if style.kind == "marker":
        _opt(opts, "name", "circle")
        _opt(opts, "color", _rgba(color))
        _opt(opts, "outline_color", "255,255,255,255")
        _opt(opts, "outline_width", "0.4")
        _opt(opts, "size", "2" if style.layer in ("demand_points", "townships") else "3.6")
    elif style.kind == "line":
        _opt(opts, "line_color", _rgba(color))
        _opt(opts, "line_width", f"{width_px * _PX_MM:.2f}")
        _opt(opts, "line_style", "dash" if style.dashed else "solid")
        _opt(opts, "capstyle", "round")
    else:
        _opt(opts, "color", _rgba(color, 0 if style.hollow else 90))
        _opt(opts, "style", "no" if style.hollow else "solid")
        _opt(opts, "outline_color", _rgba(color))
        _opt(opts, "outline_width", f"{width_px * _PX_MM:.2f}")
        _opt(opts, "outline_style", "dash" if style.dashed else "solid")


def style_qml(style: LayerStyle, qgis_version: str = "3.28.0") -> str:
    """QGIS QML (symbology and labels) of one layer style."""
    root = ET.Element(
        "qgis", version=qgis_version, styleCategories="Symbology|Labeling",
        labelsEnabled="1" if style.label else "0",
    )  # fmt: skip
    if style.categories:
        r = ET.SubElement(
            root, "renderer-v2", type="categorizedSymbol", attr=style.column,
            symbollevels="0", enableorderby="0", forceraster="0",
        )  # fmt: skip
        cats = ET.SubElement(r, "categories")
        syms = ET.SubElement(r, "symbols")
        for i, c in enumerate(style.categories):
            ET.SubElement(
                cats, "category", value=c.value, symbol=str(i), label=c.label, render="true"
            )
            _symbol(syms, style, str(i), c.color, c.width_px if style.kind == "line" else 1.0)
    else:
        r = ET.SubElement(
            root, "renderer-v2", type="singleSymbol", symbollevels="0", enableorderby="0",
            forceraster="0",
        )  # fmt: skip
        _symbol(ET.SubElement(r, "symbols"), style, "0", style.color, style.width_px)
    if style.label:
        lab = ET.SubElement(root, "labeling", type="simple")
        settings = ET.SubElement(lab, "settings", calloutType="simple")
        ET.SubElement(
            settings, "text-style", fieldName=style.label, isExpression="0", fontSize="9",
            fontFamily="WenQuanYi Micro Hei", textColor="51,51,51,255",
        )  # fmt: skip
        ET.SubElement(
            settings, "text-buffer", bufferDraw="1", bufferSize="0.8",
            bufferColor="255,255,255,255",
        )  # fmt: skip
        ET.SubElement(settings, "placement", placement="1" if style.kind == "marker" else "2")
        ET.SubElement(
            settings, "rendering", scaleVisibility="1" if style.label_max_scale else "0",
            scaleMin=str(style.label_max_scale), scaleMax="0",
        )  # fmt: skip
    ET.SubElement(root, "layerGeometryType").text = {"marker": "0", "line": "1", "fill": "2"}[
        style.kind
    ]
    body = ET.tostring(root, encoding="unicode")
    return "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + body


_SLD = "http://www.opengis.net/sld"
_SE = "http://www.opengis.net/se"
_OGC = "http://www.opengis.net/ogc"


def _sld_symbolizer(rule: ET.Element, style: LayerStyle, color: str, width_px: float) -> None:
    def param(parent: ET.Element, name: str, value: str) -> None:
        ET.SubElement(parent, f"{{{_SE}}}SvgParameter", name=name).text = value

    if style.kind == "marker":
        sym = ET.SubElement(rule, f"{{{_SE}}}PointSymbolizer")
        mark = ET.SubElement(ET.SubElement(sym, f"{{{_SE}}}Graphic"), f"{{{_SE}}}Mark")
        ET.SubElement(mark, f"{{{_SE}}}WellKnownName").text = "circle"
        param(ET.SubElement(mark, f"{{{_SE}}}Fill"), "fill", color)
        param(ET.SubElement(mark, f"{{{_SE}}}Stroke"), "stroke", "#ffffff")
        ET.SubElement(sym.find(f"{{{_SE}}}Graphic"), f"{{{_SE}}}Size").text = "10"
        return
    if style.kind == "fill":
        sym = ET.SubElement(rule, f"{{{_SE}}}PolygonSymbolizer")
        if not style.hollow:
            fill = ET.SubElement(sym, f"{{{_SE}}}Fill")
            param(fill, "fill", color)
            param(fill, "fill-opacity", "0.35")
    else:
        sym = ET.SubElement(rule, f"{{{_SE}}}LineSymbolizer")
    stroke = ET.SubElement(sym, f"{{{_SE}}}Stroke")
    param(stroke, "stroke", color)
    param(stroke, "stroke-width", f"{width_px:g}")
    if style.dashed:
        param(stroke, "stroke-dasharray", "8 4")


def style_sld(style: LayerStyle) -> str:
    """OGC SLD 1.1 of one layer style (symbols per category; labels left to QML)."""
    for prefix, uri in (("sld", _SLD), ("se", _SE), ("ogc", _OGC)):
        ET.register_namespace(prefix, uri)
    root = ET.Element(f"{{{_SLD}}}StyledLayerDescriptor", version="1.1.0")
    layer = ET.SubElement(root, f"{{{_SLD}}}NamedLayer")
    ET.SubElement(layer, f"{{{_SE}}}Name").text = style.layer
    user = ET.SubElement(layer, f"{{{_SLD}}}UserStyle")
    ET.SubElement(user, f"{{{_SE}}}Name").text = style.name
    fts = ET.SubElement(user, f"{{{_SE}}}FeatureTypeStyle")
    cats = style.categories or (Category("", style.color, style.name, style.width_px),)
    for c in cats:
        rule = ET.SubElement(fts, f"{{{_SE}}}Rule")
        ET.SubElement(rule, f"{{{_SE}}}Name").text = c.label
        if style.categories and c.value:
            flt = ET.SubElement(rule, f"{{{_OGC}}}Filter")
            eq = ET.SubElement(flt, f"{{{_OGC}}}PropertyIsEqualTo")
            ET.SubElement(eq, f"{{{_OGC}}}PropertyName").text = style.column
            ET.SubElement(eq, f"{{{_OGC}}}Literal").text = c.value
        elif style.categories:
            ET.SubElement(rule, f"{{{_SE}}}ElseFilter")
        width = c.width_px if style.kind == "line" and style.categories else style.width_px
        _sld_symbolizer(rule, style, c.color, width)
    return ET.tostring(root, encoding="unicode", xml_declaration=False)
