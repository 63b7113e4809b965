"""Writes of pairing help cases (双结对 帮扶): opening and correcting a case, follow-up visits
(by the paired members or the branch committee), the handover when the project leaves (to
whom, the contact, the date, the signed document) and closing. A handed-over or closed case
is kept, read-only, for the record.

Follow-up reminders: a case without a follow-up visit for NETBRANCH_WELFARE_FOLLOW_UP_DAYS
reminds its paired members; after another period without one, the branch's secretary (and the
paired members again), and so on once per period. Each reminder is claimed by a unique
CaseReminder row inserted in the same transaction as the notification, so a doubled beat tick
sends nothing twice. Handed-over and closed cases are never reminded. Notifications carry the
case's public label only (`welfare.privacy`)."""

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from branches import scope
from branches.models import Organization, RoleAssignment
from core.services import model_update
from core.uploads import validate_document, validate_image
from members.models import ActivityFact, Member
from members.selectors import members_of_organizations
from members.services import member_activity_record
from notifications.services import notify, users

from ..models import CaseReminder, FollowUp, FollowUpPhoto, PairingCase
from ..privacy import personal_data_allowed, public_label

CASE_FIELDS = (
    "organization", "project_site", "beneficiary_kind", "help_kind", "village", "name", "surname",
    "address", "phone", "household_size", "situation", "plan", "started_on",
)  # fmt: skip
MAX_PHOTOS_PER_VISIT = 6
#: Who is told at the escalation, besides the paired members.
SECRETARY_ROLES = (RoleAssignment.Role.SECRETARY, RoleAssignment.Role.DEPUTY_SECRETARY)


def _require_manage(by, organization: Organization) -> None:
    if not scope.can_manage(by, organization):
        raise PermissionDenied(
            _("You may not manage pairing help cases of %(org)s.") % {"org": organization}
        )


def _locked(case: PairingCase) -> PairingCase:
    return (
        PairingCase.objects.select_for_update(of=("self",))
        .select_related("organization")
        .get(pk=case.pk)
    )


def _require_open(case: PairingCase) -> None:
    if case.status != PairingCase.Status.OPEN:
        raise ValidationError(
            _("This case is %(status)s: it is kept as it was, for the record.")
            % {"status": case.get_status_display()}
        )


def _check_paired(organization: Organization, members: Iterable[Member]) -> list[Member]:
    members = list(members)
    allowed = set(
        members_of_organizations(organizations=[organization])
        .filter(pk__in=[m.pk for m in members])
        .values_list("pk", flat=True)
    )
    outsiders = [m for m in members if m.pk not in allowed]
    if outsiders:
        raise ValidationError(
            {
                "paired_members": _("Not members of %(org)s: %(names)s.")
                % {"org": organization, "names": "、".join(str(m) for m in outsiders)}
            }
        )
    return members


def _check_site(case: PairingCase) -> None:
    site = case.project_site
    if site is not None and not (
        site.organization.path.startswith(case.organization.path)
        or case.organization.path.startswith(site.organization.path)
    ):
        raise ValidationError({"project_site": _("Choose a project site of this organisation.")})


# --- cases ----------------------------------------------------------------------------------


@transaction.atomic
def case_create(*, by, paired_members: Iterable[Member] = (), **fields) -> PairingCase:
    unknown = set(fields) - set(CASE_FIELDS)
    if unknown:
        raise TypeError(f"unknown fields: {sorted(unknown)}")
    _require_manage(by, fields["organization"])
    case = PairingCase(created_by=by, status=PairingCase.Status.OPEN, **fields)
    _check_site(case)
    case.full_clean()
    paired = _check_paired(case.organization, paired_members)
    case.save()
    case.paired_members.set(paired)
    return case


@transaction.atomic
def case_update(*, case: PairingCase, by, fields: dict) -> PairingCase:
    """Correct an open case (its beneficiary, plan, paired members). Handed-over and closed
    cases are read-only."""
    stored = _locked(case)
    _require_manage(by, stored.organization)
    _require_open(stored)
    fields = dict(fields)
    paired = fields.pop("paired_members", None)
    if "organization" in fields:
        _require_manage(by, fields["organization"])
    moved = "organization" in fields and fields["organization"] != stored.organization
    model_update(instance=stored, fields=fields, allowed=CASE_FIELDS, clean=False)
    _check_site(stored)
    stored.full_clean()
    if paired is None and moved:
        # The paired members read the personal data: they must belong to the new branch too.
        paired = list(stored.paired_members.all())
    checked = _check_paired(stored.organization, paired) if paired is not None else None
    stored.save()
    if checked is not None:
        stored.paired_members.set(checked)
    return stored


# --- follow-up visits -----------------------------------------------------------------------


def may_follow_up(user, case: PairingCase) -> bool:
    """Paired members and the branch committee record follow-up visits of an open case."""
    return case.is_open and personal_data_allowed(user, case)


@transaction.atomic
def follow_up_add(
    *,
    case: PairingCase,
    by,
    visited_on: date,
    notes: str,
    photos: Iterable = (),
    cleared: bool = False,
    today: date | None = None,
) -> FollowUp:
    """Record a follow-up visit (what was done, up to six photos checked as `core` checks
    every upload; `cleared` marks them fit for every member who sees the case). The same
    visit submitted twice by the same person is recorded once (the first is returned)."""
    today = today or timezone.localdate()
    stored = _locked(case)
    if not personal_data_allowed(by, stored):
        raise PermissionDenied(_("Only the paired members and the branch committee record visits."))
    _require_open(stored)
    notes = (notes or "").strip()
    if not notes:
        raise ValidationError({"notes": _("Say what was done.")})
    if visited_on > today:
        raise ValidationError({"visited_on": _("A visit is recorded after it took place.")})
    if visited_on < stored.started_on:
        raise ValidationError({"visited_on": _("The visit is before the pairing started.")})
    photos = [p for p in photos if p]
    if len(photos) > MAX_PHOTOS_PER_VISIT:
        raise ValidationError(
            {"photos": _("At most %(n)s photos per visit.") % {"n": MAX_PHOTOS_PER_VISIT}}
        )
    cleaned = [validate_image(p) for p in photos]  # nothing is stored before all passed
    # A double submit (a double tap, a re-sent form) records nothing twice: under the case's
    # lock, the same visit by the same person is found and returned.
    same = FollowUp.objects.filter(case=stored, by=by, visited_on=visited_on, notes=notes).first()
    if same is not None:
        return same
    follow_up = FollowUp.objects.create(case=stored, visited_on=visited_on, notes=notes, by=by)
    for image in cleaned:
        FollowUpPhoto.objects.create(follow_up=follow_up, image=image, cleared=cleared)
    PairingCase.objects.filter(pk=stored.pk).filter(
        Q(last_follow_up_on__isnull=True) | Q(last_follow_up_on__lt=visited_on)
    ).update(last_follow_up_on=visited_on, updated_at=timezone.now())
    member = Member.objects.filter(user=by).first()
    if member is not None:
        at = timezone.make_aware(datetime.combine(visited_on, time(12, 0)))
        member_activity_record(member=member, kind=ActivityFact.Kind.SERVED, at=at)
    return follow_up


# --- handover and closing -------------------------------------------------------------------


@transaction.atomic
def case_hand_over(
    *,
    case: PairingCase,
    by,
    to_kind: str,
    to: str,
    contact: str,
    on: date,
    document,
    note: str = "",
) -> PairingCase:
    """Hand the case over (the site closes, the project leaves): to whom, their contact, the
    date and the signed handover document. The case then stays readable and stops reminding."""
    stored = _locked(case)
    _require_manage(by, stored.organization)
    _require_open(stored)
    errors = {}
    if to_kind not in PairingCase.HandoverTo.values:
        errors["to_kind"] = _("Choose to whom the case is handed over.")
    if not (to or "").strip():
        errors["to"] = _("Name who takes the case over.")
    if not (contact or "").strip():
        errors["contact"] = _("Give their contact.")
    if on is None or on < stored.started_on:
        errors["on"] = _("The handover is on or after the start of the pairing.")
    elif on > timezone.localdate():
        errors["on"] = _("Record the handover once it took place.")
    if not document:
        errors["document"] = _("Attach the signed handover document.")
    if errors:
        raise ValidationError(errors)
    validate_document(document)
    stored.status = PairingCase.Status.HANDED_OVER
    stored.handover_to_kind = to_kind
    stored.handover_to = to.strip()
    stored.handover_contact = contact.strip()
    stored.handed_over_on = on
    stored.handover_document = document
    stored.handover_note = (note or "").strip()
    stored.full_clean()
    stored.save()
    return stored


@transaction.atomic
def case_close(*, case: PairingCase, by, on: date, reason: str) -> PairingCase:
    stored = _locked(case)
    _require_manage(by, stored.organization)
    _require_open(stored)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the case is closed.")})
    if on < stored.started_on or on > timezone.localdate():
        raise ValidationError({"on": _("Give a date between the start of the pairing and today.")})
    model_update(
        instance=stored,
        fields={"status": PairingCase.Status.CLOSED, "closed_on": on, "closed_reason": reason},
        allowed=("status", "closed_on", "closed_reason"),
    )
    return stored


# --- reminders ------------------------------------------------------------------------------


def follow_up_period() -> int:
    return max(1, int(settings.NETBRANCH_WELFARE_FOLLOW_UP_DAYS))


def due_since(case: PairingCase) -> date:
    """The date the follow-up clock runs from: the last visit, else the start."""
    return case.last_follow_up_on or case.started_on


def overdue_cases(*, today: date | None = None):
    """Open cases without a follow-up visit for a period or more."""
    today = today or timezone.localdate()
    cutoff = today - timedelta(days=follow_up_period())
    return (
        PairingCase.objects.filter(status=PairingCase.Status.OPEN)
        .annotate(since=Coalesce("last_follow_up_on", "started_on"))
        .filter(since__lte=cutoff)
    )


def cases_send_follow_up_reminders(
    *, today: date | None = None, now: datetime | None = None
) -> int:
    """Daily (beat): remind about each open case without a follow-up visit for a period, once
    per period: the first period its paired members, every later one the branch's secretary
    and deputies too. Returns how many reminders went out."""
    today = today or timezone.localdate()
    now = now or timezone.now()
    days = follow_up_period()
    due = list(
        overdue_cases(today=today)
        .select_related("organization")
        .prefetch_related("paired_members")
        .order_by("pk")
    )
    if not due:
        return 0
    secretaries: dict[int, list[int]] = defaultdict(list)
    for org_id, user_id in RoleAssignment.objects.filter(
        organization__in={c.organization_id for c in due}, role__in=SECRETARY_ROLES
    ).values_list("organization_id", "user_id"):
        secretaries[org_id].append(user_id)
    sent = 0
    for case in due:
        periods = (today - case.since).days // days
        period_start = case.since + timedelta(days=periods * days)
        paired = [m.user_id for m in case.paired_members.all()]
        if periods == 1 and paired:
            stage, kind, recipients = CaseReminder.Stage.PAIRED, "welfare_follow_up_due", paired
        else:
            stage, kind = CaseReminder.Stage.SECRETARY, "welfare_follow_up_overdue"
            recipients = sorted({*paired, *secretaries.get(case.organization_id, [])})
        try:
            with transaction.atomic():
                CaseReminder.objects.create(
                    case=case,
                    period_start=period_start,
                    stage=stage,
                    sent_at=now,
                    recipients=len(recipients),
                )
                if recipients:
                    notify(
                        kind=kind,
                        target=case,
                        audience=users(recipients),
                        subject=_("%(case)s: no visit for %(n)s days")
                        % {"case": public_label(case), "n": (today - case.since).days},
                    )
        except IntegrityError:
            continue  # another tick claimed this period
        sent += 1
    return sent
