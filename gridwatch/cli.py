"""The `gridwatch` command: demo, components, users."""
from __future__ import annotations

import argparse
import getpass
import logging
import os
import sys
from pathlib import Path

from pydantic import ValidationError

from dashboard.settings import Settings, wall_env
from domain.access import Role
from domain.regions import town_of

log = logging.getLogger("gridwatch")
SCALED = ("gateway", "worker", "push", "web")  # components `--processes N` multiplies


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default="127.0.0.1", help="listen address (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8050, help="dashboard port (default 8050)")
    p.add_argument("--gateway-port", type=int, default=8765, help="terminal gateway port")
    p.add_argument("--live-port", type=int, default=8766, help="live push channel port")
    p.add_argument("--osmand-port", type=int, default=5055,
                   help="OsmAnd (Traccar Client) tracker port")
    p.add_argument("--capture-port", type=int, default=8767, help="video capture worker port")
    p.add_argument("--camsim-port", type=int, default=8768, help="demo synthetic cameras port")
    p.add_argument("--cameras-file", type=Path, default=None,
                   help="camera registry CSV (default: demo cameras)")
    p.add_argument("--data-dir", type=Path, default=Path("data"), help="data directory")
    p.add_argument("--redis-url", default=None, help="external Redis (default: $REDIS_URL, "
                   "else an embedded redis-server)")
    p.add_argument("--rules", type=Path, default=None, help="alert rules YAML")
    p.add_argument("--incidents-per-hour", type=float, default=300.0, help="simulated cases/h")
    p.add_argument("--position-interval", type=float, default=10.0,
                   help="seconds between simulated position fixes")
    p.add_argument("--no-sim", action="store_true", help="do not run the simulator")
    p.add_argument("--processes", type=int, default=1,
                   help="run gateway, worker, push and web as N processes each; servers share "
                        "their port (SO_REUSEPORT), workers split the towns (default 1)")
    p.add_argument("--history-days", type=int, default=30,
                   help="days of past cases the demo simulates on first run (0: none)")


def parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    ap = argparse.ArgumentParser(prog="gridwatch", description="Gridwatch command centre")
    sub = ap.add_subparsers(dest="cmd", required=True)
    _common(sub.add_parser("demo", help="run the demo city with every component"))
    init = sub.add_parser("init", help="make the demo city files in the data dir if missing "
                          "(and the admin user, with GRIDWATCH_ADMIN_PASSWORD and REDIS_URL)")
    init.add_argument("--data-dir", type=Path, default=Path("data"))
    init.add_argument("--redis-url", default=None)
    run = sub.add_parser("run", help="run one component (used by demo and docker)")
    run.add_argument("--process-index", type=int, default=None, help=argparse.SUPPRESS)
    run.add_argument("component", choices=["gateway", "worker", "push", "web", "simulate",
                                           "cameras", "capture"])
    _common(run)
    users = sub.add_parser("users", help="manage users")
    usub = users.add_subparsers(dest="action", required=True)
    add = usub.add_parser("add", help="add a user (password on stdin)")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=[r.value for r in Role])
    add.add_argument("--scope", required=True, help="region code the user may see")
    add.add_argument("--lang", default="zh", choices=["zh", "en"],
                     help="preferred UI language (default zh)")
    rm = usub.add_parser("remove", help="remove a user")
    rm.add_argument("name")
    usub.add_parser("list", help="list users")
    rp = sub.add_parser("replay", help="feed a CSV or Parquet log through the gateway")
    rp.add_argument("file", type=Path)
    rp.add_argument("--mapping", type=Path, default=None,
                    help="YAML/JSON mapping of another system's columns and categories")
    rp.add_argument("--speed", type=float, default=1.0, help="N× real time (default 1)")
    rp.add_argument("--fast", action="store_true", help="as fast as the gateway takes it")
    rp.add_argument("--gateway", default="ws://127.0.0.1:8765/terminal", help="gateway URL")
    rp.add_argument("--token", default=None, help="terminal token ($GRIDWATCH_TERMINAL_TOKEN)")
    ex = sub.add_parser("export", help="write stream history to Parquet before it is trimmed")
    ex.add_argument("--out", type=Path, default=Path("data/history"), help="output folder")
    ex.add_argument("--older-than", type=float, default=0.0,
                    help="only entries older than this many hours (default: everything)")
    ex.add_argument("--data-dir", type=Path, default=Path("data"))
    ex.add_argument("--redis-url", default=None)
    devices = sub.add_parser("devices", help="manage terminal devices and their tokens")
    dsub = devices.add_subparsers(dest="action", required=True)
    dadd = dsub.add_parser("add", help="register a device for an officer; prints its token")
    dadd.add_argument("device_id")
    dadd.add_argument("--officer", required=True, help="officer id the device belongs to")
    drev = dsub.add_parser("revoke", help="revoke a device's token")
    drev.add_argument("device_id")
    dsub.add_parser("list", help="list devices")
    for p in (add, rm, usub.choices["list"], dadd, drev, dsub.choices["list"]):
        p.add_argument("--data-dir", type=Path, default=Path("data"))
        p.add_argument("--redis-url", default=None)
    return ap


def settings_from(args: argparse.Namespace) -> Settings:
    """Validated settings from the command line; exits with the field and reason if bad."""
    try:
        return Settings(host=args.host, port=args.port, gateway_port=args.gateway_port,
                        live_port=args.live_port, osmand_port=args.osmand_port,
                        capture_port=args.capture_port, camsim_port=args.camsim_port,
                        cameras_file=args.cameras_file,
                        capture_public_url=os.environ.get("GRIDWATCH_CAPTURE_URL"),
                        data_dir=args.data_dir,
                        redis_url=args.redis_url or os.environ.get("REDIS_URL"),
                        rules_file=args.rules, incidents_per_hour=args.incidents_per_hour,
                        position_interval_s=args.position_interval, simulate=not args.no_sim,
                        history_days=args.history_days, processes=args.processes,
                        process_index=getattr(args, "process_index", None) or 0,
                        tile_url=os.environ.get("GRIDWATCH_TILE_URL"),
                        **wall_env(os.environ))
    except ValidationError as e:
        errs = "; ".join(f"{'.'.join(map(str, x['loc']))}: {x['msg']}" for x in e.errors())
        raise SystemExit(f"gridwatch: bad settings: {errs}") from None


def _store_url(args: argparse.Namespace) -> str:
    url = args.redis_url or os.environ.get("REDIS_URL")
    if url:
        return url
    f = args.data_dir / "redis.url"
    if not f.exists():
        raise SystemExit(f"gridwatch: no running demo in {args.data_dir} (no redis.url) and "
                         "no REDIS_URL; start `gridwatch demo` or pass --redis-url")
    return f.read_text().strip()


def _users(args: argparse.Namespace) -> int:
    from feeds.accounts import auth  # noqa: PLC0415
    from feeds.live import reads  # noqa: PLC0415

    client = reads.connect(_store_url(args))
    if args.action == "list":
        langs = auth.user_langs(client)
        for u in auth.list_users(client):
            print(f"{u.name}\t{u.role.value}\t{u.scope}\t{langs.get(u.name, 'zh')}")
        return 0
    if args.action == "remove":
        if not auth.remove_user(client, args.name):
            print(f"no user {args.name!r}", file=sys.stderr)
            return 1
        return 0
    pw = getpass.getpass("password: ") if sys.stdin.isatty() else sys.stdin.readline().rstrip("\n")
    if len(pw) < 8:
        print("password must have at least 8 characters", file=sys.stderr)
        return 1
    if not _known_scope(args):
        return 1
    auth.add_user(client, args.name, pw, Role(args.role), args.scope, args.lang)
    print(f"user {args.name} ({args.role}, scope {args.scope}, language {args.lang}) saved")
    return 0


def _known_scope(args: argparse.Namespace) -> bool:
    """Whether --scope names a region of the city (checked against the data dir's city)."""
    from domain.regions import level_of  # noqa: PLC0415

    try:
        level_of(args.scope)
    except ValueError:
        print(f"scope {args.scope!r} is not a region code", file=sys.stderr)
        return False
    city = args.data_dir / "city.geojson"
    if city.exists():
        from feeds.geo.hierarchy import load_hierarchy  # noqa: PLC0415

        if args.scope not in load_hierarchy(city).hierarchy:
            print(f"no region {args.scope!r} in {city}", file=sys.stderr)
            return False
    return True


def _init(args: argparse.Namespace) -> int:
    from feeds.accounts import auth  # noqa: PLC0415
    from feeds.live import reads  # noqa: PLC0415
    from feeds.live.context import CityContext  # noqa: PLC0415
    from feeds.sim.citygen import ensure_demo_city  # noqa: PLC0415
    from feeds.sim.overlays import ensure_demo_overlays  # noqa: PLC0415

    city_file, officers_file = ensure_demo_city(args.data_dir)
    ctx = CityContext.load(city_file, officers_file, None)
    ensure_demo_overlays(args.data_dir, ctx.city)
    print(f"city files ready in {args.data_dir}")
    password = os.environ.get("GRIDWATCH_ADMIN_PASSWORD", "")
    url = args.redis_url or os.environ.get("REDIS_URL")
    if password and url:
        auth.add_user(reads.connect(url), "admin", password, Role.ADMIN,
                      ctx.hierarchy.city.code)
        print("user admin saved")
    return 0


def _replay(args: argparse.Namespace) -> int:
    import asyncio  # noqa: PLC0415

    from feeds.ingest import replay  # noqa: PLC0415

    token = args.token or os.environ.get("GRIDWATCH_TERMINAL_TOKEN", "")
    if not token:
        print("no terminal token: pass --token or set GRIDWATCH_TERMINAL_TOKEN", file=sys.stderr)
        return 2
    try:
        msgs = list(replay.messages(replay.read_log(args.file),
                                    replay.load_mapping(args.mapping)))
    except replay.ReplayError as e:
        print(f"gridwatch replay: {e}", file=sys.stderr)
        return 2
    print(f"{args.file}: {len(msgs)} messages {replay.count_types(msgs)}", file=sys.stderr)
    client = asyncio.run(replay.replay(msgs, args.gateway, token,
                                       None if args.fast else args.speed))
    print(replay.summary(client, len(msgs)))
    return 0 if client.nacked == 0 else 1


def _export(args: argparse.Namespace) -> int:
    import time  # noqa: PLC0415

    from feeds.geo.roster import load_officers  # noqa: PLC0415
    from feeds.history.export import export_history  # noqa: PLC0415
    from feeds.live import reads  # noqa: PLC0415

    client = reads.connect(_store_url(args))
    towns = sorted({town_of(o.grid) for o in load_officers(args.data_dir / "officers.csv")})
    end = time.time() - args.older_than * 3600
    total = export_history(client, towns, args.out, end,
                           lambda stream, n: print(f"{stream}: {n} rows", file=sys.stderr))
    print(f"exported {sum(total.values())} entries to {args.out}")
    return 0


def _devices(args: argparse.Namespace) -> int:
    from feeds.accounts import devices  # noqa: PLC0415
    from feeds.geo.roster import load_officers  # noqa: PLC0415
    from feeds.live import reads  # noqa: PLC0415

    client = reads.connect(_store_url(args))
    if args.action == "list":
        for d in devices.list_devices(client):
            print(f"{d.device_id}\t{d.officer_id}")
        return 0
    if args.action == "revoke":
        if not devices.revoke_device(client, args.device_id):
            print(f"no device {args.device_id!r}", file=sys.stderr)
            return 1
        print(f"device {args.device_id} revoked")
        return 0
    roster = args.data_dir / "officers.csv"
    if roster.exists() and args.officer not in {o.officer_id for o in load_officers(roster)}:
        print(f"no officer {args.officer!r} in {roster}", file=sys.stderr)
        return 1
    token = devices.add_device(client, args.device_id, args.officer)
    print(f"device {args.device_id} → officer {args.officer}\ntoken: {token}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `gridwatch` console script."""
    argv = sys.argv[1:] if argv is None else argv
    args = parser().parse_args(argv)
    tag = args.component if args.cmd == "run" else args.cmd
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format=f"%(asctime)s %(levelname)-7s [{tag}] %(name)s: %(message)s",
                        datefmt="%H:%M:%S")
    logging.getLogger("websockets").setLevel(logging.WARNING)
    if args.cmd == "users":
        return _users(args)
    if args.cmd == "init":
        return _init(args)
    if args.cmd == "devices":
        return _devices(args)
    if args.cmd == "replay":
        return _replay(args)
    if args.cmd == "export":
        return _export(args)
    settings = settings_from(args)
    from feeds.geo.hierarchy import HierarchyError  # noqa: PLC0415
    from feeds.live.rules import ConfigError  # noqa: PLC0415

    try:
        if args.cmd == "demo":
            from gridwatch.demo import run_demo  # noqa: PLC0415

            return run_demo(settings)
        if (args.component in SCALED and settings.processes > 1
                and args.process_index is None):
            from gridwatch.supervisor import supervise  # noqa: PLC0415

            return supervise(args.component, settings.processes, lambda i: [
                sys.executable, "-m", "gridwatch.cli", *argv, "--process-index", str(i)])
        return _run_component(args.component, settings, args)
    except (ConfigError, HierarchyError) as e:
        log.error("cannot start: %s", e)
        return 2


def _run_component(name: str, settings: Settings, args: argparse.Namespace) -> int:
    from gridwatch import components as c  # noqa: PLC0415

    if name == "simulate":
        c.run_simulator_process(settings)
        return 0
    if name == "cameras":
        c.run_cameras(settings)
        return 0
    url = _store_url(args)
    {"gateway": c.run_gateway, "worker": c.run_worker, "push": c.run_push,
     "web": c.run_web, "capture": c.run_capture_worker}[name](settings, url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
