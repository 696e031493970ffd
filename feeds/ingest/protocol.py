"""Terminal protocol v1: pure decoding and validation of phone frames (sans I/O)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
import orjson
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, TypeAdapter, ValidationError

from domain.model import Status

MAX_BATCH = 2000
MAX_FUTURE_S = 300.0
MIN_TS = 946684800.0  # 2000-01-01
MAX_DATA_CHARS = 16 * 1024 * 1024  # an attachment's base64; its decoded limit is checked later


def _epoch(value: Any) -> float:
    """Accept epoch seconds (number) or an ISO 8601 string with a zone; return epoch seconds."""
    if isinstance(value, bool):
        raise ValueError("must be epoch seconds or ISO 8601")
    if isinstance(value, int | float):
        try:
            ts = float(value)
        except OverflowError:
            raise ValueError("is not a plausible time") from None
    elif isinstance(value, str):
        try:
            dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError("must be epoch seconds or ISO 8601") from None
        if dt.tzinfo is None:
            raise ValueError("ISO 8601 time needs a zone (Z or +08:00)")
        ts = dt.timestamp()
    else:
        raise ValueError("must be epoch seconds or ISO 8601")
    if not math.isfinite(ts) or ts < MIN_TS:
        raise ValueError("is not a plausible time")
    return ts


Epoch = Annotated[float, BeforeValidator(_epoch)]
MsgId = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[\w.:\-]+$")]
Ident = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[\w.:\-]+$")]
Lat = Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False)]
Lon = Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False)]


class _Msg(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    msg_id: MsgId
    ts: Epoch


class PositionMsg(_Msg):
    """An officer's position fix (WGS-84 as phones report it)."""

    type: Literal["position"]
    officer_id: Ident
    lat: Lat
    lon: Lon
    accuracy_m: float | None = Field(default=None, ge=0, le=100_000)
    speed_mps: float | None = Field(default=None, ge=0, le=200)
    heading_deg: float | None = Field(default=None, ge=0, le=360)
    battery: float | None = Field(default=None, ge=0, le=100)


class IncidentMsg(_Msg):
    """A case reported from the field."""

    type: Literal["incident"]
    incident_id: Ident
    officer_id: Ident
    lat: Lat
    lon: Lon
    category: Annotated[str, Field(min_length=1, max_length=40)]
    title: Annotated[str, Field(min_length=1, max_length=200)]
    description: Annotated[str, Field(max_length=4000)] = ""
    severity: int = Field(default=0, ge=0, le=3)


class IncidentUpdateMsg(_Msg):
    """A change of a case's status, with an optional note."""

    type: Literal["incident_update"]
    incident_id: Ident
    status: Status
    note: Annotated[str, Field(max_length=2000)] = ""


class DutyMsg(_Msg):
    """An officer going on or off duty."""

    type: Literal["duty"]
    officer_id: Ident
    on_duty: bool


class AttachmentMsg(_Msg):
    """A photo of a case from the field, base64 (checked as an image by feeds.ingest.photos)."""

    type: Literal["attachment"]
    incident_id: Ident
    officer_id: Ident
    mime: Literal["image/jpeg", "image/png"]
    data: Annotated[str, Field(min_length=1, max_length=MAX_DATA_CHARS)]

    def raw(self) -> dict[str, Any]:
        """The message for a dead letter: the image's data shortened to its length."""
        return {**self.model_dump(mode="json", exclude={"data"}),
                "data": f"<{len(self.data)} base64 chars>"}


Message = PositionMsg | IncidentMsg | IncidentUpdateMsg | DutyMsg | AttachmentMsg
TYPES = ("position", "incident", "incident_update", "duty", "attachment")
_ADAPTER: TypeAdapter[Message] = TypeAdapter(
    Annotated[Message, Field(discriminator="type")])


@dataclass(frozen=True)
class Refused:
    """A message (or frame) that was not accepted, and why."""

    msg_id: str | None
    reason: str
    raw: Any


def _reason(err: ValidationError) -> str:
    parts = []
    for e in err.errors()[:5]:
        loc = [str(p) for p in e["loc"] if p not in TYPES]
        where = ".".join(loc) or "message"
        msg = e["msg"].removeprefix("Value error, ")
        parts.append(f"{where}: {msg}")
    return "; ".join(parts)


def _shortened(obj: dict[str, Any]) -> dict[str, Any]:
    """A refused message for the dead letters, a long `data` field cut to its length."""
    data = obj.get("data")
    if isinstance(data, str) and len(data) > 200:
        return {**obj, "data": f"<{len(data)} chars>"}
    return obj


def decode_one(obj: Any, now: float) -> Message | Refused:
    """Validate one decoded JSON value as a protocol message."""
    msg_id = obj.get("msg_id") if isinstance(obj, dict) else None
    msg_id = msg_id if isinstance(msg_id, str) and msg_id else None
    if not isinstance(obj, dict):
        return Refused(None, "message must be a JSON object", obj)
    if obj.get("type") not in TYPES:
        shown = repr(obj.get("type"))
        shown = shown if len(shown) <= 60 else shown[:57] + "..."
        return Refused(msg_id, f"type: unknown message type {shown}", obj)
    try:
        msg = _ADAPTER.validate_python(obj)
    except ValidationError as e:
        return Refused(msg_id, _reason(e), _shortened(obj))
    if msg.ts > now + MAX_FUTURE_S:
        return Refused(msg_id, "ts: is in the future", _shortened(obj))
    return msg


_PlainId = Annotated[str, msgspec.Meta(min_length=1, max_length=64,
                                       pattern=r"^[A-Za-z0-9_.:\-]+\Z")]
_PlainMsgId = Annotated[str, msgspec.Meta(min_length=1, max_length=128,
                                          pattern=r"^[A-Za-z0-9_.:\-]+\Z")]


def _bounded(low: float, high: float) -> Any:
    return Annotated[float, msgspec.Meta(ge=low, le=high)]


class QuickPosition(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    """A plainly valid position: what PositionMsg accepts, restricted to ASCII ids and plain
    numbers, checked in C. What it refuses goes to PositionMsg, which gives the reason.
    (Plain values only: not tracked by the garbage collector.)"""

    type: Literal["position"]
    msg_id: _PlainMsgId
    officer_id: _PlainId
    ts: _bounded(MIN_TS, 1e12)  # type: ignore[valid-type]
    lat: _bounded(-90.0, 90.0)  # type: ignore[valid-type]
    lon: _bounded(-180.0, 180.0)  # type: ignore[valid-type]
    accuracy_m: _bounded(0.0, 100_000.0) | None = None  # type: ignore[valid-type]
    speed_mps: _bounded(0.0, 200.0) | None = None  # type: ignore[valid-type]
    heading_deg: _bounded(0.0, 360.0) | None = None  # type: ignore[valid-type]
    battery: _bounded(0.0, 100.0) | None = None  # type: ignore[valid-type]


_OPTIONAL = ("accuracy_m", "speed_mps", "heading_deg", "battery")
_QUICK_FRAME = msgspec.json.Decoder(list[QuickPosition] | QuickPosition)


def position_body(q: QuickPosition) -> dict[str, Any]:
    """The fields PositionMsg.model_dump(exclude_none=True) gives for the same message."""
    body = {"msg_id": q.msg_id, "ts": q.ts, "type": "position", "officer_id": q.officer_id,
            "lat": q.lat, "lon": q.lon}
    return optional_fields(q, body)


def optional_fields(q: QuickPosition, body: dict[str, Any]) -> dict[str, Any]:
    """Add the optional fields that are set, in the model's order."""
    for name in _OPTIONAL:
        value = getattr(q, name)
        if value is not None:
            body[name] = value
    return body


def quick_position(obj: Any, now: float) -> QuickPosition | None:
    """A decoded JSON value as a plainly valid position, or None when PositionMsg must decide."""
    if type(obj) is not dict or obj.get("type") != "position":
        return None
    try:
        q = msgspec.convert(obj, QuickPosition)
    except msgspec.ValidationError:
        return None
    return q if q.ts <= now + MAX_FUTURE_S else None


def quick_frame(frame: str | bytes, now: float) -> tuple[list[QuickPosition], bool] | None:
    """A frame made only of plainly valid positions, decoded in one go; None otherwise."""
    try:
        data = _QUICK_FRAME.decode(frame)
    except (msgspec.ValidationError, msgspec.DecodeError):
        return None
    if isinstance(data, QuickPosition):
        return ([data], False) if data.ts <= now + MAX_FUTURE_S else None
    if not data or len(data) > MAX_BATCH:
        return None
    latest = now + MAX_FUTURE_S
    for q in data:
        if q.ts > latest:
            return None
    return data, True


def parse_frame(frame: str | bytes) -> tuple[list[Any] | Refused, bool]:
    """The JSON values of a frame (or why the frame is refused); the flag says batch."""
    try:
        data = orjson.loads(frame)
    except orjson.JSONDecodeError as e:
        text = frame if isinstance(frame, str) else frame.decode("utf-8", "replace")
        return Refused(None, f"frame is not JSON: {e}", text[:2000]), False
    if isinstance(data, list):
        if not data:
            return Refused(None, "empty batch", data), True
        if len(data) > MAX_BATCH:
            return Refused(None, f"batch of {len(data)} exceeds {MAX_BATCH}", None), True
        return data, True
    return [data], False


def decode(frame: str | bytes, now: float) -> tuple[list[Message | Refused], bool]:
    """Decode a frame into messages or refusals; the flag says whether it was a JSON array."""
    values, is_batch = parse_frame(frame)
    if isinstance(values, Refused):
        return [values], is_batch
    return [decode_one(o, now) for o in values], is_batch
