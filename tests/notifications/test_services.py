"""Events, their fan-out to inboxes and their e-mail (notifications.services).

What must hold (DESIGN, "Reliability rules"): the event commits or rolls back with the write it
announces; each audience member gets exactly one inbox row, however often and however
concurrently the fan-out runs; the sweep delivers what was never fanned out; e-mail is sent
once per row, and an SMTP failure loses nothing and duplicates nothing."""

import datetime
import smtplib
import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail.backends.locmem import EmailBackend
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from django.utils.translation import gettext

from members.models import Member, Participation
from notifications import audiences, services, tasks
from notifications.models import DigestSent, EmailPreference, Event, Notification
from tests.factories import UserFactory
from tests.notifications.conftest import recipients_of

pytestmark = pytest.mark.django_db

BRANCH = {"member", "office", "secretary"}
SIBLING = {"sibling_member", "participant", "secretary2"}
COMPANY = BRANCH | SIBLING


def announce(audience, subject="学习通知", **kw):
    return services.notify(kind="message", target=None, audience=audience, subject=subject, **kw)


class FailingEmailBackend(EmailBackend):
    """The locmem backend, but the SMTP server refuses the message numbered in `fail_on`
    (counted across connections, from 1)."""

    fail_on: set[int] = set()
    attempted = 0

    def send_messages(self, messages):
        for message in messages:
            type(self).attempted += 1
            if type(self).attempted in self.fail_on:
                raise smtplib.SMTPException(f"451 try again later ({message.to})")
            super().send_messages([message])
        return len(messages)


@pytest.fixture
def failing_smtp(settings):
    settings.EMAIL_BACKEND = f"{__name__}.FailingEmailBackend"
    FailingEmailBackend.attempted = 0
    FailingEmailBackend.fail_on = set()
    yield FailingEmailBackend
    FailingEmailBackend.fail_on = set()


def outbox_addresses():
    return sorted(address for message in mail.outbox for address in message.to)


# --- notify: the event goes with its transaction -------------------------------------------


def test_notify_in_a_rolled_back_transaction_leaves_nothing(tree, committed):
    with committed() as callbacks, pytest.raises(RuntimeError), transaction.atomic():
        announce(services.members_of([tree.branch]))
        assert Event.objects.count() == 1
        raise RuntimeError("the write it announces failed")
    assert callbacks == []
    assert not Event.objects.exists()
    assert not Notification.objects.exists()
    assert mail.outbox == []


def test_notify_fans_out_after_commit_once_per_member(tree, committed):
    with committed():
        event = announce(services.members_of([tree.company]), by=tree.secretary)
        # Nothing is delivered before the commit: the fan-out waits for it.
        assert not Notification.objects.exists()
        assert event.enqueued_at is None
    event.refresh_from_db()
    assert recipients_of(event) == COMPANY
    assert Notification.objects.filter(event=event).count() == len(COMPANY)
    assert event.recipients == len(COMPANY)
    assert event.enqueued_at is not None
    assert event.fanned_out_at is not None
    assert event.attempts == 1
    assert event.actor == tree.secretary
    # Every inbox row carries the event's time (the inbox is ordered by it).
    assert Notification.objects.filter(created_at=event.created_at).count() == len(COMPANY)


@pytest.mark.parametrize(
    ("orgs", "kwargs", "expected"),
    [
        (["branch"], {}, BRANCH),
        (["sibling"], {}, SIBLING),
        (["joint"], {}, {"participant"}),  # participating only, registered elsewhere
        (["company"], {}, COMPANY),
        (["group"], {}, COMPANY),
        (["outside"], {}, {"outsider"}),
        (["branch", "joint"], {}, BRANCH | {"participant"}),
        (["company"], {"subtree": False}, set()),
        (["company"], {"categories": ["remote"]}, {"member"}),
        (["company"], {"categories": ["office", "front_line"]}, COMPANY - {"member"}),
        (["company"], {"categories": ["front_line"]}, set()),
    ],
)
def test_audience_members_of_organizations(tree, committed, orgs, kwargs, expected):
    with committed():
        event = announce(services.members_of([getattr(tree, o) for o in orgs], **kwargs))
    event.refresh_from_db()
    assert recipients_of(event) == expected
    assert event.recipients == len(expected)
    assert event.fanned_out_at is not None


def test_audience_status_filter(tree, committed):
    Member.objects.filter(pk=tree.office.pk).update(status=Member.Status.PROBATIONARY)
    with committed():
        event = announce(services.members_of([tree.group], statuses=["probationary"]))
    assert recipients_of(event) == {"office"}


def test_only_active_accounts_and_open_participations(tree, committed):
    with committed():
        event = announce(services.members_of([tree.company]))
        # Resolved at fan-out time, in the database: a change before it counts.
        tree.office.user.is_active = False
        tree.office.user.save(update_fields=["is_active"])
        Participation.objects.filter(member=tree.participant).update(
            ended_on=datetime.date(2026, 1, 1)
        )
        joint = announce(services.members_of([tree.joint]))
    assert recipients_of(event) == COMPANY - {"office"}  # participant is registered in sibling
    assert recipients_of(joint) == set()


def test_unknown_audience_raises_and_writes_nothing(tree):
    with pytest.raises(audiences.UnknownAudience):
        announce(services.Audience("nobody.registered.this", {}))
    assert not Event.objects.exists()
    with pytest.raises(LookupError):
        audiences.resolve("nobody.registered.this", {})


def test_users_audience(tree, committed):
    gone = UserFactory(username="gone", is_active=False)
    audience = services.users([tree.member.user, tree.reviewer, tree.reviewer.pk, gone])
    assert audience.params == {"users": sorted({tree.member.user.pk, tree.reviewer.pk, gone.pk})}
    with committed():
        event = announce(audience)
    event.refresh_from_db()
    assert recipients_of(event) == {"member", "reviewer"}
    assert event.recipients == 2


# --- idempotent fan-out ----------------------------------------------------------------------


def test_running_the_fan_out_again_adds_nothing(tree, committed):
    with committed():
        event = announce(services.members_of([tree.company]))
    event.refresh_from_db()
    first_ids = set(Notification.objects.values_list("pk", flat=True))
    marked = event.fanned_out_at

    assert services.event_fan_out(event_id=event.pk) == 0
    assert tasks.fan_out_event.delay(event.pk).get() == 0
    event.refresh_from_db()
    assert set(Notification.objects.values_list("pk", flat=True)) == first_ids
    assert event.fanned_out_at == marked
    assert event.attempts == 1
    assert services.event_fan_out(event_id=999_999) == 0  # a deleted event: nothing to do


def test_a_fan_out_killed_half_way_is_completed_by_the_next_run(tree, committed):
    """The worker died after some chunks and before marking the event (acks_late: the task
    runs again): the next run adds the missing rows, duplicates none, and marks it."""
    with committed():
        event = announce(services.members_of([tree.company]))
    kept = list(Notification.objects.order_by("pk").values_list("pk", flat=True)[:2])
    Notification.objects.exclude(pk__in=kept).delete()
    Event.objects.filter(pk=event.pk).update(fanned_out_at=None, recipients=0)

    with committed():
        assert tasks.fan_out_event.delay(event.pk).get() == len(COMPANY)
    event.refresh_from_db()
    assert recipients_of(event) == COMPANY
    assert Notification.objects.filter(event=event).count() == len(COMPANY)
    assert set(kept) <= set(Notification.objects.values_list("pk", flat=True))
    assert event.fanned_out_at is not None
    assert event.recipients == len(COMPANY)
    assert event.attempts == 2


def test_two_interleaved_fan_outs_deliver_once_and_mark_once(
    tree, settings, monkeypatch, committed
):
    """A second run starts while the first is between chunks (the sweep and a slow worker):
    every member still gets one row, the event is marked once, and its e-mail goes out once."""
    settings.NETBRANCH_FANOUT_CHUNK = 2
    settings.NETBRANCH_FANOUT_CHUNK_PAUSE = 0.001
    event = announce(services.members_of([tree.company]))  # not committed: no fan-out yet
    state: dict = {}
    email_runs = []
    monkeypatch.setattr(services, "_enqueue_emails", email_runs.append)

    def sleep(_seconds):
        if "inner" not in state:
            state["inner"] = "running"
            state["inner"] = services.event_fan_out(event_id=event.pk)
            state["marked"] = Event.objects.get(pk=event.pk).fanned_out_at

    monkeypatch.setattr(services.time, "sleep", sleep)
    with committed():
        outer = services.event_fan_out(event_id=event.pk)

    assert state["inner"] == outer == len(COMPANY)
    event.refresh_from_db()
    assert recipients_of(event) == COMPANY
    assert Notification.objects.filter(event=event).count() == len(COMPANY)
    assert event.fanned_out_at == state["marked"]  # the outer run did not mark it again
    assert event.attempts == 2
    assert email_runs == [event.pk]  # only the run that marked the event sends its e-mail


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_fan_outs_on_postgres(require_postgres):
    """Really concurrent, each in its own connection: the unique constraint decides."""
    people = [UserFactory() for _ in range(30)]
    event = Event.objects.create(
        kind="message",
        subject="并发",
        audience="users",
        audience_params={"users": [u.pk for u in people]},
    )
    barrier = threading.Barrier(2)
    results, errors = [], []

    def run():
        try:
            barrier.wait(timeout=10)
            results.append(services.event_fan_out(event_id=event.pk))
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not errors, errors
    assert Notification.objects.filter(event=event).count() == 30
    event.refresh_from_db()
    assert event.fanned_out_at is not None
    assert event.recipients == 30
    # Whatever the interleaving, one e-mail per recipient.
    assert outbox_addresses() == sorted(u.email for u in people)


@pytest.mark.parametrize("chunk", [1, 2, 4, 5000])
def test_chunk_size_changes_nothing_but_the_number_of_inserts(tree, settings, chunk):
    settings.NETBRANCH_FANOUT_CHUNK = chunk
    event = announce(services.members_of([tree.company]))
    with CaptureQueriesContext(connection) as queries:
        assert services.event_fan_out(event_id=event.pk) == len(COMPANY)
    inserts = [
        q
        for q in queries.captured_queries
        if q["sql"].lstrip().upper().startswith("INSERT")
        and "notifications_notification" in q["sql"]
    ]
    assert len(inserts) == -(-len(COMPANY) // chunk)
    assert recipients_of(event) == COMPANY
    assert Notification.objects.filter(event=event).count() == len(COMPANY)


# --- the sweep -------------------------------------------------------------------------------


def test_sweep_delivers_what_was_never_fanned_out_and_leaves_the_rest(tree, committed):
    now = timezone.now()
    users = {"users": [tree.member.user.pk, tree.office.user.pk]}

    def event(subject, **times):
        return Event.objects.create(
            kind="message", subject=subject, audience="users", audience_params=users, **times
        )

    lost = event("broker was down", created_at=now - timedelta(minutes=1))
    died = event(
        "worker died",
        created_at=now - timedelta(minutes=10),
        enqueued_at=now - timedelta(minutes=9),
        attempts=1,
    )
    done = event(
        "done",
        created_at=now - timedelta(minutes=5),
        enqueued_at=now - timedelta(minutes=5),
        fanned_out_at=now - timedelta(minutes=5),
    )
    fresh = event("its commit hook is running", created_at=now)
    queued = event(
        "in the queue",
        created_at=now - timedelta(minutes=1),
        enqueued_at=now - timedelta(seconds=30),
    )

    with committed():
        assert tasks.sweep_events.delay().get() == 2
    for e in (lost, died, done, fresh, queued):
        e.refresh_from_db()
    assert recipients_of(lost) == recipients_of(died) == {"member", "office"}
    assert lost.fanned_out_at and died.fanned_out_at and lost.enqueued_at
    assert (died.attempts, lost.attempts) == (2, 1)
    assert (done.attempts, fresh.attempts, queued.attempts) == (0, 0, 0)
    assert not Notification.objects.filter(event__in=[done, fresh, queued]).exists()
    assert fresh.fanned_out_at is None and queued.fanned_out_at is None
    assert len(mail.outbox) == 4  # each delivered event mailed its two recipients once

    with committed():
        assert services.events_sweep() == 0
    assert len(mail.outbox) == 4


# --- inbox ----------------------------------------------------------------------------------


def test_notification_open_is_for_its_recipient_only(tree, committed):
    with committed():
        announce(services.users([tree.member.user]))
    row = Notification.objects.get()
    with pytest.raises(PermissionDenied):
        services.notification_open(notification=row, user=tree.office.user)
    row.refresh_from_db()
    assert row.read_at is None

    services.notification_open(notification=row, user=tree.member.user)
    row.refresh_from_db()
    first = row.read_at
    assert first is not None
    services.notification_open(notification=row, user=tree.member.user)
    row.refresh_from_db()
    assert row.read_at == first  # the first reading stays


def test_mark_all_read_touches_only_the_users_unread_rows(tree, committed):
    with committed():
        for i in range(3):
            announce(services.users([tree.member.user, tree.office.user]), subject=f"第{i}条")
    earlier = timezone.now() - timedelta(days=1)
    already = Notification.objects.filter(recipient=tree.member.user).first()
    Notification.objects.filter(pk=already.pk).update(read_at=earlier)

    assert services.notifications_mark_all_read(user=tree.member.user) == 2
    mine = Notification.objects.filter(recipient=tree.member.user)
    assert not mine.filter(read_at__isnull=True).exists()
    assert mine.get(pk=already.pk).read_at == earlier
    assert (
        Notification.objects.filter(recipient=tree.office.user, read_at__isnull=True).count() == 3
    )
    assert services.notifications_mark_all_read(user=tree.member.user) == 0


def test_email_preference_set(tree):
    user = tree.member.user
    services.email_preference_set(user=user, mode="digest")
    services.email_preference_set(user=user, mode="off")
    assert EmailPreference.objects.get(user=user).mode == "off"
    assert EmailPreference.objects.filter(user=user).count() == 1
    with pytest.raises(ValidationError):
        services.email_preference_set(user=user, mode="hourly")
    assert EmailPreference.objects.get(user=user).mode == "off"


# --- immediate e-mail ----------------------------------------------------------------------


@pytest.fixture
def readers(db):
    """One user per e-mail situation."""
    people = {
        "default": UserFactory(username="default"),  # no preference row: immediate
        "immediate": UserFactory(username="immediate"),
        "digest": UserFactory(username="digest"),
        "off": UserFactory(username="off"),
        "no_address": UserFactory(username="no_address", email=""),
    }
    for mode in ("immediate", "digest", "off"):
        EmailPreference.objects.create(user=people[mode], mode=mode)
    return people


def test_immediate_mail_follows_the_preference(readers, committed):
    with committed():
        first = announce(services.users(readers.values()), subject="第一条")
        second = announce(services.users(readers.values()), subject="第二条")
    assert outbox_addresses() == sorted(["default@example.com", "immediate@example.com"] * 2)
    mailed = Notification.objects.filter(emailed_at__isnull=False)
    assert set(mailed.values_list("recipient__username", "event")) == {
        ("default", first.pk),
        ("immediate", first.pk),
        ("default", second.pk),
        ("immediate", second.pk),
    }
    assert Notification.objects.filter(emailed_at__isnull=True).count() == 6


def test_smtp_failure_in_the_middle_loses_nothing_and_duplicates_nothing(
    tree, failing_smtp, committed
):
    people = [UserFactory(username=f"p{i}") for i in range(5)]
    event = announce(services.users(people))
    services.event_fan_out(event_id=event.pk)  # its e-mail hook waits for a commit that never comes
    failing_smtp.fail_on = {3}

    with pytest.raises(smtplib.SMTPException):
        services.event_emails_send(event_id=event.pk)
    assert outbox_addresses() == ["p0@example.com", "p1@example.com"]
    rows = Notification.objects.filter(event=event).order_by("recipient__username")
    assert [r.emailed_at is not None for r in rows] == [True, True, False, False, False]

    assert services.event_emails_send(event_id=event.pk) == 3
    assert outbox_addresses() == sorted(u.email for u in people)
    assert not rows.filter(emailed_at__isnull=True).exists()
    assert services.event_emails_send(event_id=event.pk) == 0
    assert len(mail.outbox) == 5


def test_mail_interrupted_in_the_task_is_finished_by_the_sweep(
    tree, failing_smtp, committed, monkeypatch
):
    """The task gives up (here: eager mode does not retry); the sweep re-sends the rest,
    including to users who never chose a preference (the default is immediate), with one task
    per event (several tasks for one event would send concurrently, twice)."""
    enqueued = []
    send = services._enqueue_emails
    monkeypatch.setattr(services, "_enqueue_emails", lambda pk: (enqueued.append(pk), send(pk)))
    people = [UserFactory(username=f"q{i}") for i in range(4)]
    EmailPreference.objects.create(user=people[0], mode="immediate")  # the others: default
    failing_smtp.fail_on = {2}
    with committed():
        event = announce(services.users(people))
    assert outbox_addresses() == ["q0@example.com"]

    assert enqueued == [event.pk]

    # Within the task's own retry window the sweep leaves the mail to the task.
    Event.objects.filter(pk=event.pk).update(fanned_out_at=timezone.now() - timedelta(minutes=10))
    with committed():
        services.events_sweep()
    assert enqueued == [event.pk]
    Event.objects.filter(pk=event.pk).update(fanned_out_at=timezone.now() - timedelta(hours=3))
    with committed():
        services.events_sweep()
    assert enqueued == [event.pk, event.pk]
    assert outbox_addresses() == sorted(u.email for u in people)
    assert not Notification.objects.filter(emailed_at__isnull=True).exists()
    with committed():
        services.events_sweep()
    assert len(mail.outbox) == 4
    assert enqueued == [event.pk, event.pk]  # nothing left to send: nothing enqueued


def test_a_large_audience_is_mailed_in_batches(tree, settings, committed):
    settings.NETBRANCH_EMAIL_BATCH = 2
    people = [UserFactory() for _ in range(5)]
    with committed():
        announce(services.users(people))
    assert outbox_addresses() == sorted(u.email for u in people)


def test_mail_is_chinese_by_default_with_absolute_links(tree, settings, make_notice):
    settings.NETBRANCH_BASE_URL = "https://dangjian.example.cn/"
    with translation.override("en"):  # published from an English page: the mail is Chinese
        notice = make_notice(org=tree.branch, publish=True, title="关于开展主题党日活动的通知")
    member_mail = next(m for m in mail.outbox if m.to == [tree.member.user.email])
    assert len(mail.outbox) == len(BRANCH)
    with translation.override("zh-hans"):
        text = gettext("New notice: %(subject)s") % {"subject": notice.title}
        settings_line = gettext("Choose how you receive e-mail: %(settings_url)s") % {
            "settings_url": "https://dangjian.example.cn/notifications/settings/"
        }
    assert member_mail.subject.startswith("[网络党支部]")
    assert text in member_mail.subject
    assert text in member_mail.body
    assert f"https://dangjian.example.cn/notices/{notice.pk}/" in member_mail.body
    assert settings_line in member_mail.body
    assert tree.member.real_name in member_mail.body
    assert "<" not in member_mail.body  # plain text, nothing escaped into entities
    assert "&" not in member_mail.body


# --- daily digest ----------------------------------------------------------------------------


def test_daily_digest_once_a_day_per_subscriber(tree, settings, committed, make_notice):
    settings.NETBRANCH_BASE_URL = "https://dangjian.example.cn"
    member, office, secretary = tree.member.user, tree.office.user, tree.secretary
    for user in (member, office, secretary):
        EmailPreference.objects.create(user=user, mode="digest")
    office.email = ""
    office.save(update_fields=["email"])
    first = make_notice(org=tree.branch, publish=True, title="第一份通知")
    second = make_notice(org=tree.branch, publish=True, title="第二份通知")
    assert mail.outbox == []  # digest subscribers get nothing immediately
    Notification.objects.filter(recipient=secretary).update(read_at=timezone.now())

    with translation.override("en"):  # whatever language is active, the digest is Chinese
        assert tasks.send_daily_digests.delay().get() == 1
    assert [m.to for m in mail.outbox] == [[member.email]]
    digest = mail.outbox[0]
    with translation.override("zh-hans"):
        subject = gettext("[NetBranch] %(count)s new notifications") % {"count": 2}
        heading = gettext("What happened in NetBranch since yesterday:")
    assert digest.subject == subject
    assert heading in digest.body
    for notice in (first, second):
        assert notice.title in digest.body
        assert f"https://dangjian.example.cn/notices/{notice.pk}/" in digest.body
    assert "https://dangjian.example.cn/notifications/" in digest.body
    assert not Notification.objects.filter(recipient=member, emailed_at__isnull=True).exists()
    claim = DigestSent.objects.get(user=member)
    assert claim.day == timezone.localdate() and claim.sent_at is not None
    assert not DigestSent.objects.filter(user=office).exists()  # no address: skipped

    # Later the same day: another notification, and the digest job runs again. The member
    # had today's digest; the secretary (who had read everything) gets their first.
    make_notice(org=tree.branch, publish=True, title="第三份通知")
    assert services.digests_send() == 1
    assert [m.to for m in mail.outbox] == [[member.email], [secretary.email]]
    assert services.digests_send() == 0
    assert len(mail.outbox) == 2
    # The next day the member's goes out, with only what was not mailed yet.
    assert services.digests_send(day=timezone.localdate() + timedelta(days=1)) == 1
    assert mail.outbox[2].to == [member.email]
    assert "第三份通知" in mail.outbox[2].body
    assert "第一份通知" not in mail.outbox[2].body


def test_a_digest_claimed_but_not_sent_goes_out_on_the_next_run(tree, committed):
    user = tree.member.user
    EmailPreference.objects.create(user=user, mode="digest")
    with committed():
        announce(services.users([user]), subject="今晚学习")
    DigestSent.objects.create(user=user, day=timezone.localdate())  # the worker died
    assert services.digests_send() == 1
    assert "今晚学习" in mail.outbox[0].body
    assert services.digests_send() == 0
    assert DigestSent.objects.filter(user=user).count() == 1
