"""Benchmark point → grid lookup: index build time, µs per locate, points/s for batches."""
from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np

from feeds.geo.hierarchy import CityGeo, load_hierarchy
from feeds.geo.locate import GridIndex
from feeds.sim.citygen import generate_city


def per_call_us(index: GridIndex, lons: np.ndarray, lats: np.ndarray) -> tuple[float, float]:
    """Median of single-call timings and mean of a tight loop, in microseconds."""
    locate, clock = index.locate, time.perf_counter_ns
    samples = []
    for x, y in zip(lons.tolist(), lats.tolist(), strict=True):
        t = clock()
        locate(x, y)
        samples.append(clock() - t)
    started = time.perf_counter()
    for x, y in zip(lons.tolist(), lats.tolist(), strict=True):
        locate(x, y)
    mean = (time.perf_counter() - started) / len(lons) * 1e6
    return statistics.median(samples) / 1000.0, mean


def batch_rate(index: GridIndex, lons: np.ndarray, lats: np.ndarray, size: int) -> float:
    """Points per second through locate_many in batches of `size`."""
    started = time.perf_counter()
    for a in range(0, len(lons), size):
        index.locate_many(lons[a:a + size], lats[a:a + size])
    return len(lons) / (time.perf_counter() - started)


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--city", type=Path, help="hierarchy file (default: generate the demo)")
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--cell-deg", type=float, default=0.002)
    args = parser.parse_args()
    city: CityGeo = load_hierarchy(args.city) if args.city else generate_city()
    started = time.perf_counter()
    index = GridIndex(city, cell_deg=args.cell_deg)
    print(f"index build: {time.perf_counter() - started:.2f} s "
          f"({index.nx}x{index.ny} cells of {args.cell_deg} deg, {len(index.codes)} grids)")
    rng = np.random.default_rng(1)
    xmin, ymin, xmax, ymax = city.shapes[city.hierarchy.city.code].bounds
    bbox = rng.uniform(xmin, xmax, args.points), rng.uniform(ymin, ymax, args.points)
    grids = rng.choice(index.codes, args.points)
    inside = np.array([index.random_point(str(g), rng) for g in grids])
    for label, (lons, lats) in (("uniform in bbox", bbox), ("inside the city", inside.T)):
        median, mean = per_call_us(index, lons, lats)
        print(f"locate, {label}: median {median:.2f} µs, mean {mean:.2f} µs per point")
    rate = batch_rate(index, inside[:, 0], inside[:, 1], 1000)
    print(f"locate_many, batches of 1,000 inside the city: {rate:,.0f} points/s")


if __name__ == "__main__":
    main()
