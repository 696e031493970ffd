"""Media routes: the photos of a case and their thumbnails under /media/<incident>/<file>,
scoped like the case (region and category); only files the case lists are served."""
from __future__ import annotations

import io
from urllib.parse import quote

import flask
import redis

from domain.access import User
from domain.model import Incident
from domain.regions import town_of
from feeds.ingest.attachments import (
    PHOTO_ID,
    Attachment,
    MediaStore,
    media_names,
    read_attachments,
)
from feeds.live import reads
from feeds.live.context import CityContext

MIMES = {"jpg": "image/jpeg", "png": "image/png"}


def _text(status: int, message: str) -> flask.Response:
    return flask.Response(message + "\n", status, {"Content-Type": "text/plain; charset=utf-8",
                                                   "Cache-Control": "no-store"})


def case_attachments(client: redis.Redis, inc: Incident) -> list[Attachment]:
    """The photos recorded on a case."""
    return read_attachments(client, town_of(inc.grid), inc.incident_id)


def attachment_rows(client: redis.Redis, inc: Incident) -> list[dict[str, object]]:
    """A case's photos as API rows: id, mime, url, thumb_url, ts, officer_id."""
    base = f"/media/{quote(inc.incident_id, safe='')}"
    rows = []
    for a in case_attachments(client, inc):
        name, thumb = media_names(a)
        rows.append({"id": a.photo_id, "mime": a.mime, "url": f"{base}/{name}",
                     "thumb_url": f"{base}/{thumb}", "ts": a.ts, "officer_id": a.officer_id})
    return rows


def _photo_of(name: str) -> str | None:
    """The photo id a file name asks for, if it is one of the names media_names gives."""
    stem, _, ext = name.rpartition(".")
    if ext == "jpg" and stem.endswith("_thumb"):
        stem = stem.removesuffix("_thumb")
    elif ext not in MIMES:
        return None
    return stem if PHOTO_ID.match(stem) else None


def blueprint(ctx: CityContext, client: redis.Redis, media: MediaStore) -> flask.Blueprint:
    """The media routes (the login hook in dashboard.auth sets flask.g.user first)."""
    bp = flask.Blueprint("media", __name__)

    @bp.get("/media/<incident_id>/<name>")
    def photo(incident_id: str, name: str) -> flask.Response:
        user: User = flask.g.user
        inc = reads.read_incident(client, incident_id)
        if inc is None:
            return _text(404, "no such incident")
        if not user.may_see_region(inc.grid) or not user.may_see_category(
                ctx.rules.get(inc.category)):
            return _text(403, "incident outside your scope")
        photo_id = _photo_of(name)
        listed = {n for a in case_attachments(client, inc) if a.photo_id == photo_id
                  for n in media_names(a)}
        body = media.read(name) if name in listed else None
        if body is None:
            return _text(404, "no such photo on this case")
        resp = flask.send_file(io.BytesIO(body), mimetype=MIMES[name.rpartition(".")[2]],
                               etag=name, conditional=True, max_age=3600)
        resp.cache_control.public = False  # scoped: the browser may keep it, no shared cache
        resp.cache_control.private = True
        return resp

    return bp
