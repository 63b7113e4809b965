"""The activity report workflow: who prepares and who reviews, the state machine, frozen
figures, scope of the pages, the export, reminders, hostile input, fixed query counts."""

import io
from datetime import date

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from branches.models import Organization, RoleAssignment
from notifications.models import Event
from reports.models import ActivityReport, ReportAttachment, ReportEvent, ReportReminder
from reports.periods import Period
from reports.selectors import reports as selectors
from reports.services import reports as services
from tests import factories

Q2 = Period.parse("2025-Q2")
Status = ActivityReport.Status

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def opened(tree, org=None, period=Q2, by=None):
    org = org or tree.branch
    by = by or (tree.secretary if org == tree.branch else tree.secretary2)
    return services.report_open(organization=org, period=period, by=by)


def submitted(tree, org=None, **kw):
    report = opened(tree, org, **kw)
    by = tree.secretary if report.organization_id == tree.branch.pk else tree.secretary2
    return services.report_submit(report=report, by=by)


# --- who prepares ------------------------------------------------------------------------------


def test_only_the_branch_committee_opens_its_report(tree):
    report = opened(tree)
    assert report.status == Status.DRAFT
    assert (report.period_start, report.period_end) == (date(2025, 4, 1), date(2025, 6, 30))
    assert report.due_on == date(2025, 7, 10)
    assert opened(tree).pk == report.pk  # get, not a second one
    deputy = factories.UserFactory(username="deputy")
    factories.RoleAssignmentFactory(
        user=deputy, organization=tree.branch, role=RoleAssignment.Role.DEPUTY_SECRETARY
    )
    assert services.report_open(organization=tree.branch, period=Q2, by=deputy).pk == report.pk
    for user, org in (
        (tree.reviewer, tree.branch),  # reviewers do not prepare
        (tree.secretary2, tree.branch),  # another branch's secretary
        (tree.member.user, tree.branch),  # a plain member
        (tree.admin, tree.branch),
    ):
        with pytest.raises(PermissionDenied):
            services.report_open(organization=org, period=Q2, by=user)


def test_committees_and_party_groups_do_not_report(tree):
    for org in (tree.company, tree.party_group):
        factories.RoleAssignmentFactory(
            user=factories.UserFactory(), organization=org, role=RoleAssignment.Role.SECRETARY
        )
    for org in (tree.company, tree.party_group):
        sec = RoleAssignment.objects.get(organization=org).user
        with pytest.raises(PermissionDenied):
            services.report_open(organization=org, period=Q2, by=sec)


def test_periods_checked(tree, settings):
    with pytest.raises(ValidationError):
        services.report_open(
            organization=tree.branch, period=Period.parse("2025-05"), by=tree.secretary
        )
    with pytest.raises(ValidationError):
        services.report_open(
            organization=tree.branch, period=Period.parse("2099-Q1"), by=tree.secretary
        )
    settings.NETBRANCH_REPORT_PERIODS = ["month"]
    assert (
        services.report_open(
            organization=tree.branch, period=Period.parse("2025-05"), by=tree.secretary
        ).period_kind
        == "month"
    )


# --- the state machine ---------------------------------------------------------------------------


def test_no_approval_or_return_of_a_draft(tree):
    report = opened(tree)
    with pytest.raises(ValidationError):
        services.report_approve(report=report, by=tree.reviewer)
    with pytest.raises(ValidationError):
        services.report_return(report=report, by=tree.reviewer, comment="补充")
    assert ActivityReport.objects.get(pk=report.pk).status == Status.DRAFT


def test_submit_approve(tree):
    report = submitted(tree)
    assert report.status == Status.SUBMITTED
    assert report.figures["members"] == 3 and report.figures_at and report.submitted_at
    event = Event.objects.get(kind="report_submitted")
    assert event.audience_params == {"users": [tree.reviewer.pk]}
    for user in (tree.secretary, tree.secretary2, tree.member.user):
        with pytest.raises(PermissionDenied):
            services.report_approve(report=report, by=user)
    approved = services.report_approve(report=report, by=tree.reviewer, comment="好")
    assert approved.status == Status.APPROVED and approved.reviewed_by == tree.reviewer
    assert Event.objects.get(kind="report_approved").audience_params == {
        "users": [tree.secretary.pk]
    }
    with pytest.raises(ValidationError):
        services.report_approve(report=approved, by=tree.reviewer)
    with pytest.raises(ValidationError):
        services.report_submit(report=approved, by=tree.secretary)
    with pytest.raises(ValidationError):
        services.report_update(report=approved, by=tree.secretary, narrative="x")
    assert list(ReportEvent.objects.values_list("action", flat=True)) == ["submitted", "approved"]


def test_double_submit_is_harmless(tree):
    report = submitted(tree)
    again = services.report_submit(report=report, by=tree.secretary)
    assert again.status == Status.SUBMITTED and again.figures_at == report.figures_at
    assert ReportEvent.objects.count() == 1
    assert Event.objects.filter(kind="report_submitted").count() == 1


def test_return_needs_comments_then_resubmit_refreezes(tree):
    report = submitted(tree)
    with pytest.raises(ValidationError):
        services.report_return(report=report, by=tree.reviewer, comment="  ")
    returned = services.report_return(report=report, by=tree.reviewer, comment="请补充党课情况")
    assert returned.status == Status.RETURNED and returned.is_editable
    services.report_update(report=returned, by=tree.secretary, narrative="<p>已补充</p>")
    factories.MemberFactory(branch=tree.branch)
    again = services.report_submit(report=returned, by=tree.secretary)
    assert again.status == Status.SUBMITTED
    assert again.figures["members"] == 4  # frozen again at resubmission
    assert again.figures_at > report.figures_at
    actions = list(ReportEvent.objects.values_list("action", "comment"))
    assert actions == [("submitted", ""), ("returned", "请补充党课情况"), ("submitted", "")]


def test_only_a_reviewer_above_reviews_never_the_branch_itself(tree):
    """The branch's secretary holding a reviewer role on the company still cannot approve their
    own branch's report, but may review the sibling's."""
    factories.RoleAssignmentFactory(
        user=tree.secretary, organization=tree.company, role=RoleAssignment.Role.REVIEWER
    )
    own = submitted(tree)
    sibling = submitted(tree, tree.sibling)
    with pytest.raises(PermissionDenied):
        services.report_approve(report=own, by=tree.secretary)
    services.report_approve(report=sibling, by=tree.secretary)
    # A reviewer of another group reviews nothing here.
    stranger = factories.UserFactory(username="stranger")
    factories.RoleAssignmentFactory(
        user=stranger, organization=tree.other_group, role=RoleAssignment.Role.REVIEWER
    )
    with pytest.raises(PermissionDenied):
        services.report_return(report=own, by=stranger, comment="x")


def test_submit_before_the_period_ends_is_refused(tree):
    current = Period.containing(date.today(), "quarter")
    report = services.report_open(organization=tree.branch, period=current, by=tree.secretary)
    with pytest.raises(ValidationError):
        services.report_submit(report=report, by=tree.secretary)


# --- frozen figures --------------------------------------------------------------------------------


def test_submitted_figures_do_not_change_when_the_data_changes(tree, client):
    report = submitted(tree)
    frozen = dict(report.figures)
    for _i in range(3):
        factories.MemberFactory(branch=tree.branch)
    report.refresh_from_db()
    assert report.figures == frozen
    client.force_login(tree.reviewer)
    client.cookies["django_language"] = "en"
    page = client.get(report.get_absolute_url()).content.decode()
    assert "Figures frozen on" in page and "Live figures" not in page
    context = selectors.report_page(report=report, user=tree.reviewer)
    assert context["figures"]["members"] == 3 and not context["live"]
    draft = opened(tree, tree.sibling)
    live = selectors.report_page(report=draft, user=tree.secretary2)
    assert live["live"] and live["figures"]["members"] == 3  # sibling: 3 registered


# --- pages and scope ---------------------------------------------------------------------------


def test_secretary_sees_only_their_branch_reviewer_their_subtree(tree, client):
    own = opened(tree)
    sibling = submitted(tree, tree.sibling)
    client.force_login(tree.secretary)
    assert client.get(own.get_absolute_url()).status_code == 200
    assert client.get(sibling.get_absolute_url()).status_code == 404
    assert client.get(reverse("reports:print", args=[sibling.pk])).status_code == 404
    assert client.post(reverse("reports:submit", args=[sibling.pk])).status_code == 404
    listing = client.get(reverse("reports:list")).content.decode()
    assert tree.branch.name in listing and tree.sibling.name not in listing
    client.force_login(tree.reviewer)
    for report in (own, sibling):
        assert client.get(report.get_absolute_url()).status_code == 200
    listing = client.get(reverse("reports:list") + "?status=submitted").content.decode()
    assert tree.sibling.name in listing and own.get_absolute_url() not in listing
    stranger = factories.UserFactory(username="stranger")
    factories.RoleAssignmentFactory(
        user=stranger, organization=tree.other_group, role=RoleAssignment.Role.REVIEWER
    )
    client.force_login(stranger)
    assert client.get(sibling.get_absolute_url()).status_code == 404
    client.force_login(tree.member.user)
    assert client.get(own.get_absolute_url()).status_code == 404
    assert client.get(reverse("reports:list")).status_code == 403


def test_a_reviewer_also_assigned_at_the_branch_still_reviews_it_from_above(tree, client):
    """Reviewer assignments nest: the one at the group covers the sibling, whatever other
    reviewer assignment the user holds on the sibling itself."""
    factories.RoleAssignmentFactory(
        user=tree.reviewer, organization=tree.sibling, role=RoleAssignment.Role.REVIEWER
    )
    report = submitted(tree, tree.sibling)
    client.force_login(tree.reviewer)
    assert client.get(report.get_absolute_url()).status_code == 200
    assert report in selectors.reports_for_review(user=tree.reviewer, status="submitted")


def test_open_another_branch_by_raw_id_is_404(tree, client):
    client.force_login(tree.secretary)
    response = client.post(
        reverse("reports:open"), {"organization": tree.sibling.pk, "period": str(Q2)}
    )
    assert response.status_code == 404
    assert not ActivityReport.objects.exists()
    # An unknown period, a period not started: back to the list with the reason, nothing made.
    client.cookies["django_language"] = "en"
    for period, reason in (("2025-Q9", "Unknown period."), ("2099-Q1", "has not started yet")):
        response = client.post(
            reverse("reports:open"), {"organization": tree.branch.pk, "period": period}
        )
        assert response.status_code == 302 and response.url == reverse("reports:list")
        shown = [str(m) for m in get_messages(response.wsgi_request)]
        assert any(reason in m for m in shown), shown
    assert not ActivityReport.objects.exists()
    response = client.post(
        reverse("reports:open"), {"organization": tree.branch.pk, "period": str(Q2)}
    )
    report = ActivityReport.objects.get()
    assert response.status_code == 302 and response.url == report.get_absolute_url()


def test_review_through_the_pages(tree, client):
    report = submitted(tree)
    client.force_login(tree.reviewer)
    page = client.get(report.get_absolute_url()).content.decode()
    assert reverse("reports:return", args=[report.pk]) in page
    assert client.get(reverse("reports:return", args=[report.pk])).status_code == 405
    response = client.post(reverse("reports:return", args=[report.pk]), {"comment": ""})
    assert response.status_code == 400
    client.post(reverse("reports:return", args=[report.pk]), {"comment": "请补充"})
    report.refresh_from_db()
    assert report.status == Status.RETURNED
    client.force_login(tree.secretary)
    page = client.get(report.get_absolute_url()).content.decode()
    assert "请补充" in page and reverse("reports:submit", args=[report.pk]) in page
    client.post(reverse("reports:approve", args=[report.pk]))
    report.refresh_from_db()
    assert report.status == Status.RETURNED
    client.post(reverse("reports:submit", args=[report.pk]))
    report.refresh_from_db()
    assert report.status == Status.SUBMITTED


def test_hostile_narrative_is_stripped(tree, client):
    report = opened(tree)
    client.force_login(tree.secretary)
    hostile = (
        '<p onclick="steal()">本季度<script>alert(1)</script>'
        '<a href="javascript:alert(2)">链接</a><img src=x onerror=alert(3)></p>'
    )
    client.post(reverse("reports:edit", args=[report.pk]), {"narrative": hostile})
    report.refresh_from_db()
    for bad in ("<script", "onclick", "javascript:", "onerror"):
        assert bad not in report.narrative
    assert "本季度" in report.narrative
    page = client.get(report.get_absolute_url()).content.decode()
    assert "alert(1)" not in page.split("<textarea")[0]


def test_fake_attachment_refused_nothing_saved(tree, client, settings):
    report = opened(tree)
    client.force_login(tree.secretary)
    fake = SimpleUploadedFile("report.pdf", b"<html><script>x</script></html>", "application/pdf")
    response = client.post(reverse("reports:attach", args=[report.pk]), {"file": fake})
    assert response.status_code == 400
    assert not ReportAttachment.objects.exists()
    media = settings.MEDIA_ROOT
    assert not (media / "reports").exists() or not any((media / "reports").rglob("*.*"))
    with pytest.raises(ValidationError):
        services.report_attachment_add(
            report=report,
            by=tree.secretary,
            file=SimpleUploadedFile("x.docx", b"PK\x03\x04not a docx"),
        )
    assert not ReportAttachment.objects.exists()
    good = SimpleUploadedFile("总结.pdf", PDF, "application/pdf")
    client.post(reverse("reports:attach", args=[report.pk]), {"file": good, "title": "总结"})
    assert ReportAttachment.objects.get().title == "总结"


def test_export_is_scoped_and_neutralised(tree, client):
    report = opened(tree)
    services.report_update(
        report=report, by=tree.secretary, narrative='=HYPERLINK("http://evil","x")'
    )
    submitted(tree, tree.sibling)
    client.force_login(tree.secretary)
    response = client.get(reverse("reports:export"))
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 2  # headers and the branch's own report, not the sibling's
    narrative = rows[1][10]
    assert narrative.startswith("'=")
    assert rows[1][0] == tree.branch.name
    client.force_login(tree.reviewer)
    response = client.get(reverse("reports:export") + "?status=submitted")
    rows = list(
        load_workbook(io.BytesIO(b"".join(response.streaming_content))).active.iter_rows(
            values_only=True
        )
    )
    assert [r[0] for r in rows[1:]] == [tree.sibling.name]


# --- reminders ---------------------------------------------------------------------------------


def test_reminders_once_each_and_overdue_flagged(tree, settings):
    settings.NETBRANCH_REPORT_PERIODS = ["quarter"]
    reporting = Organization.objects.filter(kind__in=["branch", "joint_branch"]).count()
    submitted(tree)  # the branch handed in Q2: no reminder for it
    # Q2 is due on 10 July; reminders from 5 July.
    assert services.reports_remind(today=date(2025, 7, 4)) == {"due_soon": 0, "overdue": 0}
    first = services.reports_remind(today=date(2025, 7, 5))
    assert first == {"due_soon": reporting - 1, "overdue": 0}
    assert services.reports_remind(today=date(2025, 7, 6)) == {"due_soon": 0, "overdue": 0}
    soon = Event.objects.get(kind="report_due_soon")
    assert set(soon.audience_params["users"]) == {tree.secretary2.pk}
    assert services.reports_remind(today=date(2025, 7, 10)) == {"due_soon": 0, "overdue": 0}
    overdue = services.reports_remind(today=date(2025, 7, 11))
    assert overdue == {"due_soon": 0, "overdue": reporting - 1}
    assert services.reports_remind(today=date(2025, 7, 12)) == {"due_soon": 0, "overdue": 0}
    flagged = ActivityReport.objects.filter(overdue_flagged_at__isnull=False)
    assert tree.sibling.pk in set(flagged.values_list("organization_id", flat=True))
    assert not flagged.filter(organization=tree.branch).exists()
    assert ReportReminder.objects.filter(kind="overdue").count() == reporting - 1
    to_reviewers = Event.objects.get(kind="reports_overdue")
    assert tree.reviewer.pk in to_reviewers.audience_params["users"]
    sibling_report = ActivityReport.objects.get(organization=tree.sibling)
    assert sibling_report.status == Status.DRAFT and sibling_report.is_overdue(date(2025, 7, 12))
    # The reviewer's list shows it among the overdue ones.
    overdue_list = selectors.reports_for_review(
        user=tree.reviewer, status="overdue", today=date(2025, 7, 12)
    )
    assert sibling_report in overdue_list


def test_yearly_report_reminded_in_january(tree, settings):
    settings.NETBRANCH_REPORT_PERIODS = ["quarter", "year"]
    sent = services.reports_remind(today=date(2026, 1, 6))  # Q4 and 2025 both due 10 January
    reporting = Organization.objects.filter(kind__in=["branch", "joint_branch"]).count()
    assert sent == {"due_soon": 2 * reporting, "overdue": 0}
    assert ReportReminder.objects.filter(period_kind="year").count() == reporting


# --- home worklist -------------------------------------------------------------------------------


def test_worklist_counts(tree):
    assert selectors.worklist(user=tree.member.user) is None
    opened(tree)
    work = selectors.worklist(user=tree.secretary, today=date(2025, 7, 20))
    assert work["due"] == 2 and work["returned"] == 0  # Q2 and 2024 not handed in
    submitted(tree, tree.sibling)
    review = selectors.worklist(user=tree.reviewer, today=date(2025, 7, 20))
    assert review["to_review"] == 1 and review["reviews"] and not review["prepares"]


# --- query counts --------------------------------------------------------------------------------


def _count(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.status_code
    return len(ctx.captured_queries)


def _branches(tree, n):
    out = []
    for _i in range(n):
        org = factories.OrganizationFactory(parent=tree.company, kind=Organization.Kind.BRANCH)
        sec = factories.UserFactory()
        factories.RoleAssignmentFactory(user=sec, organization=org)
        out.append((org, sec))
    return out


@pytest.mark.parametrize("status", ["", "submitted"])
def test_list_queries_fixed_2_vs_20(tree, client, status):
    client.force_login(tree.reviewer)
    url = reverse("reports:list") + (f"?status={status}" if status else "")
    for org, sec in _branches(tree, 2):
        services.report_submit(
            report=services.report_open(organization=org, period=Q2, by=sec), by=sec
        )
    small = _count(client, url)
    for org, sec in _branches(tree, 18):
        services.report_submit(
            report=services.report_open(organization=org, period=Q2, by=sec), by=sec
        )
    assert ActivityReport.objects.count() == 20
    assert _count(client, url) == small
    print(f"reviewer list: {small} queries")


def test_secretary_list_queries_fixed(tree, client):
    client.force_login(tree.secretary)
    url = reverse("reports:list")
    small = _count(client, url)
    for p in ("2025-Q1", "2025-Q2", "2024-Q4", "2024"):
        services.report_open(organization=tree.branch, period=Period.parse(p), by=tree.secretary)
    assert _count(client, url) == small
    print(f"secretary list: {small} queries")


def test_report_page_queries_fixed(tree, client):
    report = opened(tree)
    client.force_login(tree.secretary)
    draft_small = _count(client, report.get_absolute_url())
    for org, sec in _branches(tree, 20):
        services.report_submit(
            report=services.report_open(organization=org, period=Q2, by=sec), by=sec
        )
    for i in range(5):
        services.report_attachment_add(
            report=report,
            by=tree.secretary,
            file=SimpleUploadedFile(f"f{i}.pdf", PDF, "application/pdf"),
        )
    assert _count(client, report.get_absolute_url()) == draft_small
    sub = services.report_submit(report=report, by=tree.secretary)
    client.force_login(tree.reviewer)
    frozen_small = _count(client, sub.get_absolute_url())
    for _i in range(9):
        services.report_return(report=sub, by=tree.reviewer, comment="再补充")
        sub = services.report_submit(report=sub, by=tree.secretary)
    assert ReportEvent.objects.filter(report=sub).count() == 19
    assert _count(client, sub.get_absolute_url()) == frozen_small
    assert _count(client, reverse("reports:print", args=[sub.pk])) <= frozen_small
    print(f"report page: draft {draft_small}, submitted {frozen_small} queries")


# --- the admin ---------------------------------------------------------------------------------


def test_admin_scoped_read_mostly_and_approve_action(tree, client):
    own = submitted(tree)
    sibling = submitted(tree, tree.sibling)
    changelist = reverse("admin:reports_activityreport_changelist")
    client.force_login(tree.secretary)
    page = client.get(changelist).content.decode()
    assert tree.branch.name in page and tree.sibling.name not in page
    assert client.get(reverse("admin:reports_activityreport_change", args=[own.pk])).status_code == 200  # fmt: skip
    assert client.get(reverse("admin:reports_activityreport_change", args=[sibling.pk])).status_code == 404  # fmt: skip
    # A secretary cannot approve, not even through the action.
    client.post(changelist, {"action": "approve", "_selected_action": [own.pk]})
    own.refresh_from_db()
    assert own.status == Status.SUBMITTED
    client.force_login(tree.reviewer)
    page = client.get(reverse("admin:reports_activityreport_change", args=[own.pk])).content
    assert b'name="narrative"' not in page  # read-only
    client.post(changelist, {"action": "approve", "_selected_action": [own.pk, sibling.pk]})
    assert set(ActivityReport.objects.values_list("status", flat=True)) == {Status.APPROVED}
    client.force_login(tree.admin)
    for lang in ("zh-hans", "en"):
        client.cookies["django_language"] = lang
        assert client.get(changelist).status_code == 200
        assert client.get(reverse("reports:list")).status_code == 200
        assert client.get(own.get_absolute_url()).status_code == 200
        assert client.get(reverse("reports:print", args=[own.pk])).status_code == 200
