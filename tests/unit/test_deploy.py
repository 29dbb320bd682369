"""The scale-out deployment files (docker-compose.yml, deploy/nginx.conf) hold together.

`docker compose config` is not available on every machine that runs the tests; where PyYAML is
installed the compose file's structure is checked here, otherwise that test skips."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
NGINX = ROOT / "deploy" / "nginx.conf"


@pytest.fixture
def compose() -> dict[str, Any]:
    yaml = pytest.importorskip("yaml", reason="PyYAML is not installed: compose file not parsed")
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
    assert set(compose["volumes"]) == {"postgres-data", "bot-data"}


def test_nginx_spreads_updates_over_the_web_workers_port() -> None:
    conf = NGINX.read_text(encoding="utf-8")
    compose_text = COMPOSE.read_text(encoding="utf-8")
    port = re.search(r'WEB_PORT: "(\d+)"', compose_text)
    assert port is not None
    assert f"set $web http://web:{port.group(1)};" in conf and "proxy_pass $web;" in conf
    # Docker's DNS asked again, so a scaled `web` service is followed.
    assert re.search(r"resolver 127\.0\.0\.11 valid=\d+s", conf)
    assert "./deploy/nginx.conf" in compose_text
