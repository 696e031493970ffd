"""The OsmAnd protocol (Traccar Client and other GPS-tracker apps) as a gateway adapter."""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import orjson

from feeds.ingest.config import ClientLimits
from feeds.ingest.gateway import Gateway
from feeds.ingest.protocol import Refused, decode_one
from feeds.store import keys

log = logging.getLogger(__name__)

KNOT_MPS = 0.514444
MAX_BODY = 64 * 1024
DeviceOfficer = Callable[[str], Awaitable[str | None]]


class OsmandError(ValueError):
    """A request that is not a usable OsmAnd fix; the message says why."""


def _num(fields: Mapping[str, str], *names: str) -> float | None:
    for n in names:
        v = fields.get(n)
        if v not in (None, ""):
            try:
                return float(v)
            except ValueError:
                raise OsmandError(f"{n}: not a number: {v!r}") from None
    return None


def parse_time(value: Any) -> float:
    """Epoch seconds from epoch s, epoch ms, 'yyyy-MM-dd HH:mm:ss' (UTC) or ISO 8601."""
    if isinstance(value, int | float) or (isinstance(value, str) and value.replace(
            ".", "", 1).isdigit()):
        ts = float(value)
        return ts / 1000 if ts > 1e11 else ts
    if isinstance(value, str) and value:
        text = value.strip().replace("Z", "+00:00")
        try:
            dt = datetime.fromisoformat(text)
        except ValueError:
            raise OsmandError(f"timestamp: not a time: {value!r}") from None
        if dt.tzinfo is None:  # trackers send UTC
            dt = dt.replace(tzinfo=UTC)
        return dt.timestamp()
    raise OsmandError("timestamp: missing")


def from_classic(fields: Mapping[str, str]) -> dict[str, Any]:
    """A fix from the classic form: query string or form body."""
    device = fields.get("id") or fields.get("deviceid")
    if not device:
        raise OsmandError("id: missing device id")
    lat, lon = _num(fields, "lat"), _num(fields, "lon")
    if (lat is None or lon is None) and fields.get("location"):
        try:
            lat, lon = (float(x) for x in fields["location"].split(","))
        except ValueError:
            raise OsmandError("location: expected 'lat,lon'") from None
    if lat is None or lon is None:
        raise OsmandError("lat/lon: missing position")
    speed = _num(fields, "speed")
    return {"device": device, "ts": parse_time(fields.get("timestamp", time.time())),
            "lat": lat, "lon": lon, "speed_mps": None if speed is None else speed * KNOT_MPS,
            "heading_deg": _num(fields, "bearing", "heading"),
            "accuracy_m": _num(fields, "accuracy", "hdop"), "battery": _num(fields, "batt")}


def from_json(body: Mapping[str, Any]) -> dict[str, Any]:
    """A fix from the JSON body current Traccar Client versions POST."""
    device = body.get("device_id")
    loc = body.get("location")
    if isinstance(loc, list):
        loc = loc[0] if loc else None
    if not device or not isinstance(loc, dict):
        raise OsmandError("device_id and location are required")
    coords = loc.get("coords") or {}
    if "latitude" not in coords or "longitude" not in coords:
        raise OsmandError("location.coords: latitude and longitude are required")
    battery = (loc.get("battery") or {}).get("level")
    speed = coords.get("speed")
    return {"device": str(device), "ts": parse_time(loc.get("timestamp", time.time())),
            "lat": coords["latitude"], "lon": coords["longitude"],
            "speed_mps": speed if isinstance(speed, int | float) and speed >= 0 else None,
            "heading_deg": coords.get("heading") if (coords.get("heading") or -1) >= 0 else None,
            "accuracy_m": coords.get("accuracy"),
            "battery": battery * 100 if isinstance(battery, int | float) and battery >= 0
            else None}


def parse_request(method: str, target: str, content_type: str, body: bytes) -> dict[str, Any]:
    """A fix from one HTTP request in any of the forms tracker apps send."""
    fields = dict(parse_qsl(urlsplit(target).query, keep_blank_values=True))
    if method == "POST" and body:
        if "json" in content_type or body.lstrip().startswith(b"{"):
            try:
                return from_json(orjson.loads(body))
            except orjson.JSONDecodeError:
                raise OsmandError("body: not JSON") from None
        fields.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    elif method not in ("GET", "POST"):
        raise OsmandError(f"method {method} not supported")
    return from_classic(fields)


def position_message(fix: Mapping[str, Any], officer_id: str) -> dict[str, Any]:
    """The terminal-protocol position message of a fix (msg_id stable across retries)."""
    msg = {"type": "position", "msg_id": f"osmand-{fix['device']}-{int(fix['ts'] * 1000)}",
           "officer_id": officer_id, "ts": fix["ts"], "lat": fix["lat"], "lon": fix["lon"]}
    for k in ("speed_mps", "heading_deg", "accuracy_m", "battery"):
        if fix.get(k) is not None:
            msg[k] = fix[k]
    return msg


def device_officer(client: Any) -> DeviceOfficer:
    """Look up the officer a registered device belongs to (async Redis client)."""
    async def lookup(device_id: str) -> str | None:
        raw = await client.hget(keys.DEVICES, device_id)
        return orjson.loads(raw)["officer"] if raw else None
    return lookup


class OsmandServer:
    """HTTP/1.1 endpoint of the OsmAnd protocol; stores fixes through the gateway."""

    def __init__(self, gateway: Gateway, device_officer: DeviceOfficer,
                 limits: ClientLimits | None = None):
        self.gateway = gateway
        self.device_officer = device_officer
        self.limits = limits or ClientLimits()
        self.stats = {"ok": 0, "bad": 0, "timed_out": 0, "refused": 0}
        self.open = 0  # connections now open

    async def handle(self, method: str, target: str, ctype: str, body: bytes,
                     peer: str) -> tuple[int, str]:
        """Answer one request: (status, reason)."""
        now = time.time()
        raw = body.decode("utf-8", "replace") if body else target
        try:
            fix = parse_request(method, target, ctype, body)
        except OsmandError as e:
            return await self._refuse(None, str(e), raw, peer, now)
        officer = await self.device_officer(fix["device"])
        if officer is None:
            return await self._refuse(None, f"id: unknown device {fix['device']!r}", raw, peer,
                                      now)
        item = decode_one(position_message(fix, officer), now)
        routed = self.gateway.route(item, None)
        [answer] = await self.gateway.store([routed], f"osmand:{fix['device']}@{peer}", now,
                                            officer)
        if "ack" in answer:
            self.stats["ok"] += 1
            return 200, "OK"
        self.stats["bad"] += 1
        return (503 if "retry" in answer["error"] else 400), answer["error"]

    async def _refuse(self, msg_id: str | None, reason: str, raw: str, peer: str,
                      now: float) -> tuple[int, str]:
        self.stats["bad"] += 1
        await self.gateway.store([Refused(msg_id, reason, raw)], f"osmand@{peer}", now)
        return 400, reason

    async def serve_connection(self, reader: asyncio.StreamReader,
                               writer: asyncio.StreamWriter) -> None:
        """Serve requests on one keep-alive connection (closed when idle or half-sent for
        read_timeout_s, refused past max_connections)."""
        if self.open >= self.limits.max_connections:
            self.stats["refused"] += 1
            writer.write(_answer(503, b"Service Unavailable", b"too many connections"))
            writer.close()
            return
        self.open += 1
        try:
            await self._serve(reader, writer)
        except TimeoutError:
            self.stats["timed_out"] += 1
        except (ConnectionError, asyncio.IncompleteReadError, ValueError):
            pass
        finally:
            self.open -= 1
            writer.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        host, port = writer.get_extra_info("peername")[:2]
        peer = f"{host}:{port}"
        while True:
            req = await asyncio.wait_for(_read_request(reader, self.limits.max_headers),
                                         self.limits.read_timeout_s)
            if req is None:
                return
            method, target, headers, body = req
            status, reason = await self.handle(method, target,
                                               headers.get("content-type", ""), body, peer)
            text = b"" if status == 200 else reason.encode()
            writer.write(_answer(status, b"OK" if status == 200 else b"Bad Request", text))
            await writer.drain()
            if headers.get("connection", "").lower() == "close":
                return


def _answer(status: int, phrase: bytes, text: bytes) -> bytes:
    return (b"HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\n"
            b"Content-Length: %d\r\n\r\n%s" % (status, phrase, len(text), text))


async def _read_request(reader: asyncio.StreamReader, max_headers: int
                        ) -> tuple[str, str, dict[str, str], bytes] | None:
    line = await reader.readline()
    if not line:
        return None
    parts = line.decode("latin-1").split()
    if len(parts) != 3:
        raise ValueError("bad request line")
    headers: dict[str, str] = {}
    while True:
        h = await reader.readline()
        if h in (b"\r\n", b"\n", b""):
            break
        if len(headers) >= max_headers:
            raise ValueError("too many headers")
        k, _, v = h.decode("latin-1").partition(":")
        headers[k.strip().lower()] = v.strip()
    length = int(headers.get("content-length", "0") or 0)
    if length > MAX_BODY:
        raise ValueError("body too large")
    body = await reader.readexactly(length) if length else b""
    return parts[0].upper(), parts[1], headers, body


async def serve_osmand(server: OsmandServer, host: str, port: int, stop: asyncio.Event,
                       ready: Callable[[int], None] | None = None,
                       reuse_port: bool = False) -> None:
    """Listen for OsmAnd requests until `stop` is set (`reuse_port`: SO_REUSEPORT)."""
    srv = await asyncio.start_server(server.serve_connection, host, port, reuse_port=reuse_port,
                                     limit=server.limits.max_header_bytes, backlog=1024)
    bound = srv.sockets[0].getsockname()[1]
    log.info("OsmAnd (Traccar Client) endpoint on http://%s:%s/", host, bound)
    if ready:
        ready(bound)
    async with srv:
        await stop.wait()
