"""Geodetic datums: WGS-84 ⇄ GCJ-02 ("Mars coordinates") conversion, scalar and vectorised."""
from __future__ import annotations

import math

import numpy as np

DATUMS = ("wgs84", "gcj02", "cgcs2000")

# The published GCJ-02 obfuscation uses the Krasovsky 1940 ellipsoid.
_A = 6378245.0
_EE = 0.00669342162296594323
_INVERSE_TOL_DEG = 1e-9
_INVERSE_MAX_ITER = 30


def out_of_china(lon: float, lat: float) -> bool:
    """Whether a point lies outside the box where GCJ-02 applies (then it equals WGS-84)."""
    return not (72.004 <= lon <= 137.8347 and 0.8293 <= lat <= 55.8271)


def _offset(lon: float, lat: float) -> tuple[float, float]:
    """The GCJ-02 offset (dlon, dlat) in degrees at a WGS-84 point."""
    x, y = lon - 105.0, lat - 35.0
    pi, sin = math.pi, math.sin
    wave = (20.0 * sin(6.0 * x * pi) + 20.0 * sin(2.0 * x * pi)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    dlat += wave
    dlat += (20.0 * sin(y * pi) + 40.0 * sin(y / 3.0 * pi)) * 2.0 / 3.0
    dlat += (160.0 * sin(y / 12.0 * pi) + 320.0 * sin(y * pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    dlon += wave
    dlon += (20.0 * sin(x * pi) + 40.0 * sin(x / 3.0 * pi)) * 2.0 / 3.0
    dlon += (150.0 * sin(x / 12.0 * pi) + 300.0 * sin(x / 30.0 * pi)) * 2.0 / 3.0
    radlat = lat / 180.0 * pi
    magic = 1.0 - _EE * sin(radlat) ** 2
    sqrtmagic = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrtmagic) * pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * math.cos(radlat) * pi)
    return dlon, dlat


def wgs84_to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    """Convert a WGS-84 (lon, lat) to GCJ-02; identity outside China."""
    if out_of_china(lon, lat):
        return lon, lat
    dlon, dlat = _offset(lon, lat)
    return lon + dlon, lat + dlat


def gcj02_to_wgs84(lon: float, lat: float) -> tuple[float, float]:
    """Convert a GCJ-02 (lon, lat) to WGS-84 by fixed-point iteration (error < 1e-9 deg)."""
    if out_of_china(lon, lat):
        return lon, lat
    wlon, wlat = lon, lat
    for _ in range(_INVERSE_MAX_ITER):
        glon, glat = wgs84_to_gcj02(wlon, wlat)
        elon, elat = glon - lon, glat - lat
        wlon, wlat = wlon - elon, wlat - elat
        if abs(elon) < _INVERSE_TOL_DEG and abs(elat) < _INVERSE_TOL_DEG:
            break
    return wlon, wlat


def _out_of_china_arrays(lons: np.ndarray, lats: np.ndarray) -> np.ndarray:
    return ~((lons >= 72.004) & (lons <= 137.8347) & (lats >= 0.8293) & (lats <= 55.8271))


def _offset_arrays(lons: np.ndarray, lats: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x, y = lons - 105.0, lats - 35.0
    pi = np.pi
    wave = (20.0 * np.sin(6.0 * x * pi) + 20.0 * np.sin(2.0 * x * pi)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    dlat = dlat + wave
    dlat += (20.0 * np.sin(y * pi) + 40.0 * np.sin(y / 3.0 * pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * pi) + 320.0 * np.sin(y * pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    dlon = dlon + wave
    dlon += (20.0 * np.sin(x * pi) + 40.0 * np.sin(x / 3.0 * pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * pi) + 300.0 * np.sin(x / 30.0 * pi)) * 2.0 / 3.0
    radlat = lats / 180.0 * pi
    magic = 1.0 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrtmagic) * pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * np.cos(radlat) * pi)
    return dlon, dlat


def wgs84_to_gcj02_arrays(lons: np.ndarray, lats: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised WGS-84 → GCJ-02 for arrays of lon and lat; identity outside China."""
    lons = np.asarray(lons, dtype=np.float64)
    lats = np.asarray(lats, dtype=np.float64)
    dlon, dlat = _offset_arrays(lons, lats)
    outside = _out_of_china_arrays(lons, lats)
    return np.where(outside, lons, lons + dlon), np.where(outside, lats, lats + dlat)


def gcj02_to_wgs84_arrays(lons: np.ndarray, lats: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised GCJ-02 → WGS-84 (iterative exact inverse); identity outside China."""
    lons = np.asarray(lons, dtype=np.float64)
    lats = np.asarray(lats, dtype=np.float64)
    wlon, wlat = lons.copy(), lats.copy()
    for _ in range(_INVERSE_MAX_ITER):
        glon, glat = wgs84_to_gcj02_arrays(wlon, wlat)
        elon, elat = glon - lons, glat - lats
        wlon -= elon
        wlat -= elat
        if np.all(np.abs(elon) < _INVERSE_TOL_DEG) and np.all(np.abs(elat) < _INVERSE_TOL_DEG):
            break
    outside = _out_of_china_arrays(lons, lats)
    return np.where(outside, lons, wlon), np.where(outside, lats, wlat)


# Baidu's BD-09 is GCJ-02 turned and shifted once more; coordinates from Baidu convert through
# GCJ-02 (a hierarchy or basemap keeps one of DATUMS; BD-09 is read and written only).
BD09 = "bd09"
_BD_K = math.pi * 3000.0 / 180.0


def bd09_to_gcj02_arrays(lons: np.ndarray, lats: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """BD-09 (Baidu) to GCJ-02, for arrays."""
    x, y = np.asarray(lons, dtype=np.float64) - 0.0065, np.asarray(lats, dtype=np.float64) - 0.006
    z = np.hypot(x, y) - 0.00002 * np.sin(y * _BD_K)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _BD_K)
    return z * np.cos(theta), z * np.sin(theta)


def gcj02_to_bd09_arrays(lons: np.ndarray, lats: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 to BD-09 (Baidu), for arrays."""
    x, y = np.asarray(lons, dtype=np.float64), np.asarray(lats, dtype=np.float64)
    z = np.hypot(x, y) + 0.00002 * np.sin(y * _BD_K)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _BD_K)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def normalize_datum(name: str) -> str:
    """The canonical datum name ("wgs84", "gcj02", "cgcs2000" or "bd09"); raises ValueError
    if unknown."""
    key = name.strip().lower().replace("-", "").replace("_", "")
    aliases = {"wgs84": "wgs84", "epsg4326": "wgs84", "gcj02": "gcj02", "gcj": "gcj02",
               "cgcs2000": "cgcs2000", "epsg4490": "cgcs2000", "bd09": BD09, "baidu": BD09}
    if key not in aliases:
        raise ValueError(f"unknown datum {name!r}; expected one of {', '.join(DATUMS)} "
                         f"or {BD09}")
    return aliases[key]


def _family(datum: str) -> str:
    """CGCS2000 is within centimetres of WGS-84: both convert the same way."""
    d = normalize_datum(datum)
    return d if d in ("gcj02", BD09) else "wgs84"


def to_datum(lon: float, lat: float, src: str, dst: str) -> tuple[float, float]:
    """Convert a (lon, lat) from datum `src` to datum `dst`."""
    s, d = _family(src), _family(dst)
    if s == d:
        return lon, lat
    if BD09 in (s, d):
        x, y = to_datum_arrays(np.array([lon]), np.array([lat]), s, d)
        return float(x[0]), float(y[0])
    if s == "wgs84":
        return wgs84_to_gcj02(lon, lat)
    return gcj02_to_wgs84(lon, lat)


def to_datum_arrays(lons: np.ndarray, lats: np.ndarray, src: str,
                    dst: str) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised `to_datum` for arrays of lon and lat."""
    s, d = _family(src), _family(dst)
    if s == d:
        return np.asarray(lons, dtype=np.float64), np.asarray(lats, dtype=np.float64)
    if s == BD09:
        return to_datum_arrays(*bd09_to_gcj02_arrays(lons, lats), "gcj02", d)
    if d == BD09:
        return gcj02_to_bd09_arrays(*to_datum_arrays(lons, lats, s, "gcj02"))
    if s == "wgs84":
        return wgs84_to_gcj02_arrays(lons, lats)
    return gcj02_to_wgs84_arrays(lons, lats)
