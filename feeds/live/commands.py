"""Duty officers' actions on cases: checked, written to the case's stream, audited."""
from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Mapping
from typing import Any

import redis

from domain.access import Role, User
from domain.alerts import CategoryRule
from domain.cases import Action, ActionRefused, check
from domain.entries import CommandEntry, encode
from domain.model import Incident
from feeds.store import keys

log = logging.getLogger(__name__)

AUDIT_MAXLEN = 1_000_000
ACTING_ROLES = frozenset({Role.DUTY, Role.ADMIN})


class NotPermitted(PermissionError):
    """The user may not act on this case (role, scope or clearance)."""


def permit(user: User, inc: Incident, rules: Mapping[str, CategoryRule]) -> None:
    """Raise NotPermitted unless `user` may act on the case."""
    if user.role not in ACTING_ROLES:
        raise NotPermitted(f"role {user.role.value} cannot act on cases")
    if not user.may_see_region(inc.grid) or not user.may_see_category(rules.get(inc.category)):
        raise NotPermitted("case outside your scope")


def audit(client: redis.Redis | redis.client.Pipeline, user: str, action: str, target: str,
          detail: str = "", ts: float | None = None, region: str = "") -> None:
    """Append one entry to the audit log (who, when, what, on what, in which region)."""
    fields = {"ts": f"{ts or time.time():.3f}", "user": user, "action": action,
              "target": target, "detail": detail[:2000]}
    if region:
        fields["region"] = region
    client.xadd(keys.AUDIT, fields, maxlen=AUDIT_MAXLEN, approximate=True)


def command_entry(by: str, inc: Incident, action: Action, officer_id: str = "",
                  note: str = "", ts: float | None = None, cmd_id: str = "") -> CommandEntry:
    """The checked command for the case's stream (raises ActionRefused with the reason)."""
    check(inc, action, officer_id, note)
    return CommandEntry(type="command", msg_id=cmd_id or f"cmd-{uuid.uuid4().hex[:12]}",
                        incident_id=inc.incident_id, action=action, by=by,
                        ts=time.time() if ts is None else ts, officer_id=officer_id,
                        note=note[:2000])


def audit_command(pipe: Any, entry: CommandEntry, grid: str) -> None:
    """Queue the audit entry of a command (who, which action, on which case, where)."""
    detail = " ".join(x for x in (entry.officer_id, entry.note[:200]) if x)
    audit(pipe, entry.by, f"case.{entry.action.value}", entry.incident_id, detail, entry.ts,
          grid)


def send_action(client: redis.Redis, user: User, inc: Incident,
                rules: Mapping[str, CategoryRule], action: Action, officer_id: str = "",
                note: str = "") -> str:
    """Check and queue an action for the worker; returns the command id.

    Raises NotPermitted or ActionRefused with a reason the user can read.
    """
    permit(user, inc, rules)
    entry = command_entry(user.name, inc, action, officer_id, note)
    pipe = client.pipeline(transaction=False)
    pipe.xadd(keys.incidents_in(inc.town), {"m": encode(entry)})
    audit_command(pipe, entry, inc.grid)
    pipe.execute()
    log.info("%s: %s %s %s", user.name, action.value, inc.incident_id, officer_id)
    return entry.msg_id


__all__ = ["ActionRefused", "NotPermitted", "audit", "audit_command", "command_entry", "permit",
           "send_action"]
