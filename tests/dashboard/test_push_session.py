"""The push channel closes a live connection once its session ends (logout, user removed)."""
from __future__ import annotations

import asyncio
import time

import orjson
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from dashboard.push import LiveHub, serve_push
from domain.access import Role, User
from feeds.accounts import async_sessions, auth
from feeds.live.context import CityContext
from feeds.store.client import async_client, sync_client
from tests.conftest import ThreadedServer


def test_connection_closes_when_its_session_ends(redis_url: str, city_ctx: CityContext):
    sync = sync_client(redis_url)
    town = city_ctx.towns[0]
    auth.add_user(sync, "kept", "pw-pw-pw-pw", Role.VIEWER, town)
    auth.add_user(sync, "gone", "pw-pw-pw-pw", Role.VIEWER, town)
    kept = auth.open_session(sync, User("kept", Role.VIEWER, town))
    logged_out = auth.open_session(sync, User("kept", Role.VIEWER, town))
    removed = auth.open_session(sync, User("gone", Role.VIEWER, town))

    async def run(stop: asyncio.Event, ready) -> None:
        client = async_client(redis_url)
        hub = LiveHub(client, city_ctx.hierarchy, city_ctx.roster, city_ctx.rules,
                      lambda t: async_sessions.session_user(client, t), flush_s=0.05)
        hub.session_check_s = 0.2
        await serve_push(hub, "127.0.0.1", 0, stop, ready)
        await client.aclose()

    server = ThreadedServer(run).start()
    url = f"ws://127.0.0.1:{server.port}/live?region={town}"

    async def watch() -> dict[str, float | None]:
        socks = {name: await connect(url, additional_headers={"Cookie": f"gw_session={tok}"},
                                     max_size=None)
                 for name, tok in (("kept", kept), ("logged_out", logged_out),
                                   ("removed", removed))}
        for ws in socks.values():
            await ws.recv()  # the sync frame: all three are subscribed
        t0 = time.monotonic()
        auth.close_session(sync, logged_out)
        auth.remove_user(sync, "gone")
        closed: dict[str, float | None] = {}

        async def drain(name: str) -> None:  # frames (and heartbeats) until it closes
            try:
                while True:
                    await socks[name].recv()
            except ConnectionClosed as e:
                closed[name] = time.monotonic() - t0 if e.rcvd and e.rcvd.code == 4401 else -1

        async def until_closed(name: str) -> None:
            try:
                await asyncio.wait_for(drain(name), 3)
            except TimeoutError:
                closed[name] = None
        await asyncio.gather(*(until_closed(n) for n in socks))
        for ws in socks.values():
            await ws.close()
        return closed

    try:
        closed = asyncio.run(watch())
    finally:
        server.stop()
    assert closed["kept"] is None  # still open after 3 s
    assert 0 < closed["logged_out"] < 2 and 0 < closed["removed"] < 2


def test_only_the_configured_origins_may_open_the_channel(redis_url: str, city_ctx: CityContext):
    """A page of another site (cross-site WebSocket hijacking) is refused; ours works."""
    from websockets.exceptions import InvalidStatus

    from dashboard.config import PushConfig, WebConfig
    from dashboard.push_main import allowed_origins

    sync = sync_client(redis_url)
    town = city_ctx.towns[0]
    auth.add_user(sync, "viewer", "pw-pw-pw-pw", Role.VIEWER, town)
    token = auth.open_session(sync, User("viewer", Role.VIEWER, town))
    web = WebConfig(port=8050)
    origins = allowed_origins(web, PushConfig(), "127.0.0.1")
    assert "http://localhost:8050" in origins and "http://127.0.0.1:8050" in origins
    assert allowed_origins(WebConfig(public_url="https://gw.example.cn/"), PushConfig(),
                           "0.0.0.0") == ["https://gw.example.cn"]

    async def run(stop: asyncio.Event, ready) -> None:
        client = async_client(redis_url)
        hub = LiveHub(client, city_ctx.hierarchy, city_ctx.roster, city_ctx.rules,
                      lambda t: async_sessions.session_user(client, t), flush_s=0.05)
        await serve_push(hub, "127.0.0.1", 0, stop, ready, origins=origins)
        await client.aclose()

    server = ThreadedServer(run).start()
    url = f"ws://127.0.0.1:{server.port}/live?region={town}"
    cookie = {"Cookie": f"gw_session={token}"}

    async def try_origin(origin: str | None) -> str:
        try:
            async with connect(url, additional_headers=cookie, origin=origin,
                               max_size=None) as ws:
                return orjson.loads(await ws.recv())["type"]
        except InvalidStatus as e:
            return str(e.response.status_code)

    try:
        assert asyncio.run(try_origin("http://localhost:8050")) == "sync"
        assert asyncio.run(try_origin("http://127.0.0.1:8050")) == "sync"
        assert asyncio.run(try_origin("https://evil.example")) == "403"
        assert asyncio.run(try_origin("http://localhost:9999")) == "403"
        assert asyncio.run(try_origin(None)) == "403"  # no Origin: not a page of ours
    finally:
        server.stop()


def test_on_every_address_the_origin_must_name_the_host_the_browser_reached(
        redis_url: str, city_ctx: CityContext):
    """Listening on 0.0.0.0 without a public URL: a page of http://<the host we were reached
    by>:<web port> may subscribe, a page of another host or port may not."""
    from websockets.exceptions import InvalidStatus

    from dashboard.config import PushConfig, WebConfig
    from dashboard.push_main import allowed_origins, same_host_port

    sync = sync_client(redis_url)
    town = city_ctx.towns[0]
    auth.add_user(sync, "viewer", "pw-pw-pw-pw", Role.VIEWER, town)
    token = auth.open_session(sync, User("viewer", Role.VIEWER, town))
    web = WebConfig(port=8050)
    assert allowed_origins(web, PushConfig(), "0.0.0.0") == []
    assert same_host_port(web, "0.0.0.0") == 8050 and same_host_port(web, "127.0.0.1") is None

    async def run(stop: asyncio.Event, ready) -> None:
        client = async_client(redis_url)
        hub = LiveHub(client, city_ctx.hierarchy, city_ctx.roster, city_ctx.rules,
                      lambda t: async_sessions.session_user(client, t), flush_s=0.05)
        await serve_push(hub, "127.0.0.1", 0, stop, ready, origins=["http://wall.lan:9000"],
                         same_host_port=8050)
        await client.aclose()

    server = ThreadedServer(run).start()

    async def try_origin(via: str, origin: str) -> str:
        url = f"ws://{via}:{server.port}/live?region={town}"
        try:
            async with connect(url, additional_headers={"Cookie": f"gw_session={token}"},
                               origin=origin, max_size=None) as ws:
                return orjson.loads(await ws.recv())["type"]
        except InvalidStatus as e:
            return str(e.response.status_code)

    try:
        assert asyncio.run(try_origin("127.0.0.1", "http://127.0.0.1:8050")) == "sync"
        assert asyncio.run(try_origin("localhost", "http://localhost:8050")) == "sync"
        assert asyncio.run(try_origin("127.0.0.1", "http://wall.lan:9000")) == "sync"  # listed
        assert asyncio.run(try_origin("127.0.0.1", "http://localhost:8050")) == "403"
        assert asyncio.run(try_origin("127.0.0.1", "http://127.0.0.1:9999")) == "403"
        assert asyncio.run(try_origin("127.0.0.1", "https://evil.example")) == "403"
    finally:
        server.stop()


def test_a_handshake_while_the_session_store_is_down_gets_503(redis_url: str,
                                                              city_ctx: CityContext):
    """Sessions unreachable (nothing listens where they live): retry later, not a 500."""
    from websockets.exceptions import InvalidStatus

    from feeds.store.embedded import free_port

    async def run(stop: asyncio.Event, ready) -> None:
        client = async_client(redis_url)
        dead = async_client(f"redis://127.0.0.1:{free_port()}")
        hub = LiveHub(client, city_ctx.hierarchy, city_ctx.roster, city_ctx.rules,
                      lambda t: async_sessions.session_user(dead, t), flush_s=0.05)
        await serve_push(hub, "127.0.0.1", 0, stop, ready)
        await client.aclose()
        await dead.aclose()

    server = ThreadedServer(run).start()

    async def knock() -> int:
        try:
            await connect(f"ws://127.0.0.1:{server.port}/live?region={city_ctx.towns[0]}",
                          additional_headers={"Cookie": "gw_session=whatever"})
        except InvalidStatus as e:
            return e.response.status_code
        return 101

    try:
        assert asyncio.run(knock()) == 503
    finally:
        server.stop()
