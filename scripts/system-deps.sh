#!/usr/bin/env bash
# Installs the Debian packages the tests need (Chromium, redis-server, redis-sentinel, CJK
# fonts, nginx, openssl, gettext) if missing.
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v redis-cli >/dev/null 2>&1 || need+=(redis-tools)
# the Sentinel tests (redis+sentinel:// URLs, failover) start real redis-sentinel processes
command -v redis-sentinel >/dev/null 2>&1 || need+=(redis-sentinel)
fc-list 2>/dev/null | grep -qi "noto.*cjk" || need+=(fonts-noto-cjk)
# the TLS reverse-proxy test runs Debian's nginx with a certificate made by openssl
[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null 2>&1 || need+=(nginx)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
# GNU msgfmt checks the translations' .po files as translators' tools (Poedit) do
command -v msgfmt >/dev/null 2>&1 || need+=(gettext)
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
