"""The committee dashboard /review/: scope, silent branches, reports behind, filters and sort,
drill-down, export, query counts at 20 and 2,000 branches, and the rollup behind it."""

import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from branches.models import Organization, RoleAssignment
from reports.models import ActivityReport, BranchFigures, BranchRating
from reports.periods import Period, PeriodKind, local_today
from reports.selectors import dashboard as selectors
from reports.selectors.dashboard import DashboardQuery
from reports.selectors.figures import empty_figures
from reports.services.rollup import figures_refresh
from tests import factories

SHANGHAI = ZoneInfo("Asia/Shanghai")


def this_quarter() -> Period:
    return Period.containing(local_today(), PeriodKind.QUARTER)


def figures(org, period=None, *, computed_at=None, last_activity_at="now", **values):
    period = period or this_quarter()
    data = {**empty_figures(), **values}
    now = timezone.now()
    last = now - timedelta(days=1) if last_activity_at == "now" else last_activity_at
    data["last_activity_at"] = last.isoformat() if last else None
    return BranchFigures.objects.create(
        organization=org,
        period_kind=period.kind,
        period_start=period.start,
        figures=data,
        last_activity_at=last,
        computed_at=computed_at or now,
    )


@pytest.fixture
def dash(tree):
    """Figures of this quarter for the tree's four reporting organisations, a second company
    under the group with its own branch, and a reviewer of the first company only."""
    company2 = factories.OrganizationFactory(
        parent=tree.group, name="二公司党委", kind=Organization.Kind.COMMITTEE
    )
    branch2 = factories.OrganizationFactory(
        parent=company2, name="二公司项目党支部", kind=Organization.Kind.BRANCH
    )
    for org in (company2, branch2):
        org.refresh_from_db()
    figures(tree.branch, members=12, attendance_rate=0.9, meetings_compliant=True)
    figures(
        tree.sibling, members=8, attendance_rate=0.5, meetings_compliant=False, meetings_missed=2
    )
    figures(tree.joint, members=5, attendance_rate=None)
    figures(tree.outside, members=3)
    figures(branch2, members=20, attendance_rate=0.7)
    company_reviewer = factories.UserFactory(username="company_reviewer")
    factories.RoleAssignmentFactory(
        user=company_reviewer, organization=tree.company, role=RoleAssignment.Role.REVIEWER
    )
    tree.company2, tree.branch2, tree.company_reviewer = company2, branch2, company_reviewer
    return tree


def page(client, user, **params):
    client.force_login(user)
    return client.get(reverse("reports:review"), params)


# --- who sees what -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_group_reviewer_sees_the_group_and_not_outside(client, dash):
    body = page(client, dash.reviewer).content.decode()
    for org in (dash.branch, dash.sibling, dash.joint, dash.branch2):
        assert org.name in body
    assert dash.outside.name not in body


@pytest.mark.django_db
def test_company_reviewer_sees_only_the_company(client, dash):
    response = page(client, dash.company_reviewer)
    body = response.content.decode()
    assert response.status_code == 200
    for org in (dash.branch, dash.sibling, dash.joint):
        assert org.name in body
    assert dash.branch2.name not in body and dash.outside.name not in body
    assert response.context["totals"]["branches"] == 3
    assert response.context["totals"]["members"] == 25


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["secretary", "member", "participant"])
def test_secretary_and_member_get_nothing_of_the_dashboard(client, dash, who):
    user = dash.secretary if who == "secretary" else getattr(dash, who).user
    client.force_login(user)
    urls = [
        reverse("reports:review"),
        reverse("reports:review") + f"?root={dash.company.pk}",
        reverse("reports:review_branch", args=[dash.branch.pk]),
        reverse("reports:review_export"),
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 403, url
        body = response.content.decode()
        assert "committee reviewers" in body or "党委" in body
        assert dash.sibling.name not in body and "attendance_rate" not in body
    response = client.post(reverse("reports:review_refresh"))
    assert response.status_code == 403


@pytest.mark.django_db
def test_the_nav_link_shows_for_reviewers_only(client, dash):
    url = reverse("reports:review")
    client.force_login(dash.reviewer)
    assert f'href="{url}"' in client.get("/").content.decode()
    client.force_login(dash.secretary)
    assert f'href="{url}"' not in client.get("/").content.decode()


# --- drill-down ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_drill_down_to_a_company_with_a_breadcrumb(client, dash):
    response = page(client, dash.reviewer, root=dash.company.pk)
    body = response.content.decode()
    assert response.status_code == 200
    assert dash.branch.name in body and dash.branch2.name not in body
    crumbs = [c["pk"] for c in response.context["structure"].crumbs]
    assert crumbs == [dash.group.pk, dash.company.pk]


@pytest.mark.django_db
def test_drill_down_scope_is_checked(client, dash):
    client.force_login(dash.company_reviewer)
    review = reverse("reports:review")
    assert client.get(review, {"root": dash.group.pk}).status_code == 404
    assert client.get(review, {"root": dash.company2.pk}).status_code == 404
    assert client.get(review, {"root": dash.other_group.pk}).status_code == 404
    assert client.get(review, {"root": 999999}).status_code == 404
    for org in (dash.branch2, dash.outside):
        url = reverse("reports:review_branch", args=[org.pk])
        assert client.get(url).status_code == 404
    # A committee is not a branch page; a branch as ?root= leads to its page.
    url = reverse("reports:review_branch", args=[dash.company.pk])
    assert client.get(url).status_code == 404
    response = client.get(review, {"root": dash.branch.pk})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("reports:review_branch", args=[dash.branch.pk]))


@pytest.mark.django_db
def test_branch_page_shows_figures_meetings_members_and_reports(
    client, dash, django_assert_max_num_queries
):
    period = this_quarter().previous()
    ActivityReport.objects.create(
        organization=dash.branch,
        period_kind=period.kind,
        period_start=period.start,
        period_end=period.end,
        due_on=period.due_on(),
    )
    client.force_login(dash.company_reviewer)
    url = reverse("reports:review_branch", args=[dash.branch.pk])
    with django_assert_max_num_queries(14):
        response = client.get(url)
    body = response.content.decode()
    assert response.status_code == 200
    assert dash.branch.name in body and period.label() in body
    assert reverse("meetings:ledger") in body
    assert "90%" in body  # this quarter's attendance rate


# --- silent branches and reports behind ----------------------------------------------------------


@pytest.mark.django_db
def test_silent_detection_at_its_edge(dash, settings):
    settings.NETBRANCH_SILENT_DAYS = 30
    now = datetime(2026, 8, 20, 12, 0, tzinfo=SHANGHAI)
    period = Period.containing(now.date(), PeriodKind.QUARTER)
    BranchFigures.objects.all().delete()
    exactly = now - timedelta(days=30)
    figures(dash.branch, period, last_activity_at=exactly, computed_at=now)
    figures(dash.sibling, period, last_activity_at=exactly - timedelta(seconds=1), computed_at=now)
    figures(dash.joint, period, last_activity_at=None, computed_at=now)
    data = selectors.dashboard(user=dash.reviewer, query=DashboardQuery(period=period), now=now)
    silent = [row.organization_id for row in data["silent"]]
    assert silent == [dash.joint.pk, dash.sibling.pk]  # never first, then the longest
    assert data["silent_total"] == 2
    flags = {row.organization_id: row.silent for row in data["rows"]}
    assert flags == {dash.branch.pk: False, dash.sibling.pk: True, dash.joint.pk: True}


@pytest.mark.django_db
def test_branches_behind_on_reports(client, dash):
    due = this_quarter().previous()
    for org, status in ((dash.branch, "approved"), (dash.sibling, "draft")):
        extra = {}
        if status != "draft":
            now = timezone.now()
            extra = {"submitted_at": now, "figures_at": now, "reviewed_at": now}
        ActivityReport.objects.create(
            organization=org,
            period_kind=due.kind,
            period_start=due.start,
            period_end=due.end,
            due_on=due.due_on(),
            status=status,
            **extra,
        )
    now = datetime.combine(due.due_on() + timedelta(days=1), datetime.min.time(), SHANGHAI)
    data = selectors.dashboard(
        user=dash.company_reviewer, query=DashboardQuery(period=due), now=now
    )
    assert data["due_period"] == due
    behind = {row.organization_id: row.report_status for row in data["behind"]}
    assert behind == {dash.sibling.pk: "draft", dash.joint.pk: None}
    assert data["behind_total"] == 2
    # The day it is due nobody is behind yet.
    on_time = datetime.combine(due.due_on(), datetime.min.time(), SHANGHAI)
    data = selectors.dashboard(
        user=dash.company_reviewer, query=DashboardQuery(period=due), now=on_time
    )
    assert data["due_period"] == due.previous() or data["behind"] == []


# --- filters and sort ----------------------------------------------------------------------------


def names(response):
    return [row.organization.name for row in response.context["rows"]]


@pytest.mark.django_db
def test_filters_and_sort(client, dash):
    reviewer = dash.reviewer
    assert names(page(client, reviewer, kind="joint_branch")) == [dash.joint.name]
    site_province = dash.site.province
    filtered = names(page(client, reviewer, province=site_province))
    assert dash.branch.name in filtered and dash.joint.name not in filtered
    assert names(page(client, reviewer, company=dash.company2.pk)) == [dash.branch2.name]
    BranchRating.objects.create(
        organization=dash.sibling,
        year=this_quarter().start.year,
        score=88,
        computed_stars=4,
        computed_at=timezone.now(),
    )
    assert names(page(client, reviewer, rating="4")) == [dash.sibling.name]
    assert dash.sibling.name not in names(page(client, reviewer, rating="none"))
    ordered = names(page(client, reviewer, sort="attendance_rate", dir="desc"))
    assert ordered[:3] == [dash.branch.name, dash.branch2.name, dash.sibling.name]
    assert ordered[-1] == dash.joint.name  # no rate: last either way
    ordered = names(page(client, reviewer, sort="attendance_rate"))
    assert ordered[:3] == [dash.sibling.name, dash.branch2.name, dash.branch.name]
    assert ordered[-1] == dash.joint.name
    ordered = names(page(client, reviewer, sort="members", dir="desc"))
    assert ordered[0] == dash.branch2.name
    # Non-compliant rows are marked.
    body = page(client, reviewer).content.decode()
    assert 'class="noncompliant' in body and 'class="failing"' in body


@pytest.mark.django_db
def test_charts_are_inline_svg_with_titles(client, dash):
    body = page(client, dash.reviewer).content.decode()
    assert body.count("<svg") == 3
    assert 'viewBox="0 0 320' in body and "<title" in body and "aria-labelledby" in body


# --- export --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_export_has_the_filtered_rows_with_cells_neutralised(client, dash):
    Organization.objects.filter(pk=dash.joint.pk).update(name='=HYPERLINK("http://evil","x")')
    client.force_login(dash.company_reviewer)
    response = client.get(reverse("reports:review_export"))
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    cells = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert '\'=HYPERLINK("http://evil","x")' in cells
    assert dash.branch2.name not in cells and dash.outside.name not in cells
    assert len(cells) == 3
    client.force_login(dash.reviewer)
    response = client.get(reverse("reports:review_export"), {"kind": "joint_branch"})
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    assert [r[0] for r in sheet.iter_rows(min_row=2, values_only=True)] == [
        '\'=HYPERLINK("http://evil","x")'
    ]


# --- query counts --------------------------------------------------------------------------------


def build_branches(group, n: int, periods: list[Period]) -> None:
    """n branches under n/100 (at least one) company committees below `group`, with figures
    for each period, inserted with bulk_create and paths computed directly."""
    group.refresh_from_db()
    companies = max(1, n // 100)
    orgs, child_counts = [], {}
    first = group.numchild + 1
    company_paths = []
    for c in range(companies):
        path = Organization._get_path(group.path, group.depth + 1, first + c)
        company_paths.append(path)
        orgs.append(
            Organization(path=path, depth=group.depth + 1, name=f"批量公司{c}", kind="committee")
        )
    for i in range(n):
        parent = company_paths[i % companies]
        child_counts[parent] = child_counts.get(parent, 0) + 1
        orgs.append(
            Organization(
                path=Organization._get_path(parent, group.depth + 2, child_counts[parent]),
                depth=group.depth + 2,
                name=f"批量支部{i}",
                kind="branch",
            )
        )
    for o in orgs:
        o.numchild = child_counts.get(o.path, 0)
    Organization.objects.bulk_create(orgs, batch_size=1000)
    Organization.objects.filter(pk=group.pk).update(numchild=group.numchild + companies)
    now = timezone.now()
    rows = []
    for o in orgs:
        if o.kind != "branch":
            continue
        for k, p in enumerate(periods):
            data = {**empty_figures(), "members": 10 + k, "attendance_rate": 0.5 + k / 20}
            data["meetings_compliant"] = bool((o.pk + k) % 3)
            rows.append(
                BranchFigures(
                    organization_id=o.pk,
                    period_kind=p.kind,
                    period_start=p.start,
                    figures=data,
                    last_activity_at=now - timedelta(days=o.pk % 60),
                    computed_at=now,
                )
            )
    BranchFigures.objects.bulk_create(rows, batch_size=2000)


@pytest.mark.django_db
def test_review_page_costs_at_most_ten_queries_at_20_and_2000_branches(
    client, tree, django_assert_max_num_queries
):
    periods = selectors.history(this_quarter())
    build_branches(tree.group, 20, periods)
    client.force_login(tree.reviewer)
    url = reverse("reports:review")
    client.get(url)  # warm up (content types, session)
    counts = {}
    for params in ({}, {"root": tree.group.pk, "sort": "attendance_rate", "dir": "desc"}):
        with django_assert_max_num_queries(10) as small:
            assert client.get(url, params).status_code == 200
        counts[("small", str(params))] = len(small.captured_queries)
    build_branches(tree.group, 1980, periods)
    for params in ({}, {"root": tree.group.pk, "sort": "attendance_rate", "dir": "desc"}):
        with django_assert_max_num_queries(10) as large:
            response = client.get(url, params)
        assert response.status_code == 200
        counts[("large", str(params))] = len(large.captured_queries)
        assert counts[("large", str(params))] == counts[("small", str(params))]
    assert response.context["count"] == 2000  # the tree's own branches have no figures here
    assert len(response.context["rows"]) == selectors.PAGE_SIZE
    print("review page queries:", counts)


# --- the rollup ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_rollup_refresh_is_idempotent(tree):
    period = this_quarter()
    first = figures_refresh(periods=[period])
    rows = sorted(BranchFigures.objects.values_list("organization_id", "period_start", "figures"))
    second = figures_refresh(periods=[period, period])
    assert first["rows"] == second["rows"] == 4  # branch, sibling, joint, outside
    again = sorted(BranchFigures.objects.values_list("organization_id", "period_start", "figures"))
    assert again == rows
    reporting = set(
        Organization.objects.filter(kind__in=selectors.REPORTING_KINDS).values_list("pk", flat=True)
    )
    assert {r[0] for r in rows} == reporting
    # An organisation that stops being a reporting kind loses its rows.
    Organization.objects.filter(pk=tree.joint.pk).update(kind="group")
    assert figures_refresh(periods=[period])["removed"] == 1


@pytest.mark.django_db
def test_rollup_is_set_based(tree):
    period = this_quarter()
    with CaptureQueriesContext(connection) as few:
        figures_refresh(periods=[period])
    build_branches(tree.group, 50, [])
    with CaptureQueriesContext(connection) as many:
        figures_refresh(periods=[period])
    assert len(many.captured_queries) == len(few.captured_queries)
    assert BranchFigures.objects.filter(period_start=period.start).count() >= 54


@pytest.mark.django_db
def test_reviewer_asks_for_a_refresh(client, tree, django_capture_on_commit_callbacks):
    client.force_login(tree.reviewer)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(reverse("reports:review_refresh"), {"period": "2025-Q2"})
    assert len(callbacks) == 1
    assert response.status_code == 302 and "period=2025-Q2" in response["Location"]
    assert BranchFigures.objects.filter(
        organization=tree.branch, period_kind="quarter", period_start="2025-04-01"
    ).exists()
    assert BranchFigures.objects.filter(
        organization=tree.branch, period_start=this_quarter().start
    ).exists()
    # A second click within the minute does not enqueue again.
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        client.post(reverse("reports:review_refresh"), {"period": "2025-Q2"})
    assert callbacks == []
    assert client.get(reverse("reports:review_refresh")).status_code == 405
