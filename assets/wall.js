/* Gridwatch wall mode (?wall=1): clock, data-freshness banner, rotation through a playlist of
 * views and red-case takeovers.  Runs only while the page has #gw-wall (layouts/wall_view.py);
 * one 1 s timer for the whole life of the page, bounded state, text set with textContent. */
(function () {
  'use strict';

  var GW = window.gridwatch = window.gridwatch || {};
  if (GW.wall && GW.wall.started) { return; }

  var MAX_QUEUE = 8, MAX_SEEN = 500, MAX_TRAIL = 50, MAX_ITEMS = 100;
  var FOCUS_ZOOM = 16;

  var wall = GW.wall = {
    started: true, home: null, search: null, playlist: [], index: 0, nextAt: 0,
    fetching: false, queue: [], seen: new Map(), trail: [], takeover: null, focus: null,
    stale: false, fmt: {}, cfg: null
  };

  // ------------------------------------------------------------------ helpers

  function byId(id) { return document.getElementById(id); }

  function text(id, value) {
    var n = byId(id), s = String(value);
    if (n && n.textContent !== s) { n.textContent = s; }
  }

  // The catalogue's texts (data-labels); a missing key shows as itself (or as `fallback`, the
  // code of a category the catalogue does not name).
  function label(key, fallback) {
    var l = wall.cfg && wall.cfg.labels;
    return (l && l[key]) || fallback || key;
  }

  function fill(key, vars) { return GW.fill(wall.cfg && wall.cfg.labels, key, vars); }

  function readCfg(c) {
    var labels = {};
    try { labels = JSON.parse(c.getAttribute('data-labels') || '{}'); } catch (e) { labels = {}; }
    return {home: c.getAttribute('data-home'), rotate: c.getAttribute('data-rotate') || '',
      dwellMs: 1000 * Math.max(3, Number(c.getAttribute('data-dwell')) || 20),
      staleS: Math.max(3, Number(c.getAttribute('data-stale')) || 30),
      tz: c.getAttribute('data-tz') || undefined, lang: c.getAttribute('data-lang') || 'zh',
      labels: labels};
  }

  function formatter(kind) {  // made once per kind: no per-second allocations of formatters
    if (!wall.fmt[kind]) {
      var opts = kind === 'time'
        ? {hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false}
        : {year: 'numeric', month: '2-digit', day: '2-digit', weekday: 'short'};
      var locale = wall.cfg.lang === 'en' ? 'en-GB' : 'zh-CN';
      try { opts.timeZone = wall.cfg.tz; wall.fmt[kind] = new Intl.DateTimeFormat(locale, opts); }
      catch (e) { delete opts.timeZone; wall.fmt[kind] = new Intl.DateTimeFormat(locale, opts); }
    }
    return wall.fmt[kind];
  }

  function duration(s) {
    s = Math.max(0, Math.floor(s));
    if (s < 60) { return fill('wall.sec', {n: s}); }
    if (s < 3600) {
      return fill('wall.min', {n: Math.floor(s / 60), s: s % 60});
    }
    return fill('wall.hour', {n: Math.floor(s / 3600), m: Math.floor((s % 3600) / 60)});
  }

  // ------------------------------------------------------------------ clock and freshness

  function serverNow() { return Date.now() / 1000 + ((GW.live && GW.live.skew) || 0); }

  // Seconds since the feed's newest data: the push heartbeat says when the worker last
  // published (feed_as_of) and the server's time; with no heartbeat yet, the page snapshot.
  function feedAge() {
    var live = GW.live || {}, asOf = live.feedAsOf;
    if (!asOf) {
      var root = byId('gw-root');
      asOf = (root && Number(root.getAttribute('data-as-of'))) || wall.firstSeen;
    }
    return serverNow() - asOf;
  }

  function showClock() {
    var now = new Date();
    text('gw-wall-time', formatter('time').format(now));
    text('gw-wall-date', formatter('date').format(now));
  }

  function showFreshness() {
    var age = feedAge(), stale = age > wall.cfg.staleS;
    if (stale) { text('gw-wall-age', fill('wall.ago', {t: duration(age)})); }
    if (stale !== wall.stale) {
      wall.stale = stale;
      document.body.classList.toggle('gw-wall-stale', stale);
    }
  }

  // ------------------------------------------------------------------ navigation

  function wallSearch() {
    var p = new URLSearchParams(window.location.search);
    p.set('wall', '1');
    p.set('home', wall.home);
    return '?' + p.toString();
  }

  // In-app navigation (no reload): dcc.Location listens to _dashprivate_pushstate.
  function navigate(path) {
    if (typeof path !== 'string' || path.charAt(0) !== '/' || path.charAt(1) === '/') { return; }
    var search = wallSearch();
    if (window.location.pathname === path) {  // same page: keep it, just note the wall's home
      if (window.location.search !== search) { window.history.replaceState(null, '', search); }
      return;
    }
    window.history.replaceState(null, '', path + search);
    window.dispatchEvent(new CustomEvent('_dashprivate_pushstate'));
  }

  function remember(item) {
    wall.trail.push({path: item.path, kind: item.kind, id: item.case ? item.case.id : null,
      t: Date.now()});
    if (wall.trail.length > MAX_TRAIL) { wall.trail.splice(0, wall.trail.length - MAX_TRAIL); }
  }

  function show(item) {
    endTakeover();
    remember(item);
    wall.current = item.name || '';
    var root = byId('gw-root');
    var moved = window.location.pathname !== item.path;
    navigate(item.path);
    if (!moved && item.kind !== 'case') { unfocus(root); }
    if (item.kind === 'case' && item.case) {
      wall.focus = {lat: Number(item.case.lat), lon: Number(item.case.lon),
        fromRoot: moved ? root : null};
      startTakeover(item.case, item.alert);
    }
  }

  // Once the new page's map has fitted its region, centre it on the focused case.
  function applyFocus() {
    var f = wall.focus, live = GW.live || {}, root = byId('gw-root');
    if (!f || !root || root === f.fromRoot || live.fittedRoot !== root || !live.leafletMap) {
      return;
    }
    if (!live.leafletMap.getContainer().isConnected) { return; }
    wall.focus = null;
    wall.zoomedRoot = root;
    live.leafletMap.setView([f.lat, f.lon], FOCUS_ZOOM, {animate: false});
  }

  // Back from a case to the whole region on the same page: fit its bounds again.
  function unfocus(root) {
    var map = (GW.live || {}).leafletMap, raw = root && root.getAttribute('data-bounds');
    if (!raw || !map || wall.zoomedRoot !== root) { return; }
    wall.zoomedRoot = null;
    map.fitBounds(JSON.parse(raw), {padding: [24, 24], animate: false});
  }

  // ------------------------------------------------------------------ takeover (red case)

  function row(box, key, value) {
    var r = document.createElement('div');
    r.className = 'gw-to-row';
    var k = document.createElement('span'), v = document.createElement('span');
    k.className = 'gw-to-k'; v.className = 'gw-to-v';
    k.textContent = key; v.textContent = value;
    r.appendChild(k); r.appendChild(v);
    box.appendChild(r);
  }

  function startTakeover(m, isNew) {
    var box = document.createElement('div');
    box.className = 'gw-takeover' + (isNew ? ' gw-takeover-new' : '');
    box.setAttribute('role', 'alert');
    box.setAttribute('data-id', String(m.id));
    var head = document.createElement('div');
    head.className = 'gw-to-head';
    head.textContent = '\u25C6 ' + (isNew ? label('wall.new_red')
                                          : label('wall.red_case'));
    var title = document.createElement('div');
    title.className = 'gw-to-title';
    title.textContent = String(m.title || m.id);
    box.appendChild(head);
    box.appendChild(title);
    row(box, label('wall.category'), label('cat.' + m.category, m.category));
    row(box, label('wall.reported'), formatter('time').format(
      new Date(Number(m.reported_ts) * 1000)));
    row(box, label('wall.grid'), String(m.grid || ''));
    var ring = document.createElement('div');
    ring.className = 'gw-to-ring';
    document.body.appendChild(ring);
    document.body.appendChild(box);
    document.body.classList.add('gw-wall-takeover');
    wall.takeover = {box: box, ring: ring, id: String(m.id), alert: !!isNew};
  }

  function endTakeover() {
    var t = wall.takeover;
    wall.takeover = null;
    wall.focus = null;
    document.body.classList.remove('gw-wall-takeover');
    if (t) { t.box.remove(); t.ring.remove(); }
  }

  function placeRing() {
    var t = wall.takeover, map = byId('gw-map');
    if (!t || !map) { return; }
    var r = map.getBoundingClientRect();
    t.ring.style.left = (r.left + r.width / 2) + 'px';
    t.ring.style.top = (r.top + r.height / 2) + 'px';
  }

  // New red cases of the wall's home region, from the push channel (delta "alerts").
  function onAlerts(list) {
    if (!wall.cfg) { return; }
    for (var i = 0; i < list.length; i++) {
      var m = list[i], id = m && String(m.id);
      if (!id || wall.seen.has(id) || String(m.grid || '').indexOf(wall.home) !== 0) { continue; }
      wall.seen.set(id, Date.now());
      wall.queue.push(m);
    }
    while (wall.seen.size > MAX_SEEN) { wall.seen.delete(wall.seen.keys().next().value); }
    if (wall.queue.length > MAX_QUEUE) { wall.queue.splice(0, wall.queue.length - MAX_QUEUE); }
  }
  wall.onAlerts = onAlerts;

  // ------------------------------------------------------------------ rotation

  function fetchPlaylist() {
    if (wall.fetching) { return; }
    wall.fetching = true;
    var home = wall.home;
    var q = new URLSearchParams({home: home, rotate: wall.cfg.rotate, lang: wall.cfg.lang});
    fetch('/wall/playlist.json?' + q.toString(), {credentials: 'same-origin', cache: 'no-store'})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (data && wall.home === home) {
          wall.playlist = (data.items || []).slice(0, MAX_ITEMS);
          // on the landing page, the first item may be the page already shown
          var first = wall.playlist[0], root = byId('gw-root');
          wall.index = wall.landing && first && root &&
            first.code === root.getAttribute('data-region') ? 0 : -1;
          wall.landing = false;
        }
      })
      .catch(function () { /* retried at the next step */ })
      .then(function () { wall.fetching = false; });
  }

  function nextItem() {
    if (wall.index + 1 >= wall.playlist.length) {  // cycle done: a fresh playlist first
      wall.playlist = [];
      fetchPlaylist();
      return null;
    }
    wall.index += 1;
    return wall.playlist[wall.index];
  }

  function step(now) {
    var busy = wall.takeover && wall.takeover.alert && now < wall.nextAt;
    if (wall.queue.length && !busy) {  // a new red case interrupts whatever is shown
      var m = wall.queue.shift();
      show({kind: 'case', case: m, alert: true, path: casePath(m),
        name: label('wall.new_red')});
      wall.nextAt = now + wall.cfg.dwellMs;
      return;
    }
    if (now < wall.nextAt) { return; }
    if (!wall.cfg.rotate) {  // no rotation: a takeover ends back on the home page
      if (wall.takeover) { show({kind: 'region', path: wall.homePath, name: ''}); }
      wall.nextAt = now + wall.cfg.dwellMs;
      return;
    }
    var next = nextItem();
    if (!next) { return; }  // playlist being fetched: try again next tick
    show(next);
    wall.nextAt = now + wall.cfg.dwellMs;
  }

  // A case is shown on its village's map, never above the wall's home region.
  function casePath(m) {
    var grid = String(m.grid || '');
    var code = wall.home.length <= 12 && grid.length >= 12 ? grid.slice(0, 12) : wall.home;
    return '/village/' + encodeURIComponent(code);
  }

  function showRotation(now) {
    text('gw-wall-now', wall.current || '');
    var n = wall.playlist.length;
    text('gw-wall-step', n && wall.cfg.rotate ? (Math.max(0, wall.index) + 1) + ' / ' + n : '');
    var left = Math.max(0, Math.ceil((wall.nextAt - now) / 1000));
    text('gw-wall-next', wall.cfg.rotate ? fill('wall.next', {n: left}) : '');
  }

  // ------------------------------------------------------------------ the tick

  function start(c) {
    wall.cfg = readCfg(c);
    wall.home = wall.cfg.home;
    wall.homePath = window.location.pathname;
    wall.firstSeen = Date.now() / 1000;
    wall.playlist = [];
    wall.index = -1;
    wall.queue.length = 0;
    wall.fmt = {};
    wall.nextAt = Date.now() + wall.cfg.dwellMs;
    wall.landing = true;
    wall.current = '';
    document.body.classList.add('gw-wall-on');
    if (wall.cfg.rotate) { fetchPlaylist(); }
  }

  function stop() {
    endTakeover();
    wall.cfg = null;
    wall.home = null;
    wall.playlist = [];
    wall.queue.length = 0;
    document.body.classList.remove('gw-wall-on', 'gw-wall-stale');
    wall.stale = false;
  }

  function tick() {
    var c = byId('gw-wall');
    if (!c) {  // left wall mode (a few ticks, not a re-render's gap): drop everything
      wall.missing = (wall.missing || 0) + 1;
      if (wall.cfg && wall.missing >= 3) { stop(); }
      return;
    }
    wall.missing = 0;
    if (!wall.cfg || c.getAttribute('data-home') !== wall.home) { start(c); }
    var now = Date.now();
    showClock();
    showFreshness();
    step(now);
    showRotation(now);
    applyFocus();
    placeRing();
  }
  wall.tick = tick;

  window.setInterval(tick, 1000);
})();
