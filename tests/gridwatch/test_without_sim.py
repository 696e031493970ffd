"""The product starts and runs on a real city's files with feeds/sim/ deleted (DESIGN.md
"Layout": only the demo uses the demo's fakes)."""
from __future__ import annotations

import asyncio
import base64
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from contextlib import ExitStack, contextmanager
from pathlib import Path

import orjson

from feeds.geo.datum import to_datum
from feeds.ingest.terminal_client import TerminalClient
from feeds.store.embedded import free_port, wait_port
from tests.support import background

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "no-sim-token"
# Python as a process of the copied tree: the checkout's editable install (a finder on
# sys.meta_path that maps our packages back to the checkout) is taken out first.
ONLY_THE_COPY = ("import runpy, sys; sys.meta_path[:] = [f for f in sys.meta_path "
                 "if 'editable' not in getattr(f, '__module__', type(f).__module__)]; "
                 "sys.argv[0] = 'gridwatch'; runpy.run_module('{}', run_name='__main__')")
PASSWORD = "no-sim-password"


def product_without_sim(dest: Path) -> Path:
    """A copy of the product's packages and assets, without feeds/sim."""
    for name in ("domain", "feeds", "layouts", "dashboard", "gridwatch", "assets"):
        shutil.copytree(ROOT / name, dest / name,
                        ignore=shutil.ignore_patterns("__pycache__", "sim"))
    assert not (dest / "feeds" / "sim").exists()
    return dest


def cli(tree: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    """`python -m gridwatch.cli ARGS` run in the copied tree."""
    return subprocess.run([*python(tree, "gridwatch.cli"), *args], cwd=tree,
                          env=env_for(tree), input=stdin, capture_output=True, text=True,
                          timeout=120)


def python(tree: Path, module: str) -> list[str]:
    """The command line that runs `module` as __main__ from the copied tree only."""
    return [sys.executable, "-c", ONLY_THE_COPY.format(module)]


def env_for(tree: Path) -> dict[str, str]:
    """The environment of a process of the copied tree: it imports only that tree."""
    env = dict(os.environ, GRIDWATCH_TERMINAL_TOKEN=TOKEN, PYTHONPATH=str(tree))
    env.pop("REDIS_URL", None)
    return env


@contextmanager
def component(tree: Path, name: str, data_dir: Path, redis_url: str, ports: dict[str, int]):
    """`gridwatch run NAME` of the copied tree in the background, stopped by its PID."""
    args = ["--data-dir", str(data_dir), "--redis-url", redis_url,
            *[x for k, v in ports.items() for x in (f"--{k}", str(v))]]
    with background([*python(tree, "gridwatch.cli"), "run", name, *args],
                    data_dir / f"{name}.log", cwd=tree, env=env_for(tree)) as proc:
        yield proc


def get_json(url: str) -> dict:
    """GET a JSON answer as the admin (HTTP Basic)."""
    auth = base64.b64encode(f"admin:{PASSWORD}".encode()).decode()
    req = urllib.request.Request(url, headers={"Authorization": f"Basic {auth}"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return orjson.loads(r.read())


def test_gateway_worker_push_and_web_run_without_feeds_sim(tmp_path, demo_dir, redis_url,
                                                           city_ctx):
    tree = product_without_sim(tmp_path / "product")
    (tree / "probe.py").write_text("import feeds\nprint(feeds.__file__)\nimport feeds.sim\n")
    probe = subprocess.run(python(tree, "probe"), cwd=tree, env=env_for(tree),
                           capture_output=True, text=True)
    assert probe.stdout.strip() == str(tree / "feeds" / "__init__.py")
    assert "No module named 'feeds.sim'" in probe.stderr  # the copy really lacks it
    data = tmp_path / "data"
    data.mkdir()
    for name in ("city.geojson", "officers.csv"):
        shutil.copy(demo_dir / name, data / name)
    city = city_ctx.hierarchy.city.code
    added = cli(tree, "users", "add", "admin", "--role", "admin", "--scope", city,
                "--data-dir", str(data), "--redis-url", redis_url, stdin=PASSWORD + "\n")
    assert added.returncode == 0, added.stderr
    ports = {"port": free_port(), "gateway-port": free_port(), "live-port": free_port(),
             "osmand-port": free_port()}
    officer = next(iter(city_ctx.roster.values()))
    inside = city_ctx.city.shapes[officer.grid].representative_point()
    lon, lat = to_datum(inside.x, inside.y, city_ctx.hierarchy.datum, "wgs84")
    with ExitStack() as stack:
        for name in ("gateway", "worker", "push", "web"):
            stack.enter_context(component(tree, name, data, redis_url, ports))
        for key in ("port", "gateway-port", "live-port"):
            try:
                wait_port(ports[key], 120)
            except RuntimeError:
                logs = {f.name: f.read_text(errors="replace")[-800:] for f in data.glob("*.log")}
                raise AssertionError(f"{key} never listened; logs: {logs}") from None
        answers = asyncio.run(send_position(ports["gateway-port"], officer.officer_id, lon, lat))
        assert answers == [{"ack": "no-sim-1"}]
        base = f"http://127.0.0.1:{ports['port']}"
        deadline = time.monotonic() + 30
        while True:
            got = get_json(f"{base}/api/v1/officers/{officer.officer_id}")
            if got.get("position") or time.monotonic() > deadline:
                break
            time.sleep(0.3)
    assert got["officer_id"] == officer.officer_id
    assert got["position"], got


async def send_position(port: int, officer_id: str, lon: float, lat: float) -> list[dict]:
    """One position of an officer (WGS-84, as phones send) through the gateway."""
    client = TerminalClient(f"ws://127.0.0.1:{port}/terminal", TOKEN)
    try:
        return await client.send([{"type": "position", "msg_id": "no-sim-1",
                                   "officer_id": officer_id, "ts": time.time(),
                                   "lat": lat, "lon": lon}])
    finally:
        await client.close()
