"""The live page by kind and the players' scripts: only /video/live/<id> loads hls.js or
mpegts.js (the Dash pages do not), the camera API links HLS / FLV cameras to it, names are text."""
from __future__ import annotations

from domain.access import Role, User
from domain.regions import Level
from domain.video import Camera, CameraKind
from feeds.accounts import auth
from feeds.store.client import sync_client
from feeds.video.registry import save_cameras


def test_players_load_on_the_live_page_only(redis_url, city_ctx):
    from dashboard.app import create_app as make
    from dashboard.auth import SESSION_COOKIE
    from dashboard.config import DashboardConfig

    client = sync_client(redis_url)
    town = city_ctx.towns[0]
    grid = next(city_ctx.hierarchy.descendants(town, Level.GRID)).code
    p = city_ctx.city.shapes[grid].representative_point()
    save_cameras(client, [
        Camera("liveH", "<b>HLS</b>", p.x, p.y, grid, "http://u:pw@10.0.0.9/a/index.m3u8",
               CameraKind.HLS),
        Camera("liveF", "FLV", p.x, p.y, grid, "http://10.0.0.9/live/ch1.flv", CameraKind.FLV),
        Camera("liveM", "MJPEG", p.x, p.y, grid, "http://10.0.0.9/m.mjpg")])
    http = make(DashboardConfig(), city_ctx, client).server.test_client()
    http.set_cookie(SESSION_COOKIE, auth.open_session(client, User("v", Role.VIEWER, town)))
    index = http.get(f"/town/{town}").get_data(as_text=True)
    assert "/assets/video.js" in index  # the other assets are on it
    assert "hls.min.js" not in index and "mpegts.js" not in index and "liveplayer" not in index
    hls = http.get("/video/live/liveH")
    body = hls.get_data(as_text=True)
    assert hls.status_code == 200 and "/assets/vendor/hls.js-1.7.4/hls.min.js" in body
    assert 'data-src="/video/camera/liveH/live/index.m3u8"' in body and "10.0.0.9" not in body
    assert "&lt;b&gt;HLS&lt;/b&gt;" in body and "<b>HLS" not in body
    csp = hls.headers["Content-Security-Policy"]
    assert "media-src 'self' data: blob:" in csp and "worker-src 'self' blob:" in csp
    assert "mpegts.js-1.8.2/mpegts.js" in http.get("/video/live/liveF").get_data(as_text=True)
    assert '<img id="gw-live"' in http.get("/video/live/liveM").get_data(as_text=True)
    cams = {c["id"]: c for c in http.get(f"/api/v1/cameras?region={town}").json["cameras"]}
    assert cams["liveH"]["stream_url"] == "/video/live/liveH"
    assert cams["liveF"]["stream_url"] == "/video/live/liveF"
    assert cams["liveM"]["stream_url"] == "/video/camera/liveM.mjpg"
    assert http.get("/video/camera/liveM/live/m.mjpg").status_code == 404  # not a browser kind
    assert http.get("/video/camera/liveH/live/../x").status_code == 404
