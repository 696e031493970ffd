"""GB/T 28181 platforms: a wvp-GB28181-pro channel list (its channel export as CSV, or the JSON of
its channel query) → camera registry rows with the stream and playback URLs of its ZLMediaKit
media server (docs/cameras.md "GB/T 28181 platforms")."""
from __future__ import annotations

import csv
import io
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import orjson

from domain.video import Camera
from feeds.geo.datum import to_datum
from feeds.geo.hierarchy import CityGeo
from feeds.video.registry import COLUMNS, CameraFileError, load_cameras, parse_cameras

log = logging.getLogger(__name__)

# wvp's field names over its versions (and its Chinese export headers) → ours
ALIASES = {
    "device_id": ("deviceId", "device_id", "设备编号", "设备国标编号"),
    "channel_id": ("channelId", "channel_id", "gbDeviceId", "通道编号", "通道国标编号"),
    "name": ("name", "gbName", "channelName", "名称", "通道名称"),
    "longitude": ("longitude", "gbLongitude", "lng", "经度"),
    "latitude": ("latitude", "gbLatitude", "lat", "纬度"),
    "status": ("status", "gbStatus", "onLine", "状态", "在线状态"),
}
ONLINE = {"on", "1", "true", "online", "在线"}
STREAMS = ("flv", "hls", "rtsp")


@dataclass(frozen=True)
class MediaServer:
    """Where a platform's ZLMediaKit serves its GB streams (app `rtp`, stream
    `<device id>_<channel id>`, wvp's default), and who records them."""

    url: str  # http(s)://host:port of ZLMediaKit's HTTP server
    stream: str = "flv"  # flv (HTTP-FLV), hls or rtsp
    rtsp_port: int = 554
    playback_url: str = ""  # a MediaMTX /get URL template with {device_id} {channel_id}
    app: str = "rtp"

    def stream_url(self, stream_id: str) -> tuple[str, str]:
        """The stream URL and kind of a GB stream id."""
        base, sid = self.url.rstrip("/"), quote(stream_id, safe="")
        if self.stream == "hls":
            return f"{base}/{self.app}/{sid}/hls.m3u8", "hls"
        if self.stream == "rtsp":
            u = urlsplit(base)
            return f"rtsp://{u.hostname}:{self.rtsp_port}/{self.app}/{sid}", "rtsp"
        return f"{base}/{self.app}/{sid}.live.flv", "flv"


@dataclass(frozen=True)
class Channel:
    """One channel of the export."""

    device_id: str
    channel_id: str
    name: str
    lon: float | None
    lat: float | None
    online: bool


def _pick(row: Mapping[str, Any], field: str) -> str:
    for key in ALIASES[field]:
        v = row.get(key)
        if v not in (None, ""):
            return str(v).strip()
    return ""


def read_export(path: Path) -> list[dict[str, Any]]:
    """The channel rows of an export: CSV with a header row, a JSON list, or wvp's JSON
    answer ({"data": {"list": [...]}} or {"data": [...]})."""
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix.lower() != ".json":
        return list(csv.DictReader(io.StringIO(text)))
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError as e:
        raise CameraFileError(f"{path}: not JSON: {e}") from None
    while isinstance(data, dict):
        data = data.get("data", data.get("list"))
        if isinstance(data, dict) and "list" in data:
            data = data["list"]
    if not isinstance(data, list):
        raise CameraFileError(f"{path}: no channel list (a JSON list, or data.list)")
    return [r for r in data if isinstance(r, dict)]


def channels(rows: Iterable[Mapping[str, Any]], source: str) -> list[Channel]:
    """Rows → channels; raises CameraFileError naming the rows without ids or with bad
    coordinates."""
    out, errors = [], []
    for n, row in enumerate(rows, start=2):
        dev, ch = _pick(row, "device_id"), _pick(row, "channel_id")
        if not dev or not ch:
            errors.append(f"{source} row {n}: {'device id' if not dev else 'channel id'} missing")
            continue
        try:
            lon = float(_pick(row, "longitude") or "nan")
            lat = float(_pick(row, "latitude") or "nan")
        except ValueError:
            errors.append(f"{source} row {n} ({ch}): longitude/latitude not numbers")
            continue
        located = lon == lon and lat == lat and (lon, lat) != (0.0, 0.0)  # nan / 0,0: none
        out.append(Channel(dev, ch, _pick(row, "name") or ch, lon if located else None,
                           lat if located else None,
                           _pick(row, "status").lower() in ONLINE))
    if errors:
        raise CameraFileError("\n".join(errors[:20]))
    return out


def registry_rows(chans: Iterable[Channel], media: MediaServer, city: CityGeo,
                  datum: str = "wgs84") -> tuple[list[dict[str, str]], list[str]]:
    """Registry CSV rows of the located channels, and the ids of those without a position
    (GB devices report WGS-84: converted to the city's datum)."""
    rows, unplaced = [], []
    for c in chans:
        if c.lon is None or c.lat is None:
            unplaced.append(c.channel_id)
            continue
        lon, lat = to_datum(c.lon, c.lat, datum, city.hierarchy.datum)
        sid = f"{c.device_id}_{c.channel_id}"
        url, kind = media.stream_url(sid)
        try:
            playback = media.playback_url.format(device_id=quote(c.device_id, safe=""),
                                                 channel_id=quote(c.channel_id, safe=""),
                                                 stream=quote(sid, safe=""))
        except (KeyError, IndexError, ValueError) as e:
            raise CameraFileError(f"--playback-url: bad placeholder {e}; use {{device_id}}, "
                                  "{channel_id} or {stream}") from None
        rows.append({"camera_id": f"gb-{sid}"[:64], "name": c.name[:100], "lon": f"{lon:.7f}",
                     "lat": f"{lat:.7f}", "grid": "", "stream_url": url, "kind": kind,
                     "recorder": "platform" if playback else "gridwatch",
                     "playback_url": playback})
    return rows, unplaced


def write_registry(out: Path, cams: list[Camera], city: CityGeo) -> int:
    """Merge cameras into a registry CSV (rows of the same id replaced, others kept);
    returns how many the file holds."""
    kept = [c for c in (load_cameras(out, city) if out.exists() else [])
            if c.camera_id not in {x.camera_id for x in cams}]
    every = kept + cams
    buf = io.StringIO()
    w = csv.DictWriter(buf, COLUMNS, lineterminator="\n")
    w.writeheader()
    for c in every:
        w.writerow({"camera_id": c.camera_id, "name": c.name, "lon": c.lon, "lat": c.lat,
                    "grid": c.grid, "stream_url": c.stream_url, "kind": c.kind.value,
                    "recorder": c.recorder.value, "playback_url": c.playback_url})
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(out.suffix + ".tmp")
    tmp.write_text(buf.getvalue(), encoding="utf-8")
    tmp.replace(out)
    return len(every)


def import_channels(export: Path, media: MediaServer, city: CityGeo, out: Path,
                    datum: str = "wgs84") -> dict[str, int]:
    """Import a platform's channel export into the registry CSV `out` (checked like any
    registry file); returns counts: channels, imported, online, unplaced, total."""
    chans = channels(read_export(export), str(export))
    rows, unplaced = registry_rows(chans, media, city, datum)
    cams = parse_cameras(rows, city, str(export))
    total = write_registry(out, cams, city)
    log.info("%s: %d channels, %d imported into %s", export, len(chans), len(cams), out)
    return {"channels": len(chans), "imported": len(cams), "unplaced": len(unplaced),
            "online": sum(c.online for c in chans if c.lon is not None), "total": total}
