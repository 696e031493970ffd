/* Gridwatch case lists and SLA countdowns: rebuilds the region page's case tables from the
 * live incident map (window.gridwatch.live) and ticks every countdown once a second.
 * Field text only ever goes into AG Grid cells (text) or textContent, never HTML. */
(function () {
  'use strict';
  var GW = window.gridwatch = window.gridwatch || {};
  var RANK = {red: 3, yellow: 2, green: 1};
  var NO_DUE = 1e9;  // layouts/case_list.py NO_DUE
  var parsed = {raw: null, words: {}};

  // The page's texts (countdown words, duration formats): a JSON blob of catalogue keys that
  // the server writes into the root's data-i18n (layouts/i18n.py is the only catalogue).
  function words() {
    var root = document.getElementById('gw-root');
    var raw = (root && root.getAttribute('data-i18n')) || '{}';
    if (raw !== parsed.raw) {
      try { parsed.words = JSON.parse(raw); } catch (e) { parsed.words = {}; }
      parsed.raw = raw;
    }
    return parsed.words;
  }

  function fill(key, vals) { return GW.fill(words(), key, vals); }  // gridwatch.js

  // layouts/format.py duration, with the catalogue's dur.* words ('3天4小时', '2 h 15 min'):
  // each unit a plural message, two joined by dur.hm / dur.dh. `w` is a words object
  // (default: the page's data-i18n).
  function duration(s, w) {
    w = w || words();
    var unit = function (key, n) { return GW.fill(w, key, {n: n}); };
    s = Math.floor(Math.abs(s));
    if (s < 60) { return unit('dur.s', s); }
    var m = Math.floor(s / 60);
    if (m < 60) { return unit('dur.m', m); }
    var h = Math.floor(m / 60); m = m % 60;
    if (h < 24) {
      return m ? GW.fill(w, 'dur.hm', {h: unit('dur.h', h), m: unit('dur.m', m)})
        : unit('dur.h', h);
    }
    var d = Math.floor(h / 24); h = h % 24;
    return h ? GW.fill(w, 'dur.dh', {d: unit('dur.d', d), h: unit('dur.h', h)})
      : unit('dur.d', d);
  }
  GW.duration = duration;

  // layouts/format.py minutes_text: a list's age or deadline cell from its minutes.
  function minutesText(min) {
    if (min === null) { return '\u2014'; }
    if (min < 0) { return fill('case.overdue', {}) + ' ' + duration(-min * 60); }
    return duration(min * 60);
  }
  GW.minutesText = minutesText;

  var ticks = 0;

  function tick() {
    var now = Date.now() / 1000;
    ticks += 1;
    if (ticks % 30 === 0 && GW.live && GW.live.incidents) { onIncidents(GW.live.incidents); }
    var els = document.querySelectorAll('.gw-countdown[data-due]');
    for (var i = 0; i < els.length; i++) {
      var left = Number(els[i].getAttribute('data-due')) - now;
      els[i].textContent = fill(left >= 0 ? 'case.left' : 'case.overdue', {}) + ' ' +
        duration(left);
      els[i].classList.toggle('gw-countdown--late', left < 0);
    }
  }

  function row(p, names, now) {
    var age = Math.floor((now - Number(p.reported_ts)) / 60);
    var due = p.due_ts ? Math.floor((Number(p.due_ts) - now) / 60) : null;
    // the same fields as layouts/case_list.py case_row
    return {id: p.id, level: names.level[p.level] || p.level, rank: RANK[p.level] || 0,
      category: names.cat[p.category] || p.category, title: p.title,
      status: names.status[p.status] || p.status, age: minutesText(age), due: minutesText(due),
      age_min: age, due_min: due, due_sort: due === null ? NO_DUE : due,
      late: due !== null && due < 0 ? 1 : 0, assignee: p.assignee || '', grid: p.grid};
  }

  // The lists follow the live incident map: rows changed by id in place (assets/grid.js), the
  // grids keep their own order (level, then deadline; the queue: overdue first).
  function onIncidents(incidents) {
    var side = document.querySelector('.gw-side[data-labels]');
    // the live map holds the region's cases only once a sync came (before: the page's rows)
    if (!side || !GW.grids || (GW.live && !GW.live.synced)) { return; }
    var names = JSON.parse(side.getAttribute('data-labels'));
    var now = Date.now() / 1000, rows = [];
    incidents.forEach(function (f) { rows.push(row(f.properties, names, now)); });
    GW.grids.syncRows('gw-case-table', rows);
    GW.grids.syncRows('gw-queue-table', rows.filter(function (r) {
      return !r.assignee || r.late === 1;
    }));
  }

  GW.cases = {onIncidents: onIncidents, tick: tick, duration: duration};
  if (!GW.cases.started) {
    GW.cases.started = true;
    window.setInterval(tick, 1000);
  }
}());
