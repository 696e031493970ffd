"""The demo city's picture over time: open cases by level, overdue and old ones, as the
city wall would show them, from a demo started with its 30-day history (issue 13 item 5).

    python -m bench.city_picture                      # 60 minutes, a line every 5 minutes
    python -m bench.city_picture --minutes 240 --every 10

Targets: red <= 10 % of open cases (within chance: two binomial standard deviations, as a
night's few dozen open cases vary), yellow a minority, open cases older than 7 days <= 0.5 % of
open, the open count steady (not growing) over the hours.
"""
from __future__ import annotations

import argparse
import base64
import json
import math
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from bench.common import city
from tests.support import ADMIN_PASSWORD, RunningDemo, running_demo

WEEK_S = 7 * 86400
RED_MAX = 0.10
OLD_MAX = 0.005


def red_allowed(open_: int) -> float:
    """The most red cases a city whose red share is RED_MAX shows among `open_` by chance
    (two binomial standard deviations): 5 of a night's 39 is no alarm, 30 of 200 is."""
    return RED_MAX * open_ + 2 * math.sqrt(open_ * RED_MAX * (1 - RED_MAX))


@dataclass(frozen=True)
class Picture:
    """Open cases of the whole city at one moment."""

    open: int
    red: int
    yellow: int
    green: int
    old: int  # reported more than 7 days ago

    @property
    def red_share(self) -> float:
        return self.red / self.open if self.open else 0.0

    @property
    def old_share(self) -> float:
        return self.old / self.open if self.open else 0.0

    def problems(self) -> list[str]:
        """What breaks the targets (empty when the picture is believable)."""
        out = []
        if self.red > red_allowed(self.open):
            out.append(f"red {self.red} of {self.open} open ({self.red_share:.1%}) is more than "
                       f"a city at {RED_MAX:.0%} shows by chance "
                       f"({red_allowed(self.open):.1f})")
        if self.yellow * 2 >= self.open:
            out.append(f"yellow {self.yellow} of {self.open} open is not a minority")
        if self.old_share > OLD_MAX:
            out.append(f"{self.old} open cases older than 7 days ({self.old_share:.2%})")
        return out

    def line(self) -> str:
        return (f"open={self.open} red={self.red} ({self.red_share:.1%}) yellow={self.yellow} "
                f"green={self.green} older_than_7d={self.old} ({self.old_share:.2%})")


def api(demo: RunningDemo, path: str) -> dict:
    """An API answer as the administrator."""
    auth = base64.b64encode(f"admin:{ADMIN_PASSWORD}".encode()).decode()
    req = urllib.request.Request(demo.url + path, headers={"Authorization": f"Basic {auth}"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read())


def picture(demo: RunningDemo) -> Picture:
    """The city's open cases now, through the API."""
    answer = api(demo, "/api/v1/incidents")
    cases, now = answer["incidents"], answer["as_of"]
    levels = [c["level"] for c in cases]
    return Picture(len(cases), levels.count("red"), levels.count("yellow"),
                   levels.count("green"), sum(1 for c in cases if now - c["reported_ts"] > WEEK_S))


def wait_for_history(demo: RunningDemo, timeout: float) -> float:
    """Seconds until the simulator has sent the history (its marker file is written)."""
    t0 = time.monotonic()
    while not (demo.data_dir / ".history-sent").exists():
        if time.monotonic() - t0 > timeout:
            raise TimeoutError(f"no history after {timeout:.0f} s")
        time.sleep(1)
    return time.monotonic() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--minutes", type=float, default=60)
    ap.add_argument("--every", type=float, default=5, help="minutes between lines")
    ap.add_argument("--settle", type=float, default=120,
                    help="seconds after the history before the first line")
    args = ap.parse_args()
    city_dir, _ = city()
    with running_demo(city_dir, Path(tempfile.mkdtemp(prefix="gw-picture-")),
                      timeout=300) as demo:
        print(f"history sent after {wait_for_history(demo, 1800):.0f} s", flush=True)
        time.sleep(args.settle)
        t0 = time.monotonic()
        while True:
            p = picture(demo)
            print(f"t={(time.monotonic() - t0) / 60:5.1f} min  {p.line()}  "
                  f"{'; '.join(p.problems()) or 'ok'}", flush=True)
            if time.monotonic() - t0 + args.every * 60 > args.minutes * 60:
                break
            time.sleep(args.every * 60)


if __name__ == "__main__":
    main()
