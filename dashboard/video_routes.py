"""Video HTTP routes: camera snapshots and live streams, clips and posters, /api/v1/cameras;
every route scoped like the API, clip views and live streams audited."""
from __future__ import annotations

import logging
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import quote

import flask
import orjson
import redis

from dashboard import video_live
from dashboard.api_models import REGION, Cameras, Operation
from dashboard.api_models import Camera as CameraAnswer
from domain.access import User
from domain.regions import is_within, towns_covering
from domain.video import Camera, CameraKind, Clip, sign_ticket, valid_camera_id
from feeds.live.context import CityContext
from feeds.video.registry import read_camera, read_cameras, read_health, video_secret
from feeds.video.store import read_clip, read_event, record_view

log = logging.getLogger(__name__)

TICKET_TTL_S = 60  # a ticket only has to open the connection
SNAPSHOT_TIMEOUT_S = 3.0


def _json(data: Any, status: int = 200) -> flask.Response:
    return flask.Response(orjson.dumps(data), status, {"Content-Type": "application/json"})


def _text(status: int, message: str) -> flask.Response:
    return flask.Response(message + "\n", status, {"Content-Type": "text/plain; charset=utf-8",
                                                   "Cache-Control": "no-store"})


def camera_urls(camera_id: str, kind: CameraKind = CameraKind.MJPEG) -> dict[str, str]:
    """The dashboard's URLs of a camera's live view (the MJPEG re-stream, or the live page
    of an HLS / FLV camera) and snapshot."""
    q = quote(camera_id, safe="")
    live = f"/video/live/{q}" if kind.browser_plays else f"/video/camera/{q}.mjpg"
    return {"stream_url": live, "snapshot_url": f"/video/camera/{q}.jpg"}


def clip_urls(clip_id: str, container: str = "webm") -> dict[str, str]:
    """The dashboard's URLs of a clip (.webm or .mp4, its container) and its poster."""
    return {"src": f"/video/clip/{clip_id}.{container}", "poster": f"/video/clip/{clip_id}.jpg"}


class VideoRoutes:
    """Scope checks and the capture worker's address, shared by the routes."""

    def __init__(self, ctx: CityContext, client: redis.Redis, clips_dir: Path,
                 capture_port: int, capture_host: str = "127.0.0.1",
                 public_capture_url: str | None = None):
        self.ctx, self.client = ctx, client
        self.clips_dir = Path(clips_dir).resolve()  # send_file: a relative path is the package's
        self.capture = f"http://{capture_host}:{capture_port}"
        self.capture_port = capture_port
        self.public = public_capture_url.rstrip("/") if public_capture_url else None
        self._secret: bytes | None = None

    @property
    def secret(self) -> bytes:
        """The ticket key shared with the capture worker (read from Redis once)."""
        if self._secret is None:
            self._secret = video_secret(self.client)
        return self._secret

    def ticket(self, camera_id: str, kind: str) -> str:
        """A ticket for the capture worker's /snapshot or /stream of one camera."""
        return sign_ticket(self.secret, camera_id, kind, int(time.time()) + TICKET_TTL_S)

    def camera(self, camera_id: str, user: User) -> Camera | flask.Response:
        """The camera if the user may see it, else the error response."""
        cam = read_camera(self.client, camera_id) if valid_camera_id(camera_id) else None
        if cam is None:
            return _text(404, "no such camera")
        if not user.may_see_region(cam.grid):
            return _text(403, "camera outside your scope")
        return cam

    def clip(self, clip_id: str, user: User) -> Clip | flask.Response:
        """The clip if the user may see its event's case (region and category)."""
        clip = read_clip(self.client, clip_id) if clip_id.isalnum() else None
        if clip is None:
            return _text(404, "no such clip (it may have expired)")
        ev = read_event(self.client, clip.event_id)
        category = ev.category if ev else ""
        if not user.may_see_region(clip.grid) or not user.may_see_category(
                self.ctx.rules.get(category)):
            return _text(403, "clip outside your scope")
        return clip

    def send_clip(self, clip_id: str, ext: str, user: User) -> flask.Response:
        """A clip's file (Range requests answered) if the user may see it; audited."""
        clip = self.clip(clip_id, user)
        if isinstance(clip, flask.Response):
            return clip
        if clip.container != ext:
            return _text(404, f"clip {clip.clip_id} is a .{clip.container} file")
        path = self.clips_dir / f"{clip.clip_id}.{clip.container}"
        if not path.is_file():
            return _text(404, "clip file missing (it may have expired)")
        record_view(self.client, user, clip.clip_id, "video.view", clip.event_id)
        return flask.send_file(path, mimetype=clip.mime, conditional=True, max_age=0)

    def public_base(self) -> str:
        """Where browsers reach the capture worker: configured, else this host's name."""
        if self.public:
            return self.public
        host = flask.request.host
        name = host.rsplit(":", 1)[0] if not host.endswith("]") and ":" in host else host
        return f"{flask.request.scheme}://{name}:{self.capture_port}"

    def snapshot(self, cam: Camera) -> flask.Response:
        """A fresh JPEG of a camera, fetched from the capture worker."""
        url = (f"{self.capture}/snapshot/{quote(cam.camera_id, safe='')}.jpg?ticket="
               f"{self.ticket(cam.camera_id, 'snapshot')}")
        try:
            with urllib.request.urlopen(url, timeout=SNAPSHOT_TIMEOUT_S) as r:
                body, ts = r.read(), r.headers.get("X-Timestamp", "")
        except urllib.error.HTTPError as e:
            return _text(e.code if e.code in (404, 503) else 502,
                         e.read().decode(errors="replace").strip() or "capture worker error")
        except OSError as e:
            return _text(503, f"capture worker unreachable: {e}")
        return flask.Response(body, 200, {"Content-Type": "image/jpeg", "X-Timestamp": ts,
                                          "Cache-Control": "no-store"})


def blueprint(ctx: CityContext, client: redis.Redis, clips_dir: Path, capture_port: int,
              capture_host: str = "127.0.0.1",
              public_capture_url: str | None = None) -> flask.Blueprint:
    """The video routes (the login hook in dashboard.auth sets flask.g.user first)."""
    bp = flask.Blueprint("video", __name__)
    v = VideoRoutes(ctx, client, clips_dir, capture_port, capture_host, public_capture_url)

    @bp.get("/video/camera/<camera_id>.jpg")
    def snapshot(camera_id: str) -> flask.Response:
        cam = v.camera(camera_id, flask.g.user)
        return cam if isinstance(cam, flask.Response) else v.snapshot(cam)

    @bp.get("/video/camera/<camera_id>.mjpg")
    def stream(camera_id: str) -> flask.Response:
        user: User = flask.g.user
        cam = v.camera(camera_id, user)
        if isinstance(cam, flask.Response):
            return cam
        record_view(client, user, cam.camera_id, "video.live")
        target = (f"{v.public_base()}/stream/{quote(cam.camera_id, safe='')}.mjpg?ticket="
                  f"{v.ticket(cam.camera_id, 'stream')}")
        resp = flask.redirect(target, 302)
        resp.headers["Cache-Control"] = "no-store"
        return resp

    @bp.get("/video/clip/<clip_id>.webm", defaults={"ext": "webm"})
    @bp.get("/video/clip/<clip_id>.mp4", defaults={"ext": "mp4"})
    def clip_video(clip_id: str, ext: str) -> flask.Response:
        return v.send_clip(clip_id, ext, flask.g.user)

    @bp.get("/video/clip/<clip_id>.jpg")
    def clip_poster(clip_id: str) -> flask.Response:
        clip = v.clip(clip_id, flask.g.user)
        if isinstance(clip, flask.Response):
            return clip
        path = v.clips_dir / f"{clip.clip_id}.jpg"
        if not path.is_file():
            return _text(404, "poster missing")
        return flask.send_file(path, mimetype="image/jpeg", conditional=True, max_age=0)

    video_live.register(bp, v.camera, client)

    @bp.get("/api/v1/cameras")
    def cameras() -> flask.Response:
        user: User = flask.g.user
        code = flask.request.args.get("region") or user.scope
        if code not in ctx.hierarchy:
            return _json({"error": f"unknown region {code}"}, 404)
        if not user.may_see_region(code):
            return _json({"error": "region outside your scope"}, 403)
        rows = [CameraAnswer.model_validate(r) for r in camera_rows(client, ctx, code)]
        return _json(Cameras(region=code, cameras=rows, as_of=time.time()).wire())

    return bp


def camera_rows(client: redis.Redis, ctx: CityContext, region: str) -> list[dict[str, Any]]:
    """The cameras of a region with their health, as API / map rows (stream URLs are the
    dashboard's scoped routes, never the upstream URL, which may hold credentials)."""
    towns = towns_covering(region, ctx.towns)
    cams = [c for c in read_cameras(client, towns) if is_within(c.grid, region)]
    health = read_health(client, cams)
    return [{"id": c.camera_id, "name": c.name, "lon": c.lon, "lat": c.lat, "grid": c.grid,
             "kind": c.kind.value, "state": health[c.camera_id]["state"],
             "last_ts": health[c.camera_id]["last_ts"], **camera_urls(c.camera_id, c.kind)}
            for c in cams]


OPERATIONS = (Operation("/api/v1/cameras",
                        "Cameras of a region with their health (online, stale, offline)",
                        Cameras, (REGION,), (401, 403, 404, 429)),)
