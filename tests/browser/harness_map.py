"""Self-contained live-map harness: a Dash app serving map_page and a tiny WebSocket push server."""
from __future__ import annotations

import asyncio
import json
import random
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dash
from websockets.asyncio.server import ServerConnection, serve
from werkzeug.serving import WSGIRequestHandler, make_server

from dashboard.field import ASSETS_SUBDIR as FIELD_ASSETS  # the terminal's, not Dash's
from layouts.map_view import map_page
from layouts.viewmodels import IncidentMarker, Kpi, MapView, RegionStat

ROOT = Path(__file__).resolve().parents[2]
ASSETS = ROOT / "assets"
SCREENSHOTS = ROOT / "screenshots"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

# Three neighbouring towns east of Dongguan's centre, as irregular polygons (lon, lat).
TOWNS = [
    ("441900101", "莞城街道", [(113.60, 22.96), (113.69, 22.95), (113.71, 23.03), (113.69, 23.10),
                              (113.61, 23.09), (113.58, 23.02)]),
    ("441900102", "南城街道", [(113.69, 22.95), (113.79, 22.96), (113.80, 23.04), (113.78, 23.11),
                              (113.69, 23.10), (113.71, 23.03)]),
    ("441900103", "东城街道", [(113.79, 22.96), (113.89, 22.97), (113.91, 23.05), (113.87, 23.10),
                              (113.78, 23.11), (113.80, 23.04)]),
]
NOW = time.time()
RED_CASE = {"id": "I-NEW-RED", "lon": 113.745, "lat": 23.055, "level": "red", "category": "fire",
            "title": "厂房冒烟 <script>alert(1)</script>", "status": "reported",
            "reported_ts": NOW - 300, "grid": "441900102003"}


def town_features() -> dict[str, Any]:
    """The three towns as a GeoJSON FeatureCollection."""
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": code, "name": name},
         "geometry": {"type": "Polygon", "coordinates": [[list(p) for p in ring + [ring[0]]]]}}
        for code, name, ring in TOWNS]}


def fake_officers(n: int, seed: int = 7) -> list[list[Any]]:
    """N officers scattered over the towns, two in three on duty."""
    rnd = random.Random(seed)
    return [[f"O{i:06d}", round(rnd.uniform(113.61, 113.88), 6),
             round(rnd.uniform(22.97, 23.09), 6), 1 if i % 3 else 0] for i in range(n)]


def fake_incidents() -> list[IncidentMarker]:
    """Five open cases: two green, two yellow, one red."""
    rows = [("I-001", 113.64, 23.02, "green", "environment", "垃圾堆放", "reported", 600),
            ("I-002", 113.66, 23.06, "yellow", "dispute", "邻里噪音纠纷", "dispatched", 7200),
            ("I-003", 113.75, 23.00, "green", "rental_housing", "出租屋未登记", "acknowledged",
             1800),
            ("I-004", 113.86, 22.995, "yellow", "safety_hazard", "消防通道堵塞", "on_scene", 5400),
            ("I-005", 113.86, 23.07, "red", "work_safety", "工地未设围挡", "reported", 90000)]
    return [IncidentMarker(i, lon, lat, lvl, cat, title, status, NOW - age, "441900101001")
            for i, lon, lat, lvl, cat, title, status, age in rows]


def fake_view(live_url: str, n_officers: int = 200, wall: bool = False,
              lang: str = "zh") -> MapView:
    """A small city view: 3 towns, n officers, 5 incidents."""
    officers = fake_officers(n_officers)  # in the KPIs; the map's come from the push channel
    stats = {"441900101": RegionStat(green=1, yellow=1), "441900102": RegionStat(green=1),
             "441900103": RegionStat(yellow=1, red=1)}
    on_duty = sum(r[3] for r in officers)
    return MapView(
        region_code="441900", region_name="东莞市", region_level="city",
        children=town_features(), child_stats=stats,
        incidents=fake_incidents(), centre=(23.03, 113.75), zoom=12, live_url=live_url,
        kpi=Kpi(open_green=2, open_yellow=2, open_red=1, new_today=4, overdue=1,
                on_duty=on_duty, officers=len(officers)),
        as_of=NOW, lang=lang, wall=wall, breadcrumbs=[("441900", "东莞市")])


def sync_frame(vm: MapView) -> dict[str, Any]:
    """The sync frame matching a view-model (docs/push-protocol.md)."""
    return {"type": "sync", "as_of": time.time(), "officers": [],
            "incidents": [m.as_dict() for m in vm.incidents], "closed": [],
            "regions": {c: s.as_dict() for c, s in vm.child_stats.items()},
            "kpi": vm.kpi.as_dict()}


def red_delta(vm: MapView) -> dict[str, Any]:
    """A delta adding a red case in 南城 (441900102), with its region counts and the KPI strip."""
    kpi = vm.kpi.as_dict()
    kpi["open"]["red"] += 1
    kpi["new_today"] += 1
    return {"type": "delta", "as_of": time.time(), "officers": [], "incidents": [RED_CASE],
            "closed": ["I-001"],
            "regions": {"441900101": RegionStat(yellow=1).as_dict(),
                        "441900102": RegionStat(green=1, red=1).as_dict()},
            "kpi": kpi}


class PushServer:
    """A websockets (asyncio API) push server in a thread: a sync on connect, then broadcasts."""

    def __init__(self) -> None:
        """Prepare; call start()."""
        self.sync: dict[str, Any] = {"type": "sync", "officers": [], "incidents": []}
        self.clients: set[ServerConnection] = set()
        self.connections = 0
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stop: asyncio.Future[None] | None = None
        self._thread = threading.Thread(target=self._run, name="push", daemon=True)

    async def _handler(self, ws: ServerConnection) -> None:
        """Send the sync frame, then keep the connection until it closes."""
        self.connections += 1
        self.clients.add(ws)
        try:
            await ws.send(json.dumps(self.sync, ensure_ascii=False))
            async for _ in ws:
                pass
        finally:
            self.clients.discard(ws)

    async def _main(self) -> None:
        """Serve on a free loopback port until stopped."""
        self._stop = self._loop.create_future()
        async with serve(self._handler, "127.0.0.1", 0) as server:
            self.port = next(iter(server.sockets)).getsockname()[1]
            self._ready.set()
            await self._stop

    def _run(self) -> None:
        """Thread body."""
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._main())

    def start(self) -> PushServer:
        """Start the thread and wait for the port."""
        self._thread.start()
        self._ready.wait(10)
        return self

    def _call(self, coro: Any) -> Any:
        """Run a coroutine on the server loop from another thread."""
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(10)

    def broadcast(self, frame: dict[str, Any]) -> int:
        """Send a frame to every connected client; the number of clients."""
        async def send() -> int:
            text = json.dumps(frame, ensure_ascii=False)
            await asyncio.gather(*(c.send(text) for c in list(self.clients)))
            return len(self.clients)
        return self._call(send())

    def drop_all(self) -> None:
        """Close every client connection (the browser should reconnect)."""
        async def drop() -> None:
            await asyncio.gather(*(c.close() for c in list(self.clients)))
        self._call(drop())

    def stop(self) -> None:
        """Stop serving and join the thread."""
        if self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set_result, None)
        self._thread.join(10)


def dash_app(vm: MapView) -> dash.Dash:
    """A tiny Dash app whose layout is map_page(vm), with the project's assets."""
    app = dash.Dash(__name__, assets_folder=str(ASSETS), assets_path_ignore=[FIELD_ASSETS],
                    serve_locally=True, title="Gridwatch")
    app.layout = map_page(vm)
    return app


class QuietHandler(WSGIRequestHandler):
    """A request handler that does not log every request."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Do not log."""


@dataclass
class Harness:
    """What a browser test needs: the page URL, the push server, the view-model."""

    url: str
    push: PushServer
    vm: MapView


@contextmanager
def running(n_officers: int = 200, wall: bool = False) -> Iterator[Harness]:
    """Run the push server and the Dash app (werkzeug, threaded) on free loopback ports."""
    push = PushServer().start()
    vm = fake_view(f"ws://127.0.0.1:{push.port}/live?region=441900", n_officers, wall)
    push.sync = sync_frame(vm)
    server = make_server("127.0.0.1", 0, dash_app(vm).server, threaded=True,
                         request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="dash", daemon=True)
    thread.start()
    try:
        yield Harness(f"http://127.0.0.1:{server.server_port}/", push, vm)
    finally:
        server.shutdown()
        push.stop()
        thread.join(5)
