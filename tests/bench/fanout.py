"""Fan-out benchmark: one notice to N members (default 100,000), next to a plain
`bulk_create` of the same rows in the same run (DESIGN: under 2x that baseline).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/netbranch_bench \\
        .venv/bin/python tests/bench/fanout.py --members 100000

It creates its own organisation and members on the first run (usernames `fanbench…`, kept
for the next run), measures, prints, and deletes the rows it measured. Only the fan-out is
timed: the e-mail step that follows it in production is switched off here.
"""

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.hashers import make_password  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from branches.models import Organization  # noqa: E402
from members.models import Member  # noqa: E402
from notifications import services  # noqa: E402
from notifications.models import Event, Notification  # noqa: E402

User = get_user_model()
ROOT_NAME = "扇出基准测试党委"
PREFIX = "fanbench"
BATCH = 5000


def ensure_members(n: int) -> Organization:
    root = Organization.objects.filter(name=ROOT_NAME, depth=1).first()
    if root is None:
        root = Organization.objects.add_root(
            {"name": ROOT_NAME, "kind": Organization.Kind.COMMITTEE}
        )
    root.refresh_from_db()
    branches = list(
        Organization.objects.filter(path__startswith=root.path, depth=2).order_by("path")
    )
    while len(branches) < 50:
        branches.append(
            Organization.objects.add_child(
                root, {"name": f"基准支部{len(branches) + 1}", "kind": Organization.Kind.BRANCH}
            )
        )
        root.refresh_from_db()
    have = User.objects.filter(username__startswith=PREFIX).count()
    if have >= n:
        return root
    print(f"creating {n - have} members …", flush=True)
    password = make_password("netbranch-demo")
    for start in range(have, n, BATCH):
        stop = min(n, start + BATCH)
        with transaction.atomic():
            users = User.objects.bulk_create(
                User(
                    username=f"{PREFIX}{i:06d}", email=f"{PREFIX}{i}@example.com", password=password
                )
                for i in range(start, stop)
            )
            Member.objects.bulk_create(
                Member(user=u, real_name=f"基准党员{i}", branch=branches[i % len(branches)])
                for i, u in zip(range(start, stop), users, strict=True)
            )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return root


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument(
        "--chunk", type=int, default=None, help="NETBRANCH_FANOUT_CHUNK for this run"
    )
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        print("note: not PostgreSQL; the figures that matter are on Postgres (set DATABASE_URL)")
    from django.conf import settings

    if args.chunk:
        settings.NETBRANCH_FANOUT_CHUNK = args.chunk
    services._enqueue_emails = lambda event_id: None  # time the fan-out alone

    root = ensure_members(args.members)
    audience = services.members_of([root])

    # Baseline: the same rows with a plain bulk_create (ids already in memory, no audience).
    baseline_event = Event.objects.create(kind="message", subject="baseline", audience="users")
    ids = list(
        Member.objects.filter(user__username__startswith=PREFIX)
        .order_by("user_id")
        .values_list("user_id", flat=True)
    )
    now = timezone.now()
    started = time.perf_counter()
    with transaction.atomic():
        Notification.objects.bulk_create(
            (Notification(event=baseline_event, recipient_id=i, created_at=now) for i in ids),
            batch_size=BATCH,
        )
    baseline = time.perf_counter() - started

    # The fan-out: resolve the audience in the database, insert in chunks, idempotently.
    event = Event.objects.create(
        kind="message", subject="fan-out", audience=audience.name, audience_params=audience.params
    )
    started = time.perf_counter()
    count = services.event_fan_out(event_id=event.pk)
    fanout = time.perf_counter() - started
    rows = Notification.objects.filter(event=event).count()

    # Idempotence costs: running it again on a finished event, and re-running a forgotten one.
    Event.objects.filter(pk=event.pk).update(fanned_out_at=None)
    started = time.perf_counter()
    services.event_fan_out(event_id=event.pk)
    rerun = time.perf_counter() - started
    assert Notification.objects.filter(event=event).count() == rows

    Event.objects.filter(pk__in=[event.pk, baseline_event.pk]).delete()

    print(f"database: {connection.vendor}, chunk: {settings.NETBRANCH_FANOUT_CHUNK}")
    print(f"{'':28}{'rows':>10}{'seconds':>10}{'rows/s':>12}")
    print(f"{'plain bulk_create':28}{len(ids):>10}{baseline:>10.2f}{len(ids) / baseline:>12,.0f}")
    print(f"{'fan-out (notify)':28}{rows:>10}{fanout:>10.2f}{rows / fanout:>12,.0f}")
    print(f"{'fan-out re-run (no new row)':28}{0:>10}{rerun:>10.2f}{'':>12}")
    ratio = fanout / baseline
    print(f"fan-out / baseline: {ratio:.2f}x (goal: under 2x)")
    assert count == rows == len(ids), (count, rows, len(ids))
    return 0 if ratio < 2 else 1


if __name__ == "__main__":
    sys.exit(main())
