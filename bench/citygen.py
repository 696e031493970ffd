"""Benchmark the demo-city generator: seconds per stage, file size, load time, export sizes."""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import orjson

from domain.regions import Level
from feeds.geo.hierarchy import CityGeo, load_hierarchy, region_features, save_hierarchy
from feeds.geo.roster import save_officers
from feeds.sim.citygen import DEMO_SEED, generate_city, generate_officers


def export_sizes(city: CityGeo) -> None:
    """Print the size of the browser GeoJSON for a few typical views."""
    h = city.hierarchy
    towns = [r.code for r in h.at_level(Level.TOWN)]
    for label, codes in (("33 towns", towns),
                         ("villages of the largest town",
                          max((h.children_of(t) for t in towns), key=len)),
                         ("all 593 villages", [r.code for r in h.at_level(Level.VILLAGE)])):
        t = time.perf_counter()
        size = len(orjson.dumps(region_features(city, codes)))
        print(f"browser GeoJSON, {label}: {size / 1000:.1f} KB "
              f"({(time.perf_counter() - t) * 1000:.0f} ms)")


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=DEMO_SEED)
    args = parser.parse_args()
    marks: dict[str, float] = {}
    started = time.perf_counter()

    def progress(stage: str, done: int, total: int) -> None:
        marks[stage] = time.perf_counter()

    city = generate_city(seed=args.seed, progress=progress)
    total = time.perf_counter() - started
    last = started
    for stage, at in marks.items():
        print(f"{stage:>9}: {at - last:6.2f} s")
        last = at
    print(f"{'finish':>9}: {started + total - last:6.2f} s")
    print(f"{'total':>9}: {total:6.2f} s")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "city.geojson"
        t = time.perf_counter()
        save_hierarchy(city, path)
        print(f"save: {time.perf_counter() - t:.2f} s, {path.stat().st_size / 1e6:.2f} MB")
        t = time.perf_counter()
        load_hierarchy(path)
        print(f"load + validate: {time.perf_counter() - t:.2f} s")
        t = time.perf_counter()
        officers = generate_officers(city)
        save_officers(officers, Path(tmp) / "officers.csv")
        print(f"officers: {len(officers)} in {time.perf_counter() - t:.2f} s")
    export_sizes(city)

if __name__ == "__main__":
    main()
