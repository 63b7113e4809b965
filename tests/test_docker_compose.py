"""The deployment files say what DESIGN promises: web, worker and beat from one image, with
PostgreSQL 16 and Redis 7, each started only once what it needs is healthy. Checked by
reading the files (no Docker engine needed)."""

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
APP_SERVICES = ("web", "worker", "beat")


@pytest.fixture(scope="module")
def services() -> dict:
    data = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    return data["services"]


def command_text(service: dict) -> str:
    command = service.get("command", "")
    return " ".join(command) if isinstance(command, list) else str(command)


def env_of(service: dict) -> dict:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return env


def test_all_services_exist(services):
    assert {"web", "worker", "beat", "db", "redis"} <= set(services)


def test_database_and_broker_images(services):
    assert str(services["db"]["image"]).startswith("postgres:16")
    assert str(services["redis"]["image"]).startswith("redis:7")


@pytest.mark.parametrize("name", ["db", "redis", "web"])
def test_healthchecks(services, name):
    check = services[name].get("healthcheck")
    assert check and check.get("test"), f"{name} has no healthcheck"
    assert not check.get("disable", False)


def test_healthcheck_commands(services):
    assert "pg_isready" in str(services["db"]["healthcheck"]["test"])
    assert "redis-cli" in str(services["redis"]["healthcheck"]["test"])
    assert "ping" in str(services["redis"]["healthcheck"]["test"])
    assert "/healthz/" in str(services["web"]["healthcheck"]["test"])


def test_app_services_share_one_image(services):
    builds = [services[name].get("build") for name in APP_SERVICES]
    images = [services[name].get("image") for name in APP_SERVICES]
    assert builds[0] is not None and images[0], "web builds and names the image"
    assert builds.count(builds[0]) == len(builds), builds
    assert images.count(images[0]) == len(images), images


def test_worker_and_beat_commands(services):
    assert re.search(r"celery\s+-A\s+portal\s+worker\b", command_text(services["worker"]))
    assert re.search(r"celery\s+-A\s+portal\s+beat\b", command_text(services["beat"]))


def test_web_migrates_then_serves(services):
    command = command_text(services["web"])
    assert "migrate" in command
    assert "gunicorn" in command and "portal.wsgi:application" in command
    assert command.index("migrate") < command.index("gunicorn")


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_waits_for_healthy_db_and_redis(services, name):
    depends = services[name].get("depends_on")
    assert isinstance(depends, dict), f"{name}: depends_on must name conditions"
    for needed in ("db", "redis"):
        assert depends.get(needed, {}).get("condition") == "service_healthy", (name, needed)


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_environment(services, name):
    env = env_of(services[name])
    assert str(env.get("DJANGO_DEBUG")) == "0"
    assert "DJANGO_SECRET_KEY" in env or services[name].get("env_file")
    assert "DJANGO_ALLOWED_HOSTS" in env or services[name].get("env_file")
    assert str(env.get("DATABASE_URL", "")).startswith("postgres://")
    assert str(env.get("REDIS_URL", "")).startswith("redis://redis:6379")


def test_no_secret_committed_in_compose(services):
    """The secret key comes from outside (required variable or env_file), never a literal."""
    for name in APP_SERVICES:
        key = str(env_of(services[name]).get("DJANGO_SECRET_KEY", ""))
        assert key == "" or key.startswith("${"), f"{name} has a literal DJANGO_SECRET_KEY"


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = DOCKERFILE.read_text(encoding="utf-8")
    text = re.sub(r"\\\n", " ", text)  # join continuation lines
    out = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        word, _, rest = line.partition(" ")
        out.append((word.upper(), rest.strip()))
    return out


def test_dockerfile_python_311_or_later():
    images = [rest.split()[0] for word, rest in dockerfile_instructions() if word == "FROM"]
    assert images, "no FROM"
    match = re.match(r"python:3\.(\d+)", images[-1])
    assert match and int(match.group(1)) >= 11, images[-1]


def test_dockerfile_does_not_run_as_root():
    users = [rest for word, rest in dockerfile_instructions() if word == "USER"]
    assert users, "the image must switch to an unprivileged USER"
    final = users[-1].split(":")[0]
    assert final not in {"root", "0"}


def test_dockerfile_collects_static_and_runs_gunicorn():
    instructions = dockerfile_instructions()
    runs = " ".join(rest for word, rest in instructions if word == "RUN")
    assert "collectstatic" in runs
    cmd = [rest for word, rest in instructions if word == "CMD"]
    assert cmd and "gunicorn" in cmd[-1] and "portal.wsgi:application" in cmd[-1]


def test_dockerignore_keeps_secrets_and_local_state_out():
    lines = {
        line.strip() for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    }
    for entry in (".git", ".venv", ".env"):
        assert entry in lines, entry
