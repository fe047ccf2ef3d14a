"""The deploy layouts hold together: each compose file is one ``docker compose config``
accepts (where Docker's compose plugin is installed), names services that exist, mounts
files that exist, and the scale layout has the split it promises; the systemd units pass
``systemd-analyze verify`` where it is installed."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
COMPOSE_FILES = sorted(DEPLOY.glob("compose*.yaml"))
# Every ${NAME:?…} the compose files require, with a throwaway value.
REQUIRED = {
    "POSTGRES_PASSWORD": "pg-secret",
    "POSTGRES_REPLICATION_PASSWORD": "replication-secret",
    "RABBITMQ_PASSWORD": "rabbit-secret",
    "MEILI_MASTER_KEY": "meili-secret",
}


def _docker_compose() -> str | None:
    """Why ``docker compose`` cannot run here, or None when it can."""
    if shutil.which("docker") is None:
        return "needs Docker (docker compose config)"
    version = subprocess.run(
        ["docker", "compose", "version"], capture_output=True, text=True, timeout=60
    )
    if version.returncode != 0:
        return "Docker is installed without its compose plugin (docker compose config)"
    return None


def _load(path: Path) -> dict:
    """The compose file with its ${NAME:?…} and ${NAME:-default} filled in, as Compose
    interpolates them (throwaway values for the required ones)."""

    def value(match: re.Match) -> str:
        name, operator, default = match.groups()
        if name in REQUIRED:
            return REQUIRED[name]
        assert operator == ":-", f"{path.name} requires {name}, unknown to this test"
        return default

    text = re.sub(r"\$\{(\w+)(?:(:[-?])([^}]*))?\}", value, path.read_text())
    return yaml.safe_load(text)


def test_there_are_two_layouts():
    assert [p.name for p in COMPOSE_FILES] == ["compose.scale.yaml", "compose.yaml"]


@pytest.mark.parametrize("path", COMPOSE_FILES, ids=lambda p: p.name)
def test_docker_compose_accepts_it(path, tmp_path):
    reason = _docker_compose()
    if reason:
        pytest.skip(reason)
    # The files read deploy/.env (env_file, required): a copy of deploy/ gets a throwaway one.
    copy = tmp_path / "deploy"
    shutil.copytree(DEPLOY, copy, ignore=shutil.ignore_patterns(".env", "demo"))
    (copy / ".env").write_text("".join(f"{k}={v}\n" for k, v in REQUIRED.items()))
    env = {k: v for k, v in os.environ.items() if k not in REQUIRED}
    result = subprocess.run(
        ["docker", "compose", "-f", str(copy / path.name), "config", "--quiet"],
        cwd=copy, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("path", COMPOSE_FILES, ids=lambda p: p.name)
def test_it_names_services_and_files_that_exist(path):
    services = _load(path)["services"]
    for name, service in services.items():
        for needed in service.get("depends_on") or {}:
            assert needed in services, f"{name} depends on {needed}, which is not a service"
        for volume in service.get("volumes") or []:
            source = volume.split(":", 1)[0]
            if source.startswith("."):
                assert (DEPLOY / source).exists(), f"{name} mounts {source}, which is missing"


def test_the_scale_layout_splits_every_role():
    compose = _load(DEPLOY / "compose.scale.yaml")
    services = compose["services"]
    commands = {name: " ".join(s.get("command") or []) for name, s in services.items()}
    webs = [
        name for name, command in commands.items() if command == "python -m directory.webserver"
    ]
    workers = [name for name, command in commands.items() if " worker" in command]
    beats = [name for name, command in commands.items() if " beat" in command]
    assert len(webs) == 2 and len(workers) == 1 and beats == ["beat"]
    assert {"postgres", "postgres-replica", "rabbitmq", "redis", "meilisearch"} <= set(services)
    assert len({tuple(services[w]["ports"]) for w in webs}) == 2  # on ports of their own

    env = services["web-1"]["environment"]
    assert urlsplit(env["DATABASE_URL"]).hostname == "postgres"
    replicas = env["DATABASE_REPLICA_URLS"].split(",")
    assert [urlsplit(url).hostname for url in replicas] == ["postgres-replica"]
    broker = urlsplit(env["CELERY_BROKER_URL"])
    assert (broker.scheme, broker.hostname, broker.path) == ("amqp", "rabbitmq", "/worldbook")
    assert services["rabbitmq"]["environment"]["RABBITMQ_DEFAULT_VHOST"] == "worldbook"
    # The replica streams from the primary with the role the primary's init script makes.
    replica = services["postgres-replica"]
    assert replica["environment"]["PRIMARY_HOST"] == "postgres"
    assert "pg_basebackup" in (DEPLOY / "postgres" / "replica-start.sh").read_text()
    assert "REPLICATION" in (DEPLOY / "postgres" / "primary-init.sh").read_text()
    # Every app process waits for every server it uses.
    for name in [*webs, *workers, *beats]:
        assert {"postgres", "postgres-replica", "rabbitmq", "redis"} <= set(
            services[name]["depends_on"]
        ), name


def test_the_systemd_units_verify(tmp_path):
    units = sorted((DEPLOY / "systemd").glob("*.service"))
    assert {u.name for u in units} >= {
        "worldbook-beat.service",
        "worldbook-migrate.service",
        "worldbook-web@.service",
        "worldbook-worker.service",
    }
    for unit in units:
        text = unit.read_text()
        assert "[Unit]" in text and "[Service]" in text and "[Install]" in text, unit.name
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("needs systemd-analyze")
    # An instance of the template, as systemctl would name it.
    for unit in units:
        name = unit.name.replace("@.service", "@8001.service")
        shutil.copy(unit, tmp_path / name)
    result = subprocess.run(
        [analyze, "verify", "--man=no", *(str(p) for p in sorted(tmp_path.iterdir()))],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    # Paths of the installed checkout (/srv/worldbook) are missing on a test machine; every
    # other complaint is a fault in the units.
    faults = [
        line for line in result.stderr.splitlines()
        if line.strip() and "/srv/worldbook" not in line and "/etc/worldbook" not in line
        and "Failed to prepare filename" not in line
    ]  # fmt: skip
    assert not faults, result.stderr
