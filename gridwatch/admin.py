"""The administration commands: init, users, devices, tokens, replay, export."""
from __future__ import annotations

import argparse
import getpass
import sys

from domain.access import Role
from domain.regions import town_of
from feeds.store.client import client_url
from gridwatch.config import GridwatchConfig


def store_url(cfg: GridwatchConfig) -> str:
    """The Redis the tree names, else the one of the demo running on the data dir."""
    store = cfg.store
    if store.redis_url:
        return client_url(store.redis_url, store.redis_cluster)
    if not store.url_file.exists():
        raise SystemExit(f"gridwatch: no running demo in {store.data_dir} (no redis.url) and "
                         "no REDIS_URL; start `gridwatch demo` or pass --redis-url")
    return store.url_file.read_text().strip()


def users(args: argparse.Namespace, cfg: GridwatchConfig) -> int:
    """`gridwatch users add|list|remove`."""
    from feeds.accounts import auth  # noqa: PLC0415
    from feeds.live import reads  # noqa: PLC0415

    client = reads.connect(store_url(cfg))
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
    if not _known_scope(args.scope, cfg):
        return 1
    auth.add_user(client, args.name, pw, Role(args.role), args.scope, args.lang)
    print(f"user {args.name} ({args.role}, scope {args.scope}, language {args.lang}) saved")
    return 0


def _known_scope(scope: str, cfg: GridwatchConfig) -> bool:
    """Whether `scope` names a region of the city (checked against the data dir's city)."""
    from domain.regions import level_of  # noqa: PLC0415

    city = cfg.store.city_file
    if city.exists():
        from feeds.geo.hierarchy import load_hierarchy  # noqa: PLC0415

        if scope not in load_hierarchy(city).hierarchy:
            print(f"no region {scope!r} in {city}", file=sys.stderr)
            return False
        return True
    try:  # no city yet: the documented code scheme
        level_of(scope)
    except ValueError:
        print(f"scope {scope!r} is not a region code", file=sys.stderr)
        return False
    return True


def init(_args: argparse.Namespace, cfg: GridwatchConfig) -> int:
    """`gridwatch init`: the demo city files, and the admin user when Redis and a password
    are configured."""
    from feeds.accounts import auth  # noqa: PLC0415
    from feeds.live import reads  # noqa: PLC0415
    from feeds.live.context import CityContext  # noqa: PLC0415
    from feeds.sim.citygen import ensure_demo_city  # noqa: PLC0415
    from feeds.sim.overlays import ensure_demo_overlays  # noqa: PLC0415

    data_dir = cfg.store.data_dir
    city_file, officers_file = ensure_demo_city(data_dir)
    ctx = CityContext.load(city_file, officers_file, None)
    ensure_demo_overlays(data_dir, ctx.city)
    print(f"city files ready in {data_dir}")
    password = cfg.accounts.admin_password
    if password and cfg.store.redis_url:
        auth.add_user(reads.connect(store_url(cfg)), "admin", password.get_secret_value(),
                      Role.ADMIN, ctx.hierarchy.city.code)
        print("user admin saved")
    return 0


def replay(args: argparse.Namespace, cfg: GridwatchConfig) -> int:
    """`gridwatch replay LOG`: a CSV or Parquet log through the gateway."""
    import asyncio  # noqa: PLC0415

    from feeds.ingest import replay as rp  # noqa: PLC0415

    if cfg.ingest.terminal_token is None:
        print("no terminal token: pass --token or set GRIDWATCH_TERMINAL_TOKEN", file=sys.stderr)
        return 2
    try:
        msgs = list(rp.messages(rp.read_log(args.file), rp.load_mapping(args.mapping)))
    except rp.ReplayError as e:
        print(f"gridwatch replay: {e}", file=sys.stderr)
        return 2
    print(f"{args.file}: {len(msgs)} messages {rp.count_types(msgs)}", file=sys.stderr)
    gateway = args.gateway or f"ws://{cfg.server.host}:{cfg.ingest.gateway_port}/terminal"
    client = asyncio.run(rp.replay(msgs, gateway, cfg.ingest.terminal_token.get_secret_value(),
                                   None if args.fast else args.speed))
    print(rp.summary(client, len(msgs)))
    return 0 if client.nacked == 0 else 1


def export(args: argparse.Namespace, cfg: GridwatchConfig) -> int:
    """`gridwatch export`: stream history to Parquet before the age trim drops it."""
    import time  # noqa: PLC0415

    from feeds.geo.hierarchy import load_hierarchy  # noqa: PLC0415
    from feeds.geo.roster import load_officers  # noqa: PLC0415
    from feeds.history.export import export_history  # noqa: PLC0415
    from feeds.live import reads  # noqa: PLC0415

    client = reads.connect(store_url(cfg))
    load_hierarchy(cfg.store.city_file)  # its levels say which region each grid's data is in
    towns = sorted({town_of(o.grid) for o in load_officers(cfg.store.officers_file)})
    end = time.time() - args.older_than * 3600
    total = export_history(client, towns, args.out, end,
                           lambda stream, n: print(f"{stream}: {n} rows", file=sys.stderr))
    print(f"exported {sum(total.values())} entries to {args.out}")
    return 0


def devices(args: argparse.Namespace, cfg: GridwatchConfig) -> int:
    """`gridwatch devices add|list|revoke`."""
    from feeds.accounts import devices as dev  # noqa: PLC0415
    from feeds.accounts import pairing  # noqa: PLC0415
    from feeds.geo.roster import load_officers  # noqa: PLC0415
    from feeds.live import reads  # noqa: PLC0415

    client = reads.connect(store_url(cfg))
    if args.action == "list":
        for d in dev.list_devices(client):
            print(f"{d.device_id}\t{d.officer_id}")
        return 0
    if args.action == "revoke":
        if not dev.revoke_device(client, args.device_id):
            print(f"no device {args.device_id!r}", file=sys.stderr)
            return 1
        print(f"device {args.device_id} revoked")
        return 0
    if args.action == "pair":
        known = {d.device_id: d.officer_id for d in dev.list_devices(client)}
        if args.device_id not in known:
            print(f"no device {args.device_id!r}", file=sys.stderr)
            return 1
        print(_pairing_line(pairing.new_code(client, args.device_id, known[args.device_id])))
        return 0
    roster = cfg.store.officers_file
    if roster.exists() and args.officer not in {o.officer_id for o in load_officers(roster)}:
        print(f"no officer {args.officer!r} in {roster}", file=sys.stderr)
        return 1
    token = dev.add_device(client, args.device_id, args.officer)
    code = pairing.new_code(client, args.device_id, args.officer)
    print(f"device {args.device_id} → officer {args.officer}\n{_pairing_line(code)}\n"
          f"token: {token}")
    return 0


def _pairing_line(code: str) -> str:
    from feeds.accounts.pairing import VALID_S  # noqa: PLC0415

    return (f"pairing code: {code}   (type it into the field terminal /m/ within "
            f"{VALID_S // 60} minutes; it works once)")


def tokens(args: argparse.Namespace, cfg: GridwatchConfig) -> int:
    """`gridwatch tokens add|list|revoke`."""
    from feeds.accounts import tokens as api_tokens  # noqa: PLC0415
    from feeds.live import reads  # noqa: PLC0415

    client = reads.connect(store_url(cfg))
    if args.action == "list":
        for t in api_tokens.list_tokens(client):
            print(f"{t.name}\t{t.role.value}\t{t.scope}")
        return 0
    if args.action == "revoke":
        if not api_tokens.revoke_token(client, args.name):
            print(f"no API token {args.name!r}", file=sys.stderr)
            return 1
        print(f"API token {args.name} revoked")
        return 0
    if not _known_scope(args.scope, cfg):
        return 1
    try:
        token = api_tokens.add_token(client, args.name, Role(args.role), args.scope)
    except ValueError as e:
        print(e, file=sys.stderr)
        return 1
    print(f"API token {args.name} ({args.role}, scope {args.scope})\ntoken: {token}")
    return 0


def probe(args: argparse.Namespace, cfg: GridwatchConfig) -> int:
    """`gridwatch probe worker|capture|gateway`: 0 when a process of it on this host published
    a fresh heartbeat (a container's health check), else 1 and why."""
    import socket  # noqa: PLC0415

    import redis  # noqa: PLC0415

    from feeds.live import reads  # noqa: PLC0415
    from feeds.ops.heartbeat import age_on_host  # noqa: PLC0415

    try:
        age = age_on_host(reads.connect(store_url(cfg)), args.component, socket.gethostname())
    except redis.RedisError as e:
        print(f"{args.component}: redis: {e}", file=sys.stderr)
        return 1
    if age is None or age > cfg.ops.heartbeat_stale_s:
        print(f"{args.component}: no fresh heartbeat on this host"
              + ("" if age is None else f" (last {age:.0f} s ago)"), file=sys.stderr)
        return 1
    print(f"{args.component}: heartbeat {age:.1f} s ago")
    return 0


def cameras(args: argparse.Namespace, cfg: GridwatchConfig) -> int:
    """`gridwatch cameras import FILE --platform-url URL`: a GB/T 28181 platform's channel
    export into the camera registry CSV (docs/cameras.md)."""
    from feeds.geo.hierarchy import load_hierarchy  # noqa: PLC0415
    from feeds.video.gbimport import MediaServer, import_channels  # noqa: PLC0415
    from feeds.video.registry import CameraFileError  # noqa: PLC0415

    out = args.out or cfg.video.cameras_file or cfg.store.data_dir / "cameras.csv"
    if not args.platform_url.startswith(("http://", "https://")) or "{" in args.platform_url:
        print(f"gridwatch: --platform-url: an http(s):// URL of the media server, got "
              f"{args.platform_url!r}", file=sys.stderr)
        return 1
    media = MediaServer(args.platform_url, args.stream, args.rtsp_port, args.playback_url or "")
    try:
        counts = import_channels(args.file, media, load_hierarchy(cfg.store.city_file), out,
                                 args.datum)
    except (CameraFileError, OSError) as e:
        print(f"gridwatch: cannot import {args.file}: {e}", file=sys.stderr)
        return 1
    print(f"{counts['imported']} of {counts['channels']} channels imported into {out} "
          f"({counts['online']} online, {counts['unplaced']} without a position left out; "
          f"the file holds {counts['total']} cameras)")
    return 0
