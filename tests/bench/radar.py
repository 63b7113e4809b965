"""Lost-contact radar benchmark: `members_update_contact_status` over N members (default
100,000) with their last activity and last login spread over a year.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/netbranch_bench \\
        .venv/bin/python tests/bench/radar.py --members 100000

It creates its own organisation and members on the first run (usernames `radarbench…`, kept
for the next run), then times three runs: from everyone "active" (most rows move), again
(nothing moves), and after a tenth of the members took part again. Prints seconds and queries.
"""

import argparse
import os
import random
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from branches.models import Organization  # noqa: E402
from members import services  # noqa: E402
from members.models import Member  # noqa: E402

User = get_user_model()
ROOT_NAME = "雷达基准测试党委"
PREFIX = "radarbench"
BATCH = 5000


def ensure_members(n: int, now) -> None:
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
                root, {"name": f"雷达支部{len(branches) + 1}", "kind": Organization.Kind.BRANCH}
            )
        )
        root.refresh_from_db()
    have = User.objects.filter(username__startswith=PREFIX).count()
    if have >= n:
        return
    print(f"creating {n - have} members …", flush=True)
    rng = random.Random("radar-bench")
    long_ago = now - timedelta(days=400)

    def ago(p_none: float):
        return None if rng.random() < p_none else now - timedelta(days=rng.uniform(0, 365))

    for start in range(have, n, BATCH):
        stop = min(n, start + BATCH)
        with transaction.atomic():
            users = User.objects.bulk_create(
                User(username=f"{PREFIX}{i:06d}", password="!", last_login=ago(0.2))
                for i in range(start, stop)
            )
            Member.objects.bulk_create(
                Member(
                    user=u,
                    real_name=f"雷达党员{i}",
                    branch=branches[i % len(branches)],
                    last_active_at=ago(0.1),
                )
                for i, u in zip(range(start, stop), users, strict=True)
            )
    Member.objects.filter(user__username__startswith=PREFIX).update(created_at=long_ago)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def timed(label: str, now) -> None:
    with CaptureQueriesContext(connection) as ctx:
        started = time.perf_counter()
        moved = services.members_update_contact_status(now=now)
        seconds = time.perf_counter() - started
    print(
        f"{label:34}{seconds:>9.2f}{len(ctx.captured_queries):>9}{sum(moved.values()):>10}"
        f"   {moved}",
        flush=True,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=100_000)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        print("note: not PostgreSQL; the figures that matter are on Postgres (set DATABASE_URL)")
    now = timezone.now()
    ensure_members(args.members, now)
    total = Member.objects.filter(archived_at__isnull=True, branch__isnull=False).count()
    print(f"database: {connection.vendor}, registered members: {total}")
    print(f"{'run':34}{'seconds':>9}{'queries':>9}{'moved':>10}")
    Member.objects.filter(user__username__startswith=PREFIX).update(contact_status="active")
    timed("from everyone active", now)
    timed("again (nothing moves)", now)
    Member.objects.filter(user__username__startswith=PREFIX, user__username__endswith="0").update(
        last_active_at=now
    )
    timed("after a tenth took part again", now)
    return 0


if __name__ == "__main__":
    sys.exit(main())
