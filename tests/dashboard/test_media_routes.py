"""The photos of a case through the dashboard (the seeded world of scope_world.py): listed in
/api/v1/incidents/<id>, served under /media/ as the stored bytes, nothing else reachable
there; the case page shows them as thumbnails linking to the full image."""
from __future__ import annotations

import pytest

from domain.access import Role
from tests.dashboard.dash_client import render
from tests.dashboard.scope_world import World


def test_a_case_lists_its_photo_and_serves_it_and_its_thumbnail(world: World, tmp_path):
    http = world.client_for("village", Role.DUTY)
    inc = http.get("/api/v1/incidents/SCOPE-A1").get_json()
    [att] = inc["attachments"]
    photo = world.photos["SCOPE-A1"]
    assert att["id"] == photo and att["mime"] == "image/jpeg"
    assert att["officer_id"] == world.officers["A1"]
    assert att["url"] == f"/media/SCOPE-A1/{photo}.jpg"
    assert att["thumb_url"] == f"/media/SCOPE-A1/{photo}_thumb.jpg"
    full = http.get(att["url"])
    assert full.status_code == 200 and full.mimetype == "image/jpeg"
    assert full.data.startswith(b"\xff\xd8\xff")
    assert "private" in full.headers["Cache-Control"]
    assert "public" not in full.headers["Cache-Control"]
    thumb = http.get(att["thumb_url"])
    assert thumb.status_code == 200 and thumb.data.startswith(b"\xff\xd8\xff")
    assert http.get("/api/v1/incidents").get_json()["incidents"][0].get("attachments") is None


@pytest.mark.parametrize("path", [
    "/media/SCOPE-A1/..%2F..%2Fclips%2F{clip}.jpg", "/media/SCOPE-A1/%2e%2e%2fclips%2f{clip}.jpg",
    "/media/..%2Fclips/{clip}.jpg", "/media/SCOPE-A1/{photo}.jpg%00.png",
    "/media/SCOPE-A1/{photo}", "/media/SCOPE-A1/{photo}_thumb.png"])
def test_nothing_but_a_listed_photo_is_reachable_under_media(world: World, path: str):
    http = world.client_for("city", Role.ADMIN)
    url = path.format(clip=world.clips["SCOPE-A1"], photo=world.photos["SCOPE-A1"])
    r = http.get(url)
    assert r.status_code == 404 or r.mimetype == "text/html", url  # or Dash's page shell
    assert not r.data.startswith(b"\xff\xd8\xff"), url  # never a file


def test_the_case_page_shows_the_photo_as_a_thumbnail_linking_to_it(world: World):
    http = world.client_for("village", Role.DUTY)
    status, body = render(http, "/case/SCOPE-A1", "")
    photo, body = world.photos["SCOPE-A1"], body.replace("\\u002f", "/")  # Dash's JSON
    assert status == 200
    link = ('"src":"/media/SCOPE-A1/%s_thumb.jpg"},"type":"Img","namespace":'
            '"dash_html_components"},"className":"gw-photo-link","href":"/media/SCOPE-A1/%s.jpg"')
    assert link % (photo, photo) in body


def test_the_video_page_shows_the_case_photo_beside_the_clips(world: World):
    http = world.client_for("village", Role.DUTY)
    status, body = render(http, f"/video/{world.events['SCOPE-A1']}", "")
    photo, body = world.photos["SCOPE-A1"], body.replace("\\u002f", "/")
    assert status == 200
    assert f'"href":"/media/SCOPE-A1/{photo}.jpg"' in body
    assert f'"src":"/media/SCOPE-A1/{photo}_thumb.jpg"' in body
