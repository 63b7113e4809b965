"""Committee dashboard benchmark: the rollup (`figures_refresh`) for a quarter and a year over
every organisation, and the /review/ page (Django test client, warm) over about 20 branches
(one company), 2,000 branches (ten engineering bureaus) and the whole bulk group.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/netbranch_bench \\
        .venv/bin/python tests/bench/review_dashboard.py --members 100000

It reuses the demo's bulk tree (`seed_demo --members N`: about one registration branch per
twenty members, each with a year of meetings, attendance, study, welfare, board posts and
motions) and seeds it first when the database has none (several minutes for 100,000). Three
reviewer accounts `reviewbench-…` are created once. Prints seconds and queries.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, reset_queries  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402
from django.urls import reverse  # noqa: E402

from branches.models import Organization, RoleAssignment  # noqa: E402
from branches.scope import subtree_q  # noqa: E402
from members.models import Member  # noqa: E402
from portal.demo.branches import BUREAU_SUFFIX  # noqa: E402
from reports.models import BranchFigures  # noqa: E402
from reports.periods import Period, PeriodKind, local_today  # noqa: E402
from reports.selectors.figures import REPORTING_KINDS  # noqa: E402
from reports.services.rollup import figures_refresh  # noqa: E402

User = get_user_model()
PREFIX = "reviewbench-"
RUNS = 5


def ensure_bulk(members: int) -> list[Organization]:
    bureaus = list(
        Organization.objects.filter(depth=2, name__endswith=BUREAU_SUFFIX).order_by("path")
    )
    if not bureaus:
        print(f"seeding the demo with --members {members} (once) …", flush=True)
        started = time.perf_counter()
        call_command("seed_demo", members=members, verbosity=0, force=True)
        print(f"  seed_demo: {time.perf_counter() - started:.0f} s", flush=True)
        bureaus = list(
            Organization.objects.filter(depth=2, name__endswith=BUREAU_SUFFIX).order_by("path")
        )
    return bureaus


def reviewer(name: str, organizations) -> object:
    user, _ = User.objects.get_or_create(username=PREFIX + name, defaults={"password": "!"})
    for org in organizations:
        RoleAssignment.objects.get_or_create(
            user=user, organization=org, role=RoleAssignment.Role.REVIEWER
        )
    return user


def branches_under(organizations) -> int:
    return Organization.objects.filter(
        subtree_q([o.path for o in organizations]), kind__in=REPORTING_KINDS
    ).count()


def timed_refresh(label: str, period: Period) -> None:
    # The query log keeps 9,000 entries: after seeding it is full and a capture would count 0.
    reset_queries()
    with CaptureQueriesContext(connection) as ctx:
        started = time.perf_counter()
        counts = figures_refresh(periods=[period])
        seconds = time.perf_counter() - started
    print(
        f"{label:38}{seconds:>9.2f}{len(ctx.captured_queries):>9}   "
        f"{counts['rows']} rows for {counts['organizations']} organisations",
        flush=True,
    )


def timed_page(label: str, user, params: dict, n: int) -> None:
    client = Client()
    client.force_login(user)
    url = reverse("reports:review")
    client.get(url, params)  # warm: session, caches, plans
    seconds = []
    for _i in range(RUNS):
        reset_queries()
        with CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            response = client.get(url, params)
            seconds.append(time.perf_counter() - started)
        assert response.status_code == 200, response.status_code
    print(
        f"{label:38}{statistics.median(seconds):>9.3f}{len(ctx.captured_queries):>9}   "
        f"{n} branches, median of {RUNS} (min {min(seconds):.3f}, max {max(seconds):.3f})",
        flush=True,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=100_000)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        print("This benchmark needs PostgreSQL: set DATABASE_URL=postgres://...")
        return 2
    setup_test_environment()  # 'testserver' allowed, mail kept in memory
    bureaus = ensure_bulk(args.members)
    companies = list(
        Organization.objects.filter(
            depth=3, kind=Organization.Kind.COMMITTEE, path__startswith=bureaus[0].path
        ).order_by("path")[:1]
    )
    ten = bureaus[:10]
    group = Organization.objects.get(path=bureaus[0].path[: Organization.steplen])
    members = Member.objects.filter(archived_at__isnull=True, branch__isnull=False).count()
    print(
        f"database: {connection.settings_dict['NAME']}, registered members: {members}, "
        f"reporting organisations: {Organization.objects.filter(kind__in=REPORTING_KINDS).count()}"
    )

    today = local_today()
    quarter = Period.containing(today, PeriodKind.QUARTER)
    year = Period.containing(today, PeriodKind.YEAR)
    print(f"\n{'rollup (figures_refresh)':38}{'seconds':>9}{'queries':>9}")
    timed_refresh(f"quarter {quarter}", quarter)
    timed_refresh(f"year {year}", year)
    timed_refresh(f"quarter {quarter}, again", quarter)
    stale = [
        p
        for p in (quarter.previous(), quarter.previous().previous())
        if not BranchFigures.objects.filter(period_kind=p.kind, period_start=p.start).exists()
    ]
    if stale:
        figures_refresh(periods=stale)  # the chart's history

    print(f"\n{'/review/ (warm)':38}{'seconds':>9}{'queries':>9}")
    small = reviewer("company", companies)
    large = reviewer("bureaus", ten)
    whole = reviewer("group", [group])
    params = {"period": str(quarter)}
    timed_page("one company", small, params, branches_under(companies))
    timed_page("ten bureaus", large, params, branches_under(ten))
    timed_page("the whole group", whole, params, branches_under([group]))
    timed_page(
        "ten bureaus, sorted by attendance",
        large,
        {**params, "sort": "attendance_rate", "dir": "desc"},
        branches_under(ten),
    )
    timed_page(
        "ten bureaus, filtered by province",
        large,
        {**params, "province": "四川"},
        branches_under(ten),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
