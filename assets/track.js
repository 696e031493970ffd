/* Gridwatch track playback: moves officers along their recorded paths in the browser.
 * The page root carries the tracks (data-track); nothing here polls the server. */
(function () {
  'use strict';
  var GW = window.gridwatch = window.gridwatch || {};
  var P = GW.track = GW.track || {root: null, data: null, t: 0, playing: false, last: 0};

  function el(id) { return document.getElementById(id); }

  function interp(pts, t) {
    if (!pts.length || t < pts[0][0]) { return null; }
    var lo = 0, hi = pts.length - 1;
    if (t >= pts[hi][0]) { return [pts[hi][1], pts[hi][2]]; }
    while (hi - lo > 1) { var mid = (lo + hi) >> 1; if (pts[mid][0] <= t) { lo = mid; } else { hi = mid; } }
    var a = pts[lo], b = pts[hi], f = (t - a[0]) / Math.max(1e-9, b[0] - a[0]);
    return [a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f];
  }

  function clock(t) {
    var lang = (P.root && P.root.getAttribute('data-lang')) || 'zh';
    try {
      return new Intl.DateTimeFormat(lang === 'en' ? 'en-GB' : 'zh-CN', {timeZone: 'Asia/Shanghai',
        month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
        hour12: false}).format(new Date(t * 1000));
    } catch (e) { return new Date(t * 1000).toISOString(); }
  }

  function draw() {
    var d = P.data, feats = [], first = null;
    Object.keys(d.tracks).forEach(function (oid) {
      var at = interp(d.tracks[oid], P.t);
      if (at) {
        feats.push({type: 'Feature', geometry: {type: 'Point', coordinates: at},
          properties: {id: oid, on: 1}});
        first = first || at;
      }
    });
    if (window.dash_clientside && window.dash_clientside.set_props) {
      window.dash_clientside.set_props('gw-track-now', {data: {type: 'FeatureCollection',
        features: feats}});
    }
    var c = el('gw-track-clock'); if (c) { c.textContent = clock(P.t); }
    var s = el('gw-track-slider');
    if (s) { s.value = String(Math.round(1000 * (P.t - d.t0) / Math.max(1, d.t1 - d.t0))); }
    var follow = document.querySelector('#gw-track-follow input'), map = GW.live && GW.live.leafletMap;
    if (follow && follow.checked && first && map) { map.panTo([first[1], first[0]], {animate: false}); }
  }

  function frame(now) {
    if (!P.playing || !P.data) { return; }
    var speed = Number((el('gw-track-speed') || {}).value || 60);
    P.t = Math.min(P.data.t1, P.t + (now - P.last) / 1000 * speed);
    P.last = now;
    draw();
    if (P.t >= P.data.t1) { setPlaying(false); return; }
    window.requestAnimationFrame(frame);
  }

  function setPlaying(on) {
    P.playing = on;
    var b = el('gw-track-play');
    if (b) { b.textContent = b.getAttribute(on ? 'data-pause' : 'data-play'); }
    if (on) {
      if (P.t >= P.data.t1) { P.t = P.data.t0; }
      P.last = performance.now();
      window.requestAnimationFrame(frame);
    }
  }

  function attach() {
    var root = document.querySelector('.gw-track-page[data-track]');
    if (!root || root === P.root) { return; }
    P.root = root;
    P.data = JSON.parse(root.getAttribute('data-track'));
    P.t = P.data.t0;
    P.playing = false;
    draw();
  }

  document.addEventListener('click', function (e) {
    if (e.target && e.target.id === 'gw-track-play') {
      attach();  // the page may have arrived since the last look
      if (P.data) { setPlaying(!P.playing); }
    }
  });
  document.addEventListener('input', function (e) {
    if (e.target && e.target.id === 'gw-track-slider') { attach(); }
    if (e.target && e.target.id === 'gw-track-slider' && P.data) {
      P.t = P.data.t0 + (P.data.t1 - P.data.t0) * Number(e.target.value) / 1000;
      draw();
    }
  });
  GW.track.attach = attach;
  GW.track.state = P;
  if (!GW.track.started) { GW.track.started = true; window.setInterval(attach, 500); }
}());
