"""Officers' task streams (the downlink): add a task, read what is not yet acknowledged,
acknowledge, record delivery on the case. Pure parts plus thin sync and asyncio calls.

Reader API (also for the field terminal and simulated terminals):
  stream, acks = task_keys(home_grid, officer_id)        # key names (officer's home town tag)
  pending_tasks(client, home_grid, officer_id) -> [Task]  # unacked, in order (sync)
  await apending_tasks(aclient, home_grid, officer_id)    # same, asyncio
  ack_task(client, home_grid, officer_id, msg_id, device) -> AckResult (+ task_acked event)
  mark_delivered(client, tasks, officer_id, device)       # task_delivered events, once each
Task.raw is the exact wire message (terminal protocol v1 `task`), Task.msg the decoded one.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import msgspec
import redis

from domain.entries import TaskCase, TaskEventEntry, TaskMsg, encode
from domain.model import Incident
from domain.regions import town_of
from domain.tasks import TASK_ACKED, TASK_DELIVERED, TaskAction
from feeds.store import keys

log = logging.getLogger(__name__)

TASK_MAXLEN = 500  # tasks kept per officer; older ones are trimmed, acknowledged or not
EVENT_SEEN_TTL_S = 7 * 24 * 3600
_TASK = msgspec.json.Decoder(TaskMsg)

# Acknowledge one task by its msg_id. KEYS: the officer's task stream and ack hash (one slot).
# ARGV[1]: msg_id. Returns {'new', entry id, case town, message} the first time,
# {'again'} when it was acknowledged before, {'unknown'} when no such task is in the stream.
ACK_TASK = """
local function before(a, b)
  local am, as = string.match(a, '(%d+)-(%d+)')
  local bm, bs = string.match(b, '(%d+)-(%d+)')
  am, as, bm, bs = tonumber(am), tonumber(as), tonumber(bm), tonumber(bs)
  return am < bm or (am == bm and as <= bs)
end
local pos = redis.call('HGET', KEYS[2], 'pos') or '0-0'
local entries = redis.call('XRANGE', KEYS[1], '-', '+')
local state = {'unknown'}
for _, e in ipairs(entries) do
  local f, id, town, m = e[2], nil, nil, nil
  for i = 1, #f, 2 do
    if f[i] == 'id' then id = f[i + 1] elseif f[i] == 'town' then town = f[i + 1]
    elseif f[i] == 'm' then m = f[i + 1] end
  end
  if id == ARGV[1] then
    if before(e[1], pos) or redis.call('HEXISTS', KEYS[2], e[1]) == 1 then
      if state[1] == 'unknown' then state = {'again'} end
    else
      redis.call('HSET', KEYS[2], e[1], '1')
      if state[1] ~= 'new' then state = {'new', e[1], town, m} end
    end
  end
end
if state[1] == 'new' then
  for _, e in ipairs(entries) do
    if not before(e[1], pos) then
      if redis.call('HDEL', KEYS[2], e[1]) == 0 then break end
      pos = e[1]
    end
  end
  redis.call('HSET', KEYS[2], 'pos', pos)
end
return state
"""
# Append an entry once: KEYS[1] the stream, KEYS[2] its seen key; ARGV: expiry, message.
ONCE_XADD = """
if redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[1]) then
  return redis.call('XADD', KEYS[1], '*', 'm', ARGV[2])
end
return false
"""


@dataclass(frozen=True)
class Task:
    """One task of an officer's stream: its entry id, the wire message and the case's town."""

    entry_id: str
    raw: bytes
    case_town: str

    @property
    def msg(self) -> TaskMsg:
        """The task message, decoded."""
        return _TASK.decode(self.raw)


@dataclass(frozen=True)
class AckResult:
    """What an ack did: 'new' (first time: `task` set), 'again', or 'unknown'."""

    state: Literal["new", "again", "unknown"]
    task: Task | None = None


def task_keys(home_grid: str, officer_id: str) -> tuple[str, str]:
    """An officer's task stream and ack hash (hash tag: the home grid's town)."""
    town = town_of(home_grid)
    return keys.tasks(town, officer_id), keys.task_acks(town, officer_id)


def entry_key(entry_id: str) -> tuple[int, int]:
    """A stream entry id as a sortable pair."""
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)


def _text(v: Any) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)


def parse_entries(entries: Iterable[tuple[Any, dict[Any, Any]]]) -> list[Task]:
    """Tasks out of XRANGE / XREAD entries of a task stream."""
    out = []
    for eid, fields in entries:
        raw = fields.get(b"m", fields.get("m"))
        if raw is None:
            continue
        town = fields.get(b"town", fields.get("town", b""))
        out.append(Task(_text(eid), raw if isinstance(raw, bytes) else raw.encode(),
                        _text(town)))
    return out


def unacked(tasks: Sequence[Task], acks: dict[Any, Any]) -> list[Task]:
    """The tasks an ack hash (HGETALL) does not cover, in stream order."""
    acked = {_text(k) for k in acks}
    pos = entry_key(_text(acks.get(b"pos", acks.get("pos", b"0-0"))))
    return [t for t in tasks if entry_key(t.entry_id) > pos and t.entry_id not in acked]


def task_msg(inc: Incident, action: TaskAction, msg_id: str, ts: float, note: str,
             to_wgs84: Callable[[float, float], tuple[float, float]]) -> TaskMsg:
    """The task telling an officer about a case (its point in WGS-84, as phones use)."""
    lon, lat = to_wgs84(inc.lon, inc.lat)
    return TaskMsg(type="task", msg_id=msg_id, incident_id=inc.incident_id, action=action,
                   ts=ts, case=TaskCase(title=inc.title, category=inc.category,
                                        level=inc.level, lat=round(lat, 6), lon=round(lon, 6),
                                        status=inc.status, note=note))


def add_task(pipe: Any, home_grid: str, officer_id: str, msg: TaskMsg, case_town: str) -> None:
    """Queue the XADD of a task to an officer's stream (capped at TASK_MAXLEN)."""
    stream, _ = task_keys(home_grid, officer_id)
    pipe.xadd(stream, {"m": encode(msg), "id": msg.msg_id, "town": case_town},
              maxlen=TASK_MAXLEN, approximate=True)


def _ack_result(reply: list[Any]) -> AckResult:
    state = _text(reply[0])
    if state == "new":
        return AckResult("new", Task(_text(reply[1]), reply[3], _text(reply[2])))
    return AckResult(state)  # type: ignore[arg-type]


def event_entry(kind: str, task: Task, officer_id: str, device: str, ts: float
                ) -> tuple[list[str], list[Any]]:
    """The KEYS and ARGV of ONCE_XADD for a task_delivered / task_acked case event."""
    msg = task.msg
    entry_id = f"{kind}:{msg.msg_id}:{device}"
    entry = TaskEventEntry(type="task_event", msg_id=entry_id, kind=kind,  # type: ignore[arg-type]
                           incident_id=msg.incident_id, task=msg.msg_id, action=msg.action,
                           officer_id=officer_id, device=device, ts=ts)
    return ([keys.incidents_in(task.case_town), keys.seen(task.case_town, entry_id)],
            [EVENT_SEEN_TTL_S, encode(entry)])


def _event_calls(pipe: Any, kind: str, tasks: Iterable[Task], officer_id: str, device: str,
                 ts: float) -> None:
    for t in tasks:
        ks, args = event_entry(kind, t, officer_id, device, ts)
        pipe.execute_command("EVAL", ONCE_XADD, 2, *ks, *args)  # cluster pipelines: no EVALSHA


# ---- synchronous calls ---------------------------------------------------------------------
def pending_tasks(client: redis.Redis, home_grid: str, officer_id: str) -> list[Task]:
    """The officer's tasks no terminal has acknowledged yet, in order."""
    stream, acks = task_keys(home_grid, officer_id)
    pipe = client.pipeline(transaction=False)
    pipe.xrange(stream)
    pipe.hgetall(acks)
    entries, ack = pipe.execute()
    return unacked(parse_entries(entries), ack)


def ack_task(client: redis.Redis, home_grid: str, officer_id: str, msg_id: str, device: str,
             ts: float | None = None) -> AckResult:
    """Acknowledge a task for the officer (the first ack also goes on the case's timeline)."""
    stream, acks = task_keys(home_grid, officer_id)
    res = _ack_result(client.eval(ACK_TASK, 2, stream, acks, msg_id))
    if res.task is not None:
        pipe = client.pipeline(transaction=False)
        _event_calls(pipe, TASK_ACKED, [res.task], officer_id, device, ts or time.time())
        pipe.execute()
    return res


def mark_delivered(client: redis.Redis, tasks: Iterable[Task], officer_id: str, device: str,
                   ts: float | None = None) -> None:
    """Record on the cases that tasks reached a device (once per task and device)."""
    pipe = client.pipeline(transaction=False)
    _event_calls(pipe, TASK_DELIVERED, tasks, officer_id, device, ts or time.time())
    pipe.execute()


# ---- asyncio calls (the gateway) -----------------------------------------------------------
async def apending_tasks(client: Any, home_grid: str, officer_id: str) -> list[Task]:
    """pending_tasks() on an asyncio client."""
    return (await aread_backlog(client, home_grid, officer_id))[0]


async def aread_backlog(client: Any, home_grid: str, officer_id: str
                        ) -> tuple[list[Task], str | None]:
    """The officer's unacknowledged tasks and the stream's last entry id (None: empty)."""
    stream, acks = task_keys(home_grid, officer_id)
    pipe = client.pipeline(transaction=False)
    pipe.xrange(stream)
    pipe.hgetall(acks)
    entries, ack = await pipe.execute()
    tasks = parse_entries(entries)
    return unacked(tasks, ack), (_text(entries[-1][0]) if entries else None)


async def aack_task(client: Any, home_grid: str, officer_id: str, msg_id: str, device: str,
                    ts: float | None = None) -> AckResult:
    """ack_task() on an asyncio client."""
    stream, acks = task_keys(home_grid, officer_id)
    res = _ack_result(await client.eval(ACK_TASK, 2, stream, acks, msg_id))
    if res.task is not None:
        pipe = client.pipeline(transaction=False)
        _event_calls(pipe, TASK_ACKED, [res.task], officer_id, device, ts or time.time())
        await pipe.execute()
    return res


async def amark_delivered(client: Any, tasks: Iterable[Task], officer_id: str, device: str,
                          ts: float | None = None) -> None:
    """mark_delivered() on an asyncio client."""
    pipe = client.pipeline(transaction=False)
    _event_calls(pipe, TASK_DELIVERED, tasks, officer_id, device, ts or time.time())
    await pipe.execute()
