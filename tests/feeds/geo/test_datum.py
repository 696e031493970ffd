"""WGS-84 ⇄ GCJ-02 conversion against published coordinate pairs."""
from __future__ import annotations

import math

import numpy as np
import pytest

from feeds.geo.datum import (
    gcj02_to_wgs84,
    gcj02_to_wgs84_arrays,
    normalize_datum,
    out_of_china,
    to_datum,
    to_datum_arrays,
    wgs84_to_gcj02,
    wgs84_to_gcj02_arrays,
)

# (wgs_lon, wgs_lat, gcj_lon, gcj_lat). Published test vectors, not computed here:
# - googollee/eviltransform, go/transform_test.go and python/test.py (Shanghai, Shenzhen,
#   Beijing; the Python suite checks wgs2gcj to 6 decimal places);
# - wandergis/coordtransform, test/app.js: wgs84togcj02(116.404, 39.915).
PUBLISHED = [
    (121.5272106, 31.1774276, 121.531541859215, 31.17530398364597),  # Shanghai
    (113.912316, 22.543847, 113.9171764808363, 22.540796131694766),  # Shenzhen
    (116.377817, 39.911954, 116.38404722455657, 39.91334545536069),  # Beijing
    (116.404, 39.915, 116.41024449916938, 39.91640428150164),  # coordtransform
]


def metres(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Haversine distance in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371008.8 * math.asin(math.sqrt(a))


@pytest.mark.parametrize(("wlon", "wlat", "glon", "glat"), PUBLISHED)
def test_wgs84_to_gcj02_matches_published_pairs(wlon, wlat, glon, glat):
    lon, lat = wgs84_to_gcj02(wlon, wlat)
    assert lon == pytest.approx(glon, abs=1e-9)
    assert lat == pytest.approx(glat, abs=1e-9)


@pytest.mark.parametrize(("wlon", "wlat", "glon", "glat"), PUBLISHED)
def test_gcj02_to_wgs84_recovers_published_wgs84(wlon, wlat, glon, glat):
    # eviltransform's exact inverse must land within 0.5 m; ours within 1e-6 degree
    lon, lat = gcj02_to_wgs84(glon, glat)
    assert abs(lon - wlon) < 1e-6 and abs(lat - wlat) < 1e-6
    assert metres(lon, lat, wlon, wlat) < 0.01


def test_gcj02_to_wgs84_published_inland_point():
    # hujiulong/gcoord test/unit/crs/GCJ02.spec.js: GCJ02 → WGS84 of [123, 45] is
    # [122.99395597, 44.99804071] to 5 decimals (their inverse is iterative too)
    lon, lat = gcj02_to_wgs84(123.0, 45.0)
    assert lon == pytest.approx(122.99395597, abs=5e-6)
    assert lat == pytest.approx(44.99804071, abs=5e-6)


def test_offset_in_dongguan_is_a_few_hundred_metres():
    # the reason the conversion matters: a missed conversion puts an officer ~500 m off
    lon, lat = wgs84_to_gcj02(113.75, 23.02)
    assert 300 < metres(113.75, 23.02, lon, lat) < 800
    assert lon > 113.75 and lat < 23.02  # GCJ-02 shifts east and south here


def test_inverse_is_exact_over_dongguan():
    rng = np.random.default_rng(1)
    for lon, lat in rng.uniform((113.5, 22.6), (114.3, 23.2), size=(500, 2)):
        wlon, wlat = gcj02_to_wgs84(lon, lat)
        back = wgs84_to_gcj02(wlon, wlat)
        assert abs(back[0] - lon) < 1e-8 and abs(back[1] - lat) < 1e-8


@pytest.mark.parametrize(("lon", "lat"), [(0.0, 0.0), (183.0, 45.0), (-122.4, 37.8),
                                          (2.35, 48.85), (140.0, 35.0), (100.0, 60.0)])
def test_outside_china_is_identity(lon, lat):
    assert out_of_china(lon, lat)
    assert wgs84_to_gcj02(lon, lat) == (lon, lat)
    assert gcj02_to_wgs84(lon, lat) == (lon, lat)


def test_arrays_agree_with_scalar_and_published_pairs():
    rng = np.random.default_rng(2)
    lons = np.r_[rng.uniform(73, 135, 200), [p[0] for p in PUBLISHED], 0.0, 183.0]
    lats = np.r_[rng.uniform(1, 55, 200), [p[1] for p in PUBLISHED], 0.0, 45.0]
    glons, glats = wgs84_to_gcj02_arrays(lons, lats)
    for i in range(len(lons)):
        assert (glons[i], glats[i]) == pytest.approx(wgs84_to_gcj02(lons[i], lats[i]), abs=1e-12)
    for k, (_, _, glon, glat) in enumerate(PUBLISHED, start=200):
        assert glons[k] == pytest.approx(glon, abs=1e-9) and glats[k] == pytest.approx(glat,
                                                                                     abs=1e-9)
    wlons, wlats = gcj02_to_wgs84_arrays(glons, glats)
    assert np.abs(wlons - lons).max() < 1e-8 and np.abs(wlats - lats).max() < 1e-8


def test_to_datum_between_all_datums():
    wlon, wlat, glon, glat = PUBLISHED[1]
    assert to_datum(wlon, wlat, "wgs84", "gcj02") == pytest.approx((glon, glat), abs=1e-9)
    assert to_datum(wlon, wlat, "cgcs2000", "gcj02") == pytest.approx((glon, glat), abs=1e-9)
    assert to_datum(glon, glat, "gcj02", "wgs84") == pytest.approx((wlon, wlat), abs=1e-6)
    assert to_datum(glon, glat, "GCJ-02", "CGCS2000") == pytest.approx((wlon, wlat), abs=1e-6)
    assert to_datum(wlon, wlat, "wgs84", "cgcs2000") == (wlon, wlat)
    assert to_datum(glon, glat, "gcj02", "gcj02") == (glon, glat)
    lons, lats = to_datum_arrays(np.array([wlon]), np.array([wlat]), "wgs84", "gcj02")
    assert (lons[0], lats[0]) == pytest.approx((glon, glat), abs=1e-9)


def test_unknown_datum_is_rejected():
    assert normalize_datum("WGS-84") == "wgs84"
    with pytest.raises(ValueError, match="unknown datum 'xian80'"):
        to_datum(113.0, 23.0, "xian80", "wgs84")


def test_bd09_reference_point_and_round_trips():
    """Baidu's BD-09 against the vectors the coordtransform libraries publish (wandergis'
    coordtransform, hutool), and round trips through GCJ-02 and WGS-84."""
    assert to_datum(116.404, 39.915, "gcj02", "bd09") == pytest.approx(
        (116.41036949371029, 39.92133699351021), abs=1e-9)
    assert to_datum(116.404, 39.915, "bd09", "gcj02") == pytest.approx(
        (116.39762729119315, 39.90865673957631), abs=1e-9)
    wgs = (113.7518, 23.0207)  # Dongguan
    back = to_datum(*to_datum(*wgs, "wgs84", "bd09"), "BD-09", "wgs84")
    assert back == pytest.approx(wgs, abs=1e-6)
    lons, lats = to_datum_arrays(np.array([wgs[0], 113.9]), np.array([wgs[1], 22.9]), "wgs84",
                                 "bd09")
    assert (float(lons[0]), float(lats[0])) == pytest.approx(to_datum(*wgs, "wgs84", "bd09"))
    assert normalize_datum("Baidu") == "bd09"
