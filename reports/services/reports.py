"""The activity report workflow (活动报告): a branch's secretary (or deputy, or committee
member) prepares the report of a period, submits it, and a committee reviewer above the branch
approves it or returns it with comments; a returned report is edited and submitted again.

    draft ──submit──▶ submitted ──approve──▶ approved
                          │  ▲
                    return│  │submit (figures frozen again)
                          ▼  │
                        returned

The figures are computed by `reports.selectors.figures` and frozen into the report at each
submission. Every step locks the report row (`select_for_update(of=("self",))`) and checks the
state it finds there, so a double click or two reviewers at once give one step. Reminders
("due soon", "overdue") go once per organisation, period and kind: the `ReportReminder` row is
claimed in the transaction of the notification.
"""

import posixpath
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from branches.models import Organization, RoleAssignment
from branches.scope import ancestor_paths, assignments
from core.uploads import validate_document
from notifications.services import notify, users

from ..models import ActivityReport, ReportAttachment, ReportEvent, ReportReminder
from ..periods import Period, local_today, local_zone
from ..selectors.figures import REPORTING_KINDS, figures_for

Status = ActivityReport.Status
Role = RoleAssignment.Role
PREPARER_ROLES = tuple(RoleAssignment.BRANCH_COMMITTEE_ROLES)
MAX_ATTACHMENTS = 10


def report_periods() -> list[str]:
    """The period kinds branches report on (settings.NETBRANCH_REPORT_PERIODS)."""
    return [k for k in settings.NETBRANCH_REPORT_PERIODS if k in ("month", "quarter", "year")]


# --- who may do what (no query beyond the cached assignments) --------------------------------


def _active(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active)


def can_prepare(user, organization: Organization) -> bool:
    """Secretary, deputy or committee member of the organisation itself. Reviewers do not
    prepare reports, and a committee's officers do not prepare their branches' reports."""
    if not _active(user) or organization.kind not in REPORTING_KINDS:
        return False
    return any(
        role in PREPARER_ROLES and path == organization.path for role, path in assignments(user)
    )


def can_review(user, organization: Organization) -> bool:
    """A committee reviewer of an organisation above this one; never one of its own officers
    (a secretary does not approve their own branch's report, whatever role they hold above)."""
    if not _active(user) or can_prepare(user, organization):
        return False
    return any(
        role == Role.REVIEWER and organization.path.startswith(path) and path != organization.path
        for role, path in assignments(user)
    )


def _require(allowed: bool, message: str) -> None:
    if not allowed:
        raise PermissionDenied(message)


def _locked(report: ActivityReport) -> ActivityReport:
    return (
        ActivityReport.objects.select_for_update(of=("self",))
        .select_related("organization")
        .get(pk=report.pk)
    )


# --- recipients --------------------------------------------------------------------------------


def officers_of(organization_ids) -> dict[int, set[int]]:
    """Organisation id -> active users preparing its reports. One query."""
    out: dict[int, set[int]] = {}
    for org_id, user_id in RoleAssignment.objects.filter(
        organization_id__in=list(organization_ids), role__in=PREPARER_ROLES, user__is_active=True
    ).values_list("organization_id", "user_id"):
        out.setdefault(org_id, set()).add(user_id)
    return out


def reviewers_above(organizations) -> dict[int, set[int]]:
    """Organisation id -> active reviewers assigned above it. One query."""
    organizations = list(organizations)
    rows = list(
        RoleAssignment.objects.filter(
            role=Role.REVIEWER,
            user__is_active=True,
            organization__path__in=ancestor_paths(
                [o.path for o in organizations], include_self=False
            ),
        ).values_list("organization__path", "user_id")
    )
    return {
        o.pk: {u for path, u in rows if o.path.startswith(path) and path != o.path}
        for o in organizations
    }


def _subject(report: ActivityReport) -> str:
    return f"{report.organization.name} · {report.period.label()}"


def _tell(kind: str, report: ActivityReport, user_ids, *, by) -> None:
    recipients = {u for u in user_ids if u and u != getattr(by, "pk", None)}
    if recipients:
        notify(
            kind=kind,
            target=report,
            audience=users(recipients),
            by=by,
            subject=_subject(report),
            url=report.get_absolute_url(),
        )


# --- preparing -----------------------------------------------------------------------------------


def _check_period(period: Period, today: date) -> None:
    if period.kind not in report_periods():
        raise ValidationError(_("Reports are not written for this kind of period."))
    if period.start > today:
        raise ValidationError(_("This period has not started yet."))


@transaction.atomic
def report_open(*, organization: Organization, period: Period, by) -> ActivityReport:
    """The organisation's report for the period, created as a draft the first time."""
    _require(can_prepare(by, organization), _("Only the branch's committee prepares its report."))
    _check_period(period, local_today())
    report, created = ActivityReport.objects.get_or_create(
        organization=organization,
        period_kind=period.kind,
        period_start=period.start,
        defaults={"period_end": period.end, "due_on": period.due_on(), "prepared_by": by},
    )
    if not created and report.prepared_by_id is None:
        report.prepared_by = by
        report.save(update_fields=["prepared_by", "updated_at"])
    return report


def _require_editable(stored: ActivityReport, by) -> None:
    _require(
        can_prepare(by, stored.organization), _("Only the branch's committee prepares its report.")
    )
    if not stored.is_editable:
        raise ValidationError(_("This report has been submitted and can no longer be changed."))


@transaction.atomic
def report_update(*, report: ActivityReport, by, narrative: str) -> ActivityReport:
    """Save the narrative of a draft or returned report."""
    stored = _locked(report)
    _require_editable(stored, by)
    stored.narrative = narrative or ""  # RichTextField sanitises it on save
    stored.prepared_by = by
    stored.save(update_fields=["narrative", "prepared_by", "updated_at"])
    return stored


@transaction.atomic
def report_attachment_add(*, report: ActivityReport, by, file, title: str = "") -> ReportAttachment:
    """Attach a document (PDF or Office, checked by its content in `core`). Nothing is stored
    when the file is refused."""
    stored = _locked(report)
    _require_editable(stored, by)
    if file is None:
        raise ValidationError({"file": _("Choose a file to attach.")})
    try:
        validate_document(file)
    except ValidationError as exc:
        raise ValidationError({"file": exc.messages}) from exc
    if stored.attachments.count() >= MAX_ATTACHMENTS:
        raise ValidationError(
            {"file": _("A report has at most %(n)s attachments.") % {"n": MAX_ATTACHMENTS}}
        )
    title = (title or "").strip() or posixpath.splitext(posixpath.basename(file.name or ""))[0]
    attachment = ReportAttachment(report=stored, title=title[:120], file=file)
    attachment.full_clean()
    attachment.save()
    return attachment


@transaction.atomic
def report_attachment_remove(*, report: ActivityReport, by, attachment_id: int) -> None:
    """Remove an attachment of an editable report; its file is deleted after commit."""
    stored = _locked(report)
    _require_editable(stored, by)
    attachment = ReportAttachment.objects.filter(report=stored, pk=attachment_id).first()
    if attachment is None:
        raise ValidationError(_("This attachment does not exist (any more)."))
    name, storage = attachment.file.name, attachment.file.storage
    attachment.delete()
    if name:
        transaction.on_commit(lambda: storage.delete(name))


@transaction.atomic
def report_submit(*, report: ActivityReport, by, now: datetime | None = None) -> ActivityReport:
    """Freeze the figures into the report and send it to the reviewers above the branch.
    Submitting a report that is already submitted changes nothing (a double click)."""
    now = now or timezone.now()
    stored = _locked(report)
    _require(
        can_prepare(by, stored.organization), _("Only the branch's committee submits its report.")
    )
    if stored.status == Status.SUBMITTED:
        return stored
    if not stored.is_editable:
        raise ValidationError(_("This report has been approved and can no longer be submitted."))
    if timezone.localdate(now, local_zone()) < stored.period_end:
        raise ValidationError(_("The period is not over yet: submit the report after it ends."))
    org = stored.organization
    stored.figures = figures_for(organization_ids=[org.pk], period=stored.period, now=now)[org.pk]
    stored.figures_at = now
    stored.submitted_at = now
    stored.status = Status.SUBMITTED
    stored.prepared_by = by
    stored.save(
        update_fields=[
            "figures", "figures_at", "submitted_at", "status", "prepared_by", "updated_at",
        ]
    )  # fmt: skip
    ReportEvent.objects.create(report=stored, action=ReportEvent.Action.SUBMITTED, by=by, at=now)
    _tell("report_submitted", stored, reviewers_above([org])[org.pk], by=by)
    return stored


def _review(stored: ActivityReport, by) -> None:
    _require(
        can_review(by, stored.organization),
        _("Only a committee reviewer above the branch reviews its report."),
    )
    if stored.status != Status.SUBMITTED:
        raise ValidationError(_("Only a submitted report can be approved or returned."))


@transaction.atomic
def report_approve(
    *, report: ActivityReport, by, comment: str = "", now: datetime | None = None
) -> ActivityReport:
    now = now or timezone.now()
    stored = _locked(report)
    _review(stored, by)
    comment = (comment or "").strip()
    stored.status = Status.APPROVED
    stored.reviewed_at, stored.reviewed_by, stored.review_comment = now, by, comment
    stored.save(
        update_fields=["status", "reviewed_at", "reviewed_by", "review_comment", "updated_at"]
    )
    ReportEvent.objects.create(
        report=stored, action=ReportEvent.Action.APPROVED, by=by, at=now, comment=comment
    )
    org = stored.organization
    _tell("report_approved", stored, officers_of([org.pk]).get(org.pk, ()), by=by)
    return stored


@transaction.atomic
def report_return(
    *, report: ActivityReport, by, comment: str, now: datetime | None = None
) -> ActivityReport:
    """Send the report back to the branch with the reviewer's comments (required)."""
    now = now or timezone.now()
    comment = (comment or "").strip()
    if not comment:
        raise ValidationError({"comment": _("Say what the branch should complete or correct.")})
    stored = _locked(report)
    _review(stored, by)
    stored.status = Status.RETURNED
    stored.reviewed_at, stored.reviewed_by, stored.review_comment = now, by, comment
    stored.save(
        update_fields=["status", "reviewed_at", "reviewed_by", "review_comment", "updated_at"]
    )
    ReportEvent.objects.create(
        report=stored, action=ReportEvent.Action.RETURNED, by=by, at=now, comment=comment
    )
    org = stored.organization
    _tell("report_returned", stored, officers_of([org.pk]).get(org.pk, ()), by=by)
    return stored


# --- reminders ---------------------------------------------------------------------------------


def _claim(org_id: int, period: Period, kind: str) -> bool:
    """Insert the reminder row; False when it was there already (sent before, or another run
    holds it: the unique row makes the second insert wait for the first's transaction)."""
    _row, created = ReportReminder.objects.get_or_create(
        organization_id=org_id, period_kind=period.kind, period_start=period.start, kind=kind
    )
    return created


def reports_remind(*, today: date | None = None, now: datetime | None = None) -> dict:
    """Daily. For every reporting organisation and the last ended period of each reported kind:
    "due soon" from NETBRANCH_REPORT_REMIND_DAYS before the due date to the due date, "overdue"
    after it (the report is flagged for the reviewers), once each, for reports not submitted.
    Returns counts of what was sent."""
    now = now or timezone.now()
    today = today or timezone.localdate(now, local_zone())
    sent = {"due_soon": 0, "overdue": 0}
    for kind in report_periods():
        period = Period.containing(today, kind).previous()
        due = period.due_on()
        if today > due:
            sent["overdue"] += _remind_period(period, ReportReminder.Kind.OVERDUE, now)
        elif today >= due - timedelta(days=settings.NETBRANCH_REPORT_REMIND_DAYS):
            sent["due_soon"] += _remind_period(period, ReportReminder.Kind.DUE_SOON, now)
    return sent


@transaction.atomic
def _remind_period(period: Period, kind: str, now: datetime) -> int:
    done = ActivityReport.objects.filter(
        period_kind=period.kind,
        period_start=period.start,
        status__in=[Status.SUBMITTED, Status.APPROVED],
    ).values("organization_id")
    already = ReportReminder.objects.filter(
        period_kind=period.kind, period_start=period.start, kind=kind
    ).values("organization_id")
    orgs = list(
        Organization.objects.filter(kind__in=REPORTING_KINDS)
        .exclude(pk__in=done)
        .exclude(pk__in=already)
        .order_by("path")
    )
    claimed = [o for o in orgs if _claim(o.pk, period, kind)]
    if not claimed:
        return 0
    officers = officers_of([o.pk for o in claimed])
    url = reverse("reports:list")
    subject = period.label()
    told = set().union(*(officers.get(o.pk, set()) for o in claimed))
    if kind == ReportReminder.Kind.DUE_SOON:
        if told:
            notify(
                kind="report_due_soon", target=None, audience=users(told), subject=subject, url=url
            )
        return len(claimed)
    # Overdue: flag the report (a draft is created where none was started) for the reviewers.
    existing = set(
        ActivityReport.objects.filter(
            organization__in=claimed, period_kind=period.kind, period_start=period.start
        ).values_list("organization_id", flat=True)
    )
    ActivityReport.objects.bulk_create(
        [
            ActivityReport(
                organization=o,
                period_kind=period.kind,
                period_start=period.start,
                period_end=period.end,
                due_on=period.due_on(),
            )
            for o in claimed
            if o.pk not in existing
        ],
        ignore_conflicts=True,
    )
    ActivityReport.objects.filter(
        organization__in=claimed,
        period_kind=period.kind,
        period_start=period.start,
        status__in=[Status.DRAFT, Status.RETURNED],
        overdue_flagged_at__isnull=True,
    ).update(overdue_flagged_at=now)
    if told:
        notify(kind="report_overdue", target=None, audience=users(told), subject=subject, url=url)
    reviewers = set().union(*reviewers_above(claimed).values())
    if reviewers:
        notify(
            kind="reports_overdue",
            target=None,
            audience=users(reviewers),
            subject=subject,
            url=f"{url}?status=overdue&period={period}",
        )
    return len(claimed)
