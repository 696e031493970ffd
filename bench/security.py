"""Benchmark the security paths: password hash, per-request session + CSRF check, login rate
limit, audit log queries and CSV export over a large audit stream, counts without sensitive
cases. Prints one line per figure."""
from __future__ import annotations

import argparse
import logging
import statistics
import tempfile
import time
from pathlib import Path

from bench.common import city
from dashboard.app import create_app
from dashboard.audit_page import csv_text
from dashboard.config import DashboardConfig
from domain.access import Role, User
from domain.regions import Level
from feeds.accounts import auth, passwords
from feeds.history.audit import AuditFilter, query
from feeds.live.commands import AUDIT_MAXLEN
from feeds.live.summary import child_stats, kpi, visible_counts
from feeds.store import keys
from feeds.store.client import sync_client
from feeds.store.config import StoreConfig
from feeds.store.embedded import EmbeddedRedis


def ms(samples: list[float]) -> str:
    """Median and p95 of timings in seconds, as milliseconds."""
    s = sorted(samples)
    return f"median {statistics.median(s) * 1000:.2f} ms, p95 {s[int(len(s) * 0.95)] * 1000:.2f} ms"


def timed(fn, n: int) -> list[float]:  # noqa: ANN001
    """n timings of fn()."""
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def fill_audit(client, ctx, n: int) -> None:  # noqa: ANN001
    """n audit entries: case actions spread over the grids, a login every tenth."""
    grids = [r.code for r in ctx.hierarchy.at_level(Level.GRID)]
    now = time.time()
    pipe = client.pipeline(transaction=False)
    for i in range(n):
        g = grids[i % len(grids)]
        if i % 10 == 0:
            f = {"ts": f"{now - n + i:.3f}", "user": f"u{i % 50}", "action": "login",
                 "target": f"u{i % 50}", "detail": "10.0.0.1", "region": g[:9]}
        else:
            f = {"ts": f"{now - n + i:.3f}", "user": f"duty{i % 300}", "action": "case.note",
                 "target": f"C{i}", "detail": "note text " * 4, "region": g}
        pipe.xadd(keys.AUDIT, f, id=f"{int((now - n + i) * 1000)}-0", maxlen=AUDIT_MAXLEN,
                  approximate=True)  # ids follow ts, as when entries are written live
        if i % 5000 == 4999:
            pipe.execute()
    pipe.execute()


def bench_auth(client, ctx, args) -> None:  # noqa: ANN001
    """Hash, session check, rate-limit check, one authenticated request."""
    stored = passwords.hash_password("pw")
    print("argon2id verify per sign-in:", ms(timed(lambda: passwords.verify_password(
        "pw", stored), 10)), "(m=19 MiB t=2 p=1)")
    token = auth.open_session(client, User("b", Role.VIEWER, ctx.towns[0]))
    print("session check (GETEX) per request:", ms(timed(
        lambda: auth.session_record(client, token), args.n)))
    print("rate-limit check before a sign-in:", ms(timed(
        lambda: auth.login_wait(client, "b", "10.0.0.1"), args.n)))
    app = create_app(DashboardConfig(store=StoreConfig(data_dir=Path(tempfile.mkdtemp()))),
                     ctx, client)
    http = app.server.test_client()
    http.set_cookie("gw_session", token)
    http.get("/api/v1/openapi.json")
    csrf = http.get_cookie("_csrf_token").value
    body = {"output": ".._pages_content.children..._pages_store.data..",  # Dash Pages' router
            "outputs": [{"id": "_pages_content", "property": "children"},
                        {"id": "_pages_store", "property": "data"}],
            "inputs": [{"id": "_pages_location", "property": "pathname", "value": "/nope"},
                       {"id": "_pages_location", "property": "search", "value": ""}],
            "changedPropIds": ["_pages_location.pathname"], "state": []}
    print("callback POST with session + CSRF check (404 page):", ms(timed(
        lambda: http.post("/_dash-update-component", json=body,
                          headers={"X-CSRFToken": csrf}), args.n)))
    print("forged callback POST refused (403):", ms(timed(
        lambda: http.post("/_dash-update-component", json=body), args.n)))


def bench_audit(client, ctx, args) -> None:  # noqa: ANN001
    """Audit page and CSV over a large stream, for a city and a town administrator."""
    t = time.perf_counter()
    fill_audit(client, ctx, args.audit)
    print(f"audit stream filled with {args.audit} entries in {time.perf_counter() - t:.1f} s")
    town = ctx.towns[-1]
    cases = {
        "city admin, first page (500)": (AuditFilter(), None, 500),
        "town admin, first page (500)": (AuditFilter(), town, 500),
        "town admin, kind=login (500)": (AuditFilter(kind="login"), town, 500),
        "city admin, user=duty7 (all)": (AuditFilter(user="duty7"), None, 100_000),
        "city admin, last hour CSV rows": (AuditFilter(since=time.time() - 3600), None,
                                           100_000),
    }
    for name, (f, within, limit) in cases.items():
        rows: list = []

        def run(f=f, within=within, limit=limit, rows=rows) -> None:  # noqa: ANN001
            rows[:] = query(client, f, within, limit)
        print(f"audit query {name}: {ms(timed(run, 3))}, {len(rows)} rows")
    rows = query(client, AuditFilter(), None, 100_000)
    print(f"audit CSV of {len(rows)} rows: {ms(timed(lambda: csv_text(rows), 3))}")


def bench_counts(client, ctx) -> None:  # noqa: ANN001
    """Counts without sensitive cases, for a whole city's counters."""
    counts = {}
    for t in ctx.towns:
        c = {}
        for r in [t, *(x.code for x in ctx.hierarchy.descendants(t, Level.VILLAGE)),
                  *(x.code for x in ctx.hierarchy.descendants(t, Level.GRID))]:
            for k in ("green", "yellow", "red", "overdue", "new"):
                c[f"{r}|{k}"] = 5
                c[f"!{r}|{k}"] = 1
        counts[t] = c
    keys_n = sum(len(c) for c in counts.values())
    city_code = ctx.hierarchy.city.code
    print(f"city KPIs + town stats without sensitive cases ({keys_n} counters):",
          ms(timed(lambda: (kpi(city_code, visible_counts(counts, False), [], time.time()),
                            child_stats(city_code, ctx.hierarchy,
                                        visible_counts(counts, False))), 50)))
    print(f"the same with sensitive cases ({keys_n} counters):",
          ms(timed(lambda: (kpi(city_code, counts, [], time.time()),
                            child_stats(city_code, ctx.hierarchy, counts)), 50)))


def main() -> None:
    """Run every figure against a private embedded Redis."""
    logging.basicConfig(level=logging.ERROR)
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=300, help="samples of per-request figures")
    ap.add_argument("--audit", type=int, default=200_000, help="audit entries to fill")
    args = ap.parse_args()
    _, ctx = city()
    with EmbeddedRedis(Path(tempfile.mkdtemp(prefix="gw-bench-redis-"))) as rs:
        client = sync_client(rs.url)
        bench_auth(client, ctx, args)
        bench_audit(client, ctx, args)
        bench_counts(client, ctx)


if __name__ == "__main__":
    main()
