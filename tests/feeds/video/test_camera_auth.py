"""Cameras behind Basic and Digest auth: a real HTTP camera on a loopback port answers 401 with
an RFC 7616 MD5 Digest challenge (or Basic) and streams MJPEG only with the right credentials;
the capture worker reads it with the URL's credentials, a wrong password shows the camera down
with the reason, and the password never reaches a log line or a health report."""
from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import cv2
import numpy as np
from requests.utils import parse_dict_header

from domain.video import Camera, CameraKind
from feeds.store.client import sync_client
from feeds.video.probe import probe
from feeds.video.registry import read_health
from tests.video_support import FAST, GRID, capture, wait_for

USER, PASSWORD, REALM = "admin", "s3cr#t pw", "IP Camera"
JPEG = cv2.imencode(".jpg", np.full((48, 64, 3), 90, np.uint8))[1].tobytes()


def _md5(s: str) -> str:
    return hashlib.md5(s.encode()).hexdigest()  # noqa: S324 (RFC 7616 MD5, as cameras use)


class _Camera(BaseHTTPRequestHandler):
    """/digest/…: Digest (MD5, qop=auth); /basic/…: Basic; MJPEG at 10 fps when let in."""

    nonces: set[str] = set()
    hosts: list[str] = []

    def log_message(self, *args: object) -> None:  # quiet
        return

    def _digest_ok(self, header: str) -> bool:
        if not header.startswith("Digest "):
            return False
        d = parse_dict_header(header[7:])
        if d.get("nonce") not in self.nonces or d.get("username") != USER:
            return False
        ha1 = _md5(f"{USER}:{REALM}:{PASSWORD}")
        ha2 = _md5(f"{self.command}:{d.get('uri')}")
        want = _md5(f"{ha1}:{d['nonce']}:{d.get('nc')}:{d.get('cnonce')}:{d.get('qop')}:{ha2}")
        return d.get("uri") == self.path and d.get("response") == want

    def _let_in(self) -> bool:
        got = self.headers.get("Authorization", "")
        if self.path.startswith("/digest/"):
            if self._digest_ok(got):
                return True
            nonce = secrets.token_hex(8)
            self.nonces.add(nonce)
            challenge = f'Digest realm="{REALM}", qop="auth", algorithm=MD5, nonce="{nonce}"'
        else:
            if got == "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode():
                return True
            challenge = f'Basic realm="{REALM}"'
        self.send_response(401)
        self.send_header("WWW-Authenticate", challenge)
        self.send_header("Content-Length", "0")
        self.end_headers()
        return False

    def do_HEAD(self) -> None:  # noqa: N802
        self.hosts.append(self.headers.get("Host", ""))
        if self._let_in():
            self.send_response(200)
            self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=fr")
            self.end_headers()

    def do_GET(self) -> None:  # noqa: N802
        self.hosts.append(self.headers.get("Host", ""))
        if not self._let_in():
            return
        self.send_response(200)
        self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=fr")
        self.end_headers()
        try:
            for _ in range(300):
                self.wfile.write(b"--fr\r\nContent-Type: image/jpeg\r\nContent-Length: "
                                 + str(len(JPEG)).encode() + b"\r\n\r\n" + JPEG + b"\r\n")
                self.wfile.flush()
                time.sleep(0.1)
        except OSError:
            pass


@contextmanager
def auth_camera() -> Iterator[str]:
    """The camera on a free loopback port; yields host:port."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Camera)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _cam(cid: str, url: str) -> Camera:
    return Camera(cid, f"门禁 {cid}", 113.75, 23.02, GRID, url, CameraKind.MJPEG)


def test_digest_and_basic_credentials_and_a_wrong_password(redis_url, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    quoted = PASSWORD.replace("#", "%23").replace(" ", "%20")
    with auth_camera() as host:
        cams = [_cam("dig", f"http://{USER}:{quoted}@{host}/digest/video.mjpg?ch=1"),
                _cam("bas", f"http://{USER}:{quoted}@{host}/basic/video.mjpg"),
                _cam("bad", f"http://{USER}:wrong@{host}/digest/video.mjpg"),
                _cam("none", f"http://{host}/digest/video.mjpg")]
        with capture(cams, redis_url, tmp_path, cfg=FAST) as cap:
            feeds = cap.service.feeds
            wait_for(lambda: feeds["dig"].seq >= 3 and feeds["bas"].seq >= 3)
            assert feeds["dig"].latest()[1] == JPEG
            client = sync_client(redis_url)
            h = wait_for(lambda: (r := read_health(client, cams))["dig"]["state"] == "online"
                         and r["bad"]["error"] and r)
            assert h["bas"]["state"] == "online"
            assert h["bad"]["state"] == "offline" and feeds["bad"].seq == 0
            assert h["bad"]["error"] == ("AuthError: camera refused the credentials of user "
                                         "'admin' (Digest auth, 401)")
            assert h["none"]["state"] == "offline"
            assert "the stream URL has none" in h["none"]["error"]
        assert all("@" not in hh and USER not in hh for hh in _Camera.hosts)  # Host: host:port
        for secret in (PASSWORD, quoted, "wrong"):
            assert secret not in caplog.text and secret not in str(h)


def test_probe_sends_the_credentials(tmp_path):
    quoted = PASSWORD.replace("#", "%23").replace(" ", "%20")
    with auth_camera() as host:
        ok = asyncio.run(probe(f"http://{USER}:{quoted}@{host}/digest/v.mjpg", 2))
        bad = asyncio.run(probe(f"http://{USER}:nope@{host}/digest/v.mjpg", 2))
        basic = asyncio.run(probe(f"http://{USER}:{quoted}@{host}/basic/v.mjpg", 2))
    assert ok == "" and basic == ""
    assert bad == "camera refused the credentials of user 'admin' (Digest auth, 401)"
