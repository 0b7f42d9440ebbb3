/* ReliefDesk map tools: base maps, measuring, fly-to and view information (plain Leaflet 1.9).
 *
 * Loaded after reliefdesk_map.js; extends window.RD. Python (gui/map_tools.py) drives it:
 *   RD.setBasemap(spec)   spec from gis/basemap.py page_spec():
 *                         {kind: "workspace", style} | {kind: "none"} |
 *                         {kind: "tiles", url, subdomains, attribution, minNativeZoom,
 *                          maxNativeZoom, gcj: null | offset grid}
 *   RD.startMeasure(kind) "line" | "polygon" (Leaflet.draw handlers; result via bridge.measured)
 *   RD.showMeasure(text)  label the last measured shape; RD.clearMeasure()
 *   RD.flyTo(lon, lat, zoom, bounds) and RD.viewInfo() (for the printed view's scale bar).
 * The page makes no network request unless Python hands it an online tile URL.
 */
(function () {
  "use strict";
  var RD = window.RD;
  if (!RD) { return; }

  RD.base = null;          // the current base map layer (a group or a tile layer)
  RD.baseKind = "none";
  RD.baseCounts = {};      // what the workspace base map drew (tests probe it)
  RD.measureGroup = null;
  RD.lastMeasure = null;

  function call(name) {
    var args = Array.prototype.slice.call(arguments, 1);
    if (RD.bridge && typeof RD.bridge[name] === "function") {
      RD.bridge[name].apply(RD.bridge, args);
    }
  }

  function panes(map) {
    if (!map.getPane("rdBase")) {
      map.createPane("rdBase").style.zIndex = 150;       // under tiles (200) and overlays
      var lp = map.createPane("rdBaseLabels");
      lp.style.zIndex = 450;                             // over the roads, under markers
      lp.style.pointerEvents = "none";
    }
  }

  // ---- the workspace base map: land, township areas, water, roads by class, place names ----

  function styleOf(spec) { return spec.style || {}; }

  function drawWorkspaceBase(spec) {
    var map = RD.map, st = styleOf(spec), data = RD.data || {}, layers = data.layers || {};
    var g = L.layerGroup();
    var renderer = L.canvas({ pane: "rdBase", padding: 0.3 });
    var counts = { land: 0, township_areas: 0, water: 0, roads: 0, labels: 0 };
    var boundary = layers.boundary;
    if (boundary && boundary.features && boundary.features.length) {
      L.geoJSON(boundary, { renderer: renderer, interactive: false, style: function () {
        return { stroke: false, fillColor: st.land || "#f4f1e6", fillOpacity: 1 };
      } }).eachLayer(function (l) { counts.land += 1; l.addTo(g); });
    }
    var areas = data.township_areas;
    if (areas && areas.features) {
      L.geoJSON(areas, { renderer: renderer, interactive: false, style: function (f) {
        return { color: st.township_line || "#b9ad93", weight: 1, dashArray: "4 3",
                 fillColor: (f.properties && f.properties.fill) || st.township_fill || "#efe9d8",
                 fillOpacity: 0.6 };
      } }).eachLayer(function (l) { counts.township_areas += 1; l.addTo(g); });
    }
    var water = layers.water;
    if (water && water.features) {
      L.geoJSON(water, { renderer: renderer, interactive: false, style: function (f) {
        var line = f.properties && f.properties.kind === "centreline";
        return line ? { color: st.water_line || "#8cbfd9", weight: 1.2 }
                    : { stroke: false, fillColor: st.water || "#aad3df", fillOpacity: 1 };
      } }).eachLayer(function (l) { counts.water += 1; l.addTo(g); });
    }
    // the base map's roads lie exactly under the road layer: drawn only while that layer is
    // hidden (syncBaseRoads), so they cost nothing when the operator sees the road layer
    var roads = RD._roadPayload && RD._roadPayload.layers;
    var rstyle = st.roads || {};
    var rg = L.layerGroup();
    RD._baseRoads = rg;
    if (roads) {
      ["other", "village", "tertiary", "secondary", "primary", "trunk", "motorway"].forEach(function (cls) {
        if (!roads[cls]) { return; }
        var s = rstyle[cls] || ["#ffffff", 1];
        L.geoJSON(roads[cls], { renderer: renderer, interactive: false, style: function () {
          return { color: s[0], weight: s[1], opacity: 1, lineCap: "round" };
        } }).eachLayer(function (l) { counts.roads += 1; l.addTo(rg); });
      });
    }
    (spec.labels || []).forEach(function (p) {
      var el = document.createElement("div");
      el.className = "rd-base-label rd-base-" + (p.kind || "place");
      el.textContent = p.text;  // text, never HTML
      L.marker([p.lat, p.lon], { pane: "rdBaseLabels", interactive: false, keyboard: false,
        icon: L.divIcon({ html: el, className: "rd-base-label-wrap", iconSize: null }) }).addTo(g);
      counts.labels += 1;
    });
    map.getContainer().style.background = st.outside || "#dde3e8";
    RD.baseCounts = counts;
    return g;
  }

  // ---- tile layers; GCJ-02 tiles (AMap, Tencent) placed on the WGS-84 map ----

  // GCJ-02 minus WGS-84 (degrees) at a WGS-84 point: bilinear in the grid from gis/basemap.py
  // (computed there with gis/coords.py; clamped at the grid's edge).
  function gcjDelta(grid, lat, lng) {
    var fx = (lng - grid.lon0) / grid.step, fy = (lat - grid.lat0) / grid.step;
    fx = Math.max(0, Math.min(grid.nx - 1.000001, fx));
    fy = Math.max(0, Math.min(grid.ny - 1.000001, fy));
    var i = Math.floor(fx), j = Math.floor(fy), tx = fx - i, ty = fy - j;
    function at(arr, ii, jj) { return arr[jj * grid.nx + ii]; }
    function bil(arr) {
      return (at(arr, i, j) * (1 - tx) + at(arr, i + 1, j) * tx) * (1 - ty) +
             (at(arr, i, j + 1) * (1 - tx) + at(arr, i + 1, j + 1) * tx) * ty;
    }
    return [bil(grid.dlat), bil(grid.dlon)];
  }
  RD.gcjDelta = function (lat, lng) {
    return RD.base && RD.base._gcj ? gcjDelta(RD.base._gcj, lat, lng) : [0, 0];
  };

  // A tile layer whose tiles are in GCJ-02: it requests the tiles that cover the GCJ-02 image
  // of the view, and places each one shifted by the GCJ-02 offset at its centre, so a WGS-84
  // point of the data lies over the GCJ-02 pixel of the same place (the offset changes by
  // centimetres across a tile at street zoom).
  var GcjTileLayer = L.TileLayer.extend({
    _gcjShift: function (coords) {
      var ts = this.getTileSize();
      var centre = coords.scaleBy(ts).add(ts.divideBy(2));
      var g = this._map.unproject(centre, coords.z);           // a GCJ-02 position
      // the WGS-84 point w with gcj(w) = g: fixed-point iteration (the offset changes by
      // metres over its own size, so one step would leave a metre or two)
      var w = L.latLng(g.lat, g.lng);
      for (var k = 0; k < 3; k++) {
        var d = gcjDelta(this._gcj, w.lat, w.lng);
        w = L.latLng(g.lat - d[0], g.lng - d[1]);
      }
      return centre.subtract(this._map.project(w, coords.z));  // GCJ pixel − WGS pixel
    },
    _getTilePos: function (coords) {
      return L.TileLayer.prototype._getTilePos.call(this, coords).subtract(this._gcjShift(coords));
    },
    _getTiledPixelBounds: function (center) {
      var d = gcjDelta(this._gcj, center.lat, center.lng);
      return L.TileLayer.prototype._getTiledPixelBounds.call(
        this, L.latLng(center.lat + d[0], center.lng + d[1]));
    }
  });

  function tileLayer(spec) {
    var opts = {
      subdomains: spec.subdomains || "abc",
      attribution: spec.attribution || "",
      minNativeZoom: spec.minNativeZoom || 0,
      maxNativeZoom: spec.maxNativeZoom || 18,
      maxZoom: 19,
      crossOrigin: false
    };
    var layer = spec.gcj ? new GcjTileLayer(spec.url, opts) : L.tileLayer(spec.url, opts);
    layer._gcj = spec.gcj || null;
    RD.map.getContainer().style.background = "";
    return layer;
  }

  function roadLayerShown() {
    return Object.keys(RD.groups).some(function (k) {
      return k.indexOf("roads:") === 0 && RD.map.hasLayer(RD.groups[k]);
    });
  }

  function syncBaseRoads() {
    var rg = RD._baseRoads;
    if (!rg || !RD.base || RD.baseKind !== "workspace") { return; }
    var want = !roadLayerShown();
    if (want && !RD.base.hasLayer(rg)) { RD.base.addLayer(rg); }
    if (!want && RD.base.hasLayer(rg)) { RD.base.removeLayer(rg); }
  }
  RD.baseRoadsShown = function () { return !!(RD._baseRoads && RD._baseRoads._map); };

  var setLayerVisible = RD.setLayerVisible;
  RD.setLayerVisible = function () {
    var r = setLayerVisible.apply(RD, arguments);
    syncBaseRoads();
    return r;
  };

  // Vector MBTiles (Mapbox Vector Tiles) through protomaps-leaflet (vendored, BSD-3-Clause),
  // loaded only when such a base map is chosen. The schema of the bureau's tiles is unknown:
  // every layer's areas, lines and points get one generic style (gis/basemap.py VECTOR_STYLE).
  function vectorLayer(spec) {
    var st = spec.style || {}, P = window.protomapsL, rules = [];
    (spec.layers || []).forEach(function (id) {
      rules.push({ dataLayer: id, filter: function (z, f) { return f.geomType === 3; },
        symbolizer: new P.PolygonSymbolizer({ fill: st.fill, opacity: st.fill_opacity,
                                              stroke: st.outline, width: 0.5 }) });
      rules.push({ dataLayer: id, filter: function (z, f) { return f.geomType === 2; },
        symbolizer: new P.LineSymbolizer({ color: st.line, width: st.line_width }) });
      rules.push({ dataLayer: id, filter: function (z, f) { return f.geomType === 1; },
        symbolizer: new P.CircleSymbolizer({ radius: 2, fill: st.point }) });
    });
    var layer = P.leafletLayer({ url: spec.url, paintRules: rules, labelRules: [],
                                 maxDataZoom: spec.maxDataZoom || 14,
                                 attribution: spec.attribution || "" });
    layer._rdVector = true;
    return layer;
  }

  function withScript(src, then) {
    if (window.protomapsL) { then(); return; }
    var el = document.createElement("script");
    el.src = src;
    el.onload = then;
    el.onerror = function () { RD.baseError = "cannot load " + src; };
    document.head.appendChild(el);
  }

  RD.setBasemap = function (spec) {
    spec = spec || { kind: "none" };
    if (!RD.map) { return false; }
    panes(RD.map);
    if (RD.base) { RD.map.removeLayer(RD.base); RD.base = null; }
    RD.baseCounts = {};
    RD.map.getContainer().style.background = "";
    RD._baseSpec = spec;
    if (spec.kind === "workspace") {
      RD.base = drawWorkspaceBase(spec);
    } else if (spec.kind === "tiles" && spec.url) {
      RD.base = tileLayer(spec);
    } else if (spec.kind === "vector" && spec.url && spec.script) {
      RD.baseKind = "loading";
      withScript(spec.script, function () {
        if (RD._baseSpec !== spec) { return; }  // another choice came meanwhile
        RD.base = vectorLayer(spec);
        RD.base.addTo(RD.map);
        RD.baseKind = "vector";
      });
      return "vector";
    }
    RD.baseKind = RD.base ? spec.kind : "none";
    if (RD.base) { RD.base.addTo(RD.map); }
    syncBaseRoads();
    return RD.baseKind;
  };

  // the workspace base map's roads follow the road layer (which arrives after the first paint)
  var setLayerData = RD.setLayerData;
  RD.setLayerData = function (id, payload) {
    if (id === "roads") { RD._roadPayload = payload; }
    var n = setLayerData.apply(RD, arguments);
    if (id === "roads" && RD.baseKind === "workspace" && RD._baseSpec) {
      RD.setBasemap(RD._baseSpec);
    }
    return n;
  };

  var init = RD.init;
  RD.init = function (map, data) {
    RD._roadPayload = data.roads || null;
    RD.map = map;
    panes(map);
    init.apply(RD, arguments);
    RD.setBasemap(data.basemap || { kind: "none" });
  };

  // Tile element placement (tests: where a tile of the base layer sits on screen).
  RD.tileRect = function (z, x, y) {
    var layer = RD.base;
    if (!layer || !layer._tiles) { return null; }
    var t = layer._tiles[x + ":" + y + ":" + z];
    if (!t) { return null; }
    var r = t.el.getBoundingClientRect(), m = RD.map.getContainer().getBoundingClientRect();
    return { left: r.left - m.left, top: r.top - m.top, width: r.width, height: r.height };
  };

  // ---- measuring (Leaflet.draw handlers; Python measures geodesically: gis/measure.py) ----

  RD.startMeasure = function (kind) {
    if (!L.Draw) { return false; }
    if (RD._drawHandler) { RD._drawHandler.disable(); }
    if (!RD.measureGroup) {
      RD.measureGroup = L.featureGroup().addTo(RD.map);
      RD.map.on(L.Draw.Event.CREATED, function (e) {
        if (RD.mode !== "measure") { return; }
        RD._drawHandler = null;
        RD.mode = "browse";
        e.layer.addTo(RD.measureGroup);
        RD.lastMeasure = e.layer;
        call("measured", JSON.stringify(e.layer.toGeoJSON().geometry));
      });
    }
    var opts = { shapeOptions: { color: "#d81b60", weight: 3, dashArray: "6 4", fillOpacity: 0.12 },
                 metric: true, feet: false, nautic: false, showLength: true, showArea: true };
    var h = kind === "polygon" ? new L.Draw.Polygon(RD.map, opts)
                               : new L.Draw.Polyline(RD.map, opts);
    RD.mode = "measure";
    RD._drawHandler = h;
    h.enable();
    return true;
  };

  // A measurement from Python (tests, or a shape given as coordinates): draw and report it.
  RD.measureCoords = function (kind, lonlats) {
    if (!RD.measureGroup) { RD.measureGroup = L.featureGroup().addTo(RD.map); }
    var lls = lonlats.map(function (p) { return [p[1], p[0]]; });
    var style = { color: "#d81b60", weight: 3, dashArray: "6 4", fillOpacity: 0.12 };
    var layer = kind === "polygon" ? L.polygon(lls, style) : L.polyline(lls, style);
    layer.addTo(RD.measureGroup);
    RD.lastMeasure = layer;
    call("measured", JSON.stringify(layer.toGeoJSON().geometry));
    return true;
  };

  RD.showMeasure = function (text) {
    var l = RD.lastMeasure;
    if (!l) { return false; }
    l.unbindTooltip();
    l.bindTooltip(String(text), { permanent: true, direction: "center",
                                  className: "rd-measure-label" }).openTooltip();
    l._rdMeasureText = String(text);
    return true;
  };

  RD.measureText = function () { return RD.lastMeasure ? RD.lastMeasure._rdMeasureText || "" : ""; };

  RD.clearMeasure = function () {
    if (RD.measureGroup) { RD.measureGroup.clearLayers(); }
    RD.lastMeasure = null;
    if (RD.mode === "measure") { RD.setMode("browse"); }
  };

  // ---- search result: fly there and mark it ----

  RD.flyTo = function (lon, lat, zoom, bounds) {
    if (bounds) {
      RD.map.fitBounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]],
                       { maxZoom: zoom || 15, padding: [30, 30], animate: false });
    } else {
      RD.map.setView([lat, lon], zoom || 15, { animate: false });
    }
    if (RD._found) { RD.map.removeLayer(RD._found); }
    RD._found = L.circleMarker([lat, lon], { radius: 14, color: "#00bcd4", weight: 3,
      fill: false, interactive: false }).addTo(RD.map);
    return true;
  };

  // ---- the view, for printing: metres per pixel along the bottom edge and the visible extent ----

  RD.viewInfo = function () {
    var m = RD.map, size = m.getSize();
    var y = size.y - 1;
    var a = m.containerPointToLatLng([0, y]), b = m.containerPointToLatLng([size.x, y]);
    var bounds = m.getBounds();
    return { zoom: m.getZoom(), width: size.x, height: size.y,
             metres_per_px: a.distanceTo(b) / size.x,
             centre: [m.getCenter().lng, m.getCenter().lat],
             bounds: [bounds.getWest(), bounds.getSouth(), bounds.getEast(), bounds.getNorth()],
             base: RD.baseKind };
  };
})();
