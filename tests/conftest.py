"""Shared fixtures. Test-only settings live here, not in a second settings tree."""

import os
import socket
from types import SimpleNamespace
from urllib.parse import urlparse

import pytest
from django.core.cache import cache

from branches.models import Organization, RoleAssignment
from members.models import Member
from tests import factories

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def need_service(what: str, available: bool, how: str) -> None:
    """Skip on a laptop without the service; fail under CI=true (CI must never pass by skipping)."""
    if available:
        return
    message = f"{what} is not available: {how}"
    if IN_CI:
        pytest.fail(f"CI=true and {message}")
    pytest.skip(message)


def port_open(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection(
            (parsed.hostname or "127.0.0.1", parsed.port or default_port), timeout=1
        ):
            return True
    except OSError:
        return False


@pytest.fixture
def require_postgres(settings):
    from django.db import connection

    need_service("PostgreSQL", connection.vendor == "postgresql", "set DATABASE_URL=postgres://...")


@pytest.fixture
def require_redis(settings):
    url = os.environ.get("REDIS_URL", "")
    need_service(
        "Redis", bool(url) and port_open(url, 6379), "set REDIS_URL=redis://... and start Redis"
    )
    return url


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.CELERY_TASK_ALWAYS_EAGER = True
    # Each test process keeps its own cache (allauth's rate limits live there): parallel
    # workers must not share counters through Redis. Tests about Redis use it explicitly.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    cache.clear()
    # Celery's eager mode keeps a process-wide "inside a task" flag; threads of the race tests
    # that run eager tasks at once can leave it set, and every later `.get()` would refuse.
    from celery._state import _set_task_join_will_block

    _set_task_join_will_block(False)  # allauth's rate limits live in the cache
    yield
    cache.clear()


@pytest.fixture
def tree(db):
    """A small group: the group committee (reviewer) over a company committee over two sibling
    branches (secretary, secretary2); a party group under the first branch; a joint branch
    under the company with a participant registered in the first branch."""
    group = factories.OrganizationFactory(name="集团党委", kind=Organization.Kind.COMMITTEE)
    company = factories.OrganizationFactory(
        parent=group, name="一公司党委", kind=Organization.Kind.COMMITTEE
    )
    branch = factories.OrganizationFactory(
        parent=company, name="一号项目党支部", kind=Organization.Kind.BRANCH
    )
    sibling = factories.OrganizationFactory(
        parent=company, name="二号项目党支部", kind=Organization.Kind.BRANCH
    )
    party_group = factories.OrganizationFactory(
        parent=branch, name="一号项目第一党小组", kind=Organization.Kind.GROUP
    )
    joint = factories.OrganizationFactory(
        parent=company, name="高原联合党支部", kind=Organization.Kind.JOINT_BRANCH
    )
    other_group = factories.OrganizationFactory(
        name="另一集团党委", kind=Organization.Kind.COMMITTEE
    )
    outside = factories.OrganizationFactory(
        parent=other_group, name="外部党支部", kind=Organization.Kind.BRANCH
    )
    for org in (group, company, branch, sibling, party_group, joint, other_group, outside):
        org.refresh_from_db()

    site = factories.ProjectSiteFactory(organization=branch, name="一号项目部")
    sibling_site = factories.ProjectSiteFactory(organization=sibling, name="二号项目部")

    def person(username, org, **kw):
        return factories.MemberFactory(user__username=username, branch=org, **kw)

    member = person("member", branch, category=Member.Category.REMOTE, project_site=site)
    office = person("office", branch)
    sibling_member = person("sibling_member", sibling, project_site=sibling_site)
    outsider = person("outsider", outside)
    participant = person("participant", sibling)
    factories.ParticipationFactory(member=participant, organization=joint)

    secretary = person("secretary", branch).user
    secretary2 = person("secretary2", sibling).user
    reviewer = factories.UserFactory(username="reviewer")
    factories.RoleAssignmentFactory(
        user=secretary, organization=branch, role=RoleAssignment.Role.SECRETARY
    )
    factories.RoleAssignmentFactory(
        user=secretary2, organization=sibling, role=RoleAssignment.Role.SECRETARY
    )
    factories.RoleAssignmentFactory(
        user=reviewer, organization=group, role=RoleAssignment.Role.REVIEWER
    )
    admin = factories.UserFactory(username="admin", is_superuser=True, is_staff=True)
    return SimpleNamespace(
        group=group,
        company=company,
        branch=branch,
        sibling=sibling,
        party_group=party_group,
        joint=joint,
        other_group=other_group,
        outside=outside,
        site=site,
        sibling_site=sibling_site,
        member=member,
        office=office,
        sibling_member=sibling_member,
        outsider=outsider,
        participant=participant,
        secretary=secretary,
        secretary2=secretary2,
        reviewer=reviewer,
        admin=admin,
    )


class CeleryWorkers:
    """Real `celery -A portal worker` subprocesses on Redis (not eager mode), sharing the
    test's MEDIA_ROOT and, on Postgres, its database; the test process publishes to them on a
    queue of its own, so parallel test runs do not steal each other's tasks."""

    def __init__(self, redis_url: str, media_root, log_dir):
        import time

        from portal.celery import app

        self.app = app
        self.redis_url = redis_url
        self.log_dir = log_dir
        self.queue = f"test-{os.getpid()}-{time.monotonic_ns()}"
        self.env = {
            **os.environ,
            "REDIS_URL": redis_url,
            "DJANGO_MEDIA_ROOT": str(media_root),
            "CELERY_TASK_ALWAYS_EAGER": "0",
            "CELERY_TASK_DEFAULT_QUEUE": self.queue,  # follow-up tasks stay on this queue
        }
        from django.db import connection

        if connection.vendor == "postgresql":
            s = connection.settings_dict
            self.env["DATABASE_URL"] = (
                f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
            )
        self.processes: list = []
        self._saved = (app.conf.task_always_eager, app.conf.broker_url, app.conf.task_default_queue)
        app.conf.task_always_eager = False
        app.conf.task_default_queue = self.queue
        self.set_broker(redis_url)

    def set_broker(self, url: str) -> None:
        """Point the test process's publisher at another broker (a closed port: 'Redis is
        down' without stopping the machine's Redis)."""
        self.app.conf.broker_url = url
        self.app._pool = None
        self.app.amqp._producer_pool = None

    def start(self, **env):
        import subprocess
        import sys
        import time
        from pathlib import Path

        n = len(self.processes)
        log_path = self.log_dir / f"worker-{n}.log"
        log = open(log_path, "w+")  # noqa: SIM115 - kept open for the process's life
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "portal", "worker", "--pool=solo", "--concurrency=1",
             "-Q", self.queue, "--without-gossip", "--without-mingle", "--without-heartbeat",
             "--loglevel=INFO", "-n", f"{self.queue}-{n}@%h"],
            cwd=Path(__file__).resolve().parents[1], env={**self.env, **{k: str(v) for k, v in env.items()}},
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        proc.log, proc.log_path = log, log_path
        self.processes.append(proc)
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline and proc.poll() is None:
            if "ready." in log_path.read_text():
                return proc
            time.sleep(0.2)
        raise AssertionError(f"the Celery worker did not start:\n{log_path.read_text()}")

    def logs(self) -> str:
        return "\n".join(p.log_path.read_text() for p in self.processes)

    def stop_all(self) -> None:
        import subprocess

        for proc in self.processes:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
            proc.log.close()
        app = self.app
        app.conf.task_always_eager, broker, app.conf.task_default_queue = self._saved
        self.set_broker(broker)


@pytest.fixture
def celery_workers(require_redis, settings, tmp_path):
    workers = CeleryWorkers(require_redis, settings.MEDIA_ROOT, tmp_path)
    try:
        yield workers
    finally:
        workers.stop_all()


@pytest.fixture
def celery_worker_process(celery_workers):
    """One real worker, started."""
    celery_workers.start()
    return celery_workers


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """pytest-django's test database, plus: before it is dropped, end the sessions that threads
    of the live server or of race tests left open, so that the drop does not fail."""
    yield
    with django_db_blocker.unblock():
        from django.db import connection

        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
