"""`gridwatch demo`: Redis, the demo city and every component as one process tree."""
from __future__ import annotations

import fcntl
import logging
import secrets
import time
from pathlib import Path

from pydantic import SecretStr

from domain.access import Role
from feeds.accounts import auth
from feeds.live import reads
from feeds.live.context import CityContext
from feeds.sim.citygen import ensure_demo_city
from feeds.sim.overlays import ensure_demo_overlays
from feeds.store.client import client_url
from feeds.store.embedded import EmbeddedRedis
from feeds.video.registry import save_cameras
from gridwatch.components import COMPONENTS, command, registry_cameras
from gridwatch.config import GridwatchConfig, child_env
from gridwatch.supervisor import DEMO, Child, Supervisor

log = logging.getLogger(__name__)

SIMULATED = frozenset({"simulate", "dispatch"})  # the demo's fake city, left out by --no-sim


def _progress(stage: str, done: int, total: int) -> None:
    if done == total:
        log.info("making the demo city: %s %d/%d", stage, done, total)


def _secret(value: SecretStr | None) -> tuple[str, bool]:
    """The configured secret, or a new random one (and whether it is new: then printed)."""
    return (value.get_secret_value(), False) if value else (secrets.token_urlsafe(12), True)


class Demo:
    """The demo's data dir, city and Redis (the supervisor runs its components)."""

    def __init__(self, cfg: GridwatchConfig):
        self.cfg = cfg
        self.redis: EmbeddedRedis | None = None
        self.city_code = ""

    def lock(self) -> None:
        """Hold the data dir for this demo; a second demo on the same dir stops at once."""
        data_dir = self.cfg.store.data_dir
        data_dir.mkdir(parents=True, exist_ok=True)
        self.lock_file = open(data_dir / "demo.lock", "w")  # noqa: SIM115
        try:
            fcntl.flock(self.lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SystemExit(f"gridwatch: another demo is running with {data_dir}; "
                             "stop it or pass another --data-dir") from None

    def prepare(self) -> str:
        """Make the city if missing, start or reach Redis; the URL clients are made from."""
        self.lock()
        store, rules = self.cfg.store, self.cfg.live.rules_file
        started = time.perf_counter()
        ensure_demo_city(store.data_dir, progress=_progress)
        log.info("demo city ready in %s (%.1f s)", store.data_dir, time.perf_counter() - started)
        ctx = CityContext.load(store.city_file, store.officers_file, rules)
        ensure_demo_overlays(store.data_dir, ctx.city)
        ctx = CityContext.load(store.city_file, store.officers_file, rules,
                               store.data_dir)  # validates the overlays too
        self.city_code = ctx.hierarchy.city.code
        url = store.redis_url
        if not url:
            self.redis = EmbeddedRedis(store.data_dir, die_with_parent=True).start()
            url = self.redis.url
        url = client_url(url, store.redis_cluster)
        store.url_file.write_text(url + "\n")
        return url

    def children(self, tree: GridwatchConfig) -> list[Child]:
        """Every component as a child process running with `tree`."""
        env = child_env(tree)
        return [Child(c.name, command(c.name), env, nice=c.nice, settle_s=c.settle_s)
                for c in COMPONENTS.values()
                if c.name not in SIMULATED or tree.sim.simulate]

    def stop(self) -> None:
        """Stop the embedded Redis, if this demo started one."""
        if self.redis:
            self.redis.stop()


def run_demo(cfg: GridwatchConfig) -> int:
    """Run the whole demo until Ctrl-C or SIGTERM; nothing is left running after it."""
    demo = Demo(cfg)
    sup = Supervisor("the demo", [], DEMO)
    sup.install_signals()
    redis_url = demo.prepare()
    try:
        token, token_new = _secret(cfg.ingest.terminal_token)
        password, pw_new = _secret(cfg.accounts.admin_password)
        o311_key, o311_new = _secret(cfg.web.open311_key)
        client = reads.connect(redis_url)
        auth.add_user(client, "admin", password, Role.ADMIN, demo.city_code)
        save_cameras(client, registry_cameras(cfg))  # listed before /health turns 200
        client.close()
        tree = (cfg.replace("store", redis_url=redis_url)
                .replace("ingest", terminal_token=SecretStr(token))
                .replace("web", open311_key=SecretStr(o311_key)))
        sup.children = demo.children(tree)
        sup.start()
        _banner(cfg, redis_url, token if token_new else None, password if pw_new else None,
                o311_key if o311_new else None)
        code = sup.watch()
    finally:
        log.info("shutting down")
        sup.stop()
        demo.stop()
        log.info("stopped")
    return code


def _banner(cfg: GridwatchConfig, redis_url: str, token: str | None, password: str | None,
            open311_key: str | None) -> None:
    s = cfg.server
    host = "localhost" if s.host in ("127.0.0.1", "0.0.0.0", "::") else s.host
    web = f"http://{host}:{cfg.web.port}"
    lines = [
        "",
        "  Gridwatch demo is running (Ctrl-C stops it)",
        f"  Dashboard:  {web}/        user: admin   password: "
        + (password or "(GRIDWATCH_ADMIN_PASSWORD)"),
        f"  Wall:       {web}/?wall=1",
        f"  Video:      {web}/video   (cameras re-streamed on port {cfg.video.capture_port})",
        f"  Terminals:  ws://{host}:{cfg.ingest.gateway_port}/terminal   token: "
        + (token or "(GRIDWATCH_TERMINAL_TOKEN)"),
        f"  Live push:  ws://{host}:{cfg.push.port}/live",
        f"  Trackers:   http://{host}:{cfg.ingest.osmand_port}/  (OsmAnd / Traccar Client; "
        "register with `gridwatch devices add`)",
        f"  API:        {web}/api/v1/openapi.json   health: /health",
        f"  Open311:    {web}/open311/v2/services.json   api_key: "
        + (open311_key or "(GRIDWATCH_OPEN311_KEY)"),
        f"  Redis:      {redis_url}   data: {Path(cfg.store.data_dir).resolve()}",
        "",
    ]
    print("\n".join(lines), flush=True)
