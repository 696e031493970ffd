"""Stream entries as typed models: the input streams' kinds, the live stream's frames."""
from __future__ import annotations

from typing import Any, Literal

import msgspec

from domain.alerts import AlertLevel
from domain.cases import Action
from domain.model import Incident, Status
from domain.tasks import TaskAction

# Each model lists its fields in the order the writers have always stored them, so that
# msgspec writes the very bytes orjson wrote from the dicts before. `type` is an ordinary
# field (msgspec would write a tag first); decode_entry() dispatches on it.


class PositionEntry(msgspec.Struct, kw_only=True, omit_defaults=True, frozen=True, gc=False):
    """An officer's fix as stored: datum lon/lat and the grid it falls in (plain values
    only: no cycles, so the garbage collector need not track the gateway's many)."""

    msg_id: str = ""
    ts: float
    type: Literal["position"]
    officer_id: str
    lat: float
    lon: float
    accuracy_m: float | None = None
    speed_mps: float | None = None
    heading_deg: float | None = None
    battery: float | None = None
    grid: str


class DutyEntry(msgspec.Struct, kw_only=True, frozen=True):
    """An officer going on or off duty."""

    msg_id: str = ""
    ts: float
    type: Literal["duty"]
    officer_id: str
    on_duty: bool


class IncidentEntry(msgspec.Struct, kw_only=True, frozen=True):
    """A case reported (from the field, Open311 or a replay), placed in its grid."""

    msg_id: str = ""
    ts: float
    type: Literal["incident"]
    incident_id: str
    officer_id: str = ""
    lat: float
    lon: float
    category: str
    title: str
    description: str = ""
    severity: int = 0
    grid: str


class UpdateEntry(msgspec.Struct, kw_only=True, frozen=True):
    """A change of a case's status reported from the field."""

    msg_id: str = ""
    ts: float
    type: Literal["incident_update"]
    incident_id: str
    status: Status
    note: str = ""


class LevelEntry(msgspec.Struct, kw_only=True, frozen=True):
    """The clock moved a case to another level (written by the state worker)."""

    type: Literal["level"]
    incident_id: str
    level: AlertLevel
    ts: float


class CommandEntry(msgspec.Struct, kw_only=True, omit_defaults=True, frozen=True):
    """A duty officer's action on a case (written by the dashboard and the API)."""

    type: Literal["command"]
    msg_id: str = ""
    incident_id: str
    action: Action
    by: str  # the user who acted (always written, maybe empty)
    ts: float
    officer_id: str = ""
    note: str = ""


class TaskEventEntry(msgspec.Struct, kw_only=True, frozen=True):
    """A task reached an officer's terminal or was acknowledged by it (written by the
    gateway into the case's town stream; the worker adds it to the case's timeline)."""

    type: Literal["task_event"]
    msg_id: str  # of this entry (dedup): "<kind>:<task msg_id>:<device>"
    kind: Literal["task_delivered", "task_acked"]
    incident_id: str
    task: str  # the task's msg_id
    action: TaskAction
    officer_id: str
    device: str
    ts: float


class PhotoEntry(msgspec.Struct, kw_only=True, frozen=True):
    """A photo of a case was stored from a terminal (written by the gateway into the case's
    town stream; the worker adds it to the case's timeline, and the case's pages redraw)."""

    type: Literal["photo"]
    msg_id: str  # of the attachment message
    incident_id: str
    photo_id: str  # content hash of the stored image
    mime: str
    officer_id: str
    ts: float


Entry = (PositionEntry | DutyEntry | IncidentEntry | UpdateEntry | LevelEntry | CommandEntry
         | TaskEventEntry | PhotoEntry)
KINDS: dict[str, type[Any]] = {"position": PositionEntry, "duty": DutyEntry,
                               "incident": IncidentEntry, "incident_update": UpdateEntry,
                               "level": LevelEntry, "command": CommandEntry,
                               "task_event": TaskEventEntry, "photo": PhotoEntry}


class TaskCase(msgspec.Struct, kw_only=True, frozen=True):
    """What a task tells the terminal about its case."""

    title: str
    category: str
    level: AlertLevel
    lat: float
    lon: float
    status: Status
    note: str = ""


class TaskMsg(msgspec.Struct, kw_only=True, frozen=True):
    """A task for an officer's terminals, exactly as terminal protocol v1 sends it down
    (stored so in the officer's task stream, field `m`)."""

    type: Literal["task"]
    msg_id: str
    incident_id: str
    action: TaskAction
    ts: float
    case: TaskCase


class _Kind(msgspec.Struct):
    type: str = ""


_KIND = msgspec.json.Decoder(_Kind)
_DECODERS = {k: msgspec.json.Decoder(t) for k, t in KINDS.items()}
_ENCODER = msgspec.json.Encoder()
encode = _ENCODER.encode  # the stored bytes of an entry, frame or case


def decode_entry(raw: bytes | str) -> Entry | None:
    """The typed entry of a stored input-stream message; None for a kind no one applies.
    Raises msgspec.DecodeError (a ValueError) for a malformed one."""
    decoder = _DECODERS.get(_KIND.decode(raw).type)
    return None if decoder is None else decoder.decode(raw)


def entry_of(fields: dict[str, Any]) -> Entry | None:
    """The typed entry of a message given as plain values (tests, benches, back-fill)."""
    kind = KINDS.get(fields.get("type", ""))
    return None if kind is None else msgspec.convert(fields, kind)


class CaseRecord(msgspec.Struct, kw_only=True, frozen=True):
    """The stored form of a case (its hash value and the live frames' whole cases)."""

    incident_id: str
    category: str
    title: str
    description: str = ""
    lat: float
    lon: float
    grid: str
    reported_ts: float
    officer_id: str = ""
    severity: int = 0
    status: Status = Status.REPORTED
    level: AlertLevel = AlertLevel.GREEN
    escalations: int = 0
    updated_ts: float = 0.0
    assignee: str = ""
    ack_ts: float | None = None
    dispatched_ts: float | None = None
    on_scene_ts: float | None = None
    resolved_ts: float | None = None
    closed_ts: float | None = None
    events: tuple[dict[str, Any], ...] = ()

    @classmethod
    def of(cls, inc: Incident) -> CaseRecord:
        """The stored form of a case."""
        return cls(**{f: getattr(inc, f) for f in cls.__struct_fields__})

    def incident(self) -> Incident:
        """The case this record stores."""
        return Incident(**{f: getattr(self, f) for f in self.__struct_fields__})


_CASE = msgspec.json.Decoder(CaseRecord)


def decode_case(raw: bytes | str) -> CaseRecord:
    """A stored case (raises msgspec.DecodeError, a ValueError, when malformed)."""
    return _CASE.decode(raw)


class Marker(msgspec.Struct, kw_only=True, frozen=True):
    """An open case as maps and lists show it (live frames, push channel, snapshots)."""

    id: str
    lon: float
    lat: float
    level: AlertLevel
    category: str
    title: str
    status: Status
    reported_ts: float
    grid: str
    assignee: str = ""
    due_ts: float | None = None


OfficerRow = tuple[str, float | None, float | None, int]  # [id, lon, lat, on_duty 0/1]


class LiveFrame(msgspec.Struct, kw_only=True, omit_defaults=True, frozen=True):
    """What the state worker publishes on a town's live stream after applying a batch."""

    ts: float
    town: str | None = None
    officers: list[OfficerRow] = []
    incidents: list[Marker] = []
    cases: list[CaseRecord] = []
    closed: list[str] = []
    counts: dict[str, int] | None = None  # present (maybe empty) when the counts changed


_LIVE = msgspec.json.Decoder(LiveFrame)


def decode_live(raw: bytes | str) -> LiveFrame:
    """A live-stream frame (raises msgspec.DecodeError, a ValueError, when malformed)."""
    return _LIVE.decode(raw)
