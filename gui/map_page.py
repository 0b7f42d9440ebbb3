"""The offline Leaflet map page (Qt-free, testable).

:func:`build_map_html` turns a :class:`~gis.model.Scenario` and its road edges into a complete
HTML page built with folium. Every script, stylesheet and image is served from ``resources/``
(``file://`` URLs): the page never reaches the network (DESIGN.md §5) and carries no tile layer
unless a local/intranet tile URL is configured.

Safety: names from data only reach the page as JSON (escaped for a ``<script>`` block) or as
HTML that :func:`html.escape` produced here. Road popups are built in JS with ``textContent``.

The page logic lives in ``resources/js/reliefdesk_map.js`` (``window.RD``); Python drives it with
``RD.setLayerData(layer, payload)``, ``RD.setLayerVisible``, ``RD.select``... The payload of each
layer comes from :func:`gui.map_features.layer_payloads` so a layer can be refreshed without
reloading the page.

The layers' payloads, the layer list and the page's words (:func:`tr`) are in
:mod:`gui.map_features` and importable from here, as are the colours of :mod:`gis.map_style`
and the JS text helpers of :mod:`gui.js_text`.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from gis import map_style
from gis.map_style import (  # noqa: F401 (colours re-exported for the GUI)
    BRIDGE_COLOR,
    CANDIDATE_COLOR,
    HAZARD_COLORS,
    HIGHWAY_TO_CLASS,
    LEVEL_COLORS,
    ROAD_CLASSES,
    SHELTER_COLOR,
    STOCKPILE_COLOR,
    TEAM_COLOR,
    TOWNSHIP_COLOR,
    VILLAGE_COLOR,
    WATER_COLOR,
)
from gis.model import (
    Scenario,
)
from gis.paths import cache_dir, resources_dir
from gui.js_text import (  # noqa: F401 (js_literal, escape, popup_html re-exported)
    escape,
    js_literal,
    js_literal_chunked,
    popup_html,
)
from gui.map_features import (  # noqa: F401 (the layers' payloads, re-exported)
    LAYER_IDS,
    LAYERS,
    LayerSpec,
    boundary_features,
    candidate_points,
    closed_edge_features,
    closed_road_features,
    closure_features,
    demand_points,
    hazard_features,
    incident_points,
    layer_payloads,
    line_coords,
    road_class,
    road_payload,
    scenario_bounds,
    set_translator,
    shelter_points,
    stockpile_points,
    team_points,
    township_points,
    tr,
)
from gui.map_ground import (  # noqa: F401 (village_points re-exported)
    VILLAGE_LABEL_ZOOM,
    bridge_features,
    township_area_features,
    village_points,
    water_features,
    workspace_basemap_spec,
)

RESOURCES_DIR = resources_dir()  # gis.paths: the source tree or the frozen bundle
VENDOR_DIR = RESOURCES_DIR / "vendor"

#: Pages larger than this cannot go through ``QWebEngineView.setHtml`` (Chromium data-URL limit).
SETHTML_LIMIT_BYTES = 2_000_000


# --------------------------------------------------------------------------------------------
# The folium page
# --------------------------------------------------------------------------------------------


def asset_urls(base: str | None = None) -> dict[str, str]:
    """``file://`` (or given base) URLs of the vendored assets."""
    root = (base or RESOURCES_DIR.as_uri()).rstrip("/")
    return {
        "leaflet_js": f"{root}/vendor/leaflet/leaflet.js",
        "leaflet_css": f"{root}/vendor/leaflet/leaflet.css",
        "jquery": f"{root}/vendor/jquery/jquery.min.js",
        "draw_js": f"{root}/vendor/leaflet-draw/leaflet.draw.js",
        "draw_css": f"{root}/vendor/leaflet-draw/leaflet.draw.css",
        "cluster_js": f"{root}/vendor/leaflet-markercluster/leaflet.markercluster.js",
        "cluster_css": f"{root}/vendor/leaflet-markercluster/MarkerCluster.css",
        "rd_js": f"{root}/js/reliefdesk_map.js",
        "rd_tools_js": f"{root}/js/reliefdesk_tools.js",
        "rd_css": f"{root}/css/reliefdesk_map.css",
    }


@functools.cache
def _folium() -> dict[str, Any]:
    """folium/branca classes, imported on first use (folium costs ~0.8 s to import)."""
    import folium
    from branca.element import CssLink, Element, JavascriptLink, MacroElement
    from jinja2 import Template

    class OfflineMap(folium.Map):
        """``folium.Map`` whose JS/CSS come from local URLs only (no bootstrap, no CDN fonts)."""

        def __init__(self, *args: Any, assets: Mapping[str, str], **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.default_js = [("leaflet", assets["leaflet_js"]), ("jquery", assets["jquery"])]
            self.default_css = [("leaflet_css", assets["leaflet_css"])]

    class Raw(Element):
        """Literal HTML. Never compiled as a Jinja template (data must not be evaluated)."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

        def render(self, **kwargs: Any) -> str:
            return self.text

    class Boot(MacroElement):
        """Hands the map object and the data to the page logic."""

        _template = Template(
            """
{% macro script(this, kwargs) %}
    RD.init({{ this._parent.get_name() }}, RD_DATA);
{% endmacro %}
"""
        )

    return {
        "folium": folium,
        "OfflineMap": OfflineMap,
        "Raw": Raw,
        "Boot": Boot,
        "JavascriptLink": JavascriptLink,
        "CssLink": CssLink,
    }


def build_map_html(
    scenario: Scenario,
    road_edges: Any | None = None,
    *,
    closed_rows: Iterable[int] = (),
    tile_url: str | None = None,
    tile_attribution: str = "",
    bridge: bool = True,
    asset_base: str | None = None,
    hidden_layers: Iterable[str] = (),
    map_layers: Mapping[str, str] | None = None,
) -> str:
    """Complete HTML of the map page.

    Parameters
    ----------
    scenario
        What to draw.
    road_edges
        Road edge GeoDataFrame (EPSG:4326; columns ``highway``, ``name``, ``ref``, ``maxspeed_kmh``)
        or None.
    closed_rows
        Road edge rows affected by closures (drawn in red).
    tile_url
        Optional local/intranet XYZ tile URL template (``http://host/{z}/{x}/{y}.png`` or
        ``file:///...``). None: no basemap (the default; nothing is fetched).
    bridge
        Load ``qrc:///qtwebchannel/qwebchannel.js`` so the page can talk to Qt.
    asset_base
        Base URL of ``resources/`` (default: its ``file://`` URI).
    hidden_layers
        Layer ids that start hidden.
    map_layers
        The workspace's ``documents["map_layers"]`` (rivers), see :mod:`gui.map_ground`.
    """
    assets = asset_urls(asset_base)
    bounds = scenario_bounds(scenario, road_edges)
    if bounds is None:
        centre = [28.81, 105.83]
    else:
        centre = [(bounds[1] + bounds[3]) / 2, (bounds[0] + bounds[2]) / 2]
    f = _folium()
    raw = f["Raw"]
    m = f["OfflineMap"](
        location=centre,
        zoom_start=10,
        zoom_snap=0.25,
        zoom_delta=0.5,
        tiles=None,
        control_scale=False,  # the page adds a metric-only scale bar (RD.init)
        prefer_canvas=False,
        attribution_control=True,
        assets=assets,
    )
    if tile_url:
        f["folium"].TileLayer(
            tiles=tile_url, attr=tile_attribution or "local tiles", name="basemap"
        ).add_to(m)
    root = m.get_root()
    # Pre-register folium's own links under their names so they come first in <head>
    # (folium adds them at render time, after anything added here, and replaces by name).
    root.header.add_child(f["JavascriptLink"](assets["leaflet_js"]), name="leaflet")
    root.header.add_child(f["JavascriptLink"](assets["jquery"]), name="jquery")
    root.header.add_child(f["CssLink"](assets["leaflet_css"]), name="leaflet_css")
    root.header.add_child(
        raw(f'<link rel="stylesheet" href="{escape(assets["draw_css"])}"/>'), name="draw_css"
    )
    root.header.add_child(
        raw(f'<link rel="stylesheet" href="{escape(assets["rd_css"])}"/>'), name="rd_css"
    )
    root.header.add_child(
        raw(f'<link rel="stylesheet" href="{escape(assets["cluster_css"])}"/>'), name="cluster_css"
    )
    root.header.add_child(
        raw(f'<script src="{escape(assets["draw_js"])}"></script>'), name="draw_js"
    )
    root.header.add_child(
        raw(f'<script src="{escape(assets["cluster_js"])}"></script>'), name="cluster_js"
    )
    if bridge:
        root.header.add_child(
            raw('<script src="qrc:///qtwebchannel/qwebchannel.js"></script>'), name="qwebchannel"
        )
    root.header.add_child(raw(f'<script src="{escape(assets["rd_js"])}"></script>'), name="rd_js")
    root.header.add_child(
        raw(f'<script src="{escape(assets["rd_tools_js"])}"></script>'), name="rd_tools_js"
    )

    payload = layer_payloads(
        scenario,
        layers=[i for i in reversed(LAYER_IDS)],
        road_edges=road_edges,
        closed_rows=closed_rows,
        map_layers=map_layers,
    )
    data = {
        "order": list(reversed(LAYER_IDS)),
        "layers": {k: v for k, v in payload.items() if k != "roads"},
        "roads": payload["roads"],
        "bounds": bounds,
        "hidden": [h for h in hidden_layers if h in LAYER_IDS or h.startswith("roads:")],
        "title": scenario.name,
        "standalone": not bridge,
        "labels": {spec.id: tr(spec.label_zh) for spec in LAYERS},
        "unnamed_road": tr("(无名道路)"),
        "colors": {spec.id: spec.color for spec in LAYERS},
        "village_label_zoom": VILLAGE_LABEL_ZOOM,
        # the workspace base map (gis/basemap.py); another choice is applied once the page runs
        "basemap": workspace_basemap_spec(scenario, map_layers),
        "township_areas": township_area_features(map_layers),
    }
    root.header.add_child(
        raw(f"<script>var RD_DATA = {js_literal_chunked(data)};</script>"), name="rd_data"
    )
    f["Boot"]().add_to(m)
    out = root.render()
    # folium's Figure sets no title; add one (escaped) for the window/tab.
    out = out.replace("<head>", f"<head>\n    <title>{escape(scenario.name)}</title>", 1)
    return out


def write_map_html(path: Path, page: str) -> Path:
    """Write a page next to nothing else it needs (assets are absolute URLs); return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(path)
    return path


# --------------------------------------------------------------------------------------------
# Page cache: reopening an unchanged workspace reuses its rendered page (cold start)
# --------------------------------------------------------------------------------------------


def page_cache_dir() -> Path:
    """``pages/`` in :func:`gis.paths.cache_dir` (``$RELIEFDESK_CACHE_DIR`` overrides it)."""
    return cache_dir() / "pages"


@functools.cache
def code_fingerprint() -> str:
    """Hash of the code and assets that shape a page (a change invalidates cached pages)."""
    import hashlib

    h = hashlib.sha256()
    for p in (
        Path(__file__),
        Path(__file__).with_name("js_text.py"),
        Path(__file__).with_name("map_ground.py"),
        Path(__file__).with_name("map_features.py"),
        Path(map_style.__file__),
        RESOURCES_DIR / "js" / "reliefdesk_map.js",
        RESOURCES_DIR / "js" / "reliefdesk_tools.js",
        RESOURCES_DIR / "css" / "reliefdesk_map.css",
    ):
        h.update(p.read_bytes())
    h.update(str(RESOURCES_DIR.as_uri()).encode())
    return h.hexdigest()[:16]


def cached_page_path(
    workspace: Path, *, tile_url: str | None = None, hidden_layers: Iterable[str] = ()
) -> Path:
    """Where the page of ``workspace`` (this exact file version and options) is cached."""
    import hashlib

    st = Path(workspace).stat()
    key = json.dumps(
        [
            str(Path(workspace).resolve()),
            st.st_size,
            st.st_mtime_ns,
            tile_url or "",
            sorted(hidden_layers),
            code_fingerprint(),
            tr("储"),  # the page's words are in the language in force
        ]
    )
    return page_cache_dir() / f"page_{hashlib.sha256(key.encode()).hexdigest()[:24]}.html"


def prune_page_cache(keep: int = 8) -> None:
    """Drop all but the ``keep`` most recently used cached pages."""
    d = page_cache_dir()
    if not d.is_dir():
        return
    pages = sorted(d.glob("page_*.html"), key=lambda p: p.stat().st_mtime, reverse=True)
    for p in pages[keep:]:
        p.unlink(missing_ok=True)
