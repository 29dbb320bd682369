"""The scale-out deployment files (docker-compose.yml, deploy/nginx.conf) hold together.

Docker Compose itself checks the file (`docker compose config`, or Debian's docker-compose that
scripts/install-compose.sh installs; no Docker daemon needed); without either that test skips,
saying so, except under CI where it fails. What the file must run is checked here too."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
NGINX = ROOT / "deploy" / "nginx.conf"


@pytest.fixture
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    return loaded


def test_the_compose_file_runs_every_role_on_postgresql_and_redis(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {"postgres", "redis", "web", "worker", "nginx"}
    web, worker = services["web"], services["worker"]
    assert web["command"] == ["python", "-m", "bot", "web"]
    assert worker["command"] == ["python", "-m", "bot", "worker"]
    assert web["deploy"]["replicas"] == 3 and worker["deploy"]["replicas"] == 2
    for bot in (web, worker):
        assert bot["build"] == "."  # the Dockerfile beside it
        env = bot["environment"]
        assert (
            env["DATABASE_URL"].startswith("postgresql://")
            and "@postgres:5432/" in env["DATABASE_URL"]
        )
        assert env["REDIS_URL"] == "redis://redis:6379/0"
        assert env["DATA_KEY"].startswith("${DATA_KEY:?")  # one key for every process
        assert "bot-data:/data" in bot["volumes"]
        assert bot["depends_on"] == {
            "postgres": {"condition": "service_healthy"},
            "redis": {"condition": "service_healthy"},
        }
    assert {"WEBHOOK_URL", "WEBHOOK_SECRET"} <= set(web["environment"])
    assert "WEBHOOK_URL" not in worker["environment"]
    assert "./deploy/nginx.conf:/etc/nginx/conf.d/default.conf:ro" in services["nginx"]["volumes"]
    assert set(compose["volumes"]) == {"postgres-data", "redis-data", "bot-data"}
    # Dialogs in progress live in Redis: it keeps them across its restarts.
    assert "--appendonly" in services["redis"]["command"]
    assert "redis-data:/data" in services["redis"]["volumes"]


def test_nginx_spreads_updates_over_the_web_workers_port() -> None:
    conf = NGINX.read_text(encoding="utf-8")
    compose_text = COMPOSE.read_text(encoding="utf-8")
    port = re.search(r'WEB_PORT: "(\d+)"', compose_text)
    assert port is not None
    assert f"set $web http://web:{port.group(1)};" in conf and "proxy_pass $web;" in conf
    # Docker's DNS asked again, so a scaled `web` service is followed.
    assert re.search(r"resolver 127\.0\.0\.11 valid=\d+s", conf)
    assert "./deploy/nginx.conf" in compose_text


def compose_command() -> list[str]:
    docker = shutil.which("docker")
    if (
        docker
        and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0
    ):
        return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    if legacy:
        return [legacy]
    missing = "Docker Compose is missing: scripts/install-compose.sh installs it (make test does)"
    if os.environ.get("CI"):
        pytest.fail(missing)
    pytest.skip(missing)


def test_docker_compose_accepts_the_file(tmp_path: Path) -> None:
    # A copy beside an empty .env (the file reads one), with the settings it requires given.
    shutil.copy(COMPOSE, tmp_path / COMPOSE.name)
    (tmp_path / "deploy").mkdir()
    shutil.copy(NGINX, tmp_path / "deploy" / NGINX.name)
    (tmp_path / ".env").write_text("", encoding="utf-8")
    env = {
        "PATH": os.environ.get("PATH", ""),
        "POSTGRES_PASSWORD": "pw",
        "DATA_KEY": "key",
        "WEBHOOK_URL": "https://bot.example/telegram/webhook",
        "WEBHOOK_SECRET": "secret",
    }
    checked = subprocess.run(
        [*compose_command(), "config"], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stderr
    resolved = yaml.safe_load(checked.stdout)
    assert set(resolved["services"]) == {"postgres", "redis", "web", "worker", "nginx"}
    # Without a required setting Compose refuses, naming it.
    del env["DATA_KEY"]
    refused = subprocess.run(
        [*compose_command(), "config"], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert refused.returncode != 0 and "DATA_KEY" in refused.stderr
