"""Redis key names of cameras, clips and video review (town-scoped keys carry a hash tag)."""
from __future__ import annotations


def cameras(town: str) -> str:
    """Hash camera_id → JSON of the registered camera (feeds.cameras)."""
    return f"cam:{{{town}}}"


def cameras_geo(town: str) -> str:
    """GEO set of the town's cameras (nearest-camera search)."""
    return f"geo:cam:{{{town}}}"


def camera_health(town: str) -> str:
    """Hash camera_id → JSON {last_ts, connected, checked, error, fps, viewers}."""
    return f"camhealth:{{{town}}}"


def events(town: str) -> str:
    """Hash event_id → JSON of a flagged event (domain.video.FlaggedEvent)."""
    return f"vevents:{{{town}}}"


def clips(town: str) -> str:
    """Hash clip_id → JSON of a clip (domain.video.Clip); town of the clip's event."""
    return f"clips:{{{town}}}"


def auto_flagged(town: str) -> str:
    """Hash incident_id → event_id of cases flagged automatically when they turned red."""
    return f"vflagged:{{{town}}}"


def viewed(user: str, target: str) -> str:
    """Marker that a user's view of a clip or stream was audited recently (expires)."""
    return f"video:viewed:{user}:{target}"


# Global keys (small, single-key commands only).
CAMERA_TOWN = "camera-town"  # hash camera_id → town code
EVENT_TOWN = "video:event-town"  # hash event_id → town code
CLIP_TOWN = "video:clip-town"  # hash clip_id → town code
FLAGS = "video:flags"  # stream of flagged events {event, town}, read by the capture worker
FLAG_GROUP = "capture"  # the capture worker's consumer group on FLAGS
SECRET = "video:secret"  # HMAC key of stream/snapshot tickets (made once, SET NX)
