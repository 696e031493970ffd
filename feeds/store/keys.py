"""Every Redis key name Gridwatch uses. Town-scoped keys carry the town as a hash tag."""
from __future__ import annotations


# Input streams, one per town: what the gateway accepted, in arrival order.
def positions(town: str) -> str:
    """Stream of accepted position and duty messages of a town."""
    return f"pos:{{{town}}}"


def incidents_in(town: str) -> str:
    """Stream of accepted incident, incident_update and level messages of a town."""
    return f"inc:{{{town}}}"


def live(town: str) -> str:
    """Stream of applied state changes of a town, read by the push channel."""
    return f"live:{{{town}}}"


def seen(town: str, msg_id: str) -> str:
    """Idempotency marker of one message id (expires)."""
    return f"seen:{{{town}}}:{msg_id}"


# State, per town.
def officers(town: str) -> str:
    """Hash officer_id → JSON of the officer's last state (home town)."""
    return f"officers:{{{town}}}"


def officers_geo(town: str) -> str:
    """GEO set of officers' last positions (home town)."""
    return f"geo:officers:{{{town}}}"


def track(town: str, officer_id: str) -> str:
    """Stream of an officer's recent fixes (lon, lat, ts, grid), capped to about 6 hours."""
    return f"track:{{{town}}}:{officer_id}"


def incidents(town: str) -> str:
    """Hash incident_id → JSON of the case's current state."""
    return f"incidents:{{{town}}}"


def open_incidents(town: str) -> str:
    """Sorted set of open incident ids by report time."""
    return f"open:{{{town}}}"


def counts(town: str) -> str:
    """Hash '<region>|<green|yellow|red|overdue|new>' → count for the town and below."""
    return f"counts:{{{town}}}"


def attachments(town: str, incident_id: str) -> str:
    """Hash of a case's photos: msg_id → JSON {id, mime, ts, officer_id} (files under the
    data dir's media/, named by id)."""
    return f"att:{{{town}}}:{incident_id}"


# The downlink, per officer (hash tag: the officer's home town).
def tasks(town: str, officer_id: str) -> str:
    """Stream of the tasks sent down to an officer's terminals (fields m: the wire message,
    id: its msg_id, town: the case's town), capped (feeds.live.tasks.TASK_MAXLEN)."""
    return f"tasks:{{{town}}}:{officer_id}"


def task_acks(town: str, officer_id: str) -> str:
    """Hash of an officer's acknowledged tasks: 'pos' → the stream id up to which every task
    is acknowledged; '<entry id>' → 1 for tasks acknowledged beyond it (out of order)."""
    return f"task-acks:{{{town}}}:{officer_id}"


def town_of(key: str) -> str:
    """The town of a town-scoped key (its hash tag)."""
    start = key.index("{") + 1
    return key[start:key.index("}", start)]


# Global keys (small, single-key commands only).
INCIDENT_TOWN = "incident-town"  # hash incident_id → town code
DEAD_LETTER = "deadletter"  # stream of refused messages with their reason
USERS = "users"  # hash user name → JSON {role, scope, pw}
DEVICES = "devices"  # hash device id → JSON {officer, token_hash}
AUDIT = "audit"  # stream of who did what, when (actions, logins, video views)
DEVICE_TOKENS = "device-tokens"  # hash sha256(token) → device id
DEVICE_SEEN = "device-seen"  # hash officer_id → JSON {ts, source} of their own device's last report
API_TOKENS = "api-tokens"  # hash token name → JSON {role, scope, hash, created}
API_TOKEN_HASHES = "api-token-hashes"  # hash sha256(token) → token name
OPEN311 = "open311"  # sorted set of Open311 request ids by time
DEAD_LETTER_DONE = "deadletter:done"  # set of dead-letter entry ids resubmitted
EXPORTED = "exported"  # hash stream → last entry id written to Parquet


def session(token_hash: str) -> str:
    """A login session, by the SHA-256 of its token (expires)."""
    return f"session:{token_hash}"


def user_sessions(name: str) -> str:
    """Set of a user's live sessions' token hashes (ended when the user is removed or
    replaced)."""
    return f"user-sessions:{name}"


def login_failures(kind: str, value: str) -> str:
    """Counter of failed logins of one user name or client address in the window (expires)."""
    return f"login-fail:{kind}:{value}"


def pairing(code_hash: str) -> str:
    """A pairing code by its hash: its device, officer, expiry and use (expires)."""
    return f"pair:{code_hash}"


def pairing_failures(addr: str) -> str:
    """Counter of failed pairing-code redemptions from one client address (expires)."""
    return f"pair-fail:{addr}"


WORKER_GROUP = "state"


# Operations.
def heartbeats(component: str) -> str:
    """Hash process name → JSON {ts, …}: the heartbeats of one component's processes."""
    return f"hb:{component}"
