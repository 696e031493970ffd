"""The JSON API's answers as pydantic models; /api/v1/openapi.json is generated from them."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, NonNegativeInt

from domain.alerts import LEVELS, AlertLevel
from domain.cases import DESK_ACTIONS
from domain.model import Incident as Case
from domain.model import Status
from domain.video import CameraKind, ClipState, EventStatus, FlagReason, Recorder
from domain.video import Health as CameraHealth

CAMERA_STATES = tuple(h.value for h in CameraHealth)


class Answer(BaseModel):
    """An API answer: built once from the domain's values, dumped as JSON."""

    model_config = ConfigDict(frozen=True)

    def wire(self) -> dict[str, Any]:
        """The answer as JSON-ready plain values, fields in their declared order."""
        return self.model_dump(mode="json")


class Error(Answer):
    """An error answer: why the request was refused."""

    error: str


class Health(Answer):
    """GET /health: the feed's lag and the worker's backlog, or why the store is down."""

    status: str
    feed_lag_s: float | None = None
    worker_pending: int | None = None
    time: float | None = None
    error: str | None = None

    def wire(self) -> dict[str, Any]:
        """Only the fields given: lag, backlog and time when up, the error when down."""
        return self.model_dump(mode="json", exclude_unset=True)


class LevelCounts(Answer):
    """Open cases by alert level."""

    green: NonNegativeInt
    yellow: NonNegativeInt
    red: NonNegativeInt

    @classmethod
    def of(cls, counts: dict[str, Any]) -> LevelCounts:
        """The level counts out of a counts mapping keyed by level."""
        return cls(**{lv: counts[lv] for lv in LEVELS})


class RegionRef(Answer):
    """A region named: its code, name and level."""

    code: str
    name: str
    level: str = Field(description="the level's key as the city declares it (Dongguan: city, "
                                   "town, village, grid)")


class RegionDetail(Answer):
    """GET /api/v1/regions/<code>: a region, its path from the city and its children."""

    code: str
    name: str
    name_en: str
    level: str
    level_name: str = Field(description="the level's display name (zh), as the city declares it")
    parent: str | None
    path: list[RegionRef] = Field(description="from the city down to the region")
    children: list[RegionRef]


class SummaryCounts(Answer):
    """What a region and everything below it holds."""

    towns: NonNegativeInt = Field(description="regions of the shard level (Dongguan's towns)")
    villages: NonNegativeInt = Field(description="regions of the level above the grids")
    grids: NonNegativeInt
    regions: dict[str, NonNegativeInt] = Field(
        default_factory=dict, description="regions per level key, every level at or below it")
    officers: NonNegativeInt
    officers_online: NonNegativeInt
    officers_on_duty: NonNegativeInt
    incidents_open: LevelCounts
    incidents_overdue: NonNegativeInt
    incidents_new_today: NonNegativeInt


class ChildSummary(Answer):
    """A child region: its open cases and its worst level (null with none open)."""

    code: str
    name: str
    level: str
    alert: AlertLevel | None
    incidents_open: LevelCounts


class Summary(Answer):
    """GET /api/v1/summary: counts of a region and its children."""

    region: RegionRef
    counts: SummaryCounts
    children: list[ChildSummary]
    as_of: float


class Incident(Answer):
    """A case in its stored form (the fields of feeds.live.state.incident_to_json)."""

    incident_id: str
    category: str
    title: str
    description: str
    lat: float
    lon: float
    grid: str
    reported_ts: float
    officer_id: str
    severity: int
    status: Status
    level: AlertLevel
    escalations: NonNegativeInt
    updated_ts: float
    assignee: str
    ack_ts: float | None
    dispatched_ts: float | None
    on_scene_ts: float | None
    resolved_ts: float | None
    closed_ts: float | None
    events: list[dict[str, Any]]

    @classmethod
    def of(cls, inc: Case) -> Incident:
        """The answer for one case."""
        return cls.model_validate(inc, from_attributes=True)


class Attachment(Answer):
    """A photo of a case from a terminal, served scoped under /media/."""

    id: str
    mime: Literal["image/jpeg", "image/png"]
    url: str
    thumb_url: str
    ts: float
    officer_id: str


class IncidentDetail(Incident):
    """One case with its photos (GET /api/v1/incidents/<id>)."""

    attachments: list[Attachment]

    @classmethod
    def with_attachments(cls, inc: Case, rows: list[dict[str, Any]]) -> IncidentDetail:
        """The answer for one case and its photos' rows."""
        return cls.model_validate({**Incident.of(inc).model_dump(), "attachments": rows})


class Incidents(Answer):
    """GET /api/v1/incidents: the open cases of a region."""

    region: str
    incidents: list[Incident]
    as_of: float


class Position(Answer):
    """An officer's last fix."""

    lon: float
    lat: float
    ts: float
    grid: str
    battery: float | None


class Officer(Answer):
    """An officer: home grid, last position (null if none yet) and duty."""

    officer_id: str
    name: str
    grid: str
    position: Position | None
    on_duty: bool


class Officers(Answer):
    """GET /api/v1/officers: the officers of a region."""

    region: str
    officers: list[Officer]
    as_of: float


class Camera(Answer):
    """A camera with its health; its URLs are the dashboard's scoped routes."""

    id: str
    name: str
    lon: float
    lat: float
    grid: str
    kind: CameraKind
    state: Literal[CAMERA_STATES]  # domain.video.Health, inline ("Health" is /health's answer)
    last_ts: int | float | None  # as the capture worker reported it
    stream_url: str
    snapshot_url: str


class Cameras(Answer):
    """GET /api/v1/cameras: the cameras of a region."""

    region: str
    cameras: list[Camera]
    as_of: float


class VideoClip(Answer):
    """One camera's clip of a flagged event; `url` and `poster_url` (the dashboard's scoped
    routes) are set once it is ready, `clip_id` once it is written."""

    clip_id: str | None
    camera_id: str
    distance_m: float | None  # from the case to the camera (null: camera no longer listed)
    state: ClipState
    url: str | None
    poster_url: str | None
    media_type: str | None = None  # video/mp4 (H.264 as recorded) or video/webm (VP8)
    recorded_by: Recorder | None = None  # cut from Gridwatch's ring buffers, or the platform's


class VideoEvent(Answer):
    """A case (or a camera's motion) flagged for video review, with its clips."""

    event_id: str
    incident_id: str  # "" for a motion event (no case)
    flagged_ts: float
    source: FlagReason  # why it was flagged: turned red, by hand, motion seen
    by: str
    grid: str
    state: EventStatus
    clips: list[VideoClip]


class VideoEvents(Answer):
    """GET /api/v1/video/events: the flagged events of a region, newest first."""

    region: str
    events: list[VideoEvent]
    as_of: float


DESK_ACTION_NAMES = tuple(a.value for a in DESK_ACTIONS)


class ActionRequest(BaseModel):
    """POST /api/v1/incidents/<id>/actions: what to do to the case (as the case page's
    buttons: assign needs officer_id, note needs a note)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    action: Literal[DESK_ACTION_NAMES]  # type: ignore[valid-type]
    officer_id: str = Field(default="", max_length=64)
    note: str = Field(default="", max_length=2000)


class CommandAccepted(Answer):
    """202: the action is queued for the state worker (see the case's events for its effect)."""

    command_id: str


@dataclass(frozen=True)
class Param:
    """A parameter of an API route; `enum` names the allowed values of a query parameter."""

    name: str
    where: str = "query"
    description: str = ""
    enum: tuple[str, ...] = ()


@dataclass(frozen=True)
class Operation:
    """A route of the API: its path, summary, parameters, answer and error statuses (a POST
    also its request body and success status)."""

    path: str
    summary: str
    answer: type[Answer]
    params: tuple[Param, ...] = ()
    errors: tuple[int, ...] = (400, 401, 403, 404, 429)
    method: str = "get"
    body: type[BaseModel] | None = None
    status: int = 200


REGION = Param("region", description="region code (default: the caller's scope)")
ANSWERS: tuple[type[Answer], ...] = (Error, Health, Summary, RegionDetail, Incident,
                                     IncidentDetail,
                                     Incidents, Officer,
                                     Officers, Cameras, VideoEvent, VideoEvents,
                                     CommandAccepted)
REQUESTS: tuple[type[BaseModel], ...] = (ActionRequest,)
