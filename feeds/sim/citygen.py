"""Deterministic demo city: Dongguan's real outline cut into 33 towns, 593 villages, 2,958 grids."""
from __future__ import annotations

import csv
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import orjson
import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from shapely.ops import nearest_points

from domain.model import Officer
from domain.regions import Hierarchy, Level, Region, town_of
from feeds.geo.hierarchy import CityGeo, label_point, load_hierarchy, save_hierarchy
from feeds.geo.roster import save_officers

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]

DEMO_SEED = 2958
CITY_CODE = "441900"
N_TOWNS = 33
N_VILLAGES = 593
N_GRIDS = 2958
N_OFFICERS = 9756
MIN_VILLAGES_PER_TOWN = 3
MIN_GRIDS_PER_VILLAGE = 2
LLOYD_ITERATIONS = 2
PRECISION_DEG = 1e-6
_SNAP_TOL_DEG = 1e-9
_DATA = Path(__file__).parent / "data"


@dataclass(frozen=True)
class Child:
    """One generated child region before codes are final: its seed and its shape."""

    seed: tuple[float, float]
    shape: BaseGeometry


def _noop(stage: str, done: int, total: int) -> None:
    return None


def load_outline(path: Path | None = None) -> shapely.Polygon:
    """The real outline of Dongguan (GCJ-02) shipped with the project."""
    doc = orjson.loads((path or _DATA / "dongguan_outline.geojson").read_bytes())
    geom = shape(doc["features"][0]["geometry"])
    return max(shapely.get_parts(geom), key=lambda g: g.area)


def load_town_seeds(path: Path | None = None) -> list[dict[str, str]]:
    """The 33 towns (code, name, name_en, kind, lon, lat) with approximate real centres."""
    with (path or _DATA / "dongguan_towns.csv").open(encoding="utf-8", newline="") as f:
        return sorted(csv.DictReader(f), key=lambda r: r["code"])


def allocate(weights: np.ndarray, total: int, minimum: int) -> list[int]:
    """Split `total` proportionally to weights, each at least `minimum` (largest remainder)."""
    w = np.asarray(weights, dtype=np.float64)
    if total < minimum * len(w):
        raise ValueError(f"cannot give {len(w)} parts at least {minimum} out of {total}")
    fixed = np.zeros(len(w), dtype=bool)
    while True:
        free = ~fixed
        remaining = total - minimum * int(fixed.sum())
        quota = remaining * w[free] / w[free].sum()
        if np.all(quota >= minimum):
            break
        fixed[np.flatnonzero(free)[quota < minimum]] = True
    floor = np.floor(quota).astype(np.int64)
    order = np.argsort(-(quota - floor), kind="stable")
    floor[order[: remaining - int(floor.sum())]] += 1
    counts = np.full(len(w), minimum, dtype=np.int64)
    counts[free] = floor
    return counts.tolist()


def _random_points(poly: BaseGeometry, n: int, rng: np.random.Generator) -> np.ndarray:
    """n points uniformly inside a polygon (rejection sampling in its bbox)."""
    xmin, ymin, xmax, ymax = poly.bounds
    shapely.prepare(poly)
    found: list[np.ndarray] = []
    have = 0
    while have < n:
        xy = rng.uniform((xmin, ymin), (xmax, ymax), size=(max(4 * n, 64), 2))
        xy = xy[shapely.contains_xy(poly, xy[:, 0], xy[:, 1])]
        found.append(xy)
        have += len(xy)
    return np.concatenate(found)[:n]


def _voronoi(seeds: np.ndarray, parent: BaseGeometry, only_edges: bool) -> BaseGeometry:
    """Voronoi cells (in seed order) or edges, in a locally equal-area lon scaling."""
    k = np.cos(np.radians(float(np.mean(seeds[:, 1]))))
    xmin, ymin, xmax, ymax = parent.bounds
    pad = 0.1 * max(xmax - xmin, ymax - ymin) + 0.01
    env = shapely.box((xmin - pad) * k, ymin - pad, (xmax + pad) * k, ymax + pad)
    out = shapely.voronoi_polygons(shapely.multipoints(seeds * (k, 1.0)), extend_to=env,
                                   only_edges=only_edges, ordered=True)
    return shapely.transform(out, lambda c: c / (k, 1.0))


def _lloyd(seeds: np.ndarray, parent: BaseGeometry, iterations: int) -> np.ndarray:
    """Move seeds to the centroids of their clipped cells, a few times, for even shapes."""
    for _ in range(iterations):
        cells = shapely.intersection(shapely.get_parts(_voronoi(seeds, parent, False)), parent)
        cent = shapely.centroid(cells)
        xy = shapely.get_coordinates(cent)
        inside = shapely.contains_xy(parent, xy[:, 0], xy[:, 1])
        if not inside.all():
            xy[~inside] = shapely.get_coordinates(shapely.point_on_surface(cells[~inside]))
        seeds = xy
    return seeds


def _faces(seeds: np.ndarray, parent: BaseGeometry) -> tuple[np.ndarray, np.ndarray]:
    """Faces of (Voronoi edges + parent boundary) inside the parent, and each face's seed."""
    edges = _voronoi(seeds, parent, True)
    noded = shapely.union_all([edges, parent.boundary])
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
    probe = shapely.get_coordinates(shapely.point_on_surface(faces))
    faces = faces[shapely.contains_xy(parent, probe[:, 0], probe[:, 1])]
    probe = shapely.get_coordinates(shapely.point_on_surface(faces))
    k = np.cos(np.radians(float(np.mean(seeds[:, 1]))))
    d = (((probe[:, None, :] - seeds[None, :, :]) * (k, 1.0)) ** 2).sum(axis=2)
    return faces, d.argmin(axis=1)


def _shared_length(a: BaseGeometry, b: BaseGeometry) -> float:
    return float(shapely.length(shapely.intersection(a.boundary, b.boundary)))


def _merge_orphans(faces: np.ndarray, owner: np.ndarray, mains: dict[int, int]) -> np.ndarray:
    """Give every face not holding its cell's seed to the neighbour sharing the longest border."""
    group = np.full(len(faces), -1)
    for cell, f in mains.items():
        group[f] = cell
    tree = shapely.STRtree(faces)
    while (group < 0).any():
        progressed = False
        for f in np.flatnonzero(group < 0):
            scores: dict[int, float] = {}
            for nb in tree.query(faces[f], predicate="intersects"):
                if nb != f and group[nb] >= 0:
                    length = _shared_length(faces[f], faces[nb])
                    scores[int(group[nb])] = scores.get(int(group[nb]), 0.0) + length
            scores = {c: s for c, s in scores.items() if s > 0.0}
            if scores:
                group[f] = max(sorted(scores), key=lambda c: (scores[c], c == owner[f]))
                progressed = True
        if not progressed:
            raise RuntimeError("orphan faces touch no region; the parent is not connected")
    return group


def partition(parent: BaseGeometry, seeds: np.ndarray) -> list[Child]:
    """Cut a polygon into one region per seed with edge-matched borders (exact coverage)."""
    faces, owner = _faces(seeds, parent)
    mains: dict[int, int] = {}
    for cell in range(len(seeds)):
        mine = np.flatnonzero(owner == cell)
        if len(mine) == 0:
            raise RuntimeError(f"seed {cell} has no face inside its parent")
        hit = mine[shapely.contains_xy(faces[mine], *seeds[cell])]
        mains[cell] = int(hit[0]) if len(hit) else int(max(mine, key=lambda f: faces[f].area))
    group = _merge_orphans(faces, owner, mains)
    out = []
    for cell in range(len(seeds)):
        geom = shapely.coverage_union_all(faces[group == cell])
        out.append(Child(seed=(float(seeds[cell, 0]), float(seeds[cell, 1])), shape=geom))
    return out


def _reading_order(children: list[Child], parent: BaseGeometry) -> list[Child]:
    """Number children north to south in bands, west to east within a band."""
    band = max((parent.area / max(len(children), 1)) ** 0.5, 1e-9)
    top = parent.bounds[3]
    return sorted(children, key=lambda c: (int((top - c.seed[1]) / band), c.seed[0]))


def split(parent: BaseGeometry, n: int, rng: np.random.Generator) -> list[Child]:
    """Cut a parent into n even children: random seeds, Lloyd relaxation, Voronoi, clip."""
    seeds = _lloyd(_random_points(parent, n, rng), parent, LLOYD_ITERATIONS)
    return _reading_order(partition(parent, seeds), parent)


def _town_seeds(outline: BaseGeometry, rows: list[dict[str, str]]) -> np.ndarray:
    """Real town centres, any outside the outline moved to the nearest interior point."""
    inner = outline.buffer(-0.002)
    xy = []
    for r in rows:
        pt = shapely.Point(float(r["lon"]), float(r["lat"]))
        if not outline.contains(pt):
            pt = nearest_points(inner, pt)[0]
            log.info("town %s centre moved inside the outline to %s", r["code"], pt)
        xy.append((pt.x, pt.y))
    return np.asarray(xy)


def short_name(name: str) -> str:
    """A town's name without 街道 or 镇 (东城街道 → 东城), for its children's names."""
    for suffix in ("街道", "镇"):
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    return name


def _regions_towns(outline: BaseGeometry, rows: list[dict[str, str]],
                   regions: list[Region], shapes: dict[str, BaseGeometry]) -> None:
    children = partition(outline, _town_seeds(outline, rows))
    for r, child in zip(rows, children, strict=True):
        regions.append(Region(r["code"], r["name"], Level.TOWN, CITY_CODE, r["name_en"]))
        shapes[r["code"]] = child.shape


def _regions_below(parent: Region, shapes: dict[str, BaseGeometry], n: int, seed: int,
                   regions: list[Region]) -> None:
    """Split one town into villages or one village into grids, naming and coding them."""
    rng = np.random.default_rng([seed, int(parent.code)])
    for k, child in enumerate(split(shapes[parent.code], n, rng), start=1):
        code = f"{parent.code}{k:03d}"
        if parent.level == Level.TOWN:
            region = Region(code, f"{short_name(parent.name)}第{k}社区", Level.VILLAGE,
                            parent.code, f"{parent.name_en} Community {k}")
        else:
            region = Region(code, f"{parent.name}{k}号网格", Level.GRID, parent.code, f"Grid {k}")
        regions.append(region)
        shapes[code] = child.shape


def _level_below(parents: list[Region], shapes: dict[str, BaseGeometry], total: int,
                 minimum: int, seed: int, stage: str, progress: Progress) -> list[Region]:
    """Split every parent, allocating `total` children by area; report progress per town."""
    counts = allocate(np.array([shapes[p.code].area for p in parents]), total, minimum)
    by_town: dict[str, list[tuple[Region, int]]] = {}
    for parent, n in zip(parents, counts, strict=True):
        by_town.setdefault(town_of(parent.code), []).append((parent, n))
    out: list[Region] = []
    for done, items in enumerate(by_town.values(), start=1):
        for parent, n in items:
            _regions_below(parent, shapes, n, seed, out)
        progress(stage, done, len(by_town))
    return out


def edge_match(grids: np.ndarray) -> np.ndarray:
    """Insert into each grid the vertices its neighbours have on their common border."""
    tree = shapely.STRtree(grids)
    left, right = tree.query(grids, predicate="dwithin", distance=_SNAP_TOL_DEG)
    keep = left != right
    left, right = left[keep], right[keep]
    coords, idx = shapely.get_coordinates(grids, return_index=True)
    per_grid = np.split(coords, np.cumsum(np.bincount(idx, minlength=len(grids)))[:-1])
    starts = np.searchsorted(left, np.arange(len(grids) + 1))
    refs = [shapely.multipoints(np.concatenate([per_grid[j] for j in right[a:b]])) if b > a
            else shapely.MultiPoint() for a, b in zip(starts[:-1], starts[1:], strict=True)]
    return shapely.snap(grids, np.array(refs, dtype=object), _SNAP_TOL_DEG)


def _finish(codes: list[str], shapes: dict[str, BaseGeometry]) -> dict[str, BaseGeometry]:
    """Edge-match and round the grids, then build every upper region as the union of its grids."""
    grids = edge_match(np.array([shapes[c] for c in codes], dtype=object))
    grids = shapely.set_precision(grids, PRECISION_DEG, mode="pointwise")
    grids = shapely.orient_polygons(shapely.remove_repeated_points(grids))
    bad = [c for c, ok in zip(codes, shapely.is_valid(grids), strict=True) if not ok]
    if bad:
        log.warning("%s grids invalid after rounding: %s", len(bad), bad[:5])
    out: dict[str, BaseGeometry] = dict(zip(codes, grids, strict=True))
    level_codes = codes
    for n in (12, 9, 6):
        groups: dict[str, list[BaseGeometry]] = {}
        for code in level_codes:
            groups.setdefault(code[:n], []).append(out[code])
        for code, parts in groups.items():
            out[code] = shapely.orient_polygons(shapely.coverage_union_all(parts))
        level_codes = sorted(groups)
    return out


def generate_city(seed: int = DEMO_SEED, progress: Progress | None = None) -> CityGeo:
    """Generate the demo city: 33 real towns, then 593 villages and 2,958 grids from `seed`."""
    progress = progress or _noop
    started = time.perf_counter()
    outline, rows = load_outline(), load_town_seeds()
    city = Region(CITY_CODE, "东莞市", Level.CITY, None, "Dongguan")
    regions: list[Region] = [city]
    shapes: dict[str, BaseGeometry] = {CITY_CODE: outline}
    _regions_towns(outline, rows, regions, shapes)
    progress("towns", len(rows), len(rows))
    villages = _level_below(regions[1:], shapes, N_VILLAGES, MIN_VILLAGES_PER_TOWN, seed,
                            "villages", progress)
    grids = _level_below(villages, shapes, N_GRIDS, MIN_GRIDS_PER_VILLAGE, seed, "grids",
                         progress)
    regions += villages + grids
    shapes = _finish([g.code for g in grids], shapes)
    progress("edges", 1, 1)
    labelled = [_with_centre(r, shapes[r.code]) for r in regions]
    progress("labels", len(regions), len(regions))
    log.info("generated demo city (seed %s) in %.1f s", seed, time.perf_counter() - started)
    return CityGeo(hierarchy=Hierarchy.build(labelled, "gcj02"), shapes=shapes)


def _with_centre(region: Region, geom: BaseGeometry) -> Region:
    return Region(region.code, region.name, region.level, region.parent, region.name_en,
                  label_point(geom))


_SURNAMES = "陈李黄张梁林刘吴罗何郑杨叶钟邓谢王周徐朱曾蔡彭冯卢苏蒋麦莫袁邱赖方温胡"
_GIVEN = "伟芳敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚英华建国志文辉玲婷雪梅晨浩宇欣怡轩嘉俊琪颖斌锋"


def _officer_counts(n_grids: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """How many officers each grid gets: 2–5 each, n in all, about n / n_grids on average."""
    if not 2 * n_grids <= n <= 5 * n_grids:
        raise ValueError(f"{n} officers cannot give {n_grids} grids 2–5 officers each")
    counts = 2 + rng.multinomial(n - 2 * n_grids, np.full(n_grids, 1.0 / n_grids))
    over = int(np.clip(counts - 5, 0, None).sum())
    counts = np.minimum(counts, 5)
    while over:
        room = np.flatnonzero(counts < 5)
        pick = rng.choice(room, size=min(over, len(room)), replace=False)
        counts[pick] += 1
        over -= len(pick)
    return counts


def _officer_name(rng: np.random.Generator) -> str:
    weights = 1.0 / (np.arange(len(_SURNAMES)) + 4.0)
    surname = _SURNAMES[rng.choice(len(_SURNAMES), p=weights / weights.sum())]
    given = rng.choice(list(_GIVEN), size=int(rng.integers(1, 3)))
    return surname + "".join(given)


def generate_officers(city: CityGeo, n: int = N_OFFICERS, seed: int = DEMO_SEED) -> list[Officer]:
    """Exactly n officers, 2–5 per grid, ids O000001…, deterministic Chinese names."""
    grids = [r.code for r in city.hierarchy.at_level(city.hierarchy.levels.leaf)]
    rng = np.random.default_rng([seed, 9756])
    counts = _officer_counts(len(grids), n, rng)
    officers: list[Officer] = []
    for grid, k in zip(grids, counts.tolist(), strict=True):
        for _ in range(k):
            officers.append(Officer(f"O{len(officers) + 1:06d}", _officer_name(rng), grid))
    return officers


def ensure_demo_city(data_dir: Path, progress: Progress | None = None) -> tuple[Path, Path]:
    """Write city.geojson and officers.csv into data_dir if missing; return both paths."""
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    city_path, officers_path = data_dir / "city.geojson", data_dir / "officers.csv"
    city: CityGeo | None = None
    if not city_path.exists():
        log.info("generating the demo city into %s", city_path)
        city = generate_city(progress=progress)
        save_hierarchy(city, city_path)
    if not officers_path.exists():
        city = city or load_hierarchy(city_path)
        save_officers(generate_officers(city), officers_path)
    return city_path, officers_path
