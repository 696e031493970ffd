#!/usr/bin/env bash
# Installs the Debian packages the tests and benches need (Chromium, redis-server,
# redis-tools, redis-sentinel, CJK fonts, nginx, openssl, gettext, ffmpeg, the GStreamer
# RTSP server) if missing.
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v redis-cli >/dev/null 2>&1 || need+=(redis-tools)
# bench.ingest prints redis-benchmark's XADD rate of the same server (also redis-tools)
command -v redis-benchmark >/dev/null 2>&1 || need+=(redis-tools)
# the Sentinel tests (redis+sentinel:// URLs, failover) start real redis-sentinel processes
command -v redis-sentinel >/dev/null 2>&1 || need+=(redis-sentinel)
# (grep without -q: with pipefail, -q closing the pipe early fails fc-list with SIGPIPE)
fc-list 2>/dev/null | grep -i "noto.*cjk" >/dev/null || need+=(fonts-noto-cjk)
# the TLS reverse-proxy test runs Debian's nginx with a certificate made by openssl
[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null 2>&1 || need+=(nginx)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
# GNU msgfmt checks the translations' .po files as translators' tools (Poedit) do
command -v msgfmt >/dev/null 2>&1 || need+=(gettext)
# the HLS live test plays segments ffmpeg writes; ffprobe checks the remuxed MP4 clips
command -v ffmpeg >/dev/null 2>&1 || need+=(ffmpeg)
# the RTSP test serves H.264 test frames from Debian's GStreamer RTSP server (python3-gi)
gst_ok() { /usr/bin/python3 -c "import gi; gi.require_version('GstRtspServer', '1.0')" \
  2>/dev/null && command -v gst-inspect-1.0 >/dev/null 2>&1 \
  && gst-inspect-1.0 x264enc >/dev/null 2>&1 && gst-inspect-1.0 rtph264pay >/dev/null 2>&1; }
gst_ok || need+=(python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-tools
  gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
  gstreamer1.0-plugins-ugly gstreamer1.0-libav)
# optional: with Compose on the machine a test validates docker/compose.yaml (no engine needed)
want=()
docker compose version >/dev/null 2>&1 || command -v docker-compose >/dev/null 2>&1 \
  || want+=(docker-compose)
[ ${#need[@]} -eq 0 ] && [ ${#want[@]} -eq 0 ] && exit 0
echo "installing system packages: ${need[*]} ${want[*]}"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
if ! command -v apt-get >/dev/null 2>&1; then
  [ ${#need[@]} -eq 0 ] && exit 0
  echo "please install: ${need[*]} (no apt-get on this machine)" >&2
  exit 1
fi
$SUDO apt-get update -qq
if [ ${#need[@]} -gt 0 ]; then
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
if [ ${#want[@]} -gt 0 ]; then
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${want[@]}" >/dev/null \
    || echo "could not install ${want[*]}: the Compose file check will be skipped"
fi
