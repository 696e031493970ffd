/* Gridwatch business-grid overlays (window.gridwatch.overlay): dashed unit outlines that never
 * take clicks, and a hover tooltip found by point-in-polygon from the map's mousemove.
 * Names are shown with textContent only. */
(function () {
  'use strict';

  var GW = window.gridwatch = window.gridwatch || {};
  var DEFAULT_COLOUR = '#c18cff';
  var COLOUR_RE = /^#[0-9a-fA-F]{3,8}$/;

  function el(tag, cls, text) {
    var n = document.createElement(tag);
    if (cls) { n.className = cls; }
    if (text !== undefined && text !== null) { n.textContent = String(text); }
    return n;
  }

  function hideoutOf(ctx) { return (ctx && ctx.hideout) || {}; }

  function colourOf(ctx) {
    var c = hideoutOf(ctx).color;
    return (typeof c === 'string' && COLOUR_RE.test(c)) ? c : DEFAULT_COLOUR;
  }

  function layerClass(ctx) {
    var id = String(hideoutOf(ctx).layer || '').replace(/[^A-Za-z0-9_-]/g, '_');
    return 'gw-ov-unit' + (id ? ' gw-ov-' + id : '');
  }

  function style(feature, ctx) {
    return {
      color: colourOf(ctx), weight: 2.4, opacity: 0.95, dashArray: '8 6', lineCap: 'butt',
      lineJoin: 'round', fill: false, fillColor: colourOf(ctx), fillOpacity: 0,
      interactive: false, className: layerClass(ctx)
    };
  }

  function unitName(p, ctx) {
    var en = hideoutOf(ctx).lang === 'en';
    return String((en && p.name_en) || p.name || p.code || '');
  }

  function tipNode(p, ctx) {
    var h = hideoutOf(ctx), labels = h.labels || {};
    var box = el('div', 'gw-ovtip-in');
    var head = el('div', 'gw-ovtip-head');
    var swatch = el('span', 'gw-ovtip-swatch');
    swatch.style.borderColor = colourOf(ctx);
    head.appendChild(swatch);
    head.appendChild(el('span', 'gw-ovtip-name', unitName(p, ctx)));
    box.appendChild(head);
    var n = Number(p.grid_count) || 0;
    var count = GW.fill(labels, 'overlay.grids', {n: n}, h.lang);
    var meta = el('div', 'gw-ovtip-meta');
    if (h.title) { meta.appendChild(el('span', 'gw-ovtip-layer', h.title)); }
    meta.appendChild(el('span', 'gw-ovtip-count', count));
    box.appendChild(meta);
    return box;
  }

  // ------------------------------------------------------------------ point in polygon

  function inRing(ring, lat, lng) {
    var inside = false;
    for (var i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      var a = ring[i], b = ring[j];
      if ((a.lat > lat) !== (b.lat > lat) &&
          lng < (b.lng - a.lng) * (lat - a.lat) / (b.lat - a.lat) + a.lng) {
        inside = !inside;
      }
    }
    return inside;
  }

  function inRings(rings, lat, lng) {  // even-odd over the outer ring and its holes
    var inside = false;
    for (var i = 0; i < rings.length; i++) {
      if (inRing(rings[i], lat, lng)) { inside = !inside; }
    }
    return inside;
  }

  function contains(layer, latlng) {
    if (!layer.getBounds || !layer.getBounds().contains(latlng)) { return false; }
    var lls = layer.getLatLngs();
    if (!lls.length) { return false; }
    if (L.LineUtil.isFlat(lls)) { return inRing(lls, latlng.lat, latlng.lng); }
    if (L.LineUtil.isFlat(lls[0])) { return inRings(lls, latlng.lat, latlng.lng); }
    for (var i = 0; i < lls.length; i++) {  // MultiPolygon
      if (inRings(lls[i], latlng.lat, latlng.lng)) { return true; }
    }
    return false;
  }

  // ------------------------------------------------------------------ hover

  function hoverOf(map) {
    if (!map._gwOverlayHover) {
      var hv = map._gwOverlayHover = {layers: [], current: null};
      map.on('mousemove', function (e) { hoverAt(hv, e.latlng); });
      map.on('mouseout movestart zoomstart', function () { hoverAt(hv, null); });
    }
    return map._gwOverlayHover;
  }

  function highlight(layer, on) {
    var base = layer._gwBaseStyle || {};
    layer.setStyle(on ? {weight: 3.6, opacity: 1, fill: true, fillOpacity: 0.14}
                      : {weight: base.weight, opacity: base.opacity, fill: false,
                         fillOpacity: 0});
  }

  function hoverAt(hv, latlng) {
    var found = null;
    for (var i = hv.layers.length - 1; latlng && i >= 0 && !found; i--) {
      if (contains(hv.layers[i], latlng)) { found = hv.layers[i]; }
    }
    if (found !== hv.current) {
      if (hv.current) { hv.current.closeTooltip(); highlight(hv.current, false); }
      hv.current = found;
      if (found) { highlight(found, true); found.openTooltip(latlng); }
    } else if (found && found.getTooltip()) {
      found.getTooltip().setLatLng(latlng);
    }
  }

  function register(map, layer) {
    var hv = hoverOf(map);
    if (hv.layers.indexOf(layer) < 0) { hv.layers.push(layer); }
  }

  function unregister(map, layer) {
    var hv = map && map._gwOverlayHover;
    if (!hv) { return; }
    if (hv.current === layer) { layer.closeTooltip(); hv.current = null; }
    var i = hv.layers.indexOf(layer);
    if (i >= 0) { hv.layers.splice(i, 1); }
  }

  function each(feature, layer, ctx) {
    var p = feature.properties || {};
    layer._gwBaseStyle = style(feature, ctx);
    layer.bindTooltip(function () { return tipNode(p, ctx); },
      {sticky: true, direction: 'top', offset: [0, -12], opacity: 1, className: 'gw-ovtip'});
    var map = null;
    layer.on('add', function () { map = layer._map; if (map) { register(map, layer); } });
    layer.on('remove', function () { unregister(map, layer); map = null; });
  }

  GW.overlay = {style: style, each: each, contains: contains};
})();
