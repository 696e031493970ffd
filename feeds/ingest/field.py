"""Answers from the field: a device's incident_update becomes a command on the case, checked
by the same state rules as a desk's action and audited as user `device:<id>`."""
from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import msgspec
import orjson

from domain.cases import ActionRefused
from domain.entries import UpdateEntry
from domain.model import Incident
from domain.tasks import field_action
from feeds.ingest.placement import Routed
from feeds.ingest.protocol import Refused
from feeds.live.commands import command_entry
from feeds.live.state import incident_from_json
from feeds.store import keys

log = logging.getLogger(__name__)


def device_user(device: str) -> str:
    """The audit log's user name of a terminal device."""
    return f"device:{device}"


def as_command(r: Routed, inc: Incident | None, officer: str, device: str) -> Routed | Refused:
    """A routed incident_update of a device as the command it asks for, or why not (pure)."""
    upd = r.entry
    assert isinstance(upd, UpdateEntry)
    raw = {"type": "incident_update", "msg_id": upd.msg_id, "incident_id": upd.incident_id,
           "ts": upd.ts, "status": upd.status.value, "note": upd.note}
    if inc is None:
        return Refused(r.msg_id, f"incident_id: unknown incident {upd.incident_id!r}", raw)
    try:
        action = field_action(inc, upd.status, officer)
        entry = command_entry(device_user(device), inc, action, note=upd.note, ts=upd.ts,
                              cmd_id=upd.msg_id)
    except ActionRefused as e:
        text = str(e)
        return Refused(r.msg_id, text if text.split(" ")[0].endswith(":") else f"status: {text}",
                       raw)
    return msgspec.structs.replace(r, entry=entry, audit_grid=inc.grid)


async def field_commands(client: Any, results: Sequence[Routed | Refused], officer: str,
                         device: str) -> list[Routed | Refused]:
    """The frame's routed messages with each incident_update turned into its command (the
    cases read in one pipeline); a msg_id already stored is left to be acked as a repeat
    (a phone resending after a lost ack), not checked against the case's new state."""
    picks = [i for i, r in enumerate(results)
             if isinstance(r, Routed) and isinstance(r.entry, UpdateEntry)]
    out = list(results)
    if not picks:
        return out
    pipe = client.pipeline(transaction=False)
    for i in picks:
        r = results[i]
        pipe.hget(keys.incidents(keys.town_of(r.stream)), r.entry.incident_id)  # type: ignore[union-attr]
        pipe.exists(r.seen_key)  # type: ignore[union-attr]
    replies = await pipe.execute()
    for i, raw, seen in zip(picks, replies[::2], replies[1::2], strict=True):
        if seen:
            continue
        inc = incident_from_json(orjson.loads(raw)) if raw else None
        out[i] = as_command(results[i], inc, officer, device)  # type: ignore[arg-type]
    return out
