"""The docker/ files, checked as far as a machine without a Docker engine can."""
from __future__ import annotations

import re
import shlex
from pathlib import Path

import yaml

from dashboard.cli import parser

ROOT = Path(__file__).resolve().parent.parent
DOCKER = ROOT / "docker"


def defaults(value: str) -> str:
    """A Compose value with every ${VAR:-default} replaced by its default."""
    return re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", value)


def test_image_runs_as_a_user_with_a_health_check():
    text = (DOCKER / "Dockerfile").read_text()
    assert "\nUSER gridwatch" in text and "useradd" in text
    assert "HEALTHCHECK" in text and "/health" in text
    for folder in ("domain", "feeds", "layouts", "dashboard", "assets"):
        assert f"COPY {folder} ./{folder}" in text
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
        if name == "redis":
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
