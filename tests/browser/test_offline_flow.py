"""On a phone, the network goes away: `member` saves a lesson for offline; the server is then
STOPPED (so that the service worker's own requests fail too, not only the page's); the lesson
still opens, from the cache, saying when it was saved; marking it studied is queued in the
browser; the server comes back, the queue is sent (on the `online` event, and again on the
next page load as a replay) and the study record and points arrive exactly once; the offline
page lists what is saved; logging out leaves no cached page and no queue behind.

pytest-django's live server cannot be stopped and started again, so this test runs the app as
a subprocess (`manage.py runserver --noreload`) on a port of its own, against the test
database (PostgreSQL: the subprocess must see what the test committed)."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from core.models import ClientAction
from lessons import services
from lessons.models import Lesson, PointsEntry, StudyRecord
from tests.browser.conftest import PHONE, BrowserLog
from tests.browser.test_login_flow import PASSWORD, assert_fits_phone, log_in

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AppServer:
    """`manage.py runserver --noreload` as a subprocess that can be stopped and started again
    on the same port."""

    def __init__(self, port: int, env: dict, log_path: Path):
        self.port, self.env, self.log_path = port, env, log_path
        self.url = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        log = open(self.log_path, "ab")  # noqa: SIM115 - closed with the process
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{self.port}", "--noreload",
             "--skip-checks"],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        log.close()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the app server exited:\n{self.logs()}")
            try:
                with urllib.request.urlopen(f"{self.url}/healthz/", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"the app server did not answer:\n{self.logs()}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        # Nothing listens any more: the next request fails at once.
        with socket.socket() as s:
            assert s.connect_ex(("127.0.0.1", self.port)) != 0

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]


@pytest.fixture
def app_server(require_postgres, transactional_db, settings, tmp_path):
    """The app as a subprocess on the test database; stopped at the end whatever happens."""
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "DJANGO_SETTINGS_MODULE"}}
    env.update(
        DATABASE_URL=f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        DJANGO_DEBUG="1",
        DJANGO_MEDIA_ROOT=str(settings.MEDIA_ROOT),
        DJANGO_CONN_MAX_AGE="0",
        PYTHONUNBUFFERED="1",
    )
    server = AppServer(free_port(), env, tmp_path / "server.log")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def offline_phone(browser, app_server):
    context = browser.new_context(viewport=PHONE, base_url=app_server.url, locale="zh-CN")
    context.set_default_timeout(15_000)
    page = context.new_page()
    log = BrowserLog()
    log.attach(page)
    try:
        yield page, log
    finally:
        context.close()


def usable_password(user) -> None:
    """The subprocess knows the default hashers, not the tests' fast MD5 one."""
    from django.contrib.auth.hashers import make_password
    from django.test import override_settings

    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.PBKDF2PasswordHasher"]):
        user.password = make_password(PASSWORD)
    user.save(update_fields=["password"])


def wait_for(page, script: str, expected, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    value = None
    while time.monotonic() < deadline:
        value = page.evaluate(script)
        if value == expected:
            return
        time.sleep(0.2)
    raise AssertionError(f"{script} gave {value!r}, not {expected!r}")


PINNED = (
    "caches.open('nb-pages').then(c => c.match(location.pathname))"
    ".then(r => r ? r.headers.get('X-NB-Pinned') : null)"
)
QUEUED = "NBQ.all().then(items => items.length)"


def test_member_reads_a_saved_lesson_offline_and_the_queued_study_arrives_once(
    offline_phone, app_server, tree
):
    page, log = offline_phone
    usable_password(tree.member.user)
    lesson = services.lesson_create(
        by=tree.secretary, organization=tree.branch, kind="micro", title="高原上的微党课",
        body="<p>" + "没有网络的地方，党员照样学习。" * 30 + "</p>",
    )  # fmt: skip
    lesson = services.lesson_publish(lesson=lesson, by=tree.secretary)
    Lesson.objects.filter(pk=lesson.pk).update(
        published_at=timezone.now() - timezone.timedelta(days=1)
    )
    url = lesson.get_absolute_url()

    page.goto("/")
    log_in(page, "member")
    page.goto(url)
    # The service worker installs (a page opened before it was active is taken on its next
    # load); the member saves the lesson.
    assert page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    if not page.evaluate("!!navigator.serviceWorker.controller"):
        page.reload()
    wait_for(page, "navigator.serviceWorker.controller !== null", True)
    save = page.locator("[data-offline-save]")
    assert save.is_visible()
    assert_fits_phone(page)
    save.click()
    wait_for(page, PINNED, "1")
    assert save.is_disabled()

    # The network goes away: the server itself stops.
    app_server.stop()
    page.reload()
    assert page.locator("h1").inner_text().strip() == lesson.title
    assert page.locator("meta[name=nb-saved]").count() == 1  # it came from the cache
    banner = page.locator("#nb-saved-banner")
    assert banner.is_visible() and banner.inner_text().strip()
    assert_fits_phone(page)

    # Marking it studied is kept on the phone, not lost.
    page.locator("form.mark-form button[type=submit]").click()
    wait_for(page, QUEUED, 1)
    page.wait_for_selector("#study .msg-warning")
    queued = page.evaluate("NBQ.all().then(items => items[0])")
    assert queued["kind"] == "study_mark" and queued["payload"] == {"lesson": lesson.pk}
    record = StudyRecord.objects.get(user=tree.member.user, lesson=lesson)
    assert record.marked_at is None and record.finished_at is None

    # The server comes back; the page sends the queue on the `online` event.
    app_server.start()
    page.evaluate("window.dispatchEvent(new Event('online'))")
    page.wait_for_selector("#nb-sent-banner li")
    assert lesson.title in page.locator("#nb-sent-banner").inner_text()
    wait_for(page, QUEUED, 0)
    record.refresh_from_db()
    assert record.finished_at is not None and record.points == 2
    assert PointsEntry.objects.filter(user=tree.member.user, lesson=lesson).count() == 1

    # The same action sent again (another tab, a lost answer): the next page load replays it
    # and nothing is counted twice.
    page.evaluate("item => NBQ.add(item)", queued)
    page.reload()
    page.wait_for_selector("#nb-sent-banner li")
    wait_for(page, QUEUED, 0)
    assert PointsEntry.objects.filter(user=tree.member.user, lesson=lesson).count() == 1
    assert ClientAction.objects.filter(user=tree.member.user).count() == 1
    record.refresh_from_db()
    assert record.points == 2

    # The offline page lists what this phone keeps.
    page.goto("/offline/")
    page.wait_for_selector(f"[data-offline-list] a[href='{url}']")
    assert lesson.title in page.locator("[data-offline-list]").inner_text()
    assert page.locator("[data-offline-empty]").is_hidden()
    assert_fits_phone(page)

    # Logging out forgets it all.
    page.locator("header form button[type=submit]").click()
    page.wait_for_url("**/accounts/login/**")
    wait_for(page, "caches.keys().then(keys => keys.length)", 0)
    # The queue's database is gone too (Clear-Site-Data "storage", and the page's own clearing).
    assert (
        page.evaluate("indexedDB.databases().then(d => d.filter(x => x.name === 'netbranch'))")
        == []
    )
    assert not log.csp_violations, log.csp_violations
    assert not [e for e in log.errors if e.startswith("uncaught")], log.errors
