/* Gridwatch display datum: positions of the push channel's frames drawn in the basemap's datum
 * (a port of feeds/geo/datum.py; tested against it in tests/browser/test_basemap_browser.py).
 * The page's root says data-datum="SRC>DST" when its hierarchy and basemap differ. */
(function () {
  'use strict';
  var GW = window.gridwatch = window.gridwatch || {};
  var A = 6378245.0, EE = 0.00669342162296594323, PI = Math.PI;

  function outOfChina(lon, lat) {
    return !(lon >= 72.004 && lon <= 137.8347 && lat >= 0.8293 && lat <= 55.8271);
  }

  function offset(lon, lat) {
    var x = lon - 105.0, y = lat - 35.0, sin = Math.sin;
    var wave = (20.0 * sin(6.0 * x * PI) + 20.0 * sin(2.0 * x * PI)) * 2.0 / 3.0;
    var dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y +
      0.2 * Math.sqrt(Math.abs(x)) + wave;
    dlat += (20.0 * sin(y * PI) + 40.0 * sin(y / 3.0 * PI)) * 2.0 / 3.0;
    dlat += (160.0 * sin(y / 12.0 * PI) + 320.0 * sin(y * PI / 30.0)) * 2.0 / 3.0;
    var dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y +
      0.1 * Math.sqrt(Math.abs(x)) + wave;
    dlon += (20.0 * sin(x * PI) + 40.0 * sin(x / 3.0 * PI)) * 2.0 / 3.0;
    dlon += (150.0 * sin(x / 12.0 * PI) + 300.0 * sin(x / 30.0 * PI)) * 2.0 / 3.0;
    var radlat = lat / 180.0 * PI, magic = 1.0 - EE * Math.pow(sin(radlat), 2);
    var sq = Math.sqrt(magic);
    return [(dlon * 180.0) / (A / sq * Math.cos(radlat) * PI),
      (dlat * 180.0) / ((A * (1.0 - EE)) / (magic * sq) * PI)];
  }

  function toGcj(lon, lat) {
    if (outOfChina(lon, lat)) { return [lon, lat]; }
    var d = offset(lon, lat);
    return [lon + d[0], lat + d[1]];
  }

  function toWgs(lon, lat) {  // fixed-point iteration, as the Python inverse
    if (outOfChina(lon, lat)) { return [lon, lat]; }
    var w = [lon, lat];
    for (var i = 0; i < 30; i++) {
      var g = toGcj(w[0], w[1]), e0 = g[0] - lon, e1 = g[1] - lat;
      w = [w[0] - e0, w[1] - e1];
      if (Math.abs(e0) < 1e-9 && Math.abs(e1) < 1e-9) { break; }
    }
    return w;
  }

  function family(d) { return d === 'gcj02' ? 'gcj02' : 'wgs84'; }

  function convert(lon, lat, src, dst) {
    if (!src || !dst || family(src) === family(dst)) { return [lon, lat]; }
    return family(dst) === 'gcj02' ? toGcj(lon, lat) : toWgs(lon, lat);
  }

  function pair() {
    var root = document.getElementById('gw-root');
    var v = (root && root.getAttribute('data-datum')) || '';
    var p = v.split('>');
    return p.length === 2 ? p : null;
  }

  GW.datum = {
    convert: convert,
    // stored (hierarchy) → drawn (basemap), and back for a viewport sent to the server
    toDisplay: function (lon, lat) {
      var p = pair();
      return p ? convert(lon, lat, p[0], p[1]) : [lon, lat];
    },
    fromDisplay: function (lon, lat) {
      var p = pair();
      return p ? convert(lon, lat, p[1], p[0]) : [lon, lat];
    }
  };
}());
