"""Reads of the activity reports: who sees which report (a branch's committee its own, a
reviewer the reports of the branches below them), the secretary's periods with their reports,
the reviewer's list, a report's page, the export rows and the home worklist. Each page costs a
fixed number of queries whatever the number of reports."""

from dataclasses import dataclass
from datetime import date
from html import unescape

from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.html import strip_tags
from django.utils.translation import gettext as _

from branches.models import Organization
from branches.scope import REVIEW_ROLES, assignments, managed_paths, subtree_q
from core.richtext import sanitize_html

from ..models import ActivityReport, ReportEvent
from ..periods import Period, local_today, local_zone
from ..services.reports import (
    PREPARER_ROLES,
    can_prepare,
    can_review,
    report_periods,
)
from .figures import (
    FIGURE_ROWS,
    RATE_KEYS,
    REPORTING_KINDS,
    compliance,
    failing_keys,
    figure_value,
    figures_for,
)

Status = ActivityReport.Status
#: Statuses a list can be filtered by ("overdue": flagged, still not submitted).
LIST_STATUSES = ("submitted", "returned", "approved", "draft", "overdue")
#: How many past periods of each kind the secretary's list shows.
PAST_PERIODS = {"month": 6, "quarter": 4, "year": 1}


def _superuser(user) -> bool:
    return bool(getattr(user, "is_superuser", False) and user.is_active)


def preparer_paths(user) -> list[str]:
    return sorted({p for role, p in assignments(user) if role in PREPARER_ROLES})


def reviewer_paths(user) -> list[str]:
    return managed_paths(user, REVIEW_ROLES)


def review_q(user, prefix: str = "organization__") -> Q:
    """Reports of organisations strictly below the user's reviewer assignments."""
    paths = reviewer_paths(user)
    if not paths:
        return Q(pk__in=[])
    q = subtree_q(paths, prefix=prefix)
    return q & ~Q(**{f"{prefix}path__in": paths})


def visible_q(user) -> Q:
    """Reports the user may read: their own organisations' (as a preparer), those they review;
    every report for a superuser."""
    if _superuser(user):
        return Q()
    q = review_q(user)
    mine = preparer_paths(user)
    if mine:
        q |= Q(organization__path__in=mine)
    return q


def access_report_by_id(*, report_id: int, user) -> ActivityReport:
    """The report if the user may read it, else 404 (another branch's report by raw id)."""
    report = (
        ActivityReport.objects.filter(visible_q(user), pk=report_id)
        .select_related("organization", "prepared_by__member", "reviewed_by__member")
        .first()
    )
    if report is None:
        raise Http404
    return report


# --- the secretary's periods ---------------------------------------------------------------


@dataclass
class PeriodRow:
    organization: Organization
    period: Period
    report: ActivityReport | None
    today: date

    @property
    def status(self) -> str:
        return self.report.status if self.report else ""

    @property
    def due_on(self) -> date:
        return self.period.due_on()

    @property
    def ended(self) -> bool:
        return self.today > self.period.end

    @property
    def overdue(self) -> bool:
        return self.today > self.due_on and self.status in ("", Status.DRAFT, Status.RETURNED)

    @property
    def needs_action(self) -> bool:
        return self.status == Status.RETURNED or (self.ended and self.status in ("", Status.DRAFT))


def periods_shown(today: date) -> list[Period]:
    """The current period of each reported kind and the last few ended ones, newest first."""
    out = []
    for kind in report_periods():
        period = Period.containing(today, kind)
        for _i in range(PAST_PERIODS.get(kind, 1) + 1):
            out.append(period)
            period = period.previous()
    return sorted(out, key=lambda p: (p.end, p.kind == "year"), reverse=True)


def preparer_organizations(user) -> list[Organization]:
    """Reporting organisations where the user sits on the committee (one query, none without
    such a role)."""
    paths = preparer_paths(user)
    if not paths:
        return []
    return list(
        Organization.objects.filter(path__in=paths, kind__in=REPORTING_KINDS).order_by("path")
    )


def my_periods(*, user, today: date | None = None) -> list[dict]:
    """Per organisation the user prepares reports for: its periods (current and recent) with
    the report of each if started. Two queries."""
    today = today or local_today()
    orgs = preparer_organizations(user)
    if not orgs:
        return []
    periods = periods_shown(today)
    starts = {p.start for p in periods}
    reports = {
        (r.organization_id, r.period_kind, r.period_start): r
        for r in ActivityReport.objects.filter(
            organization__in=orgs, period_start__in=starts
        ).order_by()
    }
    return [
        {
            "organization": org,
            "rows": [
                PeriodRow(
                    organization=org,
                    period=p,
                    report=reports.get((org.pk, p.kind, p.start)),
                    today=today,
                )
                for p in periods
            ],
        }
        for org in orgs
    ]


# --- the reviewer's list ---------------------------------------------------------------------


def reports_for_review(
    *, user, status: str = "", period: Period | None = None, today: date | None = None
) -> QuerySet:
    """Reports of the branches below the user's reviewer assignments (every report for a
    superuser), filtered; submitted first, then by period and tree order."""
    qs = ActivityReport.objects.all()
    if not _superuser(user):
        qs = qs.filter(review_q(user))
    return _filtered(qs, status=status, period=period, today=today).select_related("organization")


def export_reports(*, user, status: str = "", period: Period | None = None) -> QuerySet:
    """The reports the user may read, filtered like the list: for the Excel export."""
    qs = _filtered(ActivityReport.objects.filter(visible_q(user)), status=status, period=period)
    return qs.select_related("organization", "prepared_by__member", "reviewed_by__member")


def _filtered(
    qs: QuerySet, *, status: str, period: Period | None, today: date | None = None
) -> QuerySet:
    """The lists' filters (a status or "overdue", a period) and order: newest period first."""
    if status == "overdue":
        qs = qs.filter(
            status__in=[Status.DRAFT, Status.RETURNED], due_on__lt=today or local_today()
        )
    elif status in Status.values:
        qs = qs.filter(status=status)
    if period is not None:
        qs = qs.filter(period_kind=period.kind, period_start=period.start)
    return qs.order_by("-period_start", "period_kind", "organization__path")


def narrative_text(html: str) -> str:
    """The narrative as plain text (for a spreadsheet cell)."""
    text = sanitize_html(html).replace("</p>", "</p>\n").replace("<br>", "\n")
    return unescape(strip_tags(text)).replace("\xa0", " ").strip()[:32_000]


def _name(user) -> str:
    if user is None:
        return ""
    member = getattr(user, "member", None)
    return (member.real_name if member else "") or user.get_username()


EXPORT_FIGURES = (
    "members", "meetings_missed", "attendance_rate", "lessons_published", "study_completion",
    "points", "reflections", "welfare_activities", "welfare_hours", "motions_closed",
    "decisions_overdue", "board_questions", "board_answered", "outreach_open",
    "transfers_overdue",
)  # fmt: skip


def export_sheet(reports) -> tuple[list, list]:
    labels = dict(FIGURE_ROWS)
    headers = [
        _("organisation"), _("period"), _("status"), _("due on"), _("submitted at"),
        _("prepared by"), _("reviewed at"), _("reviewed by"), _("reviewer's comments"),
        _("flagged overdue at"), _("narrative"), _("figures as of"),
        *(str(labels[k]) for k in EXPORT_FIGURES),
    ]  # fmt: skip
    rows = []
    for r in reports:
        figs = r.figures or {}
        rows.append(
            [
                r.organization.name,
                r.period.label(),
                r.get_status_display(),
                r.due_on,
                r.submitted_at,
                _name(r.prepared_by),
                r.reviewed_at,
                _name(r.reviewed_by),
                r.review_comment,
                r.overdue_flagged_at,
                narrative_text(r.narrative),
                r.figures_at,
                *(figs.get(k) if figs else None for k in EXPORT_FIGURES),
            ]
        )
    return headers, rows


# --- a report's page -------------------------------------------------------------------------


@dataclass
class FigureRow:
    key: str
    label: str
    value: object
    failing: bool
    required: int | None = None

    @property
    def is_rate(self) -> bool:
        return self.key in RATE_KEYS

    @property
    def percent(self) -> int | None:
        return None if self.value is None else round(float(self.value) * 100)


def figure_rows(figures: dict) -> list[FigureRow]:
    failing = failing_keys(figures)
    required = figures.get("meetings_required", {})
    rows = []
    for key, label in FIGURE_ROWS:
        value = figure_value(figures, key)
        row = FigureRow(key=key, label=str(label), value=value, failing=key in failing)
        if key.startswith("meetings_held."):
            row.required = required.get(key.split(".", 1)[1], 0)
            row.failing = bool(row.required) and (value or 0) < row.required
            if not row.required and not value:
                continue
        rows.append(row)
    return rows


def report_page(*, report: ActivityReport, user, now=None) -> dict:
    """Everything the report's page shows: the figures (live for a report still being
    prepared, frozen after submission), compliance, attachments, history, what the user may
    do. A fixed number of queries."""
    now = now or timezone.now()
    live = report.is_editable
    if live:
        figures = figures_for(
            organization_ids=[report.organization_id], period=report.period, now=now
        )[report.organization_id]
    else:
        figures = report.figures or {}
    events = list(
        ReportEvent.objects.filter(report=report).select_related("by__member").order_by("at", "pk")
    )
    attachments = list(report.attachments.all())
    checks = compliance(figures) if figures else {}
    return {
        "report": report,
        "live": live,
        "figures": figures,
        "rows": figure_rows(figures) if figures else [],
        "compliance": checks,
        "all_compliant": all(checks.values()) if checks else None,
        "events": events,
        "attachments": attachments,
        "can_edit": live and can_prepare(user, report.organization),
        "can_submit": live and can_prepare(user, report.organization),
        "can_review": report.status == Status.SUBMITTED and can_review(user, report.organization),
        "today": timezone.localdate(now, local_zone()),
        "period_over": timezone.localdate(now, local_zone()) >= report.period_end,
    }


# --- the home worklist ---------------------------------------------------------------------


def worklist(*, user, assignments=None, today: date | None = None) -> dict | None:
    """For the home page: a preparer's reports due (the last ended periods not handed in) and
    returned, a reviewer's reports to review. `assignments`: the user's RoleAssignment rows
    with their organisation, when the page has them already. One query; none for a user
    without a role."""
    if assignments is None:
        from branches.models import RoleAssignment

        assignments = list(RoleAssignment.objects.filter(user=user).select_related("organization"))
    mine = sorted(
        {
            a.organization.path
            for a in assignments
            if a.role in PREPARER_ROLES and a.organization.kind in REPORTING_KINDS
        }
    )
    reviewing = any(a.role == "reviewer" for a in assignments)
    if not mine and not reviewing:
        return None
    today = today or local_today()
    last = [Period.containing(today, k).previous() for k in report_periods()]
    due_q = Q(pk__in=[])
    for p in last:
        due_q |= Q(period_kind=p.kind, period_start=p.start)
    mine_q = Q(organization__path__in=mine)
    counts = ActivityReport.objects.filter(mine_q | review_q(user)).aggregate(
        returned=Count("pk", filter=mine_q & Q(status=Status.RETURNED)),
        handed_in=Count(
            "pk", filter=mine_q & due_q & Q(status__in=[Status.SUBMITTED, Status.APPROVED])
        ),
        to_review=Count("pk", filter=review_q(user) & Q(status=Status.SUBMITTED)),
    )
    return {
        "prepares": bool(mine),
        "reviews": reviewing,
        "due": max(len(mine) * len(last) - counts["handed_in"], 0),
        "returned": counts["returned"],
        "to_review": counts["to_review"],
    }
