/* Gridwatch video: the camera map layer (window.gridwatch.video.cameraPoint / cameraCluster)
 * and the review page's shared timeline: scrub or play any clip and every <video> follows.
 * DOM is built with createElement + textContent only. */
(function () {
  'use strict';

  var GW = window.gridwatch = window.gridwatch || {};
  var CUE = {online: '\u25CF', stale: '\u25B2', offline: '\u2715'};   // ● ▲ ✕
  var DRIFT_S = 0.25;         // re-seek a follower that is further off than this

  function el(tag, cls, text) {
    var n = document.createElement(tag);
    if (cls) { n.className = cls; }
    if (text !== undefined && text !== null) { n.textContent = String(text); }
    return n;
  }

  // The catalogue's camera labels (layouts/camera_layer.py); a missing key shows as itself
  // (or as `fallback`, a data code).
  function label(ctx, key, fallback) {
    var l = ctx && ctx.hideout && ctx.hideout.labels;
    return (l && l[key]) || fallback || key;
  }

  function stateOf(p) {
    return (p.state === 'online' || p.state === 'stale') ? p.state : 'offline';
  }

  function videoPath(href) {
    // Only the dashboard's own camera routes: a property can never point elsewhere.
    return (typeof href === 'string' && href.indexOf('/video/camera/') === 0) ? href : null;
  }

  // ------------------------------------------------------------------ camera layer

  function cameraPopup(p, ctx) {
    var st = stateOf(p);
    var box = el('div', 'gw-pop gw-campop gw-campop-' + st);
    var head = el('div', 'gw-pop-head');
    head.appendChild(el('span', 'gw-pop-cue gw-camcue-' + st, CUE[st]));
    head.appendChild(el('span', 'gw-pop-level', label(ctx, 'state.' + st, st)));
    box.appendChild(head);
    box.appendChild(el('div', 'gw-pop-title', p.name));
    var row = el('div', 'gw-pop-row');
    row.appendChild(el('span', 'gw-pop-k', label(ctx, 'grid')));
    row.appendChild(el('span', 'gw-pop-v', p.grid));
    box.appendChild(row);
    var snap = videoPath(p.snapshot), stream = videoPath(p.stream);
    if (snap && st !== 'offline') {
      var img = el('img', 'gw-campop-img');
      img.alt = String(p.name);
      img.src = snap + '?t=' + Date.now();
      box.appendChild(img);
    }
    var links = el('div', 'gw-campop-links');
    if (stream) {
      var a = el('a', 'gw-campop-live', '\u25B6 ' + label(ctx, 'live'));
      a.href = stream; a.target = '_blank'; a.rel = 'noopener';
      links.appendChild(a);
    }
    if (snap) {
      var s = el('a', 'gw-campop-snap', label(ctx, 'snapshot'));
      s.href = snap; s.target = '_blank'; s.rel = 'noopener';
      links.appendChild(s);
    }
    box.appendChild(links);
    return box;
  }

  function cameraPoint(feature, latlng, ctx) {
    var p = feature.properties || {};
    var st = stateOf(p);
    var icon = L.divIcon({className: 'gw-cam gw-cam-' + st,
      html: el('span', 'gw-cam-cue', CUE[st]), iconSize: [20, 20]});
    var m = L.marker(latlng, {icon: icon, pane: ctx.pane || 'markerPane', keyboard: false,
      title: String(p.name) + ' \u00B7 ' + label(ctx, 'state.' + st, st)});
    m.bindPopup(function () { return cameraPopup(p, ctx); },
      {className: 'gw-popup', maxWidth: 360, minWidth: 240});
    return m;
  }

  function cameraCluster(feature, latlng, index, ctx) {
    var p = feature.properties;
    var n = p.point_count;
    var box = el('span', 'gw-camcluster-n', p.point_count_abbreviated || n);
    var size = n < 10 ? 28 : n < 100 ? 34 : 40;
    var icon = L.divIcon({className: 'gw-camcluster', html: box, iconSize: L.point(size, size)});
    return L.marker(latlng, {icon: icon, pane: ctx.pane || 'markerPane', keyboard: false});
  }

  // ------------------------------------------------------------------ shared timeline

  function fmtTime(epoch, tz) {
    var d = new Date(epoch * 1000);
    var s;
    try {
      s = d.toLocaleTimeString('en-GB', {timeZone: tz || 'Asia/Shanghai', hour12: false});
    } catch (e) { s = d.toISOString().substr(11, 8); }
    return s + '.' + Math.floor((epoch % 1) * 10);
  }

  function Sync(root) {
    var self = this;
    this.root = root;
    this.start = Number(root.getAttribute('data-start')) || 0;
    this.length = Number(root.getAttribute('data-length')) || 0;
    this.flag = Number(root.getAttribute('data-flag')) || 0;
    this.tz = root.getAttribute('data-tz') || 'Asia/Shanghai';
    this.t = 0;
    this.playing = false;
    this.leader = null;
    this.lastTick = 0;
    this.clips = Array.prototype.map.call(root.querySelectorAll('video.gw-vclip'), function (v) {
      return {v: v, offset: Number(v.getAttribute('data-offset')) || 0,
        duration: Number(v.getAttribute('data-duration')) || 0};
    });
    this.build();
    this.clips.forEach(function (c) { self.watch(c); });
    this.seek(Math.max(0, this.flag - 1));
  }

  Sync.prototype.build = function () {
    var self = this;
    var box = this.root.querySelector('.gw-vcontrols') || this.root;
    this.btn = el('button', 'gw-btn gw-vplay', '\u25B6');
    this.btn.type = 'button';
    this.btn.title = this.root.getAttribute('data-play') || '';
    this.btn.addEventListener('click', function () {
      if (self.playing) { self.pause(); } else { self.play(null); }
    });
    this.range = el('input', 'gw-vrange');
    this.range.type = 'range';
    this.range.min = '0';
    this.range.max = String(this.length);
    this.range.step = '0.05';
    this.range.value = '0';
    this.range.setAttribute('aria-label', this.root.getAttribute('data-label') || '');
    this.range.addEventListener('input', function () { self.seek(Number(self.range.value)); });
    this.clock = el('span', 'gw-vclock', fmtTime(this.start, this.tz));
    box.appendChild(this.btn);
    box.appendChild(this.range);
    box.appendChild(this.clock);
  };

  // A clip's own controls: events that do not match what the timeline asked for are the
  // user's, and the timeline follows them.
  Sync.prototype.watch = function (c) {
    var self = this, v = c.v;
    v.addEventListener('play', function () { if (!self.playing) { self.play(c); } });
    v.addEventListener('pause', function () {
      if (self.playing && self.covers(c, self.t) && !v.ended &&
          v.currentTime < dur(c) - 0.1) { self.pause(); }
    });
    v.addEventListener('seeking', function () {
      if (Math.abs(c.offset + v.currentTime - self.t) > DRIFT_S * 2) {
        self.seek(c.offset + v.currentTime, c);
      }
    });
  };

  function dur(c) {
    var d = c.v.duration;
    return (isFinite(d) && d > 0) ? d : c.duration;
  }

  Sync.prototype.covers = function (c, t) {
    return t >= c.offset - 0.01 && t <= c.offset + dur(c);
  };

  // Put every clip at timeline time t (except `skip`, which is already there).
  Sync.prototype.place = function (skip) {
    var self = this;
    this.clips.forEach(function (c) {
      var local = self.t - c.offset, inside = self.covers(c, self.t);
      c.v.parentNode.classList.toggle('gw-vframe--out', !inside);
      if (c === skip) { return; }
      local = Math.max(0, Math.min(dur(c), local));
      if (Math.abs(c.v.currentTime - local) > DRIFT_S) { c.v.currentTime = local; }
      if (self.playing && inside && c.v.paused && !c.v.ended) {
        c.v.play().catch(function () {});
      } else if ((!self.playing || !inside) && !c.v.paused) {
        c.v.pause();
      }
    });
    this.range.value = String(this.t);
    this.clock.textContent = fmtTime(this.start + this.t, this.tz);
  };

  Sync.prototype.seek = function (t, from) {
    this.t = Math.max(0, Math.min(this.length, t));
    this.place(from || null);
  };

  Sync.prototype.play = function (leader) {
    if (this.t >= this.length - 0.05) { this.t = 0; }
    this.playing = true;
    this.leader = leader;
    this.btn.textContent = '\u275A\u275A';
    this.lastTick = performance.now();
    this.place(leader);
    this.loop();
  };

  Sync.prototype.pause = function () {
    this.playing = false;
    this.btn.textContent = '\u25B6';
    this.place(null);
  };

  // While playing: the leader's clock drives the timeline; in gaps, the wall clock does.
  Sync.prototype.loop = function () {
    var self = this;
    if (!this.playing) { return; }
    var now = performance.now(), dt = (now - this.lastTick) / 1000;
    this.lastTick = now;
    var lead = this.leader;
    if (!lead || lead.v.paused || lead.v.ended || !this.covers(lead, this.t)) {
      lead = this.leader = this.clips.filter(function (c) {
        return !c.v.paused && !c.v.ended && self.covers(c, self.t);
      })[0] || null;
    }
    this.t = lead ? lead.offset + lead.v.currentTime : Math.min(this.length, this.t + dt);
    this.place(lead);
    if (this.t >= this.length - 0.02) { this.pause(); return; }
    window.requestAnimationFrame(function () { self.loop(); });
  };

  var syncs = [];
  var roots = document.getElementsByClassName('gw-vsync');   // live: cheap to check

  function scan() {
    if (!roots.length && !syncs.length) { return; }
    for (var i = 0; i < roots.length; i++) {
      if (!roots[i].gwSync) { roots[i].gwSync = new Sync(roots[i]); syncs.push(roots[i].gwSync); }
    }
    for (var j = syncs.length - 1; j >= 0; j--) {   // forget pages that are gone
      if (!document.body.contains(syncs[j].root)) { syncs[j].playing = false; syncs.splice(j, 1); }
    }
  }

  function boot() {
    scan();
    new MutationObserver(scan).observe(document.body, {childList: true, subtree: true});
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', boot);
  } else {
    boot();
  }

  GW.video = {cameraPoint: cameraPoint, cameraCluster: cameraCluster, syncs: syncs, Sync: Sync};
}());
