"""Settings come from the environment; production refuses to start half-configured."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": "x" * 64 + "-a-long-random-production-secret",
    "DJANGO_ALLOWED_HOSTS": "netbranch.example.com",
}


def run_manage(*args, env_extra: dict, drop=()):
    env = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("DJANGO_")}
    env.update(env_extra)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("missing", ["DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS"])
def test_production_refuses_to_start_without(missing):
    env = {k: v for k, v in PRODUCTION.items() if k != missing}
    result = run_manage("check", env_extra=env)
    assert result.returncode != 0
    assert missing in result.stderr


def test_production_passes_the_deploy_check():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env_extra=PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr


def test_defaults_are_a_safe_local_setup(settings):
    from portal import settings as module

    assert module.LANGUAGE_CODE == "zh-hans"
    assert module.TIME_ZONE == "Asia/Shanghai"
    assert [code for code, _ in module.LANGUAGES] == ["zh-hans", "en"]


def test_content_security_policy_header(client, db):
    response = client.get("/accounts/login/")
    csp = response["Content-Security-Policy"]
    assert (
        "script-src 'self'" in csp
        and "object-src 'none'" in csp
        and "frame-ancestors 'none'" in csp
    )


def test_migrations_are_complete(db):
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def settings_in_subprocess(env_extra: dict, expr: str) -> str:
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "DATABASE_URL"}}
    env.update(env_extra)
    code = f"import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'portal.settings'); django.setup(); from django.conf import settings as s; print({expr})"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_without_redis_tasks_run_eagerly_on_sqlite():
    out = settings_in_subprocess(
        {},
        "s.CELERY_TASK_ALWAYS_EAGER, s.CACHES['default']['BACKEND'], s.DATABASES['default']['ENGINE']",
    )
    assert out == "True django.core.cache.backends.locmem.LocMemCache django.db.backends.sqlite3"


def test_redis_url_switches_broker_and_cache_and_database_url_switches_database():
    out = settings_in_subprocess(
        {"REDIS_URL": "redis://127.0.0.1:6379/3", "DATABASE_URL": "postgres://u@db:5432/nb"},
        "s.CELERY_TASK_ALWAYS_EAGER, s.CELERY_BROKER_URL, s.CACHES['default']['BACKEND'], s.DATABASES['default']['ENGINE']",
    )
    assert out == (
        "False redis://127.0.0.1:6379/3 django.core.cache.backends.redis.RedisCache django.db.backends.postgresql"
    )
