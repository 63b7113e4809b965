"""Delivery with real components: PostgreSQL, Redis and real Celery workers in subprocesses
(not eager mode). Skipped on a laptop without them; under CI=true they fail instead."""

import os
import signal
import socket
import threading
import time

import pytest
from django.db import transaction

from members.models import Member
from notifications import services
from notifications.models import Event, Notice, Notification
from tests.factories import MemberFactory, UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("require_postgres")]


def wait_for(predicate, *, timeout=30.0, interval=0.1, message="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {message}")


def audience_user_ids(tree) -> set[int]:
    audience = services.members_of([tree.company])
    from notifications import audiences

    return set(audiences.resolve(audience.name, audience.params).values_list("pk", flat=True))


def publish(tree, title="测试通知", organization=None):
    notice = services.notice_create(
        by=tree.reviewer,
        organization=organization or tree.company,
        title=title,
        body="<p>请阅读。</p>",
    )
    return services.notice_publish(notice=notice, by=tree.reviewer)


def add_members(tree, n):
    for _ in range(n):
        MemberFactory(branch=tree.sibling)


def test_a_notice_reaches_every_member_of_the_audience_exactly_once(tree, celery_worker_process):
    add_members(tree, 40)
    expected = audience_user_ids(tree)
    notice = publish(tree)
    event = Event.objects.get(target_id=notice.pk)
    wait_for(
        lambda: Event.objects.get(pk=event.pk).fanned_out_at is not None, message="the fan-out"
    )
    rows = list(Notification.objects.filter(event=event).values_list("recipient_id", flat=True))
    assert sorted(rows) == sorted(expected)  # everyone, once
    assert Event.objects.get(pk=event.pk).recipients == len(expected)
    assert tree.outsider.user_id not in rows


def test_a_worker_killed_mid_fan_out_then_a_new_worker_and_the_sweep_leave_no_duplicate_and_no_gap(
    tree, celery_workers, settings
):
    add_members(tree, 300)
    expected = audience_user_ids(tree)
    slow = {"NETBRANCH_FANOUT_CHUNK": 20, "NETBRANCH_FANOUT_CHUNK_PAUSE": 0.15}
    first = celery_workers.start(**slow)
    notice = publish(tree)
    event = Event.objects.get(target_id=notice.pk)
    wait_for(
        lambda: Notification.objects.filter(event=event).count() >= 40,
        message="a part of the fan-out",
    )
    os.kill(first.pid, signal.SIGKILL)
    first.wait(timeout=10)
    partial = Notification.objects.filter(event=event).count()
    assert 0 < partial < len(expected), "the worker was killed mid fan-out"
    assert Event.objects.get(pk=event.pk).fanned_out_at is None

    # The message was acked late, so Redis would redeliver it only after its visibility
    # timeout (an hour); the sweep does not wait for that.
    celery_workers.start(NETBRANCH_FANOUT_CHUNK=50)
    settings.NETBRANCH_FANOUT_GRACE_SECONDS = 0
    Event.objects.filter(pk=event.pk).update(
        created_at=event.created_at.replace(year=event.created_at.year - 1)
    )
    assert services.events_sweep() == 1
    wait_for(
        lambda: Event.objects.get(pk=event.pk).fanned_out_at is not None,
        message="the swept fan-out",
    )
    rows = list(Notification.objects.filter(event=event).values_list("recipient_id", flat=True))
    assert len(rows) == len(set(rows)) == len(expected)
    assert set(rows) == expected


def test_a_rolled_back_transaction_sends_nothing(tree, celery_worker_process):
    with pytest.raises(RuntimeError), transaction.atomic():
        publish(tree, title="不会发出的通知")
        raise RuntimeError("the publishing request failed")
    assert not Notice.objects.filter(title="不会发出的通知").exists()
    assert not Event.objects.exists()
    time.sleep(1.0)  # give a wrongly enqueued task the time to arrive
    assert not Notification.objects.exists()
    assert "Received task" not in celery_worker_process.logs()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again when the block ends: nothing listens


def test_an_event_committed_while_the_broker_is_unreachable_is_delivered_by_the_sweep(
    tree, celery_worker_process, settings
):
    expected = audience_user_ids(tree)
    celery_worker_process.set_broker(f"redis://127.0.0.1:{closed_port()}/0")
    notice = publish(tree)  # commits; the enqueue after commit fails and is logged
    event = Event.objects.get(target_id=notice.pk)
    assert event.fanned_out_at is None and event.enqueued_at is None
    time.sleep(0.5)
    assert not Notification.objects.exists()

    celery_worker_process.set_broker(celery_worker_process.redis_url)  # Redis is back
    Event.objects.filter(pk=event.pk).update(
        created_at=event.created_at.replace(year=event.created_at.year - 1)
    )
    assert services.events_sweep() == 1
    wait_for(
        lambda: Event.objects.get(pk=event.pk).fanned_out_at is not None,
        message="delivery after the outage",
    )
    assert (
        set(Notification.objects.filter(event=event).values_list("recipient_id", flat=True))
        == expected
    )


class TinySMTPServer:
    """A real SMTP server on a local port (aiosmtpd), started when the test says so."""

    def __init__(self, port: int):
        from aiosmtpd.controller import Controller

        self.messages: list = []
        outer = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                outer.messages.append(envelope)
                return "250 OK"

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=port)

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.controller.stop()


def test_email_is_retried_after_an_smtp_failure_and_none_is_lost_or_doubled(tree, celery_workers):
    port = closed_port()
    # Members of tree.branch (no e-mail preference means "each notification at once").
    recipients = set(
        Member.objects.filter(branch=tree.branch).values_list("user__email", flat=True)
    )
    assert len(recipients) == 3
    celery_workers.start(EMAIL_URL=f"smtp://127.0.0.1:{port}", NETBRANCH_EMAIL_RETRY_BACKOFF=1)
    notice = publish(tree, organization=tree.branch)
    event = Event.objects.get(target_id=notice.pk)
    wait_for(
        lambda: Event.objects.get(pk=event.pk).fanned_out_at is not None, message="the fan-out"
    )
    wait_for(lambda: "Retry in" in celery_workers.logs(), message="a failed send to be retried")
    assert not Notification.objects.filter(event=event, emailed_at__isnull=False).exists()

    with TinySMTPServer(port) as smtp:  # the mail server comes back
        wait_for(
            lambda: Notification.objects.filter(event=event, emailed_at__isnull=True).count() == 0,
            timeout=40,
            message="the retried mail",
        )
        time.sleep(0.5)
        delivered = [rcpt for m in smtp.messages for rcpt in m.rcpt_tos]
    assert sorted(delivered) == sorted(recipients)  # each once


def test_concurrent_fan_outs_of_one_event_insert_each_row_once(tree, settings):
    """Two fan-outs racing on Postgres (a re-delivered task next to the sweep's)."""
    add_members(tree, 200)
    settings.NETBRANCH_FANOUT_CHUNK = 25
    user = UserFactory()
    event = Event.objects.create(
        kind="message",
        subject="race",
        audience="members.of_organizations",
        audience_params={"orgs": [tree.company.pk]},
    )
    del user
    errors = []

    def run():
        from django.db import connection

        try:
            services.event_fan_out(event_id=event.pk)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    rows = list(Notification.objects.filter(event=event).values_list("recipient_id", flat=True))
    assert len(rows) == len(set(rows)) == len(audience_user_ids(tree))
