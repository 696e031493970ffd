"""A GB/T 28181 platform's channel list (wvp-GB28181-pro's export: CSV with its Chinese headers,
or the JSON of its channel query) becomes registry cameras with the ZLMediaKit stream URLs and
the recordings' playback URLs; positions in WGS-84 land in the right grid of the GCJ-02 city."""
from __future__ import annotations

import csv

import orjson

from domain.regions import Level
from domain.video import CameraKind, Recorder
from feeds.geo.datum import to_datum
from feeds.video.registry import load_cameras
from gridwatch.cli import main

DEV = "44190000001320000001"


def _sample(city_ctx, n: int = 3) -> list[dict]:
    """Channels at grid centres, in WGS-84 as GB devices report them."""
    town = city_ctx.towns[0]
    grids = list(city_ctx.hierarchy.descendants(town, Level.GRID))[:n]
    out = []
    for i, g in enumerate(grids):
        p = city_ctx.city.shapes[g.code].representative_point()
        lon, lat = to_datum(p.x, p.y, city_ctx.hierarchy.datum, "wgs84")
        out.append({"设备国标编号": DEV, "通道国标编号": f"4419000000132000{i + 101:04d}",
                    "通道名称": f"东城路口 {i + 1}", "经度": f"{lon:.7f}", "纬度": f"{lat:.7f}",
                    "状态": "在线" if i else "离线", "_grid": g.code})
    return out


def test_import_wvp_channel_export(tmp_path, demo_dir, city_ctx, capsys):
    rows = _sample(city_ctx)
    rows.append({"设备国标编号": DEV, "通道国标编号": "44190000001320009999", "通道名称": "无坐标",
                 "经度": "0", "纬度": "0", "状态": "在线", "_grid": ""})
    export = tmp_path / "channels.csv"
    with export.open("w", encoding="utf-8-sig", newline="") as f:
        w = csv.DictWriter(f, [k for k in rows[0] if k != "_grid"], extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    out = tmp_path / "cameras.csv"
    where = ["--data-dir", str(demo_dir), "--out", str(out)]
    assert main(["cameras", "import", str(export), "--platform-url", "http://zlm.local:8080",
                 "--playback-url", "http://mtx.local:9996/get?path={stream}", *where]) == 0
    said = capsys.readouterr().out
    assert "3 of 4 channels imported" in said and "2 online, 1 without a position" in said
    cams = {c.camera_id: c for c in load_cameras(out, city_ctx.city)}
    assert len(cams) == 3
    first = cams[f"gb-{DEV}_44190000001320000101"]
    assert first.stream_url == f"http://zlm.local:8080/rtp/{DEV}_44190000001320000101.live.flv"
    assert first.kind is CameraKind.FLV and first.recorder is Recorder.PLATFORM
    assert first.playback_url == f"http://mtx.local:9996/get?path={DEV}_44190000001320000101"
    assert first.name == "东城路口 1"
    assert [c.grid for c in cams.values()] == [r["_grid"] for r in rows[:3]]  # WGS-84 → city

    # the JSON of wvp's channel query, HLS streams, no recorder: merged into the same file
    answer = {"code": 0, "data": {"total": 1, "list": [
        {"deviceId": DEV, "channelId": "44190000001320000101", "name": "改名",
         "longitude": float(rows[0]["经度"]), "latitude": float(rows[0]["纬度"]), "status": 1},
        {"deviceId": "44190000001320000002", "channelId": "44190000001320000201",
         "name": "新", "longitude": float(rows[1]["经度"]), "latitude": float(rows[1]["纬度"]),
         "status": 0}]}}
    export_json = tmp_path / "channels.json"
    export_json.write_bytes(orjson.dumps(answer))
    assert main(["cameras", "import", str(export_json), "--platform-url", "http://zlm.local",
                 "--stream", "hls", *where]) == 0
    cams = {c.camera_id: c for c in load_cameras(out, city_ctx.city)}
    assert len(cams) == 4  # one replaced, one added, two kept
    again = cams[f"gb-{DEV}_44190000001320000101"]
    assert again.name == "改名" and again.kind is CameraKind.HLS
    assert again.stream_url == f"http://zlm.local/rtp/{DEV}_44190000001320000101/hls.m3u8"
    assert again.recorder is Recorder.GRIDWATCH and again.playback_url == ""


def test_import_errors_name_the_row(tmp_path, demo_dir, city_ctx, capsys):
    export = tmp_path / "bad.csv"
    export.write_text("deviceId,channelId,name,longitude,latitude,status\n"
                      f"{DEV},,a,113.7,23.0,ON\n{DEV},4419,b,east,23.0,ON\n", encoding="utf-8")
    where = ["--data-dir", str(demo_dir), "--out", str(tmp_path / "c.csv")]
    assert main(["cameras", "import", str(export), "--platform-url", "http://zlm", *where]) == 1
    err = capsys.readouterr().err
    assert "row 2: channel id missing" in err and "row 3 (4419): longitude/latitude" in err
    assert main(["cameras", "import", str(export), "--platform-url", "zlm:80", *where]) == 1
    assert "--platform-url: an http(s):// URL" in capsys.readouterr().err
    assert not (tmp_path / "c.csv").exists()
    row = _sample(city_ctx, 1)[0]
    good = tmp_path / "good.csv"
    good.write_text(f"deviceId,channelId,longitude,latitude\n{DEV},4419,{row['经度']},"
                    f"{row['纬度']}\n", encoding="utf-8")
    assert main(["cameras", "import", str(good), "--platform-url", "http://zlm",
                 "--playback-url", "http://m/get?path={cam}", *where]) == 1
    assert "--playback-url: bad placeholder 'cam'; use {device_id}" in capsys.readouterr().err
