"""Gridwatch behind Debian's real nginx with TLS, configured by docker/nginx.conf as the README
shows: Chromium signs in over https, the map goes live over wss:// through nginx, cookies are
Secure, the audit shows the client's address from X-Forwarded-For, a foreign Origin is
refused the push channel."""
from __future__ import annotations

import asyncio
import csv
import io
import os
import signal
import ssl
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import orjson
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from feeds.store.embedded import free_port, wait_port
from tests.support import CHROMIUM, login, running_demo

NGINX = "/usr/sbin/nginx"
EXAMPLE = Path(__file__).resolve().parents[2] / "docker" / "nginx.conf"
UPSTREAM_FROM = "127.0.0.2"  # nginx talks to Gridwatch from here: not the browser's address
pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="no /usr/bin/chromium"),
              pytest.mark.skipif(not os.path.exists(NGINX), reason="no nginx (make system-deps)")]


def certificate(d: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (openssl)."""
    crt, key = d / "gw.crt", d / "gw.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-keyout", str(key), "-out", str(crt), "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True,
                   capture_output=True)
    return crt, key


def nginx_conf(d: Path, port: int, web: int, push: int) -> Path:
    """docker/nginx.conf on loopback ports: upstreams, listen, certificate and files in `d`."""
    crt, key = certificate(d)
    text = EXAMPLE.read_text()
    for old, new in {
        "server web:8050;": f"server 127.0.0.1:{web};",
        "server push:8766;": f"server 127.0.0.1:{push};",
        "listen 443 ssl;": f"listen 127.0.0.1:{port} ssl;",
        "listen 80;": f"listen 127.0.0.1:{free_port()};",
        "/etc/nginx/tls/gridwatch.crt": str(crt),
        "/etc/nginx/tls/gridwatch.key": str(key),
        "worker_processes auto;": f"worker_processes 1;\npid {d}/nginx.pid;\n"
                                  f"error_log {d}/error.log info;",
        "http {": f"http {{\n    access_log {d}/access.log;\n"
                  f"    proxy_bind {UPSTREAM_FROM};\n"
                  + "".join(f"    {k}_temp_path {d}/{k};\n"
                            for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")),
    }.items():
        assert old in text, old
        text = text.replace(old, new, 1)
    conf = d / "nginx.conf"
    conf.write_text(text)
    return conf


def push_frame(url: str, cookie: str, origin: str) -> str:
    """Open the push channel through nginx with an Origin: the first frame's type, or the
    HTTP status it was refused with."""
    tls = ssl.create_default_context()
    tls.check_hostname, tls.verify_mode = False, ssl.CERT_NONE

    async def go() -> str:
        try:
            async with connect(url, ssl=tls, origin=origin, max_size=None,
                               additional_headers={"Cookie": cookie}) as ws:
                return orjson.loads(await ws.recv())["type"]
        except InvalidStatus as e:
            return str(e.response.status_code)

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, go()).result(30)


def test_behind_nginx_with_tls(redis_url, demo_dir: Path, tmp_path: Path, browser, monkeypatch):
    port = free_port()
    public = f"https://127.0.0.1:{port}"
    monkeypatch.setenv("GRIDWATCH_PUBLIC_URL", public)
    monkeypatch.setenv("GRIDWATCH_PROXY_HOPS", "1")
    nx = tmp_path / "nginx"
    nx.mkdir()
    with running_demo(demo_dir, tmp_path / "demo", "--no-sim", "--history-days", "0",
                      "--redis-url", redis_url) as demo:
        conf = nginx_conf(nx, port, demo.port, demo.live_port)
        proc = subprocess.Popen([NGINX, "-p", str(nx), "-c", str(conf), "-g", "daemon off;"],
                                stdout=subprocess.DEVNULL, stderr=(nx / "stderr").open("wb"))
        try:
            wait_port(port, 10)
            check_through_nginx(browser, public)
        finally:
            os.kill(proc.pid, signal.SIGQUIT)  # by its PID: graceful stop
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def check_through_nginx(browser, public: str) -> None:
    """Everything a user of the https origin sees."""
    context = browser.new_context(ignore_https_errors=True, bypass_csp=True,
                                  viewport={"width": 1400, "height": 900})
    sockets: list[str] = []
    page = context.new_page()
    page.on("websocket", lambda ws: sockets.append(ws.url))
    login(page, public)
    page.goto(public + "/")
    page.wait_for_selector("#gw-conn.gw-conn--open", timeout=30_000)  # the map is live
    assert any(u.startswith(f"wss://{public[8:]}/live") for u in sockets), sockets
    cookies = {c["name"]: c for c in context.cookies()}
    session = cookies["__Host-gw_session"]
    assert session["secure"] and session["httpOnly"] and session["path"] == "/"
    assert all(c["secure"] for c in cookies.values()), cookies
    audit = context.request.get(public + "/admin/audit.csv")
    assert audit.status == 200
    rows = list(csv.DictReader(io.StringIO(audit.text())))
    logins = [r for r in rows if "login" in r.values()]
    assert logins and any("127.0.0.1" in " ".join(r.values()) for r in logins), repr(logins)
    assert not any(UPSTREAM_FROM in " ".join(r.values()) for r in rows)
    cookie = f"__Host-gw_session={session['value']}"
    wss = f"wss://{public[8:]}/live"
    assert push_frame(wss, cookie, public) == "sync"
    assert push_frame(wss, cookie, "https://evil.example") == "403"
    context.close()
