"""`gridwatch city import|subdivide|roster`: bring a real city's boundaries in, level by level."""
from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from gridwatch.config import GridwatchConfig

if TYPE_CHECKING:
    from domain.regions import LevelSpec
    from feeds.geo.hierarchy import CityGeo
    from feeds.geo.importer import ImportResult

GIS_HINT = ("gridwatch city import needs the optional extra gis (pyogrio, pyproj): "
            "pip install 'gridwatch[gis]' (make install has it)")


def _non_negative(text: str) -> float:
    """A tolerance flag: a number ≥ 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"want a number, got {text!r}") from None
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"want a number ≥ 0, got {text}")
    return value


def _import_parser(csub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    imp = csub.add_parser("import", help="add one level of boundaries (GeoJSON, Shapefile, "
                          "GeoPackage, DataV) to the data dir's city file")
    imp.add_argument("file", type=Path, help="the boundary file: .shp, .gpkg, .geojson, .json")
    imp.add_argument("--level", required=True, help="the level the file holds (a key of the "
                     "city's levels, e.g. city, district, street)")
    imp.add_argument("--layer", default=None, help="layer of a GeoPackage (default: the first)")
    imp.add_argument("--encoding", default=None, help="encoding of a Shapefile's attributes "
                     "when it has no .cpg file (e.g. GBK)")
    for what, says in (("code", "code"), ("name", "name"), ("name-en", "English name")):
        imp.add_argument(f"--{what}-field", default=None, metavar="FIELD",
                         help=f"attribute holding the {says} (default: found by usual names)")
    up = imp.add_mutually_exclusive_group()
    up.add_argument("--parent-field", default=None, metavar="FIELD",
                    help="attribute naming the parent's code (DataV: parent.adcode)")
    up.add_argument("--parent", default=None, metavar="CODE",
                    help="every feature lies in this region")
    imp.add_argument("--crs", default=None, help="coordinate system of the file: EPSG:NNNN "
                     "(e.g. 4526, 4490), gcj02, bd09 or wgs84 (default: the file's own; "
                     "DataV: gcj02)")
    imp.add_argument("--min-area", type=_non_negative, default=1.0, metavar="M2",
                     help="ignore gaps, overlaps and overhangs smaller than this (default 1 m²)")
    imp.add_argument("--min-share", type=_non_negative, default=0.01, metavar="PERCENT",
                     help="… or smaller than this share of the parent (default 0.01 %%)")
    imp.add_argument("--no-repair", action="store_true",
                     help="refuse invalid geometry instead of repairing it with make_valid")
    new = imp.add_argument_group("a new city (the first import into an empty data dir)")
    new.add_argument("--levels", default=None, help="the city's levels top to bottom, "
                     "key[:中文:English],… (default city,district,street,community,grid)")
    new.add_argument("--shard", default=None, help="level that shards the keys (default: the "
                     "third of five, the second of fewer)")
    new.add_argument("--dispatch", default=None, help="level the dispatch queue sits at "
                     "(default: the shard level)")
    new.add_argument("--datum", default=None, choices=("gcj02", "wgs84", "cgcs2000"),
                     help="datum the city file keeps (default: the file's; BD-09 → gcj02)")
    new.add_argument("--city-code", default=None, help="code of the city when the first "
                     "import is its districts (default: their common parent)")
    new.add_argument("--city-name", default=None, help="name of that city")
    new.add_argument("--city-name-en", default="", help="its English name")
    return imp


def add_parsers(sub: argparse._SubParsersAction,
                config_flags: Callable[[argparse.ArgumentParser], None]) -> None:
    """The `city` subcommands."""
    city = sub.add_parser("city", help="bring your city in: import boundaries, make trial "
                          "grids and a roster (docs/cities.md)")
    csub = city.add_subparsers(dest="action", required=True)
    imp = _import_parser(csub)
    sd = csub.add_parser("subdivide", help="generate the missing lower levels inside the "
                         "real ones (trial grids)")
    sd.add_argument("--below", required=True, help="the lowest real level to keep")
    sd.add_argument("--levels", default=None, help="levels to make below it, key[:中文:English],…"
                    " (default: the city's own levels below it)")
    sd.add_argument("--sizes", required=True, help="children per parent, one per new level "
                    "(e.g. 6,8,4) or one for all")
    sd.add_argument("--shard", default=None, help="shard level (default: kept, else the "
                    "first new level)")
    sd.add_argument("--dispatch", default=None, help="dispatch level (default: kept, else "
                    "the shard level)")
    sd.add_argument("--seed", type=int, default=None, help="random seed (default: the demo's)")
    ro = csub.add_parser("roster", help="write a synthetic officer roster for the city's grids")
    ro.add_argument("--per-grid", type=float, default=3.0,
                    help="officers per grid on average, 2–5 each (default 3)")
    ro.add_argument("--seed", type=int, default=None, help="random seed (default: the demo's)")
    ro.add_argument("--force", action="store_true", help="replace an existing officers.csv")
    for p in (imp, sd, ro):
        config_flags(p)


def _err(msg: str) -> int:
    print(f"gridwatch city: {msg}", file=sys.stderr)
    return 2


def _load(path: Path) -> CityGeo | None:
    from feeds.geo.hierarchy import load_hierarchy  # noqa: PLC0415

    return load_hierarchy(path) if path.exists() else None


def _print_result(res: ImportResult) -> None:
    """A line for the level, then one line per problem (fatal ones first)."""
    n_bad = sum(p.fatal for p in res.problems)
    print(f"{res.level}: {res.added} regions, {n_bad} problems"
          + (f", {len(res.problems) - n_bad} repaired" if len(res.problems) > n_bad else "")
          + (f", {res.replaced} earlier regions replaced" if res.replaced else ""),
          file=sys.stderr)
    for p in sorted(res.problems, key=lambda p: (not p.fatal, p.kind, p.code)):
        print(f"  {p.message()}", file=sys.stderr)


def _stale_roster(cfg: GridwatchConfig, city: CityGeo) -> None:
    """Say so when officers.csv names grids the city no longer has (the demo would refuse)."""
    from feeds.geo.roster import load_officers  # noqa: PLC0415

    path = cfg.store.officers_file
    if not path.exists():
        return
    grids = {r.code for r in city.hierarchy.at_level(city.hierarchy.levels.leaf)}
    try:
        gone = sum(o.grid not in grids for o in load_officers(path))
    except ValueError as exc:  # a roster that does not read: the demo will say so too
        print(f"note: {exc}", file=sys.stderr)
        return
    if gone:
        print(f"note: {gone} officers of {path} are in grids the city no longer has: run "
              "gridwatch city roster --force (or fix the roster)", file=sys.stderr)


def _ignored(args: argparse.Namespace, exists: bool, path: Path) -> None:
    """Say which new-city flags an import into an existing city does not use."""
    given = [f"--{k.replace('_', '-')}" for k in ("levels", "shard", "dispatch", "datum",
                                                  "city_code", "city_name")
             if getattr(args, k) is not None]
    if exists and given:
        print(f"{path} exists: its levels, datum and city stay ({', '.join(given)} ignored)",
              file=sys.stderr)


def city_import(args: argparse.Namespace, cfg: GridwatchConfig) -> int:
    """`gridwatch city import FILE --level L`: one level into the city file, or nothing."""
    import importlib.util  # noqa: PLC0415

    if not all(importlib.util.find_spec(m) for m in ("pyogrio", "pyproj")):
        return _err(GIS_HINT)
    from feeds.geo import importer as im  # noqa: PLC0415
    from feeds.geo.hierarchy import HierarchyError, save_hierarchy  # noqa: PLC0415
    from feeds.geo.sources import Fields, SourceError, read_source  # noqa: PLC0415
    from feeds.geo.validate import Tolerance  # noqa: PLC0415

    path = cfg.store.city_file
    try:
        city = _load(path)
        _ignored(args, city is not None, path)
        levels = None if city else im.parse_levels_flag(args.levels or im.DEFAULT_LEVELS,
                                                        args.shard, args.dispatch)
        fields = Fields(args.code_field, args.name_field, args.name_en_field, args.parent_field)
        source = read_source(args.file, city.datum if city else args.datum, fields, args.crs,
                             args.layer, args.encoding)
        opts = im.ImportOptions(args.level, args.parent,
                                Tolerance(args.min_area, args.min_share / 100.0),
                                not args.no_repair, args.city_code, args.city_name,
                                args.city_name_en, levels)
        print(f"{args.file}: {len(source.regions)} features, {source.crs}"
              + (" (DataV)" if source.datav else "") + f" → {source.datum}", file=sys.stderr)
        res = im.import_level(city, source, opts)
    except (SourceError, im.ImportRefused, HierarchyError) as exc:
        return _err(str(exc))
    _print_result(res)
    if res.city is None:
        print(f"refused: {path} is unchanged", file=sys.stderr)
        return 1
    save_hierarchy(res.city, path)
    counts = ", ".join(f"{len(res.city.hierarchy.at_level(k))} {k}"
                       for k in res.city.hierarchy.levels.keys)
    print(f"{path}: {counts}")
    _stale_roster(cfg, res.city)
    top = res.city.hierarchy.city
    if city is None and top.name == top.code:
        print(f"note: the city is named {top.code}; pass --city-name to name it (import again "
              "into an empty data dir)", file=sys.stderr)
    return 0


def _specs(text: str | None) -> tuple[LevelSpec, ...] | None:
    from feeds.geo.importer import level_specs  # noqa: PLC0415

    return None if text is None else level_specs(text)


def subdivide(args: argparse.Namespace, cfg: GridwatchConfig) -> int:
    """`gridwatch city subdivide --below L --sizes …`: trial levels inside the real ones."""
    from feeds.geo.hierarchy import HierarchyError, save_hierarchy  # noqa: PLC0415
    from feeds.sim import subdivide as sd  # noqa: PLC0415

    path = cfg.store.city_file
    try:
        city = _load(path)
        if city is None:
            return _err(f"no city in {path}: run gridwatch city import first")
        sizes = tuple(int(x) for x in args.sizes.split(",") if x.strip())
        seed = sd.DEMO_SEED if args.seed is None else args.seed
        p = sd.plan(city, args.below, _specs(args.levels), sizes, args.shard, args.dispatch,
                    seed)
        out = sd.subdivide(city, p, lambda lvl, n, k: print(
            f"{lvl}: {n} regions in {k} parents, 0 problems", file=sys.stderr))
    except ValueError as exc:  # SubdivideError, HierarchyError, a bad --sizes
        return _err(str(exc) if isinstance(exc, sd.SubdivideError | HierarchyError)
                    else f"--sizes {args.sizes!r}: want numbers like 6,8,4")
    save_hierarchy(out, path)
    h = out.hierarchy
    print(f"{path}: " + ", ".join(f"{len(h.at_level(k))} {k}" for k in h.levels.keys))
    bare = [r.code for r in h.regions.values() if r.level != h.levels.leaf
            and not h.children_of(r.code)]
    if bare:
        print(f"note: {len(bare)} regions have no grids below them: "
              f"{', '.join(sorted(bare)[:10])}{' …' if len(bare) > 10 else ''} (import the "
              f"{args.below} level under them, then subdivide again)", file=sys.stderr)
    _stale_roster(cfg, out)
    return 0


def roster(args: argparse.Namespace, cfg: GridwatchConfig) -> int:
    """`gridwatch city roster --per-grid N`: a synthetic roster of the city's grids."""
    from feeds.geo.hierarchy import HierarchyError  # noqa: PLC0415
    from feeds.geo.roster import save_officers  # noqa: PLC0415
    from feeds.sim.citygen import DEMO_SEED, generate_officers  # noqa: PLC0415

    path = cfg.store.city_file
    try:
        city = _load(path)
    except HierarchyError as exc:
        return _err(str(exc))
    if city is None:
        return _err(f"no city in {path}: run gridwatch city import first")
    if not 2.0 <= args.per_grid <= 5.0:
        return _err(f"--per-grid {args.per_grid}: want 2–5 officers per grid on average")
    roster_file = cfg.store.officers_file
    if roster_file.exists() and not args.force:
        return _err(f"{roster_file} exists: pass --force to replace it with a synthetic roster")
    grids = len(city.hierarchy.at_level(city.hierarchy.levels.leaf))
    n = round(args.per_grid * grids)
    officers = generate_officers(city, n, DEMO_SEED if args.seed is None else args.seed)
    save_officers(officers, roster_file)
    print(f"{roster_file}: {len(officers)} officers in {grids} grids")
    return 0


def city(args: argparse.Namespace, cfg: GridwatchConfig) -> int:
    """`gridwatch city …`."""
    return {"import": city_import, "subdivide": subdivide, "roster": roster}[args.action](
        args, cfg)
