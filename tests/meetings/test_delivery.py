"""Meeting reminders under real components: PostgreSQL, Redis and real Celery workers in
subprocesses (not eager mode). Each reminder reaches every expected attendee exactly once when
the beat tick is doubled and when a worker dies, before its commit or in the fan-out after it.

The races are made certain, not hoped for: the test holds a table lock that stops the workers
at a chosen statement, sees them wait there (pg_stat_activity), then lets go or kills them.
Skipped on a laptop without Postgres and Redis; under CI=true they fail instead. The cost of
the reminder job in queries is measured here too, on any database."""

import os
import re
import signal
import time
from collections import Counter
from datetime import timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from meetings import selectors, services, tasks
from meetings.models import Meeting, MeetingReminder
from meetings.services import meetings as meeting_services
from notifications import services as notification_services
from notifications.models import Event, Notification
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db


def real_services(test):
    """Committed data (the workers read it) on Postgres."""
    test = pytest.mark.django_db(transaction=True)(test)
    return pytest.mark.usefixtures("require_postgres")(test)


DAY, HOUR = MeetingReminder.Kind.DAY, MeetingReminder.Kind.HOUR


def wait_for(predicate, *, timeout=40.0, interval=0.1, message="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {message}")


def announced(tree, *, starts_in: timedelta, org=None, by=None) -> Meeting:
    """A themed day announced five days ago, starting `starts_in` from now."""
    start = timezone.now() + starts_in
    meeting = services.meeting_create(
        by=by or tree.secretary,
        organization=org or tree.branch,
        kind=Meeting.Kind.THEMED_DAY,
        title=f"主题党日 {starts_in}",
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        place="项目部会议室",
    )
    Meeting.objects.filter(pk=meeting.pk).update(published_at=timezone.now() - timedelta(days=5))
    return Meeting.objects.get(pk=meeting.pk)


def due_meetings(tree) -> dict[Meeting, str]:
    """Three meetings due a reminder now (two of the branch, one of its sibling), and one
    whose 24-hour reminder went out already: {meeting: kind due}."""
    day = announced(tree, starts_in=timedelta(hours=20))
    hour = announced(tree, starts_in=timedelta(minutes=30))
    sibling = announced(
        tree, starts_in=timedelta(hours=20, minutes=5), org=tree.sibling, by=tree.secretary2
    )
    done = announced(tree, starts_in=timedelta(hours=21))
    MeetingReminder.objects.create(meeting=done, kind=DAY, sent_at=timezone.now())
    return {day: DAY, hour: HOUR, sibling: DAY}


def lock(table: str) -> None:
    """Inside the test's transaction: readers pass, writers of `table` wait for its end."""
    with connection.cursor() as cursor:
        cursor.execute(f'LOCK TABLE "{table}" IN EXCLUSIVE MODE')


def waiting(statement: str = "") -> list[int]:
    """Backends of this database waiting for a lock (in a statement starting so)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")  # the view is cached per transaction
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND wait_event_type = 'Lock' AND query LIKE %s",
            [f"{statement}%"],
        )
        return [pid for (pid,) in cursor.fetchall()]


def backend_alive(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid])
        return cursor.fetchone() is not None


def holds_claim(pid: int) -> bool:
    """The backend has inserted (claimed) MeetingReminder rows, not committed yet."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM pg_locks WHERE pid = %s AND granted AND mode = 'RowExclusiveLock' "
            "AND relation = 'meetings_meetingreminder'::regclass",
            [pid],
        )
        return cursor.fetchone() is not None


def tick_results(workers) -> list[int]:
    """What each finished run of the reminder task returned (from the workers' logs, worker
    by worker: in the order of time only for one worker at a time)."""
    pattern = r"meetings\.tasks\.send_reminders\[[^\]]+\] succeeded in [\d.]+s: (\d+)"
    return [int(n) for n in re.findall(pattern, workers.logs())]


def reminder_events():
    return Event.objects.filter(kind="meeting_reminder")


def all_fanned_out() -> bool:
    events = reminder_events()
    return events.exists() and not events.filter(fanned_out_at__isnull=True).exists()


def assert_each_reminded_once(expected: dict[Meeting, str]) -> None:
    """One MeetingReminder row and one notice per due reminder, and in the inbox one row per
    expected attendee of the meeting, no one twice, no one else."""
    claimed = MeetingReminder.objects.filter(meeting__in=list(expected))
    assert sorted(claimed.values_list("meeting_id", "kind")) == sorted(
        (m.pk, kind) for m, kind in expected.items()
    )
    events = reminder_events()
    assert Counter(events.values_list("target_id", flat=True)) == Counter(m.pk for m in expected)
    for meeting in expected:
        event = events.get(target_id=meeting.pk)
        inbox = list(
            Notification.objects.filter(event=event).values_list("recipient_id", flat=True)
        )
        attendees = set(selectors.expected_attendees(meeting).values_list("pk", flat=True))
        assert len(inbox) == len(set(inbox)) == len(attendees) > 0
        assert set(inbox) == attendees
        assert event.recipients == len(attendees)


@real_services
def test_a_doubled_beat_tick_on_two_workers_sends_each_reminder_once(tree, celery_workers):
    expected = due_meetings(tree)
    assert tree.outsider.user_id not in {
        pk for m in expected for pk in selectors.expected_attendees(m).values_list("pk", flat=True)
    }
    celery_workers.start()
    celery_workers.start()
    # The beat message arrives twice. Both ticks read the same due meetings and are held
    # before their claims (the lock, or the other tick's row locks), so that they race for
    # the same reminders when it is released.
    with transaction.atomic():
        lock(MeetingReminder._meta.db_table)
        tasks.send_reminders.delay()
        wait_for(lambda: len(waiting()) == 1, message="the first tick to wait at its claim")
        tasks.send_reminders.delay()  # the first worker is busy: the second one takes it
        wait_for(lambda: len(waiting()) == 2, message="both ticks to wait at once")
    wait_for(lambda: len(tick_results(celery_workers)) == 2, message="both ticks to finish")
    # Together they sent each reminder once, however they shared the work.
    assert sum(tick_results(celery_workers)) == len(expected)
    wait_for(all_fanned_out, message="the reminders' fan-out")
    assert_each_reminded_once(expected)

    # A third tick, later: nothing is due any more.
    tasks.send_reminders.delay()
    wait_for(lambda: len(tick_results(celery_workers)) == 3, message="the third tick")
    assert sum(tick_results(celery_workers)) == len(expected)  # the third sent nothing
    assert_each_reminded_once(expected)


@real_services
def test_a_worker_killed_between_claim_and_commit_leaves_nothing_and_the_next_tick_sends_once(
    tree, celery_workers
):
    expected = due_meetings(tree)
    first = celery_workers.start()
    with transaction.atomic():
        lock(Event._meta.db_table)  # the notices wait; the claims are made before them
        tasks.send_reminders.delay()
        wait_for(
            lambda: waiting('INSERT INTO "notifications_event"'),
            message="the tick to wait at its first notice",
        )
        (backend,) = waiting('INSERT INTO "notifications_event"')
        assert holds_claim(backend), "the reminders are claimed, not committed"
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
    # The lock is gone: the orphaned session finds its client dead and rolls back.
    wait_for(lambda: not backend_alive(backend), message="the dead worker's session to end")
    assert not MeetingReminder.objects.filter(meeting__in=list(expected)).exists()
    assert not reminder_events().exists()
    assert not Notification.objects.filter(event__kind="meeting_reminder").exists()
    assert tick_results(celery_workers) == []

    # The next beat tick, on a fresh worker, sends every reminder, once.
    celery_workers.start()
    tasks.send_reminders.delay()
    wait_for(lambda: tick_results(celery_workers) == [len(expected)], message="the next tick")
    wait_for(all_fanned_out, message="the reminders' fan-out")
    tasks.send_reminders.delay()
    wait_for(lambda: len(tick_results(celery_workers)) == 2, message="one more tick")
    assert tick_results(celery_workers)[-1] == 0
    assert_each_reminded_once(expected)


@real_services
def test_a_worker_killed_in_the_reminders_fan_out_leaves_no_gap_and_no_second_reminder(
    tree, celery_workers, settings
):
    """After the commit the reminder is sent: the next tick does not send it again, and the
    notifications sweep finishes its interrupted fan-out, each attendee once."""
    for _ in range(60):
        MemberFactory(branch=tree.branch)
    meeting = announced(tree, starts_in=timedelta(hours=20))
    expected = {meeting: DAY}
    first = celery_workers.start(NETBRANCH_FANOUT_CHUNK=5, NETBRANCH_FANOUT_CHUNK_PAUSE=0.15)
    tasks.send_reminders.delay()
    wait_for(
        lambda: Notification.objects.filter(event__kind="meeting_reminder").count() >= 10,
        message="a part of the reminder's fan-out",
    )
    os.kill(first.pid, signal.SIGKILL)
    first.wait(timeout=10)
    event = reminder_events().get()
    partial = Notification.objects.filter(event=event).count()
    attendees = selectors.expected_attendees(meeting).count()
    assert 0 < partial < attendees, "the worker was killed in the middle of the fan-out"
    assert event.fanned_out_at is None

    celery_workers.start()
    tasks.send_reminders.delay()  # the next tick: the reminder is claimed, nothing new
    wait_for(lambda: tick_results(celery_workers) == [1, 0], message="the next tick")
    assert reminder_events().count() == 1
    # The fan-out message was acked late: Redis would redeliver it after an hour; the sweep
    # re-enqueues it now.
    settings.NETBRANCH_FANOUT_GRACE_SECONDS = 0
    Event.objects.filter(pk=event.pk).update(created_at=event.created_at - timedelta(days=1))
    assert notification_services.events_sweep() == 1
    wait_for(all_fanned_out, message="the swept fan-out")
    assert_each_reminded_once(expected)


# --- the cost of a tick ----------------------------------------------------------------------


def statements(captured) -> list[str]:
    """The statements of a tick, without the savepoints of the test's own transaction."""
    return [
        q["sql"] for q in captured if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))
    ]


@pytest.mark.parametrize("meetings", [2, 25])
def test_a_tick_with_nothing_due_is_one_query(tree, meetings):
    for i in range(meetings):
        done = announced(tree, starts_in=timedelta(hours=20, minutes=i))  # reminded already
        MeetingReminder.objects.create(meeting=done, kind=DAY, sent_at=timezone.now())
        announced(tree, starts_in=timedelta(hours=30, minutes=i))  # not yet due
    late = announced(tree, starts_in=timedelta(hours=5))
    Meeting.objects.filter(pk=late.pk).update(published_at=timezone.now())  # announced late
    with CaptureQueriesContext(connection) as ctx:
        assert services.meetings_send_reminders() == 0
    assert len(statements(ctx.captured_queries)) == 1, statements(ctx.captured_queries)


@pytest.mark.parametrize("meetings", [3, 12])
def test_a_due_tick_costs_two_queries_a_batch_and_one_notice_a_reminder(
    tree, meetings, monkeypatch
):
    monkeypatch.setattr(meeting_services, "REMINDER_BATCH", 5)
    due = [announced(tree, starts_in=timedelta(hours=2, minutes=i)) for i in range(meetings)]
    ContentType.objects.get_for_model(Meeting)  # cached in a running worker
    with CaptureQueriesContext(connection) as ctx:
        assert services.meetings_send_reminders() == meetings
    batches = -(-meetings // 5)
    sql = statements(ctx.captured_queries)
    # The due meetings; per batch their re-read under lock and one claim; one notice each.
    assert len(sql) == 1 + 2 * batches + meetings, sql
    assert sum('INSERT INTO "notifications_event"' in q for q in sql) == meetings
    assert sum(q.startswith('INSERT INTO "meetings_meetingreminder"') for q in sql) == batches
    assert services.meetings_send_reminders() == 0
    assert sorted(reminder_events().values_list("target_id", flat=True)) == sorted(
        m.pk for m in due
    )
