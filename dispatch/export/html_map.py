"""Standalone offline HTML map of a plan (plain Leaflet, everything inlined).

The page inlines the vendored ``resources/vendor/leaflet`` JS and CSS (read at run time; the CSS
images become ``data:`` URIs) so the single file works without a network and contains no
``https://`` reference (the two in Leaflet's source — attribution link and CSS comments — are
neutralised). There are no map tiles: routes, stops and places are drawn on a plain background
with a scale bar.

Safety: data never meets HTML as markup, and a Content-Security-Policy forbids any network load. The plan is embedded as JSON in a
``<script type="application/json">`` block with ``<``, ``>`` and ``&`` written as ``\\u003c`` …
(so a name cannot close the script), parsed with ``JSON.parse`` and shown through
``textContent`` only; the page title goes through :func:`html.escape`.
"""

from __future__ import annotations

import base64
import json
import re
from html import escape
from pathlib import Path
from typing import Any

from dispatch.export.common import (
    KIND_LABEL,
    clean_text,
    eta_text,
    item_text,
    late_text,
    list_sep,
    minutes_in,
    route_summary_text,
    stop_late_s,
    task_text,
    vehicle_colors,
)
from dispatch.export.pdf_base import ExportError
from dispatch.plan import Plan
from dispatch.records import OrderKind
from dispatch.timeliness import incident_deadlines
from gis.map_style import EVACUATION_COLOR, LEVEL_COLORS, TEAM_COLOR, place_color
from gis.paths import resources_dir
from gis.phrases import say, word
from gis.vocabulary import LEVEL_ROMAN
from gis.web_text import json_for_script

LEAFLET_DIR = resources_dir() / "vendor" / "leaflet"  # gis.paths: source tree or frozen bundle


def _vendor(leaflet_dir: Path) -> tuple[str, str]:
    js_path, css_path = leaflet_dir / "leaflet.js", leaflet_dir / "leaflet.css"
    for p in (js_path, css_path):
        if not p.exists():
            raise ExportError(f"offline map: vendored Leaflet file {p} is missing")
    js = js_path.read_text(encoding="utf-8")
    css = css_path.read_text(encoding="utf-8")

    def inline(m: re.Match[str]) -> str:
        img = leaflet_dir / m.group(1)
        if not img.exists():
            return "url()"
        data = base64.b64encode(img.read_bytes()).decode("ascii")
        return f"url(data:image/png;base64,{data})"

    css = re.sub(r"url\((images/[^)]+\.png)\)", inline, css)
    # No network references may remain: the attribution link and two bug-tracker comments.
    js = js.replace("https://", "")
    css = css.replace("https://", "")
    return js, css


def map_data(plan: Plan, language: str = "zh_CN") -> dict[str, Any]:
    """Plain data the page draws (names raw: the page shows them as text)."""
    orders = []
    deadlines = incident_deadlines(plan)
    colors = vehicle_colors(plan)  # the desk's colours (gis.map_style), one per vehicle
    for o in plan.orders:
        legs = []
        for leg in o.legs:
            if len(leg.coords) < 2:
                continue
            legs.append(
                {
                    "from": plan.place_name(leg.from_id),
                    "to": plan.place_name(leg.to_id),
                    "back": o.kind == OrderKind.TRANSFER and leg.to_id == o.origin_id,
                    "onRoads": leg.on_roads,
                    "km": round(leg.metres / 1000, 1),
                    "min": round(leg.seconds / 60, 0),
                    "latlngs": [[round(lat, 6), round(lon, 6)] for lon, lat in leg.coords],
                }
            )
        stops = []
        for s in o.stops:
            p = plan.place(s.place_id)
            if p is None:
                continue
            stops.append(
                {
                    "seq": s.seq,
                    "action": word(s.action, language),
                    "name": s.place_name,
                    "eta": eta_text(plan, s.eta_s, language),
                    "late": late_text(stop_late_s(deadlines, s), language),
                    "items": list_sep(language).join(
                        item_text(plan, it, language) for it in s.items
                    ),
                    "latlng": [round(p.lat, 6), round(p.lon, 6)],
                }
            )
        orders.append(
            {
                "no": o.number,
                "kind": word(o.kind.value, language),
                "unit": o.unit_name,
                "unitId": o.unit_id,
                "task": task_text(plan, o, language),
                "eta": eta_text(plan, o.eta_s, language),
                "summary": route_summary_text(o, language),
                "colour": colors.get(o.unit_id, TEAM_COLOR)
                if o.kind == OrderKind.TRANSFER
                else TEAM_COLOR,
                "legs": legs,
                "stops": stops,
            }
        )
    outcome = {x.incident_id: x for x in plan.incidents}
    places = []
    for p in plan.places:
        d: dict[str, Any] = {
            "id": p.id,
            "name": p.name,
            "kind": p.kind,
            "kindZh": say(KIND_LABEL.get(p.kind, p.kind), language),
            "colour": place_color(p.kind, outcome[p.id].level if p.id in outcome else 0),
            "latlng": [round(p.lat, 6), round(p.lon, 6)],
        }
        if p.id in outcome:
            d["served"] = f"{100 * outcome[p.id].served_fraction:.0f}%"
            d["staff"] = f"{100 * outcome[p.id].staff_fraction:.0f}%"
            inc = outcome[p.id]
            if inc.on_time_fraction is not None:
                d["onTime"] = f"{100 * inc.on_time_fraction:.0f}%"
            if inc.staff_on_time_fraction is not None:
                d["staffOnTime"] = f"{100 * inc.staff_on_time_fraction:.0f}%"
            if inc.late_by_s > 0:
                dl = inc.deadline_s
                limit = (
                    say("（时限 {n} 分钟）", language, n=f"{dl / 60:.0f}") if dl is not None else ""
                )
                late = minutes_in(inc.late_by_s, language)
                d["late"] = say("迟到 最长 {late}", language, late=late) + limit
            d["unserved"] = [
                (u.message_en or u.message_zh) if language == "en" else u.message_zh
                for u in plan.unserved_for(p.id)
            ]
        places.append(d)
    moves = []
    for m in plan.evacuation:
        a, b = plan.place(m.group_id), plan.place(m.shelter_id)
        if a is None or b is None:
            continue
        moves.append(
            {
                "from": a.name,
                "to": b.name,
                "people": m.people,
                "min": round(m.trip_s / 60, 0),
                "latlngs": [[round(a.lat, 6), round(a.lon, 6)], [round(b.lat, 6), round(b.lon, 6)]],
            }
        )
    return {
        "plan": plan.number,
        "moves": moves,
        "status": word(plan.status.value, language),
        "scenario": plan.inputs.scenario_name,
        "created": f"{plan.created_at:%Y-%m-%d %H:%M}",
        "orders": orders,
        "places": places,
        "evacuationColour": EVACUATION_COLOR,
        "kinds": _legend(plan, language),
    }


def _legend(plan: Plan, language: str = "zh_CN") -> dict[str, list[str]]:
    """Legend rows (label, colour) of the places shown: kinds, incidents per response level."""
    out: dict[str, list[str]] = {}
    levels = sorted({x.level for x in plan.incidents})
    for kind in KIND_LABEL:
        if not any(p.kind == kind for p in plan.places):
            continue
        if kind == "incident" and levels:
            for lv in levels:
                out[f"incident{lv}"] = [
                    say(
                        "{kind}（{r}级）",
                        language,
                        kind=say(KIND_LABEL[kind], language),
                        r=LEVEL_ROMAN[lv],
                    ),
                    LEVEL_COLORS[lv],
                ]
        else:
            out[kind] = [say(KIND_LABEL[kind], language), place_color(kind)]
    return out


_PAGE = """<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<title>__TITLE__</title>
<style>__LEAFLET_CSS__</style>
<style>
html, body { height: 100%; margin: 0; font-family: "WenQuanYi Micro Hei", "Microsoft YaHei",
  sans-serif; }
#map { position: absolute; top: 0; bottom: 0; left: 320px; right: 0; background: #eef1ec; }
#side { position: absolute; top: 0; bottom: 0; left: 0; width: 320px; overflow: auto;
  box-sizing: border-box; padding: 8px 10px; border-right: 1px solid #bbb; font-size: 13px; }
#side h1 { font-size: 16px; margin: 4px 0 6px; }
.order { border-left: 5px solid #999; padding: 3px 6px; margin: 6px 0; cursor: pointer; }
.order:hover { background: #f3f6f9; }
.muted { color: #666; font-size: 12px; }
.legend { background: #fff; padding: 6px 8px; font-size: 12px; line-height: 18px;
  box-shadow: 0 0 4px rgba(0,0,0,.3); }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 5px;
  margin-right: 5px; }
.popup b { display: block; margin-bottom: 2px; }
</style>
</head>
<body>
<div id="side"><h1 id="title"></h1><div id="meta" class="muted"></div><div id="orders"></div></div>
<div id="map"></div>
<script type="application/json" id="plan-data">__DATA__</script>
<script>__LEAFLET_JS__</script>
<script>
(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("plan-data").textContent);
  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    if (cls) { e.className = cls; }
    return e;
  }
  function box(title, lines) {
    var d = el("div", null, "popup");
    d.appendChild(el("b", title));
    lines.forEach(function (t) { if (t) { d.appendChild(el("div", t)); } });
    return d;
  }
  document.getElementById("title").textContent = "调度方案 " + D.plan;
  document.getElementById("meta").textContent =
      D.scenario + " · " + D.created + " · " + D.status + " · 指令 " + D.orders.length + " 份";
  var map = L.map("map", { preferCanvas: true, zoomSnap: 0.25 });
  // a valid view before any layer is added: the first place of the plan
  map.setView((D.places[0] && D.places[0].latlng) || [0, 0], D.places.length ? 10 : 2);
  map.attributionControl.setPrefix(false);
  map.attributionControl.addAttribution("ReliefDesk 离线地图（无底图）");
  L.control.scale({ imperial: false }).addTo(map);
  var bounds = L.latLngBounds([]);
  var routeLayer = L.layerGroup().addTo(map);
  var stopLayer = L.layerGroup().addTo(map);
  var placeLayer = L.layerGroup().addTo(map);
  var moveLayer = L.layerGroup().addTo(map);
  D.moves.forEach(function (m) {
    var line = L.polyline(m.latlngs, { color: D.evacuationColour, weight: 2, dashArray: "2 6" });
    line.bindPopup(box("人员转移", [m.from + " → " + m.to, m.people + " 人，约 " + m.min + " 分钟"]));
    moveLayer.addLayer(line);
  });
  var byOrder = {};
  D.orders.forEach(function (o) {
    var group = L.featureGroup();
    o.legs.forEach(function (leg) {
      var line = L.polyline(leg.latlngs, {
        color: o.colour, weight: leg.back ? 2 : 4, opacity: leg.back ? 0.6 : 0.9,
        dashArray: (leg.back || !leg.onRoads) ? "6 5" : null
      });
      line.bindPopup(box(o.no + " " + o.kind, [o.unit, leg.from + " → " + leg.to,
          leg.km + " 公里，约 " + leg.min + " 分钟"]));
      group.addLayer(line);
      leg.latlngs.forEach(function (p) { bounds.extend(p); });
    });
    group.addTo(routeLayer);
    o.stops.forEach(function (s) {
      var m = L.circleMarker(s.latlng, { radius: 4, color: o.colour, weight: 2,
          fillColor: "#fff", fillOpacity: 1 });
      m.bindPopup(box(s.seq + ". " + s.action + " " + s.name,
          [o.no + " " + o.unit, "预计 " + s.eta, s.late, s.items]));
      stopLayer.addLayer(m);
    });
    byOrder[o.no] = group;
    var item = el("div", null, "order");
    item.style.borderLeftColor = o.colour;
    item.appendChild(el("div", o.no + " " + o.kind));
    item.appendChild(el("div", o.unit + " · 预计到达 " + o.eta));
    item.appendChild(el("div", o.task, "muted"));
    item.appendChild(el("div", o.summary, "muted"));
    item.addEventListener("click", function () {
      if (group.getLayers().length) { map.fitBounds(group.getBounds(), { padding: [30, 30] }); }
    });
    document.getElementById("orders").appendChild(item);
  });
  D.places.forEach(function (p) {
    var m = L.circleMarker(p.latlng, { radius: p.kind === "incident" ? 9 : 6, color: "#fff",
        weight: 1.5, fillColor: p.colour, fillOpacity: 0.95 });
    var lines = [p.kindZh + " " + p.id];
    if (p.served) { lines.push("物资满足率 " + p.served + "，人员满足率 " + p.staff); }
    if (p.onTime) { lines.push("按时送达率 " + p.onTime + "，人员按时率 " + (p.staffOnTime || "—")); }
    if (p.late) { lines.push(p.late); }
    (p.unserved || []).forEach(function (u) { lines.push(u); });
    m.bindPopup(box(p.name, lines));
    m.bindTooltip(el("span", p.name));
    placeLayer.addLayer(m);
    bounds.extend(p.latlng);
  });
  L.control.layers(null, { "路线": routeLayer, "停靠点": stopLayer, "地点": placeLayer,
      "人员转移（示意直线）": moveLayer },
      { collapsed: false }).addTo(map);
  var legend = L.control({ position: "bottomright" });
  legend.onAdd = function () {
    var d = el("div", null, "legend");
    Object.keys(D.kinds).forEach(function (k) {
      var row = el("div");
      var sw = el("span", null, "swatch");
      sw.style.background = D.kinds[k][1];
      row.appendChild(sw);
      row.appendChild(document.createTextNode(D.kinds[k][0]));
      d.appendChild(row);
    });
    return d;
  };
  legend.addTo(map);
  window.reliefdeskPlanMap = { map: map, orders: byOrder, data: D };
  // A hidden or not yet laid-out (zero-size) page cannot fit bounds (Leaflet computes NaN):
  // centre it now and fit once the map has a size.
  function fit() {
    var size = map.getSize();
    if (bounds.isValid() && size.x > 0 && size.y > 0) {
      map.fitBounds(bounds, { padding: [20, 20] });
      return true;
    }
    return false;
  }
  if (!fit()) { map.once("resize", fit); }
})();
</script>
</body>
</html>
"""


#: The template's slots. They are filled in one pass over the template (``re.sub``), so text
#: put into a slot — a name from data, Leaflet's source — is never scanned for other slots.
_SLOT = re.compile(r"__(TITLE|LEAFLET_CSS|DATA|LEAFLET_JS)__")


#: The page's own words (JavaScript string literals of :data:`_PAGE`): English from
#: :data:`gis.phrases.EN` replaces them in an English page.
PAGE_TEXTS = (
    "调度方案 ",
    " · 指令 ",
    " 份",
    "ReliefDesk 离线地图（无底图）",
    "人员转移",
    " 人，约 ",
    " 分钟",
    " 公里，约 ",
    "预计 ",
    " · 预计到达 ",
    "物资满足率 ",
    "，人员满足率 ",
    "按时送达率 ",
    "，人员按时率 ",
    "路线",
    "停靠点",
    "地点",
    "人员转移（示意直线）",
)


def _page(language: str) -> str:
    """The page template in ``language``."""
    if language != "en":
        return _PAGE
    page = _PAGE.replace('<html lang="zh-CN">', '<html lang="en">')
    for zh in PAGE_TEXTS:
        page = page.replace(json.dumps(zh, ensure_ascii=False), json.dumps(say(zh, language)))
    return page


def render_html(plan: Plan, *, leaflet_dir: Path | None = None, language: str = "zh_CN") -> str:
    """The standalone page as a string; Chinese, or English with ``language="en"`` (legend,
    popups, layer names; names from data as they are)."""
    js, css = _vendor(leaflet_dir or LEAFLET_DIR)
    head = say("调度方案 {no}", language, no=plan.number)
    title = clean_text(f"{head} — {plan.inputs.scenario_name}", 200)
    values = {
        "TITLE": escape(title),
        "DATA": json_for_script(map_data(plan, language)),
        "LEAFLET_CSS": css.replace("</style", "<\\/style"),
        "LEAFLET_JS": js.replace("</script", "<\\/script"),
    }
    return _SLOT.sub(lambda m: values[m.group(1)], _page(language))


def export_html(
    plan: Plan, path: Path | str, *, leaflet_dir: Path | None = None, language: str = "zh_CN"
) -> Path:
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(render_html(plan, leaflet_dir=leaflet_dir, language=language), encoding="utf-8")
    tmp.replace(path)
    return path


__all__ = ["LEAFLET_DIR", "export_html", "map_data", "render_html"]
