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
