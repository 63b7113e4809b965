"""Meeting-reminder benchmark: `meetings_send_reminders` over 10,000 upcoming announced
meetings (issue "Activity sync", budgets: the reminder job over 10,000 meetings in bulk).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/netbranch_bench \\
        .venv/bin/python tests/bench/meeting_reminders.py [--meetings 10000]

It creates its own organisations (a committee over 200 branches of 5 members each, usernames
`rembench…`, kept for the next run) and bulk-creates the meetings (deleted at the end, with
their reminders and events). Four ticks are measured, each for wall time, SQL statements and
peak Python memory (tracemalloc, in a second pass so that it does not slow the timed one):

- burst: every meeting due its 24-hour reminder at once (10,000 claims and notices);
- burst again: the doubled tick right after, nothing left to send (must be one query);
- quiet: meetings spread over the next 48 hours, every reminder so far sent (one query);
- steady: five minutes later, the meetings that entered a reminder window since.

The reminder job tells Celery after each commit (the fan-out of every notice). With REDIS_URL
set that publish goes to a private queue of this run (deleted afterwards: the fan-outs are
measured by fanout.py); without it the publish is left out and only its database write kept.
"""

import argparse
import os
import sys
import time
import tracemalloc
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.hashers import make_password  # noqa: E402
from django.contrib.contenttypes.models import ContentType  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from branches.models import Organization  # noqa: E402
from meetings.models import Meeting, MeetingReminder  # noqa: E402
from meetings.services import meetings_send_reminders  # noqa: E402
from members.models import Member  # noqa: E402
from notifications import services as notification_services  # noqa: E402
from notifications.models import Event  # noqa: E402
from portal.celery import app  # noqa: E402

User = get_user_model()
ROOT_NAME = "提醒基准测试党委"
PREFIX = "rembench"
BRANCHES = 200
MEMBERS_PER_BRANCH = 5
BATCH = 5000


def ensure_organisations() -> list[Organization]:
    root = Organization.objects.filter(name=ROOT_NAME, depth=1).first()
    if root is None:
        root = Organization.objects.add_root(
            {"name": ROOT_NAME, "kind": Organization.Kind.COMMITTEE}
        )
    root.refresh_from_db()
    branches = list(
        Organization.objects.filter(path__startswith=root.path, depth=2).order_by("path")
    )
    if len(branches) < BRANCHES:
        print(f"creating {BRANCHES - len(branches)} branches …", flush=True)
    while len(branches) < BRANCHES:
        branches.append(
            Organization.objects.add_child(
                root, {"name": f"提醒基准支部{len(branches) + 1}", "kind": Organization.Kind.BRANCH}
            )
        )
        root.refresh_from_db()
    want = BRANCHES * MEMBERS_PER_BRANCH
    have = User.objects.filter(username__startswith=PREFIX).count()
    if have < want:
        print(f"creating {want - have} members …", flush=True)
        password = make_password("netbranch-demo")
        with transaction.atomic():
            users = User.objects.bulk_create(
                User(
                    username=f"{PREFIX}{i:05d}", email=f"{PREFIX}{i}@example.com", password=password
                )
                for i in range(have, want)
            )
            Member.objects.bulk_create(
                Member(user=u, real_name=f"提醒党员{i}", branch=branches[i % BRANCHES])
                for i, u in zip(range(have, want), users, strict=True)
            )
    return branches


def bench_meetings():
    return Meeting.objects.filter(title__startswith="提醒基准会议")


def clear() -> None:
    ids = list(bench_meetings().values_list("pk", flat=True))
    Event.objects.filter(
        target_type=ContentType.objects.get_for_model(Meeting), target_id__in=ids
    ).delete()
    bench_meetings().delete()  # their reminders go with them (CASCADE)


def create_meetings(branches, n: int, now) -> None:
    clear()
    published = now - timedelta(days=5)
    with transaction.atomic():
        Meeting.objects.bulk_create(
            (
                Meeting(
                    organization=branches[i % len(branches)],
                    kind=Meeting.Kind.THEMED_DAY,
                    title=f"提醒基准会议{i}",
                    place="项目部会议室",
                    starts_at=now + timedelta(hours=3),
                    ends_at=now + timedelta(hours=5),
                    status=Meeting.Status.PLANNED,
                    published_at=published,
                )
                for i in range(n)
            ),
            batch_size=BATCH,
        )
    analyze()


def analyze() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE meetings_meeting")
            cursor.execute("ANALYZE meetings_meetingreminder")


def spread(now, first: timedelta, last: timedelta) -> None:
    """Start times spread evenly between now+first and now+last, in one statement."""
    ids = list(bench_meetings().order_by("pk").values_list("pk", flat=True))
    step = (last - first) / max(1, len(ids))
    with transaction.atomic():
        for start in range(0, len(ids), BATCH):
            chunk = ids[start : start + BATCH]
            Meeting.objects.bulk_update(
                [
                    Meeting(
                        pk=pk,
                        starts_at=now + first + step * (start + i),
                        ends_at=now + first + step * (start + i) + timedelta(hours=2),
                    )
                    for i, pk in enumerate(chunk)
                ],
                ["starts_at", "ends_at"],
            )


def reset_reminders() -> None:
    ids = bench_meetings().values("pk")
    Event.objects.filter(
        target_type=ContentType.objects.get_for_model(Meeting), target_id__in=ids
    ).delete()
    MeetingReminder.objects.filter(meeting__in=ids).delete()


def steady_state(now) -> None:
    """What five-minute ticks up to `now` have sent: the 24-hour reminder of the meetings
    starting within a day, the 1-hour reminder of those starting within the hour."""
    reset_reminders()
    meetings = bench_meetings()
    rows = [
        MeetingReminder(meeting_id=pk, kind=MeetingReminder.Kind.DAY, sent_at=now)
        for pk in meetings.filter(starts_at__lte=now + timedelta(hours=24)).values_list("pk", flat=True)
    ] + [
        MeetingReminder(meeting_id=pk, kind=MeetingReminder.Kind.HOUR, sent_at=now)
        for pk in meetings.filter(starts_at__lte=now + timedelta(hours=1)).values_list("pk", flat=True)
    ]  # fmt: skip
    MeetingReminder.objects.bulk_create(rows, batch_size=BATCH)
    analyze()


class Counter:
    def __init__(self) -> None:
        self.queries = 0

    def __call__(self, execute, sql, params, many, context):
        self.queries += 1
        return execute(sql, params, many, context)


def tick(now, *, memory: bool = False) -> tuple[int, float, int, int]:
    """Run one tick; returns (sent, seconds, queries, peak bytes or 0)."""
    print(f"tick at {now:%H:%M}{' (tracemalloc)' if memory else ''} …", flush=True)
    counter = Counter()
    if memory:
        tracemalloc.start()
    started = time.perf_counter()
    with connection.execute_wrapper(counter):
        sent = meetings_send_reminders(now=now)
    seconds = time.perf_counter() - started
    peak = 0
    if memory:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return sent, seconds, counter.queries, peak


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--meetings", type=int, default=10_000)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        print("note: not PostgreSQL; the figures that matter are on Postgres (set DATABASE_URL)")

    queue = f"bench-reminders-{os.getpid()}"
    redis = bool(os.environ.get("REDIS_URL"))
    if redis:
        app.conf.task_always_eager = False
        app.conf.task_default_queue = queue
        mode = f"fan-outs published to Redis (queue {queue}, deleted afterwards)"
    else:

        def enqueue(event_id: int) -> None:  # the task's publish left out, its write kept
            Event.objects.filter(pk=event_id).update(enqueued_at=timezone.now())

        notification_services._enqueue_fan_out = enqueue
        mode = "no REDIS_URL: the fan-out publish is left out (its database write is kept)"

    branches = ensure_organisations()
    now = timezone.now().replace(microsecond=0)
    results = []
    try:
        create_meetings(branches, args.meetings, now)
        ContentType.objects.get_for_model(Meeting)  # the cache a running worker has

        # Burst: every meeting due its 24-hour reminder; then the same tick again.
        spread(now, timedelta(hours=1, minutes=5), timedelta(hours=24))
        analyze()
        results.append(("burst: all due", *tick(now)))
        results.append(("burst again: none left", *tick(now)))
        assert MeetingReminder.objects.filter(meeting__in=bench_meetings()).count() == args.meetings
        reset_reminders()
        burst_peak = tick(now, memory=True)[3]
        again_peak = tick(now, memory=True)[3]
        results[0] = (*results[0][:4], burst_peak)
        results[1] = (*results[1][:4], again_peak)

        # Steady state: spread over the next two days, the ticks so far done.
        spread(now, timedelta(seconds=1), timedelta(hours=48))
        steady_state(now)
        results.append(("quiet: none due", *tick(now, memory=True)))
        later = now + timedelta(minutes=5)
        steady_state(now)
        sent, seconds, queries, _peak = tick(later)
        steady_state(now)
        results.append(("steady: 5 minutes later", sent, seconds, queries, tick(later, memory=True)[3]))  # fmt: skip
    finally:
        clear()
        if redis:
            with app.connection_for_write() as conn:
                conn.default_channel.queue_delete(queue)

    print(f"database: {connection.vendor}, meetings: {args.meetings}; {mode}")
    print(
        f"{'tick':28}{'sent':>8}{'seconds':>10}{'queries':>10}{'peak MiB':>10}{'ms/reminder':>13}"
    )
    for label, sent, seconds, queries, peak in results:
        per = f"{1000 * seconds / sent:.2f}" if sent else "-"
        print(f"{label:28}{sent:>8}{seconds:>10.3f}{queries:>10}{peak / 2**20:>10.1f}{per:>13}")
    quiet = [r for r in results if r[1] == 0]
    if any(r[3] != 1 for r in quiet):
        print("FAIL: a tick with nothing due must cost one query")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
