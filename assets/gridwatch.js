/* Gridwatch browser glue: dash-leaflet layer functions (window.gridwatch.map) and the helpers
 * the page scripts share (ids, the catalogue's words, safe paths).  The live push client is
 * assets/live.js.  Field text is only ever set with textContent. */
(function () {
  'use strict';

  var GW = window.gridwatch = window.gridwatch || {};

  // Must match layouts/ids.py (a test checks it).
  var IDS = {
    root: 'gw-root', map: 'gw-map', conn: 'gw-conn', clock: 'gw-clock', asof: 'gw-asof',
    kpiRed: 'gw-kpi-red', kpiYellow: 'gw-kpi-yellow', kpiGreen: 'gw-kpi-green',
    kpiNewToday: 'gw-kpi-new-today', kpiOverdue: 'gw-kpi-overdue',
    kpiOnDuty: 'gw-kpi-on-duty', kpiOfficers: 'gw-kpi-officers',
    regions: 'gw-regions', labels: 'gw-region-labels',
    officers: 'gw-officers', incidents: 'gw-incidents', caseStore: 'gw-case-store'
  };
  GW.ids = IDS;

  var CUE = {red: '\u25C6', yellow: '\u25B2', green: '\u25CF'};   // ◆ ▲ ●
  var FILL = {red: '#ff3d3d', yellow: '#ffc21a', green: '#1fd17a', none: '#34507a'};
  var EDGE = {red: '#ff6b6b', yellow: '#ffd24d', green: '#4ee39a', none: '#7fa3d1'};
  var ZOFF = {red: 3000, yellow: 2000, green: 1000};

  // ------------------------------------------------------------------ helpers

  function el(tag, cls, text) {
    var n = document.createElement(tag);
    if (cls) { n.className = cls; }
    if (text !== undefined && text !== null) { n.textContent = String(text); }
    return n;
  }

  function levelOf(v) { return (v === 'red' || v === 'yellow' || v === 'green') ? v : null; }

  function statOf(ctx, code) {
    var h = ctx && ctx.hideout;
    return (h && h.stats && h.stats[code]) || null;
  }

  // A text of the catalogue (the words object the server wrote: data-i18n, a hideout's labels)
  // with its {fields} filled; a plural message comes as its forms by CLDR plural category
  // ({one, other ...}, layouts/catalogues.py) and takes the one for vals.n in the page's
  // language. A missing key shows as itself.
  var pluralRules = {};
  function pageLang() {
    var root = document.getElementById(IDS.root);
    return (root && root.getAttribute('lang')) || document.documentElement.lang || 'zh-CN';
  }
  function fill(words, key, vals, lang) {
    var text = words && words[key];
    if (text && typeof text === 'object') {
      lang = lang || pageLang();
      if (!pluralRules[lang]) { pluralRules[lang] = new Intl.PluralRules(lang); }
      text = text[pluralRules[lang].select(Number(vals && vals.n) || 0)] || text.other;
    }
    text = String(text || key);
    Object.keys(vals || {}).forEach(function (k) {
      text = text.split('{' + k + '}').join(String(vals[k]));
    });
    return text;
  }
  GW.fill = fill;

  function msg(ctx, key, fallback) {  // fallback: for a data code the catalogue does not name
    var labels = ctx && ctx.hideout && ctx.hideout.labels;
    return (labels && labels[key]) || fallback || key;
  }

  // The rule of dashboard/redirects.py local_path: a path on this origin ('/…', not '//…'),
  // no backslash or control character, also once percent-decoded; else null.
  var BAD_PATH = /[\u0000-\u001f\u007f-\u009f\\]/;
  function safePath(href) {
    if (typeof href !== 'string' || !href || href.length > 2048) { return null; }
    var decoded;
    try { decoded = decodeURIComponent(href); } catch (e) { return null; }
    var forms = [href, decoded];
    for (var i = 0; i < forms.length; i++) {
      var f = forms[i];
      if (BAD_PATH.test(f) || f.charAt(0) !== '/' || f.charAt(1) === '/') { return null; }
    }
    var url;
    try { url = new URL(href, window.location.origin); } catch (e2) { return null; }
    return url.origin === window.location.origin ? href : null;
  }
  GW.safePath = safePath;

  function go(href) {
    // Only same-site paths: a feature property can never send the user elsewhere.
    var path = safePath(href);
    if (path !== null) { window.location.assign(path); }
  }
  GW.go = go;

  function ageText(ts, ctx) {  // the catalogue's words (data-i18n → hideout.labels)
    var s = Math.max(0, Date.now() / 1000 - Number(ts || 0));
    if (s < 60) { return msg(ctx, 'age.just_now'); }
    var labels = (ctx && ctx.hideout && ctx.hideout.labels) || {};
    return GW.duration ? GW.duration(s, labels) : String(Math.floor(s / 60));
  }

  // ------------------------------------------------------------------ map functions

  // A wall wider than full HD draws strokes and officer dots that much larger (wall.css does
  // the same for icons and text), so a 4K wall reads like a full-HD one from the same distance.
  function wallScale() {
    if (!document.querySelector('.gw-wall')) { return 1; }
    return Math.max(1, Math.min(window.innerWidth / 1920, window.innerHeight / 1080));
  }
  GW.wallScale = wallScale;

  function regionStyle(feature, ctx) {
    if (ctx && ctx.map && GW.live) { GW.live.leafletMap = ctx.map; }  // for tests and page scripts
    var s = statOf(ctx, feature.properties && feature.properties.code);
    var lvl = (s && levelOf(s.level)) || 'none', k = wallScale();
    return {
      color: EDGE[lvl], weight: (lvl === 'red' ? 3 : (lvl === 'none' ? 1.2 : 2)) * k,
      opacity: 0.95, fillColor: FILL[lvl], fillOpacity: lvl === 'none' ? 0.16 : 0.28,
      dashArray: lvl === 'yellow' ? 8 * k + ' ' + 5 * k : null,
      className: 'gw-region gw-region-' + lvl
    };
  }

  function regionHover() { return {weight: 4 * wallScale(), fillOpacity: 0.42}; }

  function regionEach(feature, layer) {
    var href = feature.properties && feature.properties.href;
    if (href) { layer.on('click', function () { go(href); }); }
  }

  function countChip(level, n) {
    var chip = el('span', 'gw-cnt gw-cnt-' + level + (n ? '' : ' gw-cnt-zero'));
    chip.appendChild(el('span', 'gw-cnt-cue', CUE[level]));
    chip.appendChild(el('span', 'gw-cnt-n', n));
    chip.setAttribute('data-level', level);
    return chip;
  }

  function labelPoint(feature, latlng, ctx) {
    var p = feature.properties || {};
    var s = statOf(ctx, p.code) || {};
    var lvl = levelOf(s.level) || 'none';
    var box = el('div', 'gw-rlabel-in');
    box.setAttribute('data-code', String(p.code));
    box.appendChild(el('div', 'gw-rlabel-name', p.name));
    if (lvl !== 'none') {  // quiet regions show just their name: less clutter on the wall
      var counts = el('div', 'gw-rlabel-counts');
      counts.appendChild(countChip('red', s.red || 0));
      counts.appendChild(countChip('yellow', s.yellow || 0));
      counts.appendChild(countChip('green', s.green || 0));
      box.appendChild(counts);
    }
    var icon = L.divIcon({className: 'gw-rlabel gw-rlabel-' + lvl, html: box, iconSize: null});
    var marker = L.marker(latlng, {icon: icon, pane: ctx.pane || 'markerPane',
      interactive: !!p.href, keyboard: false});
    if (p.href) { marker.on('click', function () { go(p.href); }); }
    return marker;
  }

  function clusterIcon(feature, latlng, index, ctx) {
    var p = feature.properties;
    var n = p.point_count;
    var size = n < 10 ? 34 : n < 100 ? 42 : n < 1000 ? 52 : 62;
    var bucket = n < 100 ? 's' : n < 1000 ? 'm' : 'l';
    var inner = el('span', 'gw-cluster-n', p.point_count_abbreviated || n);
    var icon = L.divIcon({className: 'gw-cluster gw-cluster-' + bucket, html: inner,
      iconSize: L.point(size, size)});
    return L.marker(latlng, {icon: icon, pane: ctx.pane || 'markerPane', keyboard: false});
  }

  // Province scale: the push channel sends clusters per viewport (counts per town or village
  // at their label points, hung below the region label; cells closer in) or single officers.
  function officerOrCluster(feature, latlng, ctx) {
    var p = feature.properties || {};
    if (!p.cluster) { return officerPoint(feature, latlng, ctx); }
    var m = clusterIcon(feature, latlng, null, ctx);
    var size = m.options.icon.options.iconSize.x;
    if (p.kind === 'town' || p.kind === 'village') {
      m.options.icon.options.iconAnchor = L.point(size / 2, -18);
    }
    m.on('click', function () {
      var map = GW.live && GW.live.leafletMap;
      if (map) { map.setView(latlng, Math.min(18, map.getZoom() + 2)); }
    });
    return m;
  }

  function officerPoint(feature, latlng, ctx) {
    var p = feature.properties || {};
    var on = !!p.on, k = wallScale();
    var m = L.circleMarker(latlng, {
      pane: ctx.pane || 'markerPane', radius: (on ? 6 : 5) * k, weight: 2 * k,
      color: on ? '#e9fbff' : '#8fa3c2', fillColor: on ? '#00c8ff' : '#1b2840',
      fillOpacity: on ? 0.95 : 0.85, dashArray: on ? null : 2 * k + ' ' + 2 * k,
      className: on ? 'gw-off gw-off-on' : 'gw-off gw-off-off'
    });
    m.bindTooltip(function () {
      var tip = el('span', 'gw-off-tip');
      tip.appendChild(el('b', null, p.id));
      tip.appendChild(el('span', null, ' \u00B7 ' +
        msg(ctx, on ? 'officer.on_duty' : 'officer.off_duty')));
      return tip;
    }, {direction: 'top', offset: [0, -6]});
    return m;
  }

  function popupRow(box, key, value) {
    var row = el('div', 'gw-pop-row');
    row.appendChild(el('span', 'gw-pop-k', key));
    row.appendChild(el('span', 'gw-pop-v', value));
    box.appendChild(row);
  }

  function incidentPopup(p, ctx) {
    var lvl = levelOf(p.level) || 'green';
    var box = el('div', 'gw-pop gw-pop-' + lvl);
    var head = el('div', 'gw-pop-head');
    head.appendChild(el('span', 'gw-pop-cue', CUE[lvl]));
    head.appendChild(el('span', 'gw-pop-level', msg(ctx, 'level.' + lvl, lvl)));
    box.appendChild(head);
    box.appendChild(el('div', 'gw-pop-title', p.title));
    popupRow(box, msg(ctx, 'popup.category'),
      msg(ctx, 'cat.' + p.category, p.category));
    popupRow(box, msg(ctx, 'popup.status'), msg(ctx, 'status.' + p.status, p.status));
    popupRow(box, msg(ctx, 'popup.age'), ageText(p.reported_ts, ctx));
    if (p.grid) { popupRow(box, msg(ctx, 'popup.grid'), p.grid); }
    return box;
  }

  function incidentPoint(feature, latlng, ctx) {
    var p = feature.properties || {};
    var lvl = levelOf(p.level) || 'green';
    var shape = el('span', 'gw-inc-shape');
    shape.setAttribute('data-id', String(p.id));
    var icon = L.divIcon({className: 'gw-inc gw-inc-' + lvl, html: shape, iconSize: [26, 26]});
    var m = L.marker(latlng, {icon: icon, pane: ctx.pane || 'markerPane',
      zIndexOffset: ZOFF[lvl], keyboard: false, riseOnHover: true});
    m.bindTooltip(function () { return el('span', 'gw-inc-tip', p.title); },
      {direction: 'top', offset: [0, -14]});
    m.bindPopup(function () { return incidentPopup(p, ctx); },
      {className: 'gw-popup', maxWidth: 360, minWidth: 220});
    return m;
  }

  GW.map = {
    regionStyle: regionStyle, regionHover: regionHover, regionEach: regionEach,
    labelPoint: labelPoint, clusterIcon: clusterIcon, officerPoint: officerPoint,
    officerOrCluster: officerOrCluster, incidentPoint: incidentPoint
  };  // assets/live.js adds the map's move and popup handlers
})();
