"""The terminal gateway: WebSocket server of protocol v1, storing into Redis Streams."""
from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson
import redis.asyncio as aredis
from redis.exceptions import NoScriptError, RedisError
from websockets.asyncio.server import ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from domain.entries import PositionEntry, encode
from feeds.accounts.devices import token_matches
from feeds.ingest.attachments import AttachmentIn, AttachmentTaker, MediaStore, Taken
from feeds.ingest.config import ClientLimits
from feeds.ingest.downlink_io import DownlinkHub, is_ack_frame
from feeds.ingest.field import field_commands
from feeds.ingest.placement import Placer, Routed
from feeds.ingest.protocol import (
    AttachmentMsg,
    Message,
    Refused,
    decode,
    decode_one,
    parse_frame,
    quick_frame,
    quick_position,
)
from feeds.live.commands import audit_command
from feeds.ops.metrics import count_answers, count_unreplicated
from feeds.store import keys
from feeds.store.client import is_cluster
from feeds.store.packing import use_hiredis_packing
from feeds.store.replication import NotReplicated, ReplicaWait

log = logging.getLogger(__name__)

# Store each message once: mark its id as seen (with expiry), then append it to the stream.
# KEYS[1] is the stream, KEYS[2..] the messages' seen keys (one town: one hash slot);
# ARGV[1] is the expiry, ARGV[2..] the messages. Returns how many were new. A repeat renews
# its seen key: a write, so that a WAIT after a resend also covers the first copy's XADD.
DEDUP_XADD = """
local added = 0
for i = 2, #KEYS do
  if redis.call('SET', KEYS[i], '1', 'NX', 'EX', ARGV[1]) then
    redis.call('XADD', KEYS[1], '*', 'm', ARGV[i])
    added = added + 1
  else
    redis.call('EXPIRE', KEYS[i], ARGV[1])
  end
end
return added
"""
UNREPLICATED = "not on a replica in time, retry later"
DEAD_LETTER_MAXLEN = 100_000
SEEN_TTL_S = 3600
MAX_FRAME = 12 * 1024 * 1024  # an 8 MB photo in base64, with room for its fields


def token_of(request: Request) -> str | None:
    """The bearer token of a request: Authorization header or ?token= query."""
    auth = request.headers.get("Authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    query = parse_qs(urlsplit(request.path).query)
    return (query.get("token") or [None])[0]


def _reply(status: HTTPStatus, text: str) -> Response:
    body = text.encode()
    headers = Headers([("Content-Type", "text/plain; charset=utf-8"),
                       ("Content-Length", str(len(body)))])
    return Response(status.value, status.phrase, headers, body)


class Gateway:
    """Accepts terminal frames, acks each message once it is in a Redis Stream."""

    def __init__(self, client: aredis.Redis, placer: Placer,
                 check_token: Callable[[str | None], Awaitable[Access | None]],
                 seen_ttl_s: int = SEEN_TTL_S, media: MediaStore | None = None,
                 replicas: ReplicaWait | None = None):
        self.client = client
        self.replicas = replicas or ReplicaWait(client)  # auto: WAIT where replicas exist
        self.max_connections = ClientLimits().max_connections
        use_hiredis_packing(client)
        self.placer = placer
        self.check_token = check_token
        self.seen_ttl_s = seen_ttl_s
        self.sha = hashlib.sha1(DEDUP_XADD.encode()).hexdigest()
        self.stats = {"acked": 0, "nacked": 0, "frames": 0}
        self.downlink = DownlinkHub(client, placer.officers)
        self.attachments = AttachmentTaker(client, media)

    async def process_request(self, connection: ServerConnection,
                              request: Request) -> Response | None:
        """Refuse wrong paths and bad tokens before the WebSocket handshake."""
        if len(connection.server.connections) > self.max_connections:
            return _reply(HTTPStatus.SERVICE_UNAVAILABLE, "too many connections\n")
        if urlsplit(request.path).path != "/terminal":
            return _reply(HTTPStatus.NOT_FOUND, "terminals connect to /terminal\n")
        access = await self.check_token(token_of(request))
        if access is None:
            log.warning("terminal refused: bad token from %s", connection.remote_address)
            return _reply(HTTPStatus.UNAUTHORIZED, "missing or invalid terminal token\n")
        connection.gw_access = access  # type: ignore[attr-defined]
        return None

    async def handler(self, ws: ServerConnection) -> None:
        """Serve one terminal connection until it closes."""
        access: Access = ws.gw_access  # type: ignore[attr-defined]
        peer = "%s:%s" % (ws.remote_address[:2] if ws.remote_address else ("?", "?"))
        source = f"{access.device or 'shared-token'}@{peer}"
        conn = None
        try:
            if access.device and access.officer:  # a device token: its officer's tasks come down
                conn = await self.downlink.attach(ws, access.officer, access.device)
            async for frame in ws:
                acks = is_ack_frame(frame)
                if acks is not None:
                    nacks = await self.downlink.acks(conn, frame, acks)
                    if nacks:
                        await ws.send(orjson.dumps(nacks if isinstance(acks, list)
                                                   else nacks[0]).decode())
                    continue
                reply = await self.handle_frame(frame, source, access.officer, access.device)
                await ws.send(reply, text=True)
        except ConnectionClosed:
            pass
        finally:
            await self.downlink.detach(conn)

    async def handle_frame(self, frame: str | bytes, source: str,
                           officer: str | None = None, device: str | None = None) -> bytes:
        """Decode, place, store and answer one frame; returns the JSON reply (UTF-8). A
        device's case updates become commands (checked, audited as the device); a frame of
        plain positions has neither updates nor attachments to look at."""
        now = time.time()
        self.stats["frames"] += 1
        try:
            results, is_batch = self.route_frame(frame, officer, now)
            if not all_positions(results):
                if officer and device:
                    results = await field_commands(self.client, results, officer, device)
                results = await self.attachments.take(results)
        except RedisError as e:  # a case's town lookup met a Redis outage
            items, is_batch = decode(frame, now)
            log.error("routing failed, nacking %d messages: %s", len(items), e)
            answers = [{"nack": it.msg_id, "error": "store unavailable, retry later"}
                       for it in items]
            return orjson.dumps(answers if is_batch else answers[0])
        answers = await self.store(results, source, now, officer)
        return orjson.dumps(answers if is_batch else answers[0])

    def route_frame(self, frame: str | bytes, officer: str | None, now: float
                    ) -> tuple[list[Routed | Refused | AttachmentIn], bool]:
        """Decode, validate and place a frame; the flag says whether it was a JSON array.
        A frame of plain positions only takes the quick path; any doubt, the per-message one."""
        quick = quick_frame(frame, now)
        if quick is not None and (officer is None or all(q.officer_id == officer
                                                         for q in quick[0])):
            routed = self.placer.route_quick(quick[0])
            if not any(r is None for r in routed):
                return routed, quick[1]  # type: ignore[return-value]
        values, is_batch = parse_frame(frame)
        if isinstance(values, Refused):
            return [values], is_batch
        return self.route_all(values, officer, now), is_batch

    def route_all(self, values: list[Any], officer: str | None, now: float
                  ) -> list[Routed | Refused | AttachmentIn]:
        """Validate and place a frame's messages: plain positions on the quick path, in one
        go; everything else (and whatever the quick path declines) through the full models."""
        quick = [quick_position(v, now) for v in values]
        picked = [i for i, q in enumerate(quick)
                  if q is not None and (officer is None or q.officer_id == officer)]
        results: list[Routed | Refused | AttachmentIn | None] = [None] * len(values)
        for i, r in zip(picked, self.placer.route_quick([quick[i] for i in picked]),
                        strict=True):
            results[i] = r
        return [r if r is not None else self.route(decode_one(v, now), officer)
                for v, r in zip(values, results, strict=True)]

    def route(self, item: Message | Refused, officer: str | None
              ) -> Routed | Refused | AttachmentIn:
        """Place one decoded message; a device's token speaks only for its own officer."""
        if isinstance(item, Refused):
            return item
        own = getattr(item, "officer_id", None)
        if officer is not None and own is not None and own != officer:
            raw = item.raw() if isinstance(item, AttachmentMsg) else item.model_dump(mode="json")
            return Refused(item.msg_id, f"officer_id: this device belongs to {officer}", raw)
        if isinstance(item, AttachmentMsg):
            return self.place_attachment(item)
        return self.placer.route(item)

    def place_attachment(self, msg: AttachmentMsg) -> AttachmentIn | Refused:
        """An attachment of a known officer to a known case, with the case's town."""
        if msg.officer_id not in self.placer.officers:
            return Refused(msg.msg_id, f"officer_id: unknown officer {msg.officer_id!r}",
                           msg.raw())
        town = self.placer.town_of_incident(msg.incident_id)
        if town is None:
            return Refused(msg.msg_id, f"incident_id: unknown incident {msg.incident_id!r}",
                           msg.raw())
        return AttachmentIn(msg.msg_id, msg, town)

    async def store(self, results: list[Routed | Refused | Taken], source: str,
                    now: float, officer: str | None = None) -> list[dict[str, Any]]:
        """Store a frame's messages; `officer`: they came from that officer's own device."""
        try:
            await self._write(results, source, now, officer)
        except aredis.RedisError as e:
            log.error("store failed, nacking %d messages: %s", len(results), e)
            return [{"nack": r.msg_id, "error": "store unavailable, retry later"}
                    for r in results]
        except NotReplicated as e:
            return self._unreplicated(results, e)
        answers = []
        for r in results:
            if isinstance(r, Refused):
                answers.append({"nack": r.msg_id, "error": r.reason})
                self.stats["nacked"] += 1
            else:
                answers.append({"ack": r.msg_id})
                self.stats["acked"] += 1
        count_answers(results)
        return answers

    def _unreplicated(self, results: list[Routed | Refused | Taken], e: NotReplicated
                      ) -> list[dict[str, Any]]:
        """Nack what the replicas did not confirm in time (it is stored: a resend is kept
        once); refused messages keep their own reason."""
        log.warning("replicas did not confirm in time (%s), nacking %d messages", e,
                    len(results))
        count_unreplicated(len(results))
        self.stats["unreplicated"] = self.stats.get("unreplicated", 0) + len(results)
        return [{"nack": r.msg_id, "error": r.reason} if isinstance(r, Refused)
                else {"nack": r.msg_id, "error": UNREPLICATED}
                for r in results]

    def _add_groups(self, pipe: Any, groups: list[list[Routed]]) -> None:
        for group in groups:
            script_call(pipe, self.sha, [group[0].stream, *(r.seen_key for r in group)],
                        [self.seen_ttl_s, *(encode(r.entry) for r in group)])

    async def _audit(self, groups: list[list[Routed]], replies: list[Any]) -> None:
        """Audit the devices' commands that were stored now (not the repeats of a msg_id)."""
        pipe = self.client.pipeline(transaction=False)
        done = [g[0] for g, rep in zip(groups, replies, strict=False)
                if g[0].audit_grid and rep == 1]
        for r in done:
            audit_command(pipe, r.entry, r.audit_grid)  # type: ignore[arg-type]
        if done:
            await pipe.execute()

    async def _write(self, results: list[Routed | Refused | Taken], source: str, now: float,
                     officer: str | None = None) -> None:
        """Store accepted messages (once per msg_id, one script call per stream) and
        dead-letter refused ones; note when an officer's own device last reported; end with
        a WAIT per primary that took a stream entry (NotReplicated when one falls short)."""
        groups = by_stream(r for r in results if isinstance(r, Routed) and not r.audit_grid)
        groups += [[r] for r in results if isinstance(r, Routed) and r.audit_grid]
        if groups:
            await self.replicas.refresh()
        pipe = self.client.pipeline(transaction=False)
        self._add_groups(pipe, groups)
        if officer is not None:
            pipe.hset(keys.DEVICE_SEEN, officer, orjson.dumps({"ts": now, "source": source}))
        for r in results:
            if isinstance(r, Refused):
                pipe.xadd(keys.DEAD_LETTER, dead_fields(r, source, now),
                          maxlen=DEAD_LETTER_MAXLEN, approximate=True)
            elif isinstance(r, Routed) and r.incident_town:
                pipe.hset(keys.INCIDENT_TOWN, *r.incident_town)
        waits = self.replicas.queue(pipe, [g[0].stream for g in groups])
        replies, short = self.replicas.split(await pipe.execute(raise_on_error=False), waits)
        missing = [g for g, rep in zip(groups, replies, strict=False)
                   if isinstance(rep, NoScriptError)]
        errors = [rep for rep in replies
                  if isinstance(rep, Exception) and not isinstance(rep, NoScriptError)]
        if missing:  # a restarted Redis forgot the script: load it, store those again
            short += await self._again(missing, errors)
        if errors:
            raise errors[0]
        await self._audit(groups, replies)
        if short:
            raise NotReplicated(", ".join(short))

    async def _again(self, missing: list[list[Routed]], errors: list[Any]) -> list[str]:
        """Load the script and store the groups that missed it; their WAITs' shortfall."""
        await self.client.script_load(DEDUP_XADD)
        pipe = self.client.pipeline(transaction=False)
        self._add_groups(pipe, missing)
        waits = self.replicas.queue(pipe, [g[0].stream for g in missing])
        again, short = self.replicas.split(await pipe.execute(raise_on_error=False), waits)
        errors += [r for r in again if isinstance(r, Exception)]
        await self._audit(missing, again)
        return short


def all_positions(results: list[Any]) -> bool:
    """Whether a frame's results are all routed positions (the quick path's whole frames)."""
    return all(type(r) is Routed and type(r.entry) is PositionEntry for r in results)


def script_call(pipe: Any, sha: str, keys_: list[str], args: list[Any]) -> None:
    """Queue DEDUP_XADD: EVALSHA on plain Redis; EVAL on a cluster, whose pipelines refuse
    EVALSHA (the script is cached per node; its KEYS share the town's slot)."""
    if is_cluster(pipe):
        pipe.execute_command("EVAL", DEDUP_XADD, len(keys_), *keys_, *args)
    else:
        pipe.evalsha(sha, len(keys_), *keys_, *args)


def by_stream(routed: Iterable[Routed]) -> list[list[Routed]]:
    """Messages grouped by their stream, each group in arrival order."""
    groups: dict[str, list[Routed]] = {}
    for r in routed:
        groups.setdefault(r.stream, []).append(r)
    return list(groups.values())


def dead_fields(r: Refused, source: str, now: float) -> dict[str, bytes | str]:
    """The fields of a dead-letter entry: reason, raw message, source, msg_id, time."""
    raw = r.raw if isinstance(r.raw, str) else orjson.dumps(r.raw, default=str).decode()
    return {"reason": r.reason, "raw": raw[:8000], "source": source, "msg_id": r.msg_id or "",
            "ts": f"{now:.3f}"}


async def serve_gateway(gateway: Gateway, host: str, port: int,
                        stop: asyncio.Event, ready: Callable[[int], None] | None = None,
                        reuse_port: bool = False, limits: ClientLimits | None = None) -> None:
    """Run the gateway's WebSocket server until `stop` is set (`reuse_port`: share the port
    with other gateway processes, SO_REUSEPORT; `limits`: handshake timeout, message size,
    queue and connection cap)."""
    lim = limits or ClientLimits()
    gateway.max_connections = lim.max_connections
    async with serve(gateway.handler, host, port, process_request=gateway.process_request,
                     max_size=lim.max_size or MAX_FRAME, max_queue=lim.max_queue,
                     open_timeout=lim.open_timeout_s, compression=None, ping_interval=20,
                     close_timeout=2,  # a restart does not wait long for silent terminals
                     reuse_port=reuse_port) as server:
        bound = next(iter(server.sockets)).getsockname()[1]
        log.info("gateway listening on ws://%s:%s/terminal", host, bound)
        reader = asyncio.create_task(gateway.downlink.run(stop))
        if ready:
            ready(bound)
        await stop.wait()
        await reader


@dataclass(frozen=True)
class Access:
    """Who a terminal connection speaks for: a device bound to one officer, or any officer."""

    device: str | None = None
    officer: str | None = None


def constant_token_check(expected: str) -> Callable[[str | None], Awaitable[Access | None]]:
    """A token check against one shared (demo) token, constant-time."""
    async def check(token: str | None) -> Access | None:
        return Access() if token_matches(token, expected) else None
    return check


def device_token_check(client: aredis.Redis, shared: str = ""
                       ) -> Callable[[str | None], Awaitable[Access | None]]:
    """Per-device tokens (registered with `gridwatch devices add`), or the shared one."""
    async def check(token: str | None) -> Access | None:
        if shared and token_matches(token, shared):
            return Access()
        if not token or len(token) > 256:
            return None
        device_id = await client.hget(keys.DEVICE_TOKENS, hashlib.sha256(
            token.encode()).hexdigest())
        if device_id is None:
            return None
        raw = await client.hget(keys.DEVICES, device_id)
        if raw is None:
            return None
        return Access(device_id.decode(), orjson.loads(raw)["officer"])
    return check
