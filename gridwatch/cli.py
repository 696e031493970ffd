"""The `gridwatch` command: demo, components, administration."""
from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import Any

from domain.access import Role
from feeds.ops.logs import setup_logging
from feeds.ops.metrics import MULTIPROC_ENV, clear_metrics, setup_metrics
from gridwatch import admin, city_cli
from gridwatch.config import LEGACY_ENV, GridwatchConfig, child_env, load_config
from layouts.i18n import langs

log = logging.getLogger("gridwatch")

# Flags that set a field of the config tree (their defaults live in the tree only).
STORE_FLAGS = (("--data-dir", "store.data_dir"), ("--redis-url", "store.redis_url"))
SERVE_FLAGS = (
    ("--host", "server.host"), ("--port", "web.port"),
    ("--gateway-port", "ingest.gateway_port"), ("--live-port", "push.port"),
    ("--osmand-port", "ingest.osmand_port"), ("--capture-port", "video.capture_port"),
    ("--camsim-port", "sim.camsim_port"), ("--cameras-file", "video.cameras_file"),
    ("--rules", "live.rules_file"), ("--incidents-per-hour", "sim.incidents_per_hour"),
    ("--position-interval", "sim.position_interval_s"), ("--processes", "processes.count"),
    ("--history-days", "sim.history_days"), ("--history-per-hour", "sim.history_per_hour"),
    ("--time-scale", "live.time_scale"))
ENV_OF = {path: name for name, path in LEGACY_ENV.items()}
COMPONENT_NAMES = ("gateway", "worker", "push", "web", "simulate", "dispatch", "cameras",
                   "capture")


def _tree_flag(p: argparse.ArgumentParser, flag: str, path: str) -> None:
    """A flag that sets one field of the tree; its help says the field, default and env."""
    section, field = path.split(".")
    info = GridwatchConfig.model_fields[section].annotation.model_fields.get(field)  # type: ignore[union-attr]
    if info is None:  # a field of a room that is not installed (the demo's feeds/sim)
        p.add_argument(flag, dest=path, default=argparse.SUPPRESS, help=argparse.SUPPRESS)
        return
    env = ENV_OF.get((section, field), f"GRIDWATCH_{section.upper()}__{field.upper()}")
    default = "unset" if info.default is None else info.default
    p.add_argument(flag, dest=path, default=argparse.SUPPRESS,
                   metavar=flag[2:].upper().replace("-", "_"),
                   help=f"{info.description} ({path}, ${env}; default {default})")


def _config_flags(p: argparse.ArgumentParser, *flags: tuple[str, str]) -> None:
    p.add_argument("--config", type=Path, default=None, metavar="FILE",
                   help="YAML file of the config tree (default $GRIDWATCH_CONFIG)")
    for flag, path in (*STORE_FLAGS, *flags):
        _tree_flag(p, flag, path)


def _serving(p: argparse.ArgumentParser) -> None:
    _config_flags(p, *SERVE_FLAGS)
    p.add_argument("--no-sim", dest="sim.simulate", action="store_const", const=False,
                   default=argparse.SUPPRESS, help="do not run the simulator")


def _admin_parsers(sub: argparse._SubParsersAction) -> None:
    users = sub.add_parser("users", help="manage users")
    usub = users.add_subparsers(dest="action", required=True)
    add = usub.add_parser("add", help="add a user (password on stdin)")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=[r.value for r in Role])
    add.add_argument("--scope", required=True, help="region code the user may see")
    add.add_argument("--lang", default="zh", choices=list(langs()),
                     help="preferred UI language (default zh; one of the locales/ catalogues)")
    rm = usub.add_parser("remove", help="remove a user")
    rm.add_argument("name")
    devices = sub.add_parser("devices", help="manage terminal devices and their tokens")
    dsub = devices.add_subparsers(dest="action", required=True)
    dadd = dsub.add_parser("add", help="register a device for an officer; prints its token "
                                       "and a pairing code for the field terminal /m/")
    dadd.add_argument("device_id")
    dadd.add_argument("--officer", required=True, help="officer id the device belongs to")
    drev = dsub.add_parser("revoke", help="revoke a device's token")
    drev.add_argument("device_id")
    dpair = dsub.add_parser("pair", help="a new pairing code for a registered device (its "
                                         "token stays)")
    dpair.add_argument("device_id")
    for p in (add, rm, usub.add_parser("list", help="list users"), dadd, drev, dpair,
              dsub.add_parser("list", help="list devices")):
        _config_flags(p)


def _token_parsers(sub: argparse._SubParsersAction) -> None:
    tokens = sub.add_parser("tokens", help="manage API tokens of programs")
    tsub = tokens.add_subparsers(dest="action", required=True)
    tadd = tsub.add_parser("add", help="create (or replace) a named API token; prints it")
    tadd.add_argument("name")
    tadd.add_argument("--role", required=True, choices=[r.value for r in Role])
    tadd.add_argument("--scope", required=True, help="region code the token may see")
    trev = tsub.add_parser("revoke", help="revoke a named API token")
    trev.add_argument("name")
    for p in (tadd, trev, tsub.add_parser("list", help="list API tokens (never the tokens)")):
        _config_flags(p)


def _data_parsers(sub: argparse._SubParsersAction) -> None:
    rp = sub.add_parser("replay", help="feed a CSV or Parquet log through the gateway")
    rp.add_argument("file", type=Path)
    rp.add_argument("--mapping", type=Path, default=None,
                    help="YAML/JSON mapping of another system's columns and categories")
    rp.add_argument("--speed", type=float, default=1.0, help="N× real time (default 1)")
    rp.add_argument("--fast", action="store_true", help="as fast as the gateway takes it")
    rp.add_argument("--gateway", default=None,
                    help="gateway URL (default ws://HOST:GATEWAY_PORT/terminal of the tree)")
    _config_flags(rp, ("--token", "ingest.terminal_token"), ("--host", "server.host"),
                  ("--gateway-port", "ingest.gateway_port"))
    ex = sub.add_parser("export", help="write stream history to Parquet before it is trimmed")
    ex.add_argument("--out", type=Path, default=Path("data/history"), help="output folder")
    ex.add_argument("--older-than", type=float, default=0.0,
                    help="only entries older than this many hours (default: everything)")
    _config_flags(ex)


def _camera_parsers(sub: argparse._SubParsersAction) -> None:
    cams = sub.add_parser("cameras", help="manage the camera registry file")
    csub = cams.add_subparsers(dest="action", required=True)
    imp = csub.add_parser("import", help="import a GB/T 28181 platform's channel export "
                                         "(wvp-GB28181-pro: CSV or JSON) into the registry CSV")
    imp.add_argument("file", type=Path)
    imp.add_argument("--platform-url", required=True,
                     help="the media server (ZLMediaKit) HTTP base, e.g. http://zlm:80")
    imp.add_argument("--stream", choices=("flv", "hls", "rtsp"), default="flv",
                     help="which of its streams to read (default flv: HTTP-FLV)")
    imp.add_argument("--rtsp-port", type=int, default=554, help="its RTSP port (--stream rtsp)")
    imp.add_argument("--playback-url", default="",
                     help="recordings: a MediaMTX /get URL with {device_id} {channel_id} or "
                          "{stream}, e.g. 'http://mtx:9996/get?path={stream}' (recorder "
                          "platform); empty: Gridwatch records them")
    imp.add_argument("--datum", default="wgs84", choices=("wgs84", "gcj02", "bd09"),
                     help="datum of the export's coordinates (GB devices: wgs84)")
    imp.add_argument("--out", type=Path, default=None,
                     help="registry CSV to write (default: video.cameras_file, else "
                          "DATA_DIR/cameras.csv); rows of other cameras are kept")
    _config_flags(imp)


def parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    ap = argparse.ArgumentParser(prog="gridwatch", description="Gridwatch command centre")
    sub = ap.add_subparsers(dest="cmd", required=True)
    _serving(sub.add_parser("demo", help="run the demo city with every component"))
    _config_flags(sub.add_parser(
        "init", help="make the demo city files in the data dir if missing (and the admin "
        "user, with GRIDWATCH_ADMIN_PASSWORD and REDIS_URL)"))
    run = sub.add_parser("run", help="run one component (used by demo and docker)")
    run.add_argument("--process-index", dest="processes.index", default=argparse.SUPPRESS,
                     help=argparse.SUPPRESS)
    run.add_argument("component", choices=COMPONENT_NAMES)
    _serving(run)
    probe = sub.add_parser("probe", help="health check of a container: a fresh heartbeat of "
                                         "the component on this host")
    probe.add_argument("component", choices=("worker", "capture", "gateway"))
    _config_flags(probe)
    _admin_parsers(sub)
    _token_parsers(sub)
    _data_parsers(sub)
    city_cli.add_parsers(sub, _config_flags)
    _camera_parsers(sub)
    return ap


def overrides(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """The tree's fields given on the command line, by section."""
    out: dict[str, dict[str, Any]] = {}
    for key, value in vars(args).items():
        if "." in key:
            section, field = key.split(".")
            out.setdefault(section, {})[field] = value
    return out


def run_component(name: str, cfg: GridwatchConfig) -> int:
    """Run one component in this process, or N of it under a supervisor (`--processes N`)."""
    from gridwatch.components import COMPONENTS, command  # noqa: PLC0415

    comp = COMPONENTS[name]
    if comp.scaled and cfg.processes.count > 1 and cfg.processes.index is None:
        from gridwatch.supervisor import REPLICAS, Child, Supervisor  # noqa: PLC0415

        n, env = cfg.processes.count, child_env(cfg)
        return Supervisor(name, [Child(f"{name} process {i + 1}/{n}", command(name, i), env)
                                 for i in range(n)], REPLICAS).run()
    comp.start(cfg, admin.store_url(cfg) if comp.store else "")
    return 0


ADMIN = {"users": admin.users, "init": admin.init, "devices": admin.devices,
         "replay": admin.replay, "export": admin.export, "tokens": admin.tokens,
         "probe": admin.probe, "city": city_cli.city, "cameras": admin.cameras}


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `gridwatch` console script."""
    args = parser().parse_args(sys.argv[1:] if argv is None else argv)
    tag = args.component if args.cmd == "run" else args.cmd
    setup_logging(tag)  # the tree's format as soon as it is loaded; ISO dates even before
    cfg = load_config(overrides(args), args.config)
    setup_logging(tag, cfg.ops.log_format)
    if args.cmd in ("demo", "init"):  # a new run of the tree: no counts of an earlier one
        clear_metrics(cfg.metrics_dir())
    if args.cmd in ("demo", "run"):  # prometheus-client reads its folder from the environment
        os.environ[MULTIPROC_ENV] = str(cfg.metrics_dir())
        setup_metrics(cfg.metrics_dir())
    if args.cmd in ADMIN:
        return ADMIN[args.cmd](args, cfg)
    from feeds.geo.hierarchy import HierarchyError  # noqa: PLC0415
    from feeds.live.rules import ConfigError  # noqa: PLC0415

    try:
        if args.cmd == "demo":
            from gridwatch.demo import run_demo  # noqa: PLC0415

            return run_demo(cfg)
        return run_component(args.component, cfg)
    except (ConfigError, HierarchyError) as e:
        log.error("cannot start: %s", e)
        return 2


if __name__ == "__main__":
    sys.exit(main())
