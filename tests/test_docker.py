"""The docker/ files, checked as far as a machine without a Docker engine can."""
from __future__ import annotations

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
    assert "HEALTHCHECK" in text and "/health" in text
    for folder in ("domain", "feeds", "layouts", "dashboard", "gridwatch", "assets"):
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
