"""The docker/ files, checked as far as a machine without a Docker engine can."""
from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from gridwatch.cli import parser

ROOT = Path(__file__).resolve().parent.parent
DOCKER = ROOT / "docker"


def defaults(value: str) -> str:
    """A Compose value with every ${VAR:-default} replaced by its default."""
    return re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", value)


def test_image_runs_as_a_user_with_a_health_check():
    text = (DOCKER / "Dockerfile").read_text()
    assert "\nUSER gridwatch" in text and "useradd" in text
    assert "HEALTHCHECK" in text and "8050/health/live" in text  # liveness, not readiness
    for folder in ("domain", "feeds", "layouts", "dashboard", "gridwatch", "assets", "locales"):
        assert f"COPY {folder} ./{folder}" in text
        assert (ROOT / folder).is_dir(), folder
    # the image runs the wheel (assets as package data), not an editable source tree
    assert "pip wheel --no-deps" in text and "--no-deps /tmp/dist/*.whl" in text
    assert "-e ." not in text
    assert 'ENTRYPOINT ["gridwatch"]' in text


def test_compose_services_run_real_commands_against_redis_with_aof():
    compose = yaml.safe_load((DOCKER / "compose.yaml").read_text())
    services = compose["services"]
    assert {"redis", "init", "worker", "gateway", "push", "web", "simulate", "cameras",
            "capture"} <= set(services)
    conf = (DOCKER / "redis.conf").read_text()
    assert "appendonly yes" in conf and "redisdata:/data" in services["redis"]["volumes"]
    ap = parser()
    for name, svc in services.items():
        if svc.get("image") != "gridwatch:latest":  # redis, prometheus, grafana
            continue
        args = ap.parse_args([defaults(a) for a in svc["command"]])  # the CLI accepts it
        assert args.cmd in ("run", "init"), name
        assert defaults(svc["environment"]["REDIS_URL"]) == "redis://redis:6379/0"
    for name in ("worker", "gateway", "push", "web"):  # GRIDWATCH_PROCESSES scales them
        assert "${GRIDWATCH_PROCESSES:-1}" in services[name]["command"], name
    for name in ("simulate", "cameras", "capture"):
        assert services[name]["profiles"] == ["demo"]


def test_readme_says_how_to_run_it():
    readme = (ROOT / "README.md").read_text()
    assert "docker compose -f docker/compose.yaml" in readme
    assert shlex.split("docker compose -f docker/compose.yaml --profile demo up")


def compose_command() -> list[str] | None:
    """Compose v2 (`docker compose`) or Debian's docker-compose 1.29, whichever is here."""
    if shutil.which("docker"):
        v2 = subprocess.run(["docker", "compose", "version"], capture_output=True, check=False)
        if v2.returncode == 0:
            return ["docker", "compose"]
    return ["docker-compose"] if shutil.which("docker-compose") else None


@pytest.mark.skipif(compose_command() is None, reason="no Docker Compose on this machine")
def test_compose_config_accepts_the_file_and_demands_the_secrets(tmp_path):
    """`compose config` (no engine needed) accepts the file with its secrets set, and refuses
    it, naming the variable's message, when a secret is missing."""
    cmd = compose_command()
    text = (DOCKER / "compose.yaml").read_text()
    if cmd == ["docker-compose"]:  # 1.29 predates the top-level `name` (Compose v2): drop it
        text = re.sub(r"(?m)^name: .*\n", "", text)
    for name in ("Dockerfile", "redis.conf"):
        shutil.copy(DOCKER / name, tmp_path / name)
    (tmp_path / "compose.yaml").write_text(text)
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRIDWATCH_")}
    run = [*cmd, "-f", str(tmp_path / "compose.yaml"), "--profile", "demo", "config"]
    missing = subprocess.run(run, capture_output=True, text=True, env=env, check=False)
    assert missing.returncode != 0 and "set a terminal token" in missing.stderr
    env |= {"GRIDWATCH_TERMINAL_TOKEN": "t0ken", "GRIDWATCH_ADMIN_PASSWORD": "pa55"}
    ok = subprocess.run(run, capture_output=True, text=True, env=env, check=False)
    assert ok.returncode == 0, ok.stderr
    services = yaml.safe_load(ok.stdout)["services"]
    assert {"redis", "worker", "gateway", "push", "web", "simulate", "cameras"} <= set(services)
    assert services["worker"]["environment"]["GRIDWATCH_TERMINAL_TOKEN"] == "t0ken"


def test_health_checks_and_the_ops_profile():
    services = yaml.safe_load((DOCKER / "compose.yaml").read_text())["services"]
    assert "/health/ready" in " ".join(services["web"]["healthcheck"]["test"])
    ap = parser()
    for name in ("worker", "capture"):  # their heartbeat, checked by the CLI
        test = services[name]["healthcheck"]["test"]
        assert test[:2] == ["CMD", "gridwatch"] and ap.parse_args(test[2:]).cmd == "probe"
    assert services["simulate"]["depends_on"]["web"] == {"condition": "service_healthy"}
    assert services["prometheus"]["profiles"] == services["grafana"]["profiles"] == ["ops"]
    prom = yaml.safe_load((DOCKER / "prometheus.yml").read_text())["scrape_configs"][0]
    assert prom["metrics_path"] == "/metrics" and prom["authorization"]["type"] == "Bearer"
    assert prom["static_configs"][0]["targets"] == ["web:8050"]


def test_grafana_dashboard_charts_metrics_that_exist():
    from prometheus_client import REGISTRY, generate_latest  # noqa: PLC0415
    from prometheus_client.parser import text_string_to_metric_families  # noqa: PLC0415

    from feeds.ops import metrics  # noqa: PLC0415

    for make in (metrics.positions_acked, metrics.messages_acked, metrics.messages_refused,
                 metrics.feed_lag, metrics.worker_backlog, metrics.worker_applied,
                 metrics.push_clients, metrics.push_bytes, metrics.camera_up, metrics.clips_cut,
                 metrics.clip_seconds):
        make()
    exported = {f.name for f in text_string_to_metric_families(generate_latest(REGISTRY).decode())}
    exported |= {n + suffix for n in exported for suffix in ("_total", "_sum", "_count")}
    board = json.loads((DOCKER / "grafana" / "dashboards" / "gridwatch.json").read_text())
    charted = {n for p in board["panels"] for t in p["targets"]
               for n in re.findall(r"gridwatch_\w+", t["expr"])}
    assert {"gridwatch_positions_acked_total", "gridwatch_feed_lag_seconds",
            "gridwatch_worker_backlog", "gridwatch_push_clients"} <= charted
    assert charted <= exported, charted - exported
    rules = yaml.safe_load((DOCKER / "alerts.yml").read_text())["groups"][0]["rules"]
    alerted = {n for r in rules for n in re.findall(r"gridwatch_\w+", r["expr"])}
    assert {"gridwatch_feed_lag_seconds", "gridwatch_worker_backlog"} <= alerted
    assert alerted <= exported, alerted - exported  # alerts watch metrics that exist
    assert all(r["labels"]["severity"] and r["annotations"]["summary"] and r["for"]
               for r in rules)
    prom = yaml.safe_load((DOCKER / "prometheus.yml").read_text())
    mounts = yaml.safe_load((DOCKER / "compose.yaml").read_text())["services"]["prometheus"]
    assert prom["rule_files"] == ["/etc/prometheus/alerts.yml"]
    assert "./alerts.yml:/etc/prometheus/alerts.yml:ro" in mounts["volumes"]
    provisioned = yaml.safe_load((DOCKER / "grafana" / "provisioning" / "datasources" /
                                  "prometheus.yaml").read_text())["datasources"][0]
    assert {p["datasource"]["uid"] for p in board["panels"]} == {provisioned["uid"]}
