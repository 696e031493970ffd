/* Gridwatch: the map at city zoom. Below CASE_ZOOM the region labels carry the cases (their
 * worst level and counts per level) and only red cases stay single markers; a region label
 * with reds pulses and opens the region. Labels sit above every marker and are nudged apart,
 * off each other and off the case markers where there is room, so that none covers another
 * label or a case (window.gridwatch.citymap; live.js asks it per case). */
(function () {
  'use strict';

  var GW = window.gridwatch = window.gridwatch || {};
  var CASE_ZOOM = 12;        // from here on (town zoom) every case is its own marker
  var LABEL_PANE = 'gwLabels';  // layouts/ids.py PANE_LABELS
  var CASE_PANE = 'gwIncidents';  // layouts/ids.py PANE_INCIDENTS
  var GAP = 3;               // px between nudged labels
  var TRIES = 4;             // vertical offsets tried per label (each also left and right)
  var FAR = 12;              // and for a label that found no room: made compact, tried further

  // A 4K wall at zoom 12 shows what a 1920x1080 screen shows at 11: the zoom is read as the
  // full-HD zoom of the same view, so the city reads the same on both.
  function hdZoom(map) {
    var el = map.getContainer();
    var scale = Math.min(el.clientWidth / 1920, el.clientHeight / 1080);
    return map.getZoom() - (scale > 1 ? Math.log2(scale) : 0);
  }

  function cityZoom(map) { return !!map && hdZoom(map) < CASE_ZOOM; }

  // Whether a case is drawn as a single marker (`city`: the map is at city zoom, cityZoom).
  function shows(feature, city) {
    var p = (feature && feature.properties) || {};
    return p.level === 'red' || !city;
  }

  function redCount(box) {
    var n = box.querySelector('.gw-cnt-red .gw-cnt-n');
    return n ? Number(n.textContent) || 0 : 0;
  }

  function openCount(box) {
    var n = 0;
    box.querySelectorAll('.gw-cnt-n').forEach(function (e) { n += Number(e.textContent) || 0; });
    return n;
  }

  function overlaps(a, b) {
    return a.left < b.right + GAP && b.left < a.right + GAP &&
      a.top < b.bottom + GAP && b.top < a.bottom + GAP;
  }

  function shifted(r, d) {
    return {left: r.left + d[0], right: r.right + d[0], top: r.top + d[1],
      bottom: r.bottom + d[1]};
  }

  function inside(r, frame) {
    return r.top >= frame.top && r.bottom <= frame.bottom && r.left >= frame.left &&
      r.right <= frame.right;
  }

  // Offsets to try, nearest first: none, up and down by a label's height, each also shifted
  // left and right by half its width; `far`: a wider grid of them (FAR rows, three half
  // widths each way), nearest first.
  function offsets(r, far) {
    var h = r.height + GAP, w = r.width / 2 + GAP, out = [];
    for (var i = 0; i <= (far ? FAR : TRIES); i++) {
      var dy = (i % 2 ? 1 : -1) * Math.ceil(i / 2) * h;
      (far ? [0, -1, 1, -2, 2, -3, 3] : [0, -1, 1]).forEach(function (j) {
        out.push([j * w, dy]);
      });
    }
    return far ? out.sort(function (a, b) { return Math.hypot(a[0], a[1]) -
      Math.hypot(b[0], b[1]); }) : out;
  }

  // The first offset clear of every rect given and inside the map's frame (null: none).
  function freeOffset(r, rects, frame, far) {
    var tries = offsets(r, far);
    for (var i = 0; i < tries.length; i++) {
      var cand = shifted(r, tries[i]);
      if ((!i || inside(cand, frame)) &&
          !rects.some(function (p) { return overlaps(cand, p); })) { return tries[i]; }
    }
    return null;
  }

  // Place one label: clear of labels and cases, else clear of labels (it covers a case),
  // else compact (its name, and its red count if any: its colour still says its level) and
  // further off.
  function place(box, placed, cases, frame) {
    var r = box.getBoundingClientRect();
    var d = freeOffset(r, placed.concat(cases), frame) || freeOffset(r, placed, frame);
    if (!d) {
      box.classList.add('gw-rlabel-compact');
      r = box.getBoundingClientRect();
      d = freeOffset(r, placed.concat(cases), frame, true) ||
        freeOffset(r, placed, frame, true);
    }
    d = d || [0, 0];
    box.style.translate = d[0] || d[1] ? d[0] + 'px ' + d[1] + 'px' : '';
    box.setAttribute('data-gw-placed', '1');
    placed.push(shifted(r, d));
  }

  // Nudge the labels of the map apart, reds and busy regions first (they keep their spot).
  function declutter(map) {
    var pane = map && map.getPane(LABEL_PANE);
    if (!pane) { return; }
    var boxes = Array.prototype.slice.call(pane.querySelectorAll('.gw-rlabel-in'));
    boxes.forEach(function (b) { b.style.translate = ''; b.classList.remove('gw-rlabel-compact'); });
    boxes.sort(function (a, b) {
      return redCount(b) - redCount(a) || openCount(b) - openCount(a);
    });
    var casePane = map.getPane(CASE_PANE), cases = [];
    if (casePane) {
      casePane.querySelectorAll('.gw-inc').forEach(function (m) {
        cases.push(m.getBoundingClientRect());
      });
    }
    var placed = [];
    var frame = map.getContainer().getBoundingClientRect();
    boxes.forEach(function (b) { place(b, placed, cases, frame); });
  }

  // The map's state class (city zoom: labels pulse for reds) and a declutter when its
  // labels or view changed; called by live.js's follow loop.
  function tend(map) {
    if (!map || !map.getPane(LABEL_PANE)) { return; }
    var el = map.getContainer(), city = cityZoom(map);
    el.classList.toggle('gw-zoom-city', city);
    var pane = map.getPane(LABEL_PANE), casePane = map.getPane(CASE_PANE);
    var sig = [map.getZoom(), map.getCenter().toString(), el.clientWidth, el.clientHeight,
      pane.textContent, casePane ? casePane.childElementCount : 0].join('|');
    // dash-leaflet redraws the labels when their counts change: new boxes are not placed yet
    if (sig !== tend.sig || pane.querySelector('.gw-rlabel-in:not([data-gw-placed])')) {
      tend.sig = sig;
      declutter(map);
    }
  }

  GW.citymap = {CASE_ZOOM: CASE_ZOOM, shows: shows, declutter: declutter, tend: tend,
    cityZoom: cityZoom, hdZoom: hdZoom};
})();
