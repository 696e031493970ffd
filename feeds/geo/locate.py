"""Point → grid lookup in microseconds: a raster whose cells know their grid or candidates."""
from __future__ import annotations

import logging
import time
from array import array
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import shapely

from domain.model import Placement
from domain.regions import town_of, village_of
from feeds.geo.hierarchy import CityGeo

log = logging.getLogger(__name__)

_OUTSIDE = -1  # cell value: no grid touches the cell
INSET_DEG = 5e-5  # ≈ 5 m: how far random points keep off a grid's edge
_THREADED_MIN = 20_000  # intersect this many (grid, cell) pairs on two threads


def _crosses(edges: array, x: float, y: float) -> bool:
    """Even-odd point-in-polygon over flat (y1, y2, x1, dx/dy) edge quadruples."""
    inside = False
    it = iter(edges)
    for y1, y2, x1, slope in zip(it, it, it, it, strict=False):
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * slope:
            inside = not inside
    return inside


def _edge_arrays(pieces: np.ndarray) -> list[array]:
    """For each polygonal piece, its non-horizontal edges as a flat array of quadruples."""
    parts, part_owner = shapely.get_parts(pieces, return_index=True)
    rings, ring_part = shapely.get_rings(parts, return_index=True)  # non-polygons have none
    ring_owner = part_owner[ring_part]
    coords, coord_ring = shapely.get_coordinates(rings, return_index=True)
    same = coord_ring[1:] == coord_ring[:-1]
    p, q = coords[:-1][same], coords[1:][same]
    edge_owner = ring_owner[coord_ring[:-1][same]]
    keep = p[:, 1] != q[:, 1]
    p, q, edge_owner = p[keep], q[keep], edge_owner[keep]
    slope = (q[:, 0] - p[:, 0]) / (q[:, 1] - p[:, 1])
    quads = np.column_stack([p[:, 1], q[:, 1], p[:, 0], slope])
    bounds = np.searchsorted(edge_owner, np.arange(len(pieces) + 1))
    return [array("d", quads[a:b].ravel().tolist()) for a, b in zip(bounds[:-1], bounds[1:],
                                                                      strict=True)]


def _intersection(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Element-wise intersection; big arrays on two threads (shapely releases the GIL)."""
    if len(a) < _THREADED_MIN:
        return shapely.intersection(a, b)
    half = len(a) // 2
    halves = (slice(0, half), slice(half, None))
    with ThreadPoolExecutor(2) as pool:
        return np.concatenate(list(pool.map(lambda s: shapely.intersection(a[s], b[s]), halves)))


class GridIndex:
    """Which base grid holds a point: O(1) raster lookup, exact test only near grid borders."""

    def __init__(self, city: CityGeo, cell_deg: float = 0.002) -> None:
        started = time.perf_counter()
        grids = city.hierarchy.at_level(city.hierarchy.levels.leaf)
        self.codes: list[str] = [r.code for r in grids]
        self.geoms = np.array([city.shapes[c] for c in self.codes], dtype=object)
        shapely.prepare(self.geoms)
        self._placements = [Placement(town_of(c), village_of(c), c) for c in self.codes]
        self._by_code = {c: i for i, c in enumerate(self.codes)}
        xmin, ymin, xmax, ymax = shapely.total_bounds(self.geoms)
        self.cell = float(cell_deg)
        self.x0, self.y0 = float(xmin), float(ymin)
        self.nx = int(np.floor((xmax - xmin) / cell_deg)) + 1
        self.ny = int(np.floor((ymax - ymin) / cell_deg)) + 1
        self._build()
        log.info("grid index: %s grids, %sx%s cells, built in %.2f s", len(self.codes),
                 self.nx, self.ny, time.perf_counter() - started)

    def _pairs(self) -> tuple[np.ndarray, np.ndarray]:
        """Every (grid, cell) pair whose cell lies in the grid's bounding box."""
        b = shapely.bounds(self.geoms)
        i0 = np.floor((b[:, 0] - self.x0) / self.cell).astype(np.int64)
        i1 = np.minimum(np.floor((b[:, 2] - self.x0) / self.cell).astype(np.int64), self.nx - 1)
        j0 = np.floor((b[:, 1] - self.y0) / self.cell).astype(np.int64)
        j1 = np.minimum(np.floor((b[:, 3] - self.y0) / self.cell).astype(np.int64), self.ny - 1)
        width, n = i1 - i0 + 1, (i1 - i0 + 1) * (j1 - j0 + 1)
        grid_ids = np.repeat(np.arange(len(self.codes)), n)
        offset = np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n)
        ii = i0[grid_ids] + offset % width[grid_ids]
        jj = j0[grid_ids] + offset // width[grid_ids]
        return grid_ids, jj * self.nx + ii

    def _cell_xy(self, cells: np.ndarray, at: float) -> tuple[np.ndarray, np.ndarray]:
        """A point of each cell: its lower-left corner (at=0) or its centre (at=0.5)."""
        return (self.x0 + (cells % self.nx + at) * self.cell,
                self.y0 + (cells // self.nx + at) * self.cell)

    def _build(self) -> None:
        grid_ids, cells = self._pairs()
        cx0, cy0 = self._cell_xy(cells, 0.0)
        boxes = shapely.box(cx0, cy0, cx0 + self.cell, cy0 + self.cell)
        geoms = self.geoms[grid_ids]
        whole = shapely.contains(geoms, boxes)
        touch = whole | shapely.intersects(geoms, boxes)
        grid_ids, cells, boxes, whole = grid_ids[touch], cells[touch], boxes[touch], whole[touch]
        owner = np.full(self.nx * self.ny, _OUTSIDE, dtype=np.int64)
        owner[cells[whole]] = grid_ids[whole]
        mixed = ~np.isin(cells, cells[whole])
        self._build_mixed(owner, grid_ids[mixed], cells[mixed], boxes[mixed])
        self._owner_np = owner
        self._owner = owner.tolist()
        self._flatten_candidates()

    def _defaults(self, grid_ids: np.ndarray, cells: np.ndarray,
                  boxes: np.ndarray) -> np.ndarray:
        """Per pair, whether it is its cell's fallback: the cell lies wholly inside the union
        of the grids and this grid holds the cell's centre (at most one per cell)."""
        if shapely.coverage_is_valid(self.geoms):
            union = shapely.coverage_union_all(self.geoms)
        else:
            union = shapely.union_all(self.geoms)
        shapely.prepare(union)
        default = shapely.contains_xy(self.geoms[grid_ids], *self._cell_xy(cells, 0.5))
        default[default] = shapely.contains(union, boxes[default])
        picked = np.flatnonzero(default)
        first = np.zeros_like(default)
        first[picked[np.unique(cells[picked], return_index=True)[1]]] = True
        return first

    def _build_mixed(self, owner: np.ndarray, grid_ids: np.ndarray, cells: np.ndarray,
                     boxes: np.ndarray) -> None:
        """Cells shared by several grids get candidates (grid, edges of its part of the cell);
        the fallback comes last, with no edges: a point in no other candidate is in it."""
        default = self._defaults(grid_ids, cells, boxes)
        pieces = np.full(len(cells), None, dtype=object)
        pieces[~default] = _intersection(self.geoms[grid_ids[~default]], boxes[~default])
        area = np.where(default, np.inf, shapely.area(pieces))
        keep = area > 0.0
        order = np.lexsort((area[keep], cells[keep]))  # by cell, smallest part first
        grid_ids, cells = grid_ids[keep][order], cells[keep][order]
        pieces, default = pieces[keep][order], default[keep][order]
        edges = _edge_arrays(pieces)
        starts = np.flatnonzero(np.r_[True, cells[1:] != cells[:-1]])
        ends = np.r_[starts[1:], len(cells)]
        self._candidates: list[tuple[tuple[int, array | None], ...]] = []
        slots = np.full((len(starts), int((ends - starts).max(initial=1))), -1, dtype=np.int64)
        for k, (a, b) in enumerate(zip(starts.tolist(), ends.tolist(), strict=True)):
            self._candidates.append(tuple(
                (int(grid_ids[m]), None if default[m] else edges[m]) for m in range(a, b)))
            slots[k, : b - a] = grid_ids[a:b]
            owner[cells[a]] = -2 - k
        self._slots = slots

    def locate(self, lon: float, lat: float) -> Placement | None:
        """The placement of a point (town, village, grid), or None outside every grid."""
        fx = (lon - self.x0) / self.cell
        fy = (lat - self.y0) / self.cell
        if not (0.0 <= fx < self.nx and 0.0 <= fy < self.ny):  # also false for NaN
            return None
        v = self._owner[int(fy) * self.nx + int(fx)]
        if v >= 0:
            return self._placements[v]
        if v == _OUTSIDE:
            return None
        for g, edges in self._candidates[-2 - v]:
            if edges is None or _crosses(edges, lon, lat):
                return self._placements[g]
        return None

    def _flatten_candidates(self) -> None:
        """The mixed cells' candidates as arrays for the vectorised exact test: per cell and
        slot the piece (-1 the fallback, -2 none), and every piece's edges in one table."""
        self._slot_piece = np.full(self._slots.shape, -2, dtype=np.int64)
        pieces: list[np.ndarray] = []
        for k, candidates in enumerate(self._candidates):
            for s, (_, edges) in enumerate(candidates):
                self._slot_piece[k, s] = -1 if edges is None else len(pieces)
                if edges is not None:
                    pieces.append(np.frombuffer(edges, dtype=np.float64))
        lens = np.array([len(p) // 4 for p in pieces], dtype=np.int64)
        self._piece_len, self._piece_start = lens, np.cumsum(lens) - lens
        self._edges = (np.concatenate(pieces).reshape(-1, 4) if pieces
                       else np.zeros((0, 4), dtype=np.float64))

    def _inside(self, piece: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Whether each point lies in its piece: _crosses' even-odd test, the same float
        operations in the same order, over all pairs at once."""
        n = self._piece_len[piece]
        owner = np.repeat(np.arange(len(piece)), n)
        edge = np.repeat(self._piece_start[piece] - (np.cumsum(n) - n), n) + np.arange(n.sum())
        y1, y2, x1, slope = self._edges[edge].T
        px, py = x[owner], y[owner]
        cross = ((y1 > py) != (y2 > py)) & (px < x1 + (py - y1) * slope)
        return (np.bincount(owner[cross], minlength=len(piece)) & 1).astype(bool)

    def _exact(self, mixed: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Grid indices (-1 for none) of points in mixed cells (`mixed`: their candidate
        rows): the first candidate whose piece holds the point, else the cell's fallback."""
        out = np.full(len(mixed), -1, dtype=np.int64)
        todo = np.arange(len(mixed))
        for s in range(self._slots.shape[1]):
            if todo.size == 0:
                break
            piece, grid = self._slot_piece[mixed[todo], s], self._slots[mixed[todo], s]
            tested = np.flatnonzero(piece >= 0)
            hit = tested[self._inside(piece[tested], x[todo[tested]], y[todo[tested]])]
            done = piece < 0  # the fallback takes the point; past the last candidate: none
            done[hit] = True
            out[todo[done]] = np.where(piece[done] == -1, grid[done], -1)
            out[todo[hit]] = grid[hit]
            todo = todo[~done]
        return out

    def locate_batch(self, lons: np.ndarray, lats: np.ndarray) -> list[Placement | None]:
        """`locate` for arrays of points: the raster step and the exact test near borders
        vectorised, with the same answers."""
        x, y = np.asarray(lons, dtype=np.float64), np.asarray(lats, dtype=np.float64)
        fx, fy = (x - self.x0) / self.cell, (y - self.y0) / self.cell
        ok = (fx >= 0.0) & (fx < self.nx) & (fy >= 0.0) & (fy < self.ny)  # false for NaN
        cell = np.where(ok, fy, 0.0).astype(np.int64) * self.nx + np.where(ok, fx, 0.0).astype(
            np.int64)
        v = np.where(ok, self._owner_np[cell], _OUTSIDE)
        mixed = np.flatnonzero(v <= -2)
        if mixed.size:
            v[mixed] = self._exact(-2 - v[mixed], x[mixed], y[mixed])
        placements = self._placements
        return [placements[g] if g >= 0 else None for g in v.tolist()]

    def locate_code(self, lon: float, lat: float) -> str | None:
        """The grid code of a point, or None outside every grid."""
        p = self.locate(lon, lat)
        return p.grid if p is not None else None

    def locate_many(self, lons: np.ndarray, lats: np.ndarray) -> list[str | None]:
        """Grid codes (or None) for arrays of points, vectorised."""
        return [self.codes[g] if g >= 0 else None for g in self.locate_indices(lons, lats)]

    def locate_indices(self, lons: np.ndarray, lats: np.ndarray) -> np.ndarray:
        """Grid indices into `codes` (-1 outside) for arrays of points, vectorised."""
        x = np.asarray(lons, dtype=np.float64)
        y = np.asarray(lats, dtype=np.float64)
        fi, fj = (x - self.x0) / self.cell, (y - self.y0) / self.cell
        ok = (fi >= 0) & (fi < self.nx) & (fj >= 0) & (fj < self.ny)  # false for NaN
        out = np.full(x.shape, -1, dtype=np.int64)
        fi, fj = np.where(ok, fi, 0.0), np.where(ok, fj, 0.0)
        cell = fj.astype(np.int64) * self.nx + fi.astype(np.int64)
        v = np.where(ok, self._owner_np[cell], _OUTSIDE)
        out[v >= 0] = v[v >= 0]
        todo = np.flatnonzero(v <= -2)
        rows = self._slots[-2 - v[todo]]
        for s in range(rows.shape[1]):
            if todo.size == 0:
                break
            test = rows[:, s] >= 0
            idx, g = todo[test], rows[test, s]
            hit = shapely.contains_xy(self.geoms[g], x[idx], y[idx])
            out[idx[hit]] = g[hit]
            remain = np.ones(todo.size, dtype=bool)
            remain[np.flatnonzero(test)[hit]] = False
            todo, rows = todo[remain], rows[remain]
        return out

    def random_point(self, grid_code: str, rng: np.random.Generator) -> tuple[float, float]:
        """A point uniformly inside a grid (rejection sampling in its bounding box), kept
        INSET_DEG off its edge where the grid allows, so that a datum round trip (the city's
        datum to WGS-84 and back, ~1 m) cannot carry it out of the city."""
        geom = self.geoms[self._by_code[grid_code]]
        xmin, ymin, xmax, ymax = geom.bounds
        edge = geom.boundary
        for attempt in range(64):
            xy = rng.uniform((xmin, ymin), (xmax, ymax), size=(16, 2))
            ok = shapely.contains_xy(geom, xy[:, 0], xy[:, 1])
            if attempt < 48:  # then any inside point, for slivers narrower than the inset
                ok &= shapely.distance(edge, shapely.points(xy)) > INSET_DEG
            if ok.any():
                x, y = xy[np.argmax(ok)]
                return float(x), float(y)
        return float(geom.representative_point().x), float(geom.representative_point().y)
