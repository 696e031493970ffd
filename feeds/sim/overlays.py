"""The demo's business-grid layer: each village's grids grouped into police beats."""
from __future__ import annotations

import logging
import zlib
from pathlib import Path

import numpy as np
import shapely

from domain.overlays import BusinessUnit, Overlay
from feeds.geo.hierarchy import CityGeo
from feeds.geo.overlays import OVERLAY_DIR, save_overlay
from feeds.sim.citygen import DEMO_SEED

log = logging.getLogger(__name__)


BEAT_SIZES = (1, 2, 3)


BEAT_SIZE_WEIGHTS = (0.25, 0.5, 0.25)


_SHARED_MIN_DEG = 1e-7


def _neighbours(codes: list[str], city: CityGeo) -> dict[str, dict[str, float]]:
    """For each grid, its neighbours among `codes` and the length of border they share."""
    adj: dict[str, dict[str, float]] = {c: {} for c in codes}
    for i, a in enumerate(codes):
        for b in codes[i + 1:]:
            shared = float(shapely.length(shapely.intersection(city.shapes[a].boundary,
                                                               city.shapes[b].boundary)))
            if shared > _SHARED_MIN_DEG:
                adj[a][b] = adj[b][a] = shared
    return adj


def _group(codes: list[str], adj: dict[str, dict[str, float]],
           rng: np.random.Generator) -> list[list[str]]:
    """Cut one village's grids into beats of 1-3 grids that share borders."""
    free = set(codes)
    beats: list[list[str]] = []
    while free:
        # start from the grid with the fewest free neighbours, so none is left stranded
        start = min(free, key=lambda c: (sum(n in free for n in adj[c]), c))
        size = int(rng.choice(BEAT_SIZES, p=BEAT_SIZE_WEIGHTS))
        beat = [start]
        free.discard(start)
        while len(beat) < size:
            touching = {n: sum(adj[m].get(n, 0.0) for m in beat)
                        for m in beat for n in adj[m] if n in free}
            if not touching:
                break
            best = max(touching, key=lambda n: (touching[n], n))
            beat.append(best)
            free.discard(best)
        beats.append(sorted(beat))
    return sorted(beats)


def _seed_of(code: str) -> int:
    """A region's seed: its code's number (Dongguan's digits) or a checksum of any code."""
    return int(code) if code.isdigit() else zlib.crc32(code.encode())


def demo_police_beats(city: CityGeo, seed: int = DEMO_SEED) -> Overlay:
    """The demo layer: each village's grids grouped into police beats of 1-3 adjacent grids."""
    units: list[BusinessUnit] = []
    lv = city.hierarchy.levels
    for village in city.hierarchy.at_level(lv.above(lv.leaf) or lv.leaf):
        codes = list(city.hierarchy.children_of(village.code))
        if not codes:
            continue
        rng = np.random.default_rng([seed, _seed_of(village.code)])
        for k, grids in enumerate(_group(codes, _neighbours(codes, city), rng), start=1):
            units.append(BusinessUnit(
                code=f"{village.code}-{k:02d}", name=f"{village.name}警区{k}",
                name_en=f"{village.name_en} Beat {k}".strip(), grids=tuple(grids)))
    return Overlay(layer_id="police_beats", name="警务网格", name_en="Police beats",
                   department="公安", region=city.hierarchy.city.code, units=tuple(units))


def ensure_demo_overlays(data_dir: str | Path, city: CityGeo) -> list[Path]:
    """Write DATA_DIR/overlays/police_beats.json if missing; the demo layer files."""
    path = Path(data_dir) / OVERLAY_DIR / "police_beats.json"
    if not path.exists():
        log.info("writing the demo police beats to %s", path)
        save_overlay(demo_police_beats(city), path)
    return [path]
