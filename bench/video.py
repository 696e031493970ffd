"""Video figures: concurrent MJPEG viewers sustained at 10 fps 640x480, CPU per viewer of the
capture worker, time from a flag to a playable clip after the post-roll ends, and the CPU of
motion detection per camera.

Run: .venv/bin/python bench/video.py [--viewers 4,8,16,24,32] [--seconds 8] [--motion-only]
(the capture worker and the synthetic cameras run as their own processes; CPU is read from
/proc/<pid>/stat.)"""
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
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import wait_port  # noqa: E402
from domain.access import Role, User  # noqa: E402
from domain.model import Incident  # noqa: E402
from domain.video import Camera, EventStatus  # noqa: E402
from feeds.store.embedded import EmbeddedRedis, free_port  # noqa: E402

FPS, W, H = 10.0, 640, 480
CAMERAS = 4
GRID = "441900101001001"


def cpu_s(pid: int) -> float:
    """CPU seconds (user + system) a process has used."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bench_cameras(base: str) -> list[Camera]:
    """The benchmark's cameras on the synthetic server, a few metres apart."""
    return [Camera(f"b{i}", f"bench {i}", 113.75 + i * 1e-4, 23.02, GRID,
                   f"{base}/cam/b{i}.mjpg") for i in range(CAMERAS)]


def serve_capture_process(redis_url: str, camsim_url: str, port: int, clips: str) -> None:
    """The capture worker as the benchmark runs it (child process)."""
    import redis.asyncio as aredis  # noqa: PLC0415

    from feeds.video.capture import CaptureConfig, CaptureService  # noqa: PLC0415
    from feeds.video.clips import ClipConfig, ClipMaker  # noqa: PLC0415
    from feeds.video.main import CaptureParts, serve_capture  # noqa: PLC0415

    async def main() -> None:
        client = aredis.Redis.from_url(redis_url)
        service = CaptureService(bench_cameras(camsim_url),
                                 CaptureConfig(max_viewers=64, start_jitter_s=0))
        parts = CaptureParts(service, client, ClipMaker(service, client, Path(clips),
                                                        ClipConfig(cameras=CAMERAS)), None)
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        await serve_capture(parts, "127.0.0.1", port, stop)

    asyncio.run(main())


async def _viewer(port: int, cam: str, seconds: float, counts: list[int], i: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=2 ** 20)
    writer.write(f"GET /stream/{cam}.mjpg HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    head = await reader.readuntil(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 200"):
        counts[i] = -1  # refused (viewer cap)
        writer.close()
        return
    end = time.monotonic() + seconds
    tail = b""
    while time.monotonic() < end:
        data = await asyncio.wait_for(reader.read(1 << 16), 5)
        if not data:
            break
        counts[i] += (tail + data).count(b"--gwframe")
        tail = data[-12:]
    writer.close()


async def viewers(port: int, n: int, seconds: float) -> tuple[list[float], int]:
    """n concurrent MJPEG viewers spread over the cameras: frames per second each got, and
    how many were refused."""
    counts = [0] * n
    await asyncio.gather(*(_viewer(port, f"b{i % CAMERAS}", seconds, counts, i)
                           for i in range(n)))
    return [max(0, c) / seconds for c in counts], sum(1 for c in counts if c < 0)


def measure_viewers(port: int, pids: dict[str, int], ladder: list[int], seconds: float) -> None:
    """Print fps and CPU for each viewer count."""
    base = {k: cpu_s(p) for k, p in pids.items()}
    time.sleep(seconds)
    idle = {k: (cpu_s(p) - base[k]) / seconds for k, p in pids.items()}
    print(f"idle (4 cameras read, no viewer): capture {idle['capture'] * 100:.1f}% CPU, "
          f"camsim {idle['camsim'] * 100:.1f}% CPU")
    best = 0
    for n in ladder:
        time.sleep(1.0)  # let the previous step's viewers go
        before = {k: cpu_s(p) for k, p in pids.items()}
        fps, refused = asyncio.run(viewers(port, n, seconds))
        cpu = {k: (cpu_s(p) - before[k]) / seconds for k, p in pids.items()}
        ok = min(fps) >= FPS * 0.95
        best = n if ok else best
        per = (cpu["capture"] - idle["capture"]) / n * 100
        print(f"{n:3d} viewers: min {min(fps):5.2f} fps, median {statistics.median(fps):5.2f}"
              f" fps, capture {cpu['capture'] * 100:5.1f}% CPU ({per:.2f}% per viewer)"
              f" {'sustained' if ok else 'NOT sustained'}"
              + (f", {refused} refused by the viewer cap" if refused else ""))
    print(f"viewers sustained at {FPS:.0f} fps {W}x{H}: {best} (target >= 16)")


def measure_clips(redis_url: str, clips: Path, runs: int, pre: float, post: float) -> None:
    """Flag events by hand and time until their clips are stored, after T + post."""
    import cv2  # noqa: PLC0415

    from feeds.video.store import flag_case, read_clips, read_event  # noqa: PLC0415

    client = redis.Redis.from_url(redis_url)
    admin = User("bench", Role.ADMIN, "441900")
    lags = []
    time.sleep(pre + 0.5)  # fill the pre-roll
    for r in range(runs):
        inc = Incident(f"BENCH-{r}", "fire", "bench", 23.02, 113.7501, GRID, time.time())
        ev = flag_case(client, inc, admin, pre_s=pre, post_s=post)
        while True:
            e = read_event(client, ev.event_id)
            if e.status in (EventStatus.READY, EventStatus.FAILED, EventStatus.NO_CAMERAS):
                break
            time.sleep(0.02)
        lags.append(time.time() - (ev.ts + post))
        cs = read_clips(client, e.clips)
        cap = cv2.VideoCapture(str(clips / f"{cs[0].clip_id}.webm"))
        n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
        cap.release()
        print(f"flag {r + 1}: {len(cs)} clips ({cs[0].frames} frames {cs[0].width}x"
              f"{cs[0].height} @ {cs[0].fps:g} fps, {cs[0].size_bytes // 1024} KiB, "
              f"decodes {n} frames) playable {lags[-1]:.2f} s after the post-roll")
    print(f"flag -> playable clip after post-roll: median {statistics.median(lags):.2f} s, "
          f"max {max(lags):.2f} s (target < 3 s)")


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


def main() -> None:
    """Run the benchmark and print its figures."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--viewers", default="4,8,16,32,64,128")
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--clip-runs", type=int, default=3)
    ap.add_argument("--motion-only", action="store_true", help="only the motion figures")
    ap.add_argument("--serve-capture", nargs=4, metavar=("REDIS", "CAMSIM", "PORT", "CLIPS"),
                    help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve_capture:
        r, c, p, d = args.serve_capture
        serve_capture_process(r, c, int(p), d)
        return
    measure_motion()
    if args.motion_only:
        return
    tmp = Path(tempfile.mkdtemp(prefix="gw-bench-video-"))
    cam_port, cap_port = free_port(), free_port()
    with EmbeddedRedis(tmp) as rs:
        procs = {"camsim": subprocess.Popen(
            [sys.executable, "-m", "feeds.sim.camsim", "--port", str(cam_port), "--cameras", "8",
             "--fps", str(FPS), "--width", str(W), "--height", str(H)], cwd=ROOT,
            stderr=subprocess.DEVNULL)}
        try:
            wait_port(cam_port)
            procs["capture"] = subprocess.Popen(
                [sys.executable, __file__, "--serve-capture", rs.url,
                 f"http://127.0.0.1:{cam_port}", str(cap_port), str(tmp / "clips")], cwd=ROOT,
                stderr=subprocess.DEVNULL)
            wait_port(cap_port)
            time.sleep(1.5)
            print(f"machine: {os.cpu_count()} cores; {CAMERAS} cameras at {FPS:g} fps {W}x{H}")
            measure_viewers(cap_port, {k: p.pid for k, p in procs.items()},
                            [int(x) for x in args.viewers.split(",")], args.seconds)
            measure_clips(rs.url, tmp / "clips", args.clip_runs, 5.0, 5.0)
        finally:
            for p in procs.values():
                if p.poll() is None:
                    os.kill(p.pid, signal.SIGTERM)
                    p.wait(15)


if __name__ == "__main__":
    main()
