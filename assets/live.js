/* Gridwatch's live push client (window.gridwatch.live): applies sync/delta frames from the push
 * channel and updates the page with dash_clientside.set_props; the map's move and popup
 * handlers (window.gridwatch.map, from assets/gridwatch.js).  Field text is only ever set with
 * textContent. */
(function () {
  'use strict';

  var GW = window.gridwatch = window.gridwatch || {};
  var IDS = GW.ids;
  var incidentPoint = GW.map.incidentPoint;
  var CASE_PANE = 'gwIncidents';  // layouts/ids.py PANE_INCIDENTS
  var FLUSH_MS = 1000;          // at most one officer-layer update a second
  var REGIONS_MS = 500;         // region colours and label counts: at most twice a second
  var TABLE_MS = 150;           // case lists: at most one rebuild per this, a lone change at once
  var FAST_MS = 60;             // cases, counts and KPIs: as soon as they arrive (coalesced)
  var BACKOFF_MIN = 1000, BACKOFF_MAX = 8000;  // a restarted push channel is found within 8 s
  var STALE_S = 30;             // data older than this is flagged
  var HOLD_MAX_MS = 15000;      // never hold updates longer than this for a pan or popup
  var SILENT_MS = 15000;        // a socket that sent heartbeats and then nothing for this is dead
  var CONNECT_MS = 15000;       // a handshake that does not finish in this is abandoned

  // ------------------------------------------------------------------ live state

  var live = GW.live = {
    officers: new Map(), incidents: new Map(), regions: {}, kpi: null, asOf: 0,
    changed: new Set(), drawn: new Map(), caseLayer: null, regionSig: {}, lastRegions: 0,
    dirty: {officers: false, incidents: false, regions: false, kpi: false, asof: false},
    url: null, ws: null, leafletMap: null, rootEl: null, synced: false,
    backoff: BACKOFF_MIN, retry: null, flushTimer: null, flushDue: 0, tableTimer: null,
    lastFlush: 0, lastOfficers: 0, lastTable: 0,
    movingSince: 0, popupSince: 0, conn: 'connecting', shown: {}, officerView: null,
    stats: {frames: 0, flushes: 0, officersMs: 0, incidentsMs: 0, regionsMs: 0, casesDrawn: 0,
      regionsDrawn: 0}
  };

  // Map events: hold layer updates while the user pans, zooms or reads a popup.
  function moveStart() { live.movingSince = Date.now(); }
  function moveEnd() { live.movingSince = 0; zoomChanged(); sendView(); scheduleFlush(); }
  function popupOpen() { live.popupSince = Date.now(); }
  function popupClose() { live.popupSince = 0; scheduleFlush(); }
  Object.assign(GW.map, {moveStart: moveStart, moveEnd: moveEnd, popupOpen: popupOpen,
                        popupClose: popupClose});

  function held(since) { return since && Date.now() - since < HOLD_MAX_MS; }

  // A sync replaces everything (dirty = true); a new page starts from its own snapshot.
  function resetState(dirty) {
    live.officers.clear();
    live.officerView = null;
    live.incidents.clear();
    live.drawn.forEach(function (d, id) { live.changed.add(id); });  // a sync redraws them all
    Object.keys(live.regions).forEach(function (k) { delete live.regions[k]; });
    live.regionSig = {};
    live.kpi = null;
    Object.keys(live.dirty).forEach(function (k) { live.dirty[k] = dirty; });
    live.synced = dirty;
  }

  function applyOfficers(rows) {
    for (var i = 0; i < rows.length; i++) {
      var r = rows[i], id = String(r[0]), f = live.officers.get(id);
      if (!f) {
        f = {type: 'Feature', geometry: {type: 'Point', coordinates: [0, 0]},
          properties: {id: id, on: 0}};
        live.officers.set(id, f);
      }
      var xy = shown(Number(r[1]), Number(r[2]));
      f.geometry.coordinates[0] = xy[0];
      f.geometry.coordinates[1] = xy[1];
      f.properties.on = r[3] ? 1 : 0;
    }
  }

  // a stored position in the basemap's datum (assets/datum.js; the page's data-datum)
  function shown(lon, lat) { return GW.datum ? GW.datum.toDisplay(lon, lat) : [lon, lat]; }

  function incidentFeature(inc) {
    return {type: 'Feature',
      geometry: {type: 'Point', coordinates: shown(Number(inc.lon), Number(inc.lat))},
      properties: {id: String(inc.id), level: inc.level, category: inc.category, title: inc.title,
        status: inc.status, reported_ts: inc.reported_ts, grid: inc.grid,
        assignee: inc.assignee || '', due_ts: inc.due_ts || null}};
  }

  // Heartbeat: server time and the feed's newest data (see docs/push-protocol.md).
  function applyBeat(f) {
    live.beatAt = Date.now();
    live.skew = Number(f.now) - Date.now() / 1000;
    live.feedAsOf = Number(f.feed_as_of) || 0;
    if (live.feedAsOf > live.asOf) { live.asOf = live.feedAsOf; live.dirty.asof = true; }
    scheduleFlush();
  }

  function applyFrame(f) {
    if (f && f.type === 'beat') { applyBeat(f); return; }
    if (!f || (f.type !== 'sync' && f.type !== 'delta')) { return; }
    if (f.alerts && f.alerts.length && GW.wall && GW.wall.onAlerts) { GW.wall.onAlerts(f.alerts); }
    live.stats.frames++;
    if (f.type === 'sync') { resetState(true); }
    if (f.officers && f.officers.length) { applyOfficers(f.officers); live.dirty.officers = true; }
    if (f.officer_view) { live.officerView = f.officer_view; live.dirty.officers = true; }
    var i;
    for (i = 0; f.incidents && i < f.incidents.length; i++) {
      if (f.incidents[i] && f.incidents[i].id !== undefined) {
        var id = String(f.incidents[i].id);
        live.incidents.set(id, incidentFeature(f.incidents[i]));
        live.changed.add(id);
        live.dirty.incidents = true;
      }
    }
    for (i = 0; f.closed && i < f.closed.length; i++) {
      if (live.incidents.delete(String(f.closed[i]))) {
        live.changed.add(String(f.closed[i]));
        live.dirty.incidents = true;
      }
    }
    if (f.regions) {  // a sync all of them, a delta the changed ones; only a change redraws
      Object.keys(f.regions).forEach(function (k) {
        var sig = JSON.stringify(f.regions[k]);
        if (live.regionSig[k] === sig) { return; }
        live.regionSig[k] = sig;
        live.regions[k] = f.regions[k];
        live.dirty.regions = true;
      });
    }
    if (f.kpi) { live.kpi = f.kpi; live.dirty.kpi = true; }
    if (f.as_of) { live.asOf = Number(f.as_of); live.dirty.asof = true; }
    if (f.case && ready()) { setProps(IDS.caseStore, {data: f.case}); }  // a case page
    scheduleFlush();
  }
  GW.live.apply = applyFrame;

  // ------------------------------------------------------------------ pushing into Dash

  function ready() {
    return !!(window.dash_clientside && window.dash_clientside.set_props &&
      document.getElementById(IDS.root) && document.getElementById(IDS.map));
  }

  // Only ids the page declares (data-live-ids) are set; without the attribute, all of them.
  function setProps(id, props) {
    if (live.present && !live.present[id]) { return; }
    window.dash_clientside.set_props(id, props);
  }

  function setText(id, value) {
    var text = String(value === undefined || value === null ? '' : value);
    if (live.shown[id] === text) { return; }
    live.shown[id] = text;
    setProps(id, {children: text});
  }

  function formatTime(ts) {
    var root = document.getElementById(IDS.root);
    var tz = (root && root.getAttribute('data-tz')) || undefined;
    try {
      return new Intl.DateTimeFormat('en-GB', {timeZone: tz, hour: '2-digit', minute: '2-digit',
        second: '2-digit', hour12: false}).format(new Date(ts * 1000));
    } catch (e) {
      return new Date(ts * 1000).toTimeString().slice(0, 8);
    }
  }

  function flushKpi() {
    var k = live.kpi || {}, open = k.open || {};
    setText(IDS.kpiRed, open.red || 0);
    setText(IDS.kpiYellow, open.yellow || 0);
    setText(IDS.kpiGreen, open.green || 0);
    setText(IDS.kpiNewToday, k.new_today || 0);
    setText(IDS.kpiOverdue, k.overdue || 0);
    setText(IDS.kpiOnDuty, k.on_duty || 0);
    setText(IDS.kpiOfficers, k.officers || 0);
  }

  function timed(key, fn) {
    var t0 = performance.now();
    fn();
    live.stats[key] = performance.now() - t0;
  }

  // ------------------------------------------------------------------ cases, drawn by id
  // dash-leaflet rebuilds every marker of a GeoJSON layer on any change of its data: with
  // 1,500 open cases a new case took 0.5-1 s to show. On map views the live cases are drawn in
  // a layer of this script's own, in the cases' pane, where a change replaces one marker.
  function ownCaseLayer() {
    var map = live.leafletMap, root = live.rootEl;
    if (!map || !root || !root.getAttribute('data-region') || !map.getPane(CASE_PANE) ||
        !root.contains(map.getContainer())) { return null; }  // e.g. the case page
    var own = live.caseLayer;
    if (!own || !map.hasLayer(own)) {  // first time on this map: take over from dash-leaflet
      var labels = {};
      try { labels = JSON.parse(root.getAttribute('data-i18n') || '{}'); } catch (e) { /* none */ }
      own = live.caseLayer = L.layerGroup().addTo(map);
      own.gwCtx = {pane: CASE_PANE, hideout: {labels: labels}};
      live.drawn.clear();
      live.incidents.forEach(function (f, id) { live.changed.add(id); });
      setProps(IDS.incidents, {data: collection([])});
    }
    return own;
  }

  function collection(features) { return {type: 'FeatureCollection', features: features}; }

  function caseSignature(f) {
    return f.geometry.coordinates.join(',') + JSON.stringify(f.properties);
  }

  // Whether the map is at city zoom, where only red cases are drawn (the labels count the
  // others: citymap.js). Read once per redraw: it measures the map's container.
  function atCityZoom() { return !!(GW.citymap && GW.citymap.cityZoom(live.leafletMap)); }

  function drawnHere(f, city) { return !!f && (!GW.citymap || GW.citymap.shows(f, city)); }

  // Crossing the city-zoom line redraws the cases that appear or go.
  function zoomChanged() {
    var city = atCityZoom();
    if (city === live.cityZoom) { return; }
    live.cityZoom = city;
    live.incidents.forEach(function (f, id) { live.changed.add(id); });
    live.dirty.incidents = true;
  }

  function drawIncidents() {
    var layer = ownCaseLayer();
    if (!layer) {
      live.changed.clear();
      setProps(IDS.incidents, {data: collection(Array.from(live.incidents.values()))});
      return;
    }
    var city = atCityZoom();
    live.changed.forEach(function (id) {
      var f = live.incidents.get(id), was = live.drawn.get(id), sig = f && caseSignature(f);
      var here = drawnHere(f, city);
      if (was && was.sig === sig && here) { return; }
      if (was) { layer.removeLayer(was.marker); live.drawn.delete(id); }
      if (!here) { return; }
      var c = f.geometry.coordinates;
      var marker = incidentPoint(f, L.latLng(c[1], c[0]), layer.gwCtx);
      layer.addLayer(marker);
      live.drawn.set(id, {marker: marker, sig: sig});
      live.stats.casesDrawn++;
    });
    live.changed.clear();
  }
  GW.live.drawIncidents = drawIncidents;

  function flushLayers() {  // cases first: they are what the desk waits for
    var d = live.dirty, cases = false;
    if (d.incidents && !held(live.popupSince)) {
      d.incidents = false;
      cases = true;
      timed('incidentsMs', drawIncidents);
      if (GW.cases && GW.cases.onIncidents && !live.tableTimer) {  // lists follow, throttled
        live.tableTimer = setTimeout(function () {  // after the markers' paint
          live.tableTimer = null;
          live.lastTable = Date.now();
          GW.cases.onIncidents(live.incidents);
        }, Math.max(0, live.lastTable + TABLE_MS - Date.now()));
      }
    }
    // Officers wait for the next task when cases were drawn: the case shows without waiting
    // for the officer layer's rebuild.
    if (d.officers && !cases && Date.now() - live.lastOfficers >= FLUSH_MS) {
      d.officers = false;
      live.lastOfficers = Date.now();
      timed('officersMs', function () {
        setProps(IDS.officers,
          {data: collection(live.officerView || Array.from(live.officers.values()))});
      });
    }
    if (d.regions && Date.now() - live.lastRegions >= REGIONS_MS) {
      d.regions = false;
      live.lastRegions = Date.now();
      live.stats.regionsDrawn++;
      var hideout = {stats: Object.assign({}, live.regions)};
      timed('regionsMs', function () {
        setProps(IDS.regions, {hideout: hideout});
        setProps(IDS.labels, {hideout: hideout});
      });
    }
  }

  function flush() {
    live.flushTimer = null;
    if (!ready()) { return; }
    live.lastFlush = Date.now();
    live.stats.flushes++;
    showConn();
    if (live.dirty.kpi) { live.dirty.kpi = false; if (live.kpi) { flushKpi(); } }
    if (live.dirty.asof) {
      live.dirty.asof = false;
      if (live.asOf) { setText(IDS.asof, formatTime(live.asOf)); }
    }
    if (!held(live.movingSince)) { flushLayers(); }
    scheduleFlush();  // officers held back by the once-a-second limit
  }

  function anyDirty() {
    var d = live.dirty;
    return d.officers || d.incidents || d.regions || d.kpi || d.asof;
  }

  // One timer; an urgent change (a case) brings forward a timer set for the officer layer.
  function scheduleFlush() {
    if (!anyDirty()) { return; }
    var d = live.dirty, now = Date.now(), moving = held(live.movingSince);
    var urgent = d.kpi || d.asof || (!moving && d.incidents && !held(live.popupSince));
    if (moving && !urgent) { return; }  // layers wait for moveEnd, which reschedules
    var due = urgent ? live.lastFlush + FAST_MS : Infinity;
    if (!moving && d.regions) { due = Math.min(due, live.lastRegions + REGIONS_MS); }
    if (!moving && d.officers) { due = Math.min(due, live.lastOfficers + FLUSH_MS); }
    if (due === Infinity) { return; }  // only layers held by an open popup: popupClose
    due = Math.max(now, due);
    if (live.flushTimer) {
      if (live.flushDue <= due) { return; }
      clearTimeout(live.flushTimer);
    }
    live.flushDue = due;
    live.flushTimer = setTimeout(flush, due - now);
  }
  GW.live.flush = flush;

  function showConn() {
    if (live.shown.__conn === live.conn || !ready()) { return; }
    live.shown.__conn = live.conn;
    setProps(IDS.conn, {className: 'gw-conn gw-conn--' + live.conn});
  }

  function setConn(state) { live.conn = state; showConn(); }

  function showStale() {
    var stale = live.asOf > 0 && Date.now() / 1000 - live.asOf > STALE_S;
    var cls = 'gw-clock' + (stale ? ' gw-stale' : '');
    if (live.shown.__clock === cls || !ready()) { return; }
    live.shown.__clock = cls;
    setProps(IDS.clock, {className: cls});
  }

  // ------------------------------------------------------------------ the socket

  // A viewport-clustered page (officers=view) tells the push channel what its map shows.
  function sendView() {
    var map = live.leafletMap, ws = live.ws;
    if (!map || !ws || ws.readyState !== 1 || !/[?&]officers=view\b/.test(live.url || '')) {
      return;
    }
    var b = map.getBounds(), back = GW.datum ? GW.datum.fromDisplay : function (x, y) {
      return [x, y];
    };
    var sw = back(b.getWest(), b.getSouth()), ne = back(b.getEast(), b.getNorth());
    live.viewWs = ws;
    // a 4K screen asks for what a full-HD one sees at that view (citymap.js hdZoom)
    var zoom = GW.citymap ? GW.citymap.hdZoom(map) : map.getZoom();
    ws.send(JSON.stringify({type: 'view', zoom: Math.max(0, zoom),
      west: Math.max(-180, sw[0]), east: Math.min(180, ne[0]),
      south: Math.max(-90, sw[1]), north: Math.min(90, ne[1])}));
  }
  GW.live.sendView = sendView;

  function absUrl(u) {
    if (/^wss?:\/\//i.test(u)) { return u; }
    if (/^https?:\/\//i.test(u)) { return u.replace(/^http/i, 'ws'); }
    var scheme = window.location.protocol === 'https:' ? 'wss://' : 'ws://';
    return scheme + window.location.host + (u.charAt(0) === '/' ? u : '/' + u);
  }

  function scheduleReconnect() {
    if (live.retry || !live.url) { return; }
    var delay = Math.min(BACKOFF_MAX, live.backoff * (0.85 + 0.3 * Math.random()));
    live.backoff = Math.min(BACKOFF_MAX, live.backoff * 2);
    live.retry = setTimeout(function () { live.retry = null; connect(); }, delay);
  }

  function connect() {
    if (!live.url) { return; }
    setConn('connecting');
    var ws;
    try {
      ws = new WebSocket(absUrl(live.url));
    } catch (e) {
      setConn('closed');
      scheduleReconnect();
      return;
    }
    live.ws = ws;
    live.openedAt = Date.now();
    live.beatAt = 0;
    ws.onopen = function () {
      if (live.ws === ws) { live.lastMsg = Date.now(); setConn('open'); sendView(); }
    };
    ws.onmessage = function (ev) {
      if (live.ws !== ws || typeof ev.data !== 'string') { return; }
      live.backoff = BACKOFF_MIN;  // only a server that talks resets the back-off
      live.lastMsg = Date.now();
      var frame;
      try { frame = JSON.parse(ev.data); } catch (e) { return; }
      GW.live.apply(frame);  // through GW, so a tool can watch frames arrive
    };
    ws.onclose = function () {
      if (live.ws !== ws) { return; }
      live.ws = null;
      setConn('closed');
      scheduleReconnect();
    };
  }

  function disconnect() {
    var ws = live.ws;
    live.ws = null;
    if (live.retry) { clearTimeout(live.retry); live.retry = null; }
    if (ws) { ws.onclose = null; ws.onmessage = null; ws.close(); }
  }

  // A socket that stopped talking (server frozen, NAT dropped it) or a handshake that hangs
  // is closed and reconnected: browsers do not notice either by themselves.
  function watchdog() {
    var ws = live.ws, now = Date.now();
    if (!ws) { return; }
    var silent = ws.readyState === 1 && live.beatAt && now - live.lastMsg > SILENT_MS;
    var hung = ws.readyState === 0 && now - live.openedAt > CONNECT_MS;
    if (!silent && !hung) { return; }
    live.ws = null;
    ws.onclose = null; ws.onmessage = null; ws.onopen = null;
    try { ws.close(); } catch (e) { /* already closing */ }
    setConn('closed');
    scheduleReconnect();
  }

  // Fit the map to the region once per page, when its container has its real size.
  function fitOnce(root) {
    var map = live.leafletMap, raw = root && root.getAttribute('data-bounds');
    if (!raw || !map || live.fittedRoot === root || !map.getContainer().isConnected) { return; }
    live.fittedRoot = root;
    map.invalidateSize();
    map.fitBounds(JSON.parse(raw), {padding: [24, 24], animate: false});
  }

  // Follow the page: (re)connect whenever the root's data-live-url changes.
  function follow() {
    var root = document.getElementById(IDS.root);
    fitOnce(root);
    var url = (root && root.getAttribute('data-live-url')) || null;
    if (root !== live.rootEl) {
      // A new page (e.g. rendered by a callback): what it shows is its own snapshot.
      live.rootEl = root;
      live.shown = {};
      var declared = root && root.getAttribute('data-live-ids');
      live.present = null;
      if (declared) {
        live.present = {};
        JSON.parse(declared).forEach(function (k) { live.present[k] = true; });
      }
      if (url === live.url && live.synced) {
        Object.keys(live.dirty).forEach(function (k) { live.dirty[k] = true; });
      }
    }
    if (url !== live.url) {
      disconnect();
      resetState(false);
      live.shown = {};
      live.url = url;
      live.backoff = BACKOFF_MIN;
      var asOf = root && Number(root.getAttribute('data-as-of'));
      if (asOf) { live.asOf = asOf; }
      if (url) { connect(); }
    }
    watchdog();
    if (GW.citymap) { GW.citymap.tend(live.leafletMap); }
    showConn();
    showStale();
    if (live.ws && live.viewWs !== live.ws) { sendView(); }  // the map came after the socket
    if (anyDirty()) { scheduleFlush(); }
  }
  GW.live.follow = follow;

  if (!GW.live.started) {
    GW.live.started = true;
    window.setInterval(follow, 500);
  }
})();
