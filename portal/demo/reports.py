"""Demo activity reports (活动报告).

Small demo: for every reporting organisation of the demo group (branches, joint and mobile
branches, the general branch), the reports of the last four ended quarters and of last year,
prepared and submitted by the branch's committee through the services on time and reviewed
by `reviewer`:
- all approved, except for the last ended quarter: submitted and awaiting review in a few
  branches (`reviewer`'s "reports to review"), RETURNED with comments in 青藏联合支部
  (`secretary`'s branch: to complete and resubmit), not handed in by 路桥机关支部 (flagged
  overdue by the reminders run at the end);
- a draft of the current quarter in 青藏联合支部 and 康定隧道支部 (live figures).
Natural key: a report by (organisation, period). The history is dated at the period's due
date (submitted two days before it, reviewed three days after); the notifications of the
approved history are dropped so the inboxes show only what is current.

Bulk (`--members N`): the bulk registration branches get the same year of reports with
`bulk_create` (figures computed set-based once per period for all of them): most approved,
about one in ten submitted awaiting review, one in twenty returned, the rest not handed in.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.core.management.base import CommandError
from django.utils import timezone

from branches.models import RoleAssignment
from notifications.models import Event
from reports.models import ActivityReport, ReportEvent
from reports.periods import Period, PeriodKind
from reports.selectors.figures import REPORTING_KINDS, figures_for
from reports.services import reports as services

from . import BATCH, DemoContext, batched
from .branches import bulk_branches

Status = ActivityReport.Status
RETURNED_IN = "c1_joint"
AWAITING = ("c1_sctr", "c2_yn", "c3_cy", "hq1", "c1_mobile")
NOT_HANDED_IN = "c3_office"
CURRENT_DRAFTS = ("c1_joint", "c1_sctr")
RETURN_COMMENT = (
    "报告中“三会一课”部分只列了次数，请补充本季度党课的主题、授课人和参加人数；"
    "那曲项目部无网络期间的纸质签到表请扫描成 PDF 作为附件上传。补充后重新提交。"
)
NARRATIVE = (
    "<p>本季度{org}坚持“三会一课”制度，按期召开支部党员大会和支委会，"
    "围绕安全生产、质量管理开展主题党日活动。</p>"
    "<h3>一、主要工作</h3><ul><li>组织党员线上学习微党课，边远项目部通过纸质学习包同步学习；</li>"
    "<li>开展“党员先锋岗”创建，党员带头攻坚关键工序；</li><li>组织微公益活动，走访困难职工家庭。</li></ul>"
    "<h3>二、存在问题</h3><p>高原项目部网络条件差，部分党员线上学习进度滞后。</p>"
    "<h3>三、下步打算</h3><p>加强与项目部的联系，按月寄送学习资料，确保学习全覆盖。</p>"
)


def at_hour(day, hour: int) -> datetime:
    """`hour`:00 local time on `day`, timezone-aware."""
    return timezone.make_aware(datetime.combine(day, time(hour, 0)))


def _history_periods(today) -> list[Period]:
    quarter = Period.containing(today, PeriodKind.QUARTER)
    quarters = []
    for _i in range(4):
        quarter = quarter.previous()
        quarters.append(quarter)
    return [*reversed(quarters), Period.containing(today, PeriodKind.YEAR).previous()]


def _preparers() -> dict[int, object]:
    """Organisation id -> a committee member who prepares its reports (the secretary first)."""
    order = {r: i for i, r in enumerate(RoleAssignment.BRANCH_COMMITTEE_ROLES)}
    out: dict[int, tuple[int, object]] = {}
    for a in RoleAssignment.objects.filter(
        role__in=RoleAssignment.BRANCH_COMMITTEE_ROLES, organization__kind__in=REPORTING_KINDS
    ).select_related("user"):
        rank = order[a.role]
        if a.organization_id not in out or rank < out[a.organization_id][0]:
            out[a.organization_id] = (rank, a.user)
    return {org_id: user for org_id, (_rank, user) in out.items()}


def seed(ctx: DemoContext) -> None:
    reviewer = (
        RoleAssignment.objects.filter(
            organization=ctx.orgs["group"], role=RoleAssignment.Role.REVIEWER
        )
        .select_related("user")
        .first()
    )
    if reviewer is None:
        return
    reviewer = reviewer.user
    preparers = _preparers()
    orgs = {k: o for k, o in ctx.orgs.items() if o.kind in REPORTING_KINDS}
    existing = {
        (r.organization_id, r.period_kind, r.period_start)
        for r in ActivityReport.objects.filter(organization__in=list(orgs.values()))
    }
    periods = _history_periods(ctx.today)
    last_quarter = periods[-2]
    approved_ids: list[int] = []
    for key, org in orgs.items():
        by = preparers.get(org.pk)
        if by is None:
            continue
        for period in periods:
            if (org.pk, period.kind, period.start) in existing:
                continue
            if period == last_quarter and key == NOT_HANDED_IN:
                continue
            report = services.report_open(organization=org, period=period, by=by)
            services.report_update(
                report=report, by=by, narrative=NARRATIVE.format(org=org.display_name)
            )
            due = period.due_on()
            report = services.report_submit(
                report=report, by=by, now=at_hour(due - timedelta(days=2), 10)
            )
            reviewed = at_hour(due + timedelta(days=3), 16)
            if period == last_quarter and key == RETURNED_IN:
                services.report_return(
                    report=report, by=reviewer, comment=RETURN_COMMENT, now=reviewed
                )
            elif period == last_quarter and key in AWAITING:
                pass
            else:
                services.report_approve(report=report, by=reviewer, now=reviewed)
                approved_ids.append(report.pk)
            ctx.count("activity reports")
    current = Period.containing(ctx.today, PeriodKind.QUARTER)
    for key in CURRENT_DRAFTS:
        org = orgs.get(key)
        by = preparers.get(org.pk) if org else None
        if by is None or (org.pk, current.kind, current.start) in existing:
            continue
        report = services.report_open(organization=org, period=current, by=by)
        services.report_update(
            report=report,
            by=by,
            narrative="<p>本季度工作正在进行中，季度结束后补充完整并提交。</p>",
        )
        ctx.count("activity reports")
    if approved_ids:
        # The approved history is old news: no inbox rows for it.
        Event.objects.filter(
            kind__in=["report_submitted", "report_approved"],
            target_id__in=approved_ids,
            target_type__model="activityreport",
        ).delete()
    # Backdate the rows' own timestamps to the history's dates.
    for report in ActivityReport.objects.filter(pk__in=approved_ids):
        ActivityReport.objects.filter(pk=report.pk).update(
            created_at=report.submitted_at - timedelta(days=7), updated_at=report.reviewed_at
        )
    sent = services.reports_remind(today=ctx.today, now=ctx.now)
    ctx.log(f"report reminders: {sent}")


# --------------------------------------------------------------------------------------------
# Bulk
# --------------------------------------------------------------------------------------------


def bulk(ctx: DemoContext, *, members: int) -> None:
    branches = bulk_branches(ctx)
    if not branches:
        return
    ids = [b.id for b in branches]
    periods = _history_periods(ctx.today)
    # Handed-in reports only: the reminders add (unsubmitted) drafts for overdue branches.
    present = ActivityReport.objects.filter(
        organization_id__in=ids, submitted_at__isnull=False
    ).count()
    expected = _expected(ids, periods)
    if present and present != expected:
        raise CommandError(
            f"The database already holds {present} bulk activity reports, not {expected} for "
            f"--members {members}. Run `manage.py flush` to seed a different size."
        )
    if present:
        ctx.log("bulk activity reports: already there")
        return
    reviewer = (
        RoleAssignment.objects.filter(
            organization=ctx.orgs["group"], role=RoleAssignment.Role.REVIEWER
        )
        .values_list("user_id", flat=True)
        .first()
    )
    rng = ctx.rng(f"reports-bulk-{len(ids)}")
    reports: list[ActivityReport] = []
    last_quarter = periods[-2]
    for period in periods:
        due = period.due_on()
        submitted_at = at_hour(due - timedelta(days=2), 10)
        reviewed_at = at_hour(due + timedelta(days=3), 16)
        figures = figures_for(organization_ids=ids, period=period, now=submitted_at)
        for i, org_id in enumerate(ids):
            status = _status(ids, i, period == last_quarter)
            if status is None:
                continue
            reports.append(
                ActivityReport(
                    organization_id=org_id,
                    period_kind=period.kind,
                    period_start=period.start,
                    period_end=period.end,
                    due_on=due,
                    status=status,
                    narrative=NARRATIVE.format(org="支部"),
                    figures=figures.get(org_id, {}),
                    figures_at=submitted_at,
                    submitted_at=submitted_at + timedelta(minutes=rng.randrange(0, 600)),
                    reviewed_at=reviewed_at if status != Status.SUBMITTED else None,
                    reviewed_by_id=reviewer if status != Status.SUBMITTED else None,
                    review_comment=RETURN_COMMENT if status == Status.RETURNED else "",
                )
            )
    bar = ctx.progress(total=len(reports), desc="activity reports")
    events: list[ReportEvent] = []
    for chunk in batched(reports):
        ActivityReport.objects.bulk_create(chunk, batch_size=BATCH)
        bar.update(len(chunk))
    bar.close()
    created = ActivityReport.objects.filter(
        organization_id__in=ids, submitted_at__isnull=False
    ).values_list("pk", "status", "submitted_at", "reviewed_at", "review_comment")
    for pk, status, submitted_at, reviewed_at, comment in created:
        events.append(
            ReportEvent(report_id=pk, action=ReportEvent.Action.SUBMITTED, at=submitted_at)
        )
        if status in (Status.APPROVED, Status.RETURNED):
            events.append(
                ReportEvent(
                    report_id=pk, action=status, at=reviewed_at, by_id=reviewer, comment=comment
                )
            )
    for chunk in batched(events):
        ReportEvent.objects.bulk_create(chunk, batch_size=BATCH)
    ctx.count("activity reports", len(reports))
    # Remind and flag the bulk branches now, as the small demo did its own: a second run then
    # finds every reminder claimed.
    ctx.log(f"bulk report reminders: {services.reports_remind(today=ctx.today, now=ctx.now)}")


def _status(ids: list[int], i: int, latest: bool) -> str | None:
    """The status of the i-th bulk branch's report: deterministic proportions."""
    if not latest:
        return Status.APPROVED
    slot = i % 20
    if slot in (0, 1):
        return Status.SUBMITTED
    if slot == 2:
        return Status.RETURNED
    if slot == 3:
        return None  # not handed in
    return Status.APPROVED


def _expected(ids: list[int], periods: list[Period]) -> int:
    latest = sum(1 for i in range(len(ids)) if _status(ids, i, True) is not None)
    return len(ids) * (len(periods) - 1) + latest
