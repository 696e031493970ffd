"""The downlink against a real redis-server: a desk's assignment reaches the officer's
terminals through the worker and the gateway, is acked once, and waits for offline phones."""
from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import orjson
import pytest
from websockets.asyncio.client import connect

from domain.access import Role, User
from domain.cases import Action
from feeds.accounts.devices import add_device
from feeds.geo.locate import GridIndex
from feeds.ingest.gateway import Gateway, device_token_check, serve_gateway
from feeds.ingest.intake import make_placer
from feeds.live import reads
from feeds.live.commands import send_action
from feeds.live.context import CityContext
from feeds.live.state import CityState
from feeds.live.worker import StateWorker
from feeds.store import keys
from feeds.store.client import async_client, sync_client
from tests.conftest import ThreadedServer

DUTY = User("duty1", Role.DUTY, "441900")
WAIT_S = 10.0


@pytest.fixture(scope="module")
def index(city_ctx: CityContext) -> GridIndex:
    return GridIndex(city_ctx.city)


@pytest.fixture()
def world(redis_url: str, city_ctx: CityContext, index: GridIndex) -> Iterator[dict]:
    """A gateway on a free port, a worker to drain by hand, three registered phones."""
    client = sync_client(redis_url)
    placer = make_placer(city_ctx, client, index)

    async def run(stop: asyncio.Event, ready) -> None:
        aclient = async_client(redis_url)
        gw = Gateway(aclient, placer, device_token_check(aclient, ""))
        await serve_gateway(gw, "127.0.0.1", 0, stop, ready)
        await aclient.aclose()

    server = ThreadedServer(run).start()
    worker = StateWorker(client, CityState.with_roster(city_ctx.rules, city_ctx.roster),
                         city_ctx.towns, ZoneInfo("Asia/Shanghai"))
    worker.bootstrap()
    tokens = {"a": add_device(client, "phone-a", "O000001"),
              "b": add_device(client, "phone-b", "O000001"),
              "c": add_device(client, "phone-c", "O000002")}
    yield {"url": f"ws://127.0.0.1:{server.port}/terminal", "client": client,
           "worker": worker, "tokens": tokens, "ctx": city_ctx}
    server.stop()


def drain(w: StateWorker) -> None:
    ids = {s: ">" for s in w.streams}
    for _ in range(3):
        ids = w.step(ids, block_ms=20)


def new_case(world: dict, iid: str) -> None:
    grid = world["ctx"].roster["O000001"].grid
    world["client"].xadd(keys.incidents_in(grid[:9]), {"m": orjson.dumps({
        "type": "incident", "msg_id": f"m-{iid}", "incident_id": iid, "officer_id": "O000003",
        "ts": time.time(), "lon": 113.75, "lat": 23.02, "grid": grid, "category": "dispute",
        "title": f"纠纷 {iid}", "severity": 0})})
    world["client"].hset(keys.INCIDENT_TOWN, iid, grid[:9])
    drain(world["worker"])


def act(world: dict, iid: str, action: Action, officer: str = "", note: str = "") -> None:
    inc = reads.read_incident(world["client"], iid)
    send_action(world["client"], DUTY, inc, world["ctx"].rules, action, officer, note)
    drain(world["worker"])


def terminal(world: dict, who: str):
    return connect(world["url"], additional_headers={
        "Authorization": f"Bearer {world['tokens'][who]}"})


async def recv(ws) -> dict:
    return orjson.loads(await asyncio.wait_for(ws.recv(), WAIT_S))


async def nothing_more(ws) -> None:
    """Nothing queued for this terminal: the next frame is the answer to a probe."""
    await ws.send(orjson.dumps({"type": "duty", "msg_id": f"probe-{time.time()}",
                                "officer_id": "X", "ts": time.time(), "on_duty": True}))
    reply = await recv(ws)
    assert "nack" in reply and reply.get("type") != "task", reply


def events(world: dict, iid: str, kind: str) -> list[dict]:
    drain(world["worker"])
    inc = reads.read_incident(world["client"], iid)
    return [e for e in inc.events if e["kind"] == kind]


def test_assignment_reaches_both_phones_of_the_officer_and_never_another(world):
    new_case(world, "D1")

    async def go() -> tuple[dict, dict]:
        async with terminal(world, "a") as a, terminal(world, "b") as b, \
                terminal(world, "c") as c:
            await asyncio.sleep(0.3)  # the reader picks the new streams up
            await asyncio.to_thread(act, world, "D1", Action.ASSIGN, "O000001")
            ta, tb = await recv(a), await recv(b)
            await nothing_more(c)
            await a.send(orjson.dumps({"ack": ta["msg_id"]}))
            await nothing_more(a)
            return ta, tb

    ta, tb = asyncio.run(go())
    assert ta == tb and ta["type"] == "task" and ta["action"] == "assign"
    assert ta["incident_id"] == "D1" and ta["case"]["title"] == "纠纷 D1"
    assert ta["case"]["status"] == "dispatched" and ta["case"]["level"] == "green"
    assert set(ta) == {"type", "msg_id", "incident_id", "action", "ts", "case"}
    delivered = events(world, "D1", "task_delivered")
    assert {e["device"] for e in delivered} == {"phone-a", "phone-b"}
    [acked] = events(world, "D1", "task_acked")
    assert acked["device"] == "phone-a" and acked["officer_id"] == "O000001"


def test_offline_phone_gets_its_tasks_in_order_once_on_reconnect(world):
    for iid in ("D2", "D3"):
        new_case(world, iid)
    act(world, "D2", Action.ASSIGN, "O000002")
    act(world, "D3", Action.ASSIGN, "O000002")
    act(world, "D2", Action.NOTE, note="带上灭火器")

    async def go() -> list[list[dict]]:
        rounds = []
        async with terminal(world, "c") as c:
            got = [await recv(c) for _ in range(3)]
            for t in got[:2]:
                await c.send(orjson.dumps({"ack": t["msg_id"]}))
            await nothing_more(c)
            rounds.append(got)
        async with terminal(world, "c") as c:
            got = [await recv(c)]
            await c.send(orjson.dumps([{"ack": got[0]["msg_id"]}]))
            await nothing_more(c)
            rounds.append(got)
        async with terminal(world, "c") as c:
            await nothing_more(c)
        return rounds

    first, second = asyncio.run(go())
    assert [(t["incident_id"], t["action"]) for t in first] == [
        ("D2", "assign"), ("D3", "assign"), ("D2", "note")]
    assert first[2]["case"]["note"] == "带上灭火器"
    assert second == [first[2]]
    assert len(events(world, "D2", "task_acked")) == 2


def test_reassignment_tells_the_old_assignee_and_bad_acks_are_nacked(world):
    new_case(world, "D4")
    act(world, "D4", Action.ASSIGN, "O000002")
    act(world, "D4", Action.ASSIGN, "O000001")

    async def go() -> tuple[list[dict], dict, list]:
        async with terminal(world, "c") as c:
            got = [await recv(c) for _ in range(2)]
            await c.send(orjson.dumps({"ack": "task:nonsense"}))
            bad = await recv(c)
            await c.send(orjson.dumps([{"ack": 42}]))
            worse = await recv(c)
            return got, bad, worse

    got, bad, worse = asyncio.run(go())
    assert [t["action"] for t in got] == ["assign", "unassign"]
    assert bad["nack"] == "task:nonsense" and "no task" in bad["error"]
    assert worse[0]["nack"] is None and "msg_id" in worse[0]["error"]
    # the case page's "not yet delivered": the new assignee's phones are offline
    inc = reads.read_incident(world["client"], "D4")
    from domain.tasks import Delivery, delivery
    assert delivery(inc) is Delivery.PENDING


def test_field_updates_go_through_the_command_path_audited_as_the_device(world):
    new_case(world, "D5")
    act(world, "D5", Action.ASSIGN, "O000001")

    def update(msg_id: str, status: str, note: str = "") -> bytes:
        return orjson.dumps({"type": "incident_update", "msg_id": msg_id, "incident_id": "D5",
                             "ts": time.time(), "status": status, "note": note})

    async def go(who: str, frames: list[bytes]) -> list[dict]:
        async with terminal(world, who) as ws:
            out = []
            for f in frames:
                await ws.send(f)
                while (reply := await recv(ws)).get("type") == "task":
                    pass  # its task comes first; answers follow
                out.append(reply)
            return out

    assert asyncio.run(go("a", [update("f1", "on_scene"), update("f1", "on_scene")])) == [
        {"ack": "f1"}, {"ack": "f1"}]
    [other] = asyncio.run(go("c", [update("f2", "resolved")]))
    assert other["nack"] == "f2" and "neither assigned to nor reported by O000002" in \
        other["error"]
    drain(world["worker"])
    [again, closed] = asyncio.run(go("b", [update("f3", "on_scene"), update("f4", "closed")]))
    assert again["nack"] == "f3" and "cannot on_scene a case that is on_scene" in again["error"]
    assert closed["nack"] == "f4" and "may report acknowledged, on_scene, resolved" in \
        closed["error"]
    assert asyncio.run(go("b", [update("f5", "resolved", "已处理")])) == [{"ack": "f5"}]
    drain(world["worker"])
    inc = reads.read_incident(world["client"], "D5")
    assert inc.status == "resolved" and inc.on_scene_ts is not None
    by = [(e.get("status"), e.get("by"), e.get("note")) for e in inc.events
          if e["kind"] == "status"]
    assert by[-2:] == [("on_scene", "device:phone-a", None),
                       ("resolved", "device:phone-b", "已处理")]
    audit = [(e["user"], e["action"]) for e in reads.audit_entries(world["client"], 20,
                                                                   target="D5")]
    assert audit.count(("device:phone-a", "case.on_scene")) == 1  # the repeat is not audited
    assert ("device:phone-b", "case.resolve") in audit
