"""The demo's committee dashboard: `reviewer` sees the group at a glance, a silent branch that
is also behind on its reports, and the bulk tree gets a year of meetings and its rollup."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse

from meetings.models import Attendance, Meeting
from portal.demo.review import PAST_TITLE, SILENT_DAYS
from reports.models import BranchFigures
from reports.periods import Period, PeriodKind, local_today
from reports.selectors.figures import REPORTING_KINDS

User = get_user_model()


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker, tmp_path_factory):
    """The small demo, seeded once for this module and flushed after (as in
    tests/portal/test_seed_demo.py)."""
    from django.test.utils import override_settings

    with (
        django_db_blocker.unblock(),
        override_settings(
            DEBUG=True,
            PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
            MEDIA_ROOT=tmp_path_factory.mktemp("media"),
            EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
            CELERY_TASK_ALWAYS_EAGER=True,
        ),
    ):
        call_command("seed_demo", stdout=StringIO(), stderr=StringIO())
        yield
        call_command("flush", "--noinput", stdout=StringIO())


def test_reviewer_sees_the_group_a_silent_branch_and_one_behind(seeded, db, client):
    from branches.models import Organization

    client.force_login(User.objects.get(username="reviewer"))
    home = client.get("/").content.decode()
    assert reverse("reports:review") in home
    response = client.get(reverse("reports:review"))
    assert response.status_code == 200
    reporting = Organization.objects.filter(kind__in=REPORTING_KINDS).count()
    assert response.context["count"] == reporting
    silent = [row.organization.name for row in response.context["silent"]]
    assert silent == ["路桥公司机关党支部"]
    row = response.context["silent"][0]
    assert (response.context["now"] - row.last_activity_at).days >= SILENT_DAYS
    behind = {r.organization.name: r.report_status for r in response.context["behind"]}
    assert behind.get("路桥公司机关党支部", "missing") in (None, "draft")  # not handed in
    assert "returned" in behind.values()  # 青藏联合支部, to resubmit
    # Four quarters of history on the chart, and every unit under the group in the table.
    assert sum(1 for s in response.context["series"] if s["branches"]) >= 4
    assert len(response.context["units"]) == 4
    # Drill down from the company to the silent branch.
    company = Organization.objects.get(name="瀚川路桥工程有限公司党委")
    body = client.get(reverse("reports:review"), {"root": company.pk}).content.decode()
    branch = Organization.objects.get(name="路桥公司机关党支部")
    assert reverse("reports:review_branch", args=[branch.pk]) in body
    page = client.get(reverse("reports:review_branch", args=[branch.pk]))
    assert page.status_code == 200 and page.context["silent"]


def test_the_rollup_covers_the_demo_periods(seeded, db):
    today = local_today()
    quarter = Period.containing(today, PeriodKind.QUARTER)
    for period in (quarter, quarter.previous().previous().previous()):
        assert BranchFigures.objects.filter(
            period_kind=period.kind, period_start=period.start
        ).exists()
    assert BranchFigures.objects.filter(period_kind="month").exists()


def test_bulk_adds_three_past_quarters_of_meetings_and_the_rollup(seeded, db, settings):
    settings.DEBUG = True
    call_command("seed_demo", members=300, stdout=StringIO(), stderr=StringIO())
    past = Meeting.objects.filter(title=PAST_TITLE)
    kinds = set(past.values_list("kind", flat=True))
    assert kinds == {
        "general_meeting",
        "party_lesson",
        "committee_meeting",
        "themed_day",
        "group_meeting",
    }
    for kind in kinds:
        assert Attendance.objects.filter(meeting__title=PAST_TITLE, meeting__kind=kind).exists()
    # Three quarters back, nothing this quarter (the meetings demo has this one).
    quarter = Period.containing(local_today(), PeriodKind.QUARTER)
    assert not past.filter(starts_at__date__gte=quarter.start).exists()
    from branches.models import Organization

    reporting = Organization.objects.filter(kind__in=REPORTING_KINDS).count()
    quarter = Period.containing(local_today(), PeriodKind.QUARTER)
    assert (
        BranchFigures.objects.filter(period_kind="quarter", period_start=quarter.start).count()
        == reporting
    )
    # Idempotent: this module's bulk again (after the tree's) adds nothing.
    from portal.demo import DemoContext, branches, ensure_admin, review

    before = past.count(), Attendance.objects.count()
    ctx = DemoContext(password_hash="!", verbosity=0)
    ensure_admin(ctx)
    branches.seed(ctx)
    branches.bulk(ctx, members=300)
    review.bulk(ctx, members=300)
    assert (past.count(), Attendance.objects.count()) == before
