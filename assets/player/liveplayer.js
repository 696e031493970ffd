// The live page (dashboard/video_live.py): plays the camera's stream by its kind — HLS with
// hls.js (or the browser's own HLS), HTTP-FLV / MPEG-TS with mpegts.js, MJPEG in an <img> —
// and says what it is doing in #gw-live-state (text, and data-state for tests and styles).
(function () {
  'use strict';
  var el = document.getElementById('gw-live');
  var state = document.getElementById('gw-live-state');
  if (!el || !state) { return; }
  function say(text) { state.textContent = text; el.setAttribute('data-state', text); }
  function count(name) {
    el.setAttribute(name, String(Number(el.getAttribute(name) || 0) + 1));
  }
  var kind = el.getAttribute('data-kind');
  var src = el.getAttribute('data-src');
  if (kind === 'mjpeg') {
    el.addEventListener('load', function () { say('playing'); });
    el.addEventListener('error', function () { say('error: stream unavailable'); });
    return;
  }
  el.addEventListener('playing', function () { say('playing'); });
  el.addEventListener('waiting', function () { say('buffering'); });

  function playHls() {
    if (window.Hls && window.Hls.isSupported()) {
      var hls = new window.Hls({liveSyncDurationCount: 2, enableWorker: true});
      hls.on(window.Hls.Events.MEDIA_ATTACHED, function () { el.setAttribute('data-mse', '1'); });
      hls.on(window.Hls.Events.FRAG_BUFFERED, function () { count('data-fragments'); });
      hls.on(window.Hls.Events.ERROR, function (_e, d) {
        if (d.fatal) { say('error: ' + d.type + ' ' + d.details); }
      });
      hls.loadSource(src);
      hls.attachMedia(el);
    } else if (el.canPlayType('application/vnd.apple.mpegurl')) {
      el.src = src;  // Safari plays HLS itself
    } else {
      say('error: this browser plays no HLS (no Media Source Extensions)');
    }
  }

  function playFlv() {
    var m = window.mpegts;
    if (!m || !m.getFeatureList().mseLivePlayback) {
      say('error: this browser plays no live FLV / MPEG-TS (no Media Source Extensions)');
      return;
    }
    var type = /\.ts(\?|$)/.test(src) ? 'mpegts' : 'flv';
    var player = m.createPlayer({type: type, isLive: true, url: src},
                                {enableStashBuffer: false, liveBufferLatencyChasing: true});
    player.on(m.Events.ERROR, function (t, d) { say('error: ' + t + ' ' + d); });
    player.on(m.Events.STATISTICS_INFO, function (s) {
      el.setAttribute('data-decoded', String(s.decodedFrames || 0));
    });
    player.attachMediaElement(el);
    el.setAttribute('data-mse', '1');
    player.load();
    var p = player.play();
    if (p && p.catch) { p.catch(function (e) { say('error: ' + e.message); }); }
  }

  say('connecting');
  if (kind === 'hls') { playHls(); } else if (kind === 'flv') { playFlv(); }
})();
