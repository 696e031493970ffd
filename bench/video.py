"""Video figures with the demo's 2,958 cameras registered (one per grid, read on demand): the
capture worker's CPU while none is watched, concurrent MJPEG viewers sustained at 10 fps
640x480 and CPU per viewer, time from a flag to a playable clip (the cameras within 300 m),
and the CPU of motion detection per camera.

Run: .venv/bin/python bench/video.py [--viewers 4,8,16,32] [--seconds 8] [--idle-seconds 20]
[--clip-runs 3] [--motion-only] [--rtsp N] (the capture worker and the synthetic cameras run as
their own processes; CPU is read from /proc/<pid>/stat.)"""
from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import orjson
import redis

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import city, wait_port  # noqa: E402
from domain.access import Role, User  # noqa: E402
from domain.model import Incident  # noqa: E402
from domain.video import Camera, CameraKind, EventStatus, FlaggedEvent  # noqa: E402
from feeds.store.embedded import EmbeddedRedis, free_port  # noqa: E402

FPS, W, H = 10.0, 640, 480
CAMERAS = 4  # the viewers are spread over this many cameras
GRID = "441900101001001"  # the motion figures' camera


def cpu_s(pid: int) -> float:
    """CPU seconds (user + system) a process has used."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bench_cameras(city_file: Path, base: str) -> list[Camera]:
    """The demo's cameras (one per grid, on a street of it) on the synthetic server."""
    from feeds.geo.hierarchy import load_hierarchy  # noqa: PLC0415
    from feeds.sim.cameras import demo_cameras  # noqa: PLC0415

    return demo_cameras(load_hierarchy(city_file), base)


def serve_capture_process(redis_url: str, camsim_url: str, port: int, data: str,
                          probe_every_s: float) -> None:
    """The capture worker as the benchmark runs it (child process): every demo camera
    registered, each read on demand as the demo reads them."""
    import redis.asyncio as aredis  # noqa: PLC0415

    from feeds.video.capture import CaptureConfig, CaptureService  # noqa: PLC0415
    from feeds.video.clips import ClipConfig, ClipMaker  # noqa: PLC0415
    from feeds.video.main import CaptureParts, serve_capture  # noqa: PLC0415
    from feeds.video.registry import save_cameras  # noqa: PLC0415

    cams = bench_cameras(Path(data) / "city.geojson", camsim_url)
    save_cameras(redis.Redis.from_url(redis_url), cams)

    async def serve() -> None:
        client = aredis.Redis.from_url(redis_url)
        service = CaptureService(cams, CaptureConfig(max_viewers=64, start_jitter_s=0),
                                 always=())
        parts = CaptureParts(service, client, ClipMaker(service, client, Path(data) / "clips",
                                                        ClipConfig()), None,
                             probe_every_s=probe_every_s)
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        await serve_capture(parts, "127.0.0.1", port, stop)

    asyncio.run(serve())


async def _viewer(port: int, cam: str, seconds: float, counts: list[int], i: int,
                  firsts: list[float]) -> None:
    """One MJPEG viewer: frames counted over `seconds` from its first frame (a camera read on
    demand starts when its first viewer comes; how long that took goes to `firsts`)."""
    started = time.monotonic()
    reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=2 ** 20)
    writer.write(f"GET /stream/{cam}.mjpg HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    head = await reader.readuntil(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 200"):
        counts[i] = -1  # refused (viewer cap)
        writer.close()
        return
    await asyncio.wait_for(reader.readuntil(b"--gwframe"), 15)
    firsts[i] = time.monotonic() - started
    end = time.monotonic() + seconds
    tail = b""
    while time.monotonic() < end:
        data = await asyncio.wait_for(reader.read(1 << 16), 5)
        if not data:
            break
        counts[i] += (tail + data).count(b"--gwframe")
        tail = data[-12:]
    writer.close()


async def viewers(port: int, cams: list[Camera], n: int, seconds: float
                  ) -> tuple[list[float], int, float]:
    """n concurrent MJPEG viewers spread over the cameras: frames per second each got, how
    many were refused, and the longest wait for a first frame."""
    counts, firsts = [0] * n, [0.0] * n
    await asyncio.gather(*(_viewer(port, cams[i % len(cams)].camera_id, seconds, counts, i,
                                   firsts) for i in range(n)))
    return [max(0, c) / seconds for c in counts], sum(1 for c in counts if c < 0), max(firsts)


def cpu_over(pids: dict[str, int], seconds: float) -> dict[str, float]:
    """Each process's share of a core over the next `seconds`."""
    base = {k: cpu_s(p) for k, p in pids.items()}
    time.sleep(seconds)
    return {k: (cpu_s(p) - base[k]) / seconds for k, p in pids.items()}


def measure_idle(port: int, pids: dict[str, int], seconds: float) -> float:
    """Print the CPU of the capture worker and the cameras while nobody watches."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=10) as r:
        health = orjson.loads(r.read())
    idle = cpu_over(pids, seconds)
    print(f"idle: {health['cameras']} cameras registered, {health['reading']} read: capture "
          f"{idle['capture'] * 100:.1f}% CPU, camsim {idle['camsim'] * 100:.1f}% CPU over "
          f"{seconds:g} s (one probe round of every camera in it)")
    return idle["capture"]


def measure_viewers(port: int, pids: dict[str, int], cams: list[Camera], ladder: list[int],
                    seconds: float, idle: float) -> None:
    """Print fps and CPU for each viewer count."""
    best = 0
    for n in ladder:
        time.sleep(6.0)  # the previous step's cameras go idle (linger_s): each step starts cold
        before = {k: cpu_s(p) for k, p in pids.items()}
        fps, refused, first = asyncio.run(viewers(port, cams, n, seconds))
        cpu = {k: (cpu_s(p) - before[k]) / seconds for k, p in pids.items()}
        ok = min(fps) >= FPS * 0.95
        best = n if ok else best
        per = (cpu["capture"] - idle) / n * 100
        print(f"{n:3d} viewers: min {min(fps):5.2f} fps, median {statistics.median(fps):5.2f}"
              f" fps, capture {cpu['capture'] * 100:5.1f}% CPU ({per:.2f}% per viewer)"
              f" {'sustained' if ok else 'NOT sustained'}, first frame after {first:.2f} s"
              + (f", {refused} refused by the viewer cap" if refused else ""))
    print(f"viewers sustained at {FPS:.0f} fps {W}x{H} over {len(cams)} cameras: {best} "
          "(target >= 16)")


def _await_event(client: redis.Redis, event_id: str) -> FlaggedEvent:
    from feeds.video.store import read_event  # noqa: PLC0415

    while True:
        e = read_event(client, event_id)
        if e.status in (EventStatus.READY, EventStatus.FAILED, EventStatus.NO_CAMERAS):
            return e
        time.sleep(0.02)


def _frames_in(path: Path) -> int:
    import cv2  # noqa: PLC0415

    cap = cv2.VideoCapture(str(path))
    n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    cap.release()
    return n


def measure_clips(redis_url: str, clips: Path, cams: list[Camera], runs: int, pre: float,
                  post: float) -> None:
    """Flag events by hand beside cameras spread over the city and time until their clips
    (from the cameras within 300 m, read on demand from the flag on) are stored."""
    from feeds.video.store import flag_case, read_clips  # noqa: PLC0415

    client = redis.Redis.from_url(redis_url)
    admin = User("bench", Role.ADMIN, "441900")
    lags = []
    for r in range(runs):
        cam = cams[(r * 997 + 500) % len(cams)]
        inc = Incident(f"BENCH-{r}", "fire", "bench", cam.lat, cam.lon + 3e-4, cam.grid,
                       time.time())
        ev = flag_case(client, inc, admin, pre_s=pre, post_s=post)
        e = _await_event(client, ev.event_id)
        lags.append(time.time() - (ev.ts + post))
        cs = sorted(read_clips(client, e.clips), key=lambda c: c.dist_m)
        if not cs:
            print(f"flag {r + 1}: {e.status.value}, no clip")
            continue
        dists = ", ".join(f"{c.dist_m:.0f}" for c in cs)
        decoded = _frames_in(clips / f"{cs[0].clip_id}.{cs[0].container}")
        print(f"flag {r + 1}: {len(cs)} clips from cameras at {dists} m ({cs[0].frames} "
              f"frames {cs[0].width}x{cs[0].height} @ {cs[0].fps:g} fps, "
              f"{cs[0].size_bytes // 1024} KiB, decodes {decoded} frames)"
              f" playable {post + lags[-1]:.2f} s after the flag, {lags[-1]:.2f} s after "
              "the post-roll")
    print(f"flag -> playable clip: median {post + statistics.median(lags):.2f} s after the "
          f"flag ({post:g} s post-roll), {statistics.median(lags):.2f} s after the post-roll "
          f"(max {max(lags):.2f} s, target < 3 s)")


def measure_motion(frames: int = 240, analysis_fps: float = 2.0, demo_cameras: int = 100) -> None:
    """CPU of motion detection as the capture worker runs it (reduced grey JPEG decode + MOG2
    on the zones' box), per frame and per camera at analysis_fps, in this process."""
    from feeds.sim import camframes  # noqa: PLC0415
    from feeds.sim.cameras import demo_zones  # noqa: PLC0415
    from feeds.video.motion import MotionDetector, decode_grey, reduced_flag  # noqa: PLC0415

    cam = Camera("m0", "motion", 113.75, 23.02, GRID, "http://127.0.0.1:9/cam/m0.mjpg")
    for w, h in ((320, 240), (640, 480)):
        bg = camframes.background(cam.camera_id, w, h)
        jpegs = [camframes.render_jpeg(bg, i, 1.7e9 + i / analysis_fps, 80,
                                       (i % 40) / 12 if i % 40 < 12 else None)
                 for i in range(frames)]
        det, flag = MotionDetector(demo_zones([cam])), reduced_flag(w, 160)
        t0, hits = time.thread_time(), 0
        for i, jpeg in enumerate(jpegs):
            hits += len(det.update(1.7e9 + i / analysis_fps, decode_grey(jpeg, flag)))
        per = (time.thread_time() - t0) / frames
        print(f"motion {w}x{h}: {per * 1000:.2f} ms CPU per frame, {per * analysis_fps * 100:.3f}"
              f"% of a core per camera at {analysis_fps:g} fps ({demo_cameras} cameras: "
              f"{per * analysis_fps * demo_cameras * 100:.1f}%), {hits} events")


def serve_rtsp_capture(redis_url: str, url: str, n: int, port: int) -> None:
    """The capture worker reading n RTSP H.264 cameras continuously (child process)."""
    import redis.asyncio as aredis  # noqa: PLC0415

    from feeds.video.capture import CaptureConfig, CaptureService  # noqa: PLC0415
    from feeds.video.clips import ClipMaker  # noqa: PLC0415
    from feeds.video.main import CaptureParts, serve_capture  # noqa: PLC0415

    cams = [Camera(f"rtsp{i}", f"rtsp {i}", 113.75 + i * 1e-4, 23.02, GRID, url,
                   CameraKind.RTSP) for i in range(n)]

    async def serve() -> None:
        client = aredis.Redis.from_url(redis_url)
        service = CaptureService(cams, CaptureConfig(start_jitter_s=0))
        parts = CaptureParts(service, client, ClipMaker(service, client, Path(tempfile.mkdtemp())),
                             None)
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        await serve_capture(parts, "127.0.0.1", port, stop)

    asyncio.run(serve())


def measure_rtsp(n: int, seconds: float) -> None:
    """Capture CPU of n RTSP H.264 cameras (Debian's GStreamer RTSP server, 640x480 10 fps, a
    keyframe a second): packets kept undecoded, about one frame a second decoded."""
    from domain.regions import town_of  # noqa: PLC0415
    from feeds.store import video_keys as vk  # noqa: PLC0415
    from tests.video_support import rtsp_server  # noqa: PLC0415

    tmp = Path(tempfile.mkdtemp(prefix="gw-bench-rtsp-"))
    with EmbeddedRedis(tmp) as rs, rtsp_server(fps=10, gop=10, size=(640, 480)) as url:
        port = free_port()
        proc = subprocess.Popen([sys.executable, __file__, "--serve-rtsp", rs.url, url, str(n),
                                 str(port)], cwd=ROOT, stderr=subprocess.DEVNULL)
        try:
            wait_port(port, 60)
            time.sleep(4.0)  # connected, first GOPs in
            cpu = cpu_over({"capture": proc.pid}, seconds)["capture"]
            got = [orjson.loads(r) for r in redis.Redis.from_url(rs.url).hvals(
                vk.camera_health(town_of(GRID)))]  # the capture worker's reports
            rec, dec = sum(g["received"] for g in got), sum(g["decoded"] for g in got)
        finally:
            os.kill(proc.pid, signal.SIGTERM)
            proc.wait(15)
    online = sum(1 for g in got if g["connected"] and g["fps"] > 0)
    print(f"rtsp: {n} H.264 cameras 640x480 10 fps, {online} receiving: capture "
          f"{cpu * 100:.1f}% CPU ({cpu * 100 / n:.2f}% per camera); {dec} of {rec} frames "
          f"decoded ({dec / max(rec, 1) * 100:.0f}%)")


def run_all(args: argparse.Namespace) -> None:
    """The camera server and the capture worker as processes, then each measurement."""
    tmp = Path(tempfile.mkdtemp(prefix="gw-bench-video-"))
    data, _ = city(tmp / "data")
    cam_port, cap_port = free_port(), free_port()
    with EmbeddedRedis(tmp) as rs:
        procs = {"camsim": subprocess.Popen(
            [sys.executable, "-m", "feeds.sim.camsim", "--port", str(cam_port), "--cameras",
             "10000", "--fps", str(FPS), "--width", str(W), "--height", str(H)], cwd=ROOT,
            stderr=subprocess.DEVNULL)}
        try:
            wait_port(cam_port)
            procs["capture"] = subprocess.Popen(
                [sys.executable, __file__, "--serve-capture", rs.url,
                 f"http://127.0.0.1:{cam_port}", str(cap_port), str(data),
                 str(args.idle_seconds)], cwd=ROOT, stderr=subprocess.DEVNULL)
            wait_port(cap_port, 60)
            time.sleep(3.0)  # the first probe round
            cams = bench_cameras(data / "city.geojson", f"http://127.0.0.1:{cam_port}")
            print(f"machine: {os.cpu_count()} cores; {len(cams)} cameras registered, "
                  f"synthetic at {FPS:g} fps {W}x{H}")
            pids = {k: p.pid for k, p in procs.items()}
            idle = measure_idle(cap_port, pids, args.idle_seconds)
            measure_viewers(cap_port, pids, cams[:CAMERAS],
                            [int(x) for x in args.viewers.split(",")], args.seconds, idle)
            measure_clips(rs.url, data / "clips", cams, args.clip_runs, 5.0, 5.0)
        finally:
            for p in procs.values():
                if p.poll() is None:
                    os.kill(p.pid, signal.SIGTERM)
                    p.wait(15)


def main() -> None:
    """Run the benchmark and print its figures."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--viewers", default="4,8,16,32,64,128")
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--idle-seconds", type=float, default=20.0,
                    help="how long the idle CPU is measured (the probe interval too)")
    ap.add_argument("--clip-runs", type=int, default=3)
    ap.add_argument("--motion-only", action="store_true", help="only the motion figures")
    ap.add_argument("--rtsp", type=int, default=0,
                    help="only the capture CPU of this many RTSP H.264 cameras")
    ap.add_argument("--serve-rtsp", nargs=4, help=argparse.SUPPRESS,
                    metavar=("REDIS", "URL", "N", "PORT"))
    ap.add_argument("--serve-capture", nargs=5, help=argparse.SUPPRESS,
                    metavar=("REDIS", "CAMSIM", "PORT", "DATA", "PROBE_S"))
    args = ap.parse_args()
    if args.serve_capture:
        r, c, p, d, probe_s = args.serve_capture
        serve_capture_process(r, c, int(p), d, float(probe_s))
        return
    if args.serve_rtsp:
        r, url, n, p = args.serve_rtsp
        serve_rtsp_capture(r, url, int(n), int(p))
        return
    if args.rtsp:
        measure_rtsp(args.rtsp, args.seconds)
        return
    measure_motion()
    if not args.motion_only:
        run_all(args)


if __name__ == "__main__":
    main()
