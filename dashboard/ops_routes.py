"""Operations routes of the web port: GET /metrics (Prometheus), /health/live, /health/ready."""
from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable

import flask
import orjson
import redis

from dashboard.auth import client_addr
from feeds.accounts import tokens as api_tokens
from feeds.live.context import CityContext
from feeds.ops import heartbeat, metrics
from feeds.ops.config import OpsConfig

Check = Callable[[], str | None]  # None: passed; else why not


def _json(data: object, status: int = 200, **headers: str) -> flask.Response:
    return flask.Response(orjson.dumps(data), status,
                          {"Content-Type": "application/json", **headers})


def is_loopback(addr: str) -> bool:
    """Whether a client address is this machine's own."""
    try:
        return ipaddress.ip_address(addr).is_loopback
    except ValueError:
        return False


class Ops:
    """The probes and the metrics of one web process."""

    def __init__(self, ctx: CityContext, client: redis.Redis, ops: OpsConfig):
        self.ctx, self.client, self.ops = ctx, client, ops

    def metrics_refusal(self) -> flask.Response | None:
        """None when the caller may read /metrics: loopback, or an API token of the city."""
        if self.ops.metrics_loopback and is_loopback(client_addr()):
            return None
        scheme, _, token = flask.request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            return _json({"error": "an API token is needed (Authorization: Bearer)"}, 401,
                         **{"WWW-Authenticate": 'Bearer realm="gridwatch"'})
        try:
            user = api_tokens.token_user(self.client, token.strip())
        except redis.RedisError as e:
            return _json({"error": f"redis: {e}"}, 503)
        if user is None:
            return _json({"error": "unknown or revoked API token"}, 401,
                         **{"WWW-Authenticate": 'Bearer error="invalid_token"'})
        if user.scope != self.ctx.hierarchy.city.code:
            return _json({"error": "metrics cover the whole city: use a token scoped to it"},
                         403)
        return None

    def metrics(self) -> flask.Response:
        """GET /metrics: every process's metrics in the Prometheus text format."""
        refused = self.metrics_refusal()
        if refused is not None:
            return refused
        return flask.Response(metrics.render(), 200, {"Content-Type": metrics.CONTENT_TYPE})

    @staticmethod
    def live() -> flask.Response:
        """GET /health/live: this process answers."""
        return _json({"status": "live", "time": time.time()})

    def fresh(self, component: str, what: str) -> str | None:
        """None when `component` has a heartbeat younger than the staleness limit."""
        ts = heartbeat.newest(self.client, component)
        if ts is None:
            return f"no {component} heartbeat yet ({what})"
        age = time.time() - ts
        if age > self.ops.heartbeat_stale_s:
            return f"{component} heartbeat {age:.0f} s old ({what})"
        return None

    def checks(self) -> dict[str, Check]:
        """The readiness checks by name, in the order they are run."""
        return {
            "redis": lambda: None if self.client.ping() else "no PONG",
            "registry": lambda: None if len(self.ctx.roster) and self.ctx.towns
            else "city registry is empty",
            "grid_index": lambda: self.fresh("gateway", "grid index built, ports listening"),
            "worker": lambda: self.fresh("worker", "applies the streams"),
        }

    def ready(self) -> flask.Response:
        """GET /health/ready: 200 when every check passes, else 503; each check's result."""
        results: dict[str, dict[str, object]] = {}
        for name, check in self.checks().items():
            try:
                why = check()
            except redis.RedisError as e:
                why = f"redis: {e}"
            results[name] = {"ok": why is None} if why is None else {"ok": False, "error": why}
        ok = all(r["ok"] for r in results.values())
        return _json({"status": "ready" if ok else "not ready", "checks": results},
                     200 if ok else 503)


def blueprint(ctx: CityContext, client: redis.Redis, ops: OpsConfig) -> flask.Blueprint:
    """The operations routes."""
    bp = flask.Blueprint("ops", __name__)
    o = Ops(ctx, client, ops)
    bp.get("/metrics")(o.metrics)
    bp.get("/health/live")(o.live)
    bp.get("/health/ready")(o.ready)
    return bp
