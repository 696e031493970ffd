"""A real RTSP server for the tests: Debian's GStreamer RTSP server serving H.264 test frames.

Run with Debian's python (python3-gi): /usr/bin/python3 tests/rtsp_server.py --port P
[--path /cam --fps 10 --gop 10 --width 320 --height 240 --user U --password W]. It prints
"ready <port>" once it listens and serves until SIGTERM/SIGINT.
"""
from __future__ import annotations

import argparse
import signal
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402


def pipeline(fps: int, gop: int, width: int, height: int) -> str:
    """The launch line: moving test frames with a clock overlay, x264 without B-frames."""
    return (f"( videotestsrc is-live=true pattern=ball ! video/x-raw,width={width},"
            f"height={height},framerate={fps}/1 ! timeoverlay ! videoconvert ! "
            f"x264enc tune=zerolatency speed-preset=ultrafast key-int-max={gop} bitrate=400 ! "
            "video/x-h264,profile=baseline ! rtph264pay name=pay0 pt=96 config-interval=1 )")


def main() -> int:
    """Serve until a signal."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--path", default="/cam")
    ap.add_argument("--fps", type=int, default=10)
    ap.add_argument("--gop", type=int, default=10)
    ap.add_argument("--width", type=int, default=320)
    ap.add_argument("--height", type=int, default=240)
    args = ap.parse_args()
    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(args.port))
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(pipeline(args.fps, args.gop, args.width, args.height))
    factory.set_shared(True)
    server.get_mount_points().add_factory(args.path, factory)
    if server.attach(None) == 0:
        print(f"cannot listen on 127.0.0.1:{args.port}", file=sys.stderr, flush=True)
        return 1
    loop = GLib.MainLoop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, sig, loop.quit)
    print(f"ready {server.get_bound_port()}", flush=True)
    loop.run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
