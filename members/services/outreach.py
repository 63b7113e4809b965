"""Outreach cases: the branch looks for a member it lost contact with, logs each contact
attempt, and closes the case when the member is found. Managers of the member's branch act;
the member a case is assigned to may log attempts and close it too."""

from datetime import datetime

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from branches import scope

from ..models import ContactAttempt, Member, OutreachCase, Transfer


def _case_organization(member: Member):
    """The organisation responsible for the member: their branch, or for a pocket member the
    branch that released them last."""
    if member.branch_id:
        return member.branch
    last = (
        Transfer.objects.filter(member=member, released_at__isnull=False)
        .select_related("from_branch")
        .order_by("-released_at")
        .first()
    )
    return last.from_branch if last else None


def _locked(case: OutreachCase) -> OutreachCase:
    return (
        OutreachCase.objects.select_for_update(of=("self",))
        .select_related("organization", "member")
        .get(pk=case.pk)
    )


def _require_manage(by, organization) -> None:
    if organization is None or not (by.is_active and scope.can_manage(by, organization)):
        raise PermissionDenied(_("You may not look after this member's outreach."))


def _require_act(by, case: OutreachCase) -> None:
    if by.is_active and case.assigned_to_id == by.pk:
        return
    _require_manage(by, case.organization)


@transaction.atomic
def outreach_case_open(
    *, member: Member, by, assigned_to=None, note: str = "", now: datetime | None = None
) -> OutreachCase:
    """A manager of the member's branch opens a case (one open case per member) and may assign
    it to someone (a member of the branch who knows the person)."""
    member = Member.objects.select_related("branch").get(pk=member.pk)
    if member.archived_at is not None:
        raise ValidationError(_("This record is archived."))
    organization = _case_organization(member)
    _require_manage(by, organization)
    if (
        assigned_to is not None
        and not get_user_model().objects.filter(pk=assigned_to.pk, is_active=True).exists()
    ):
        raise ValidationError({"assigned_to": _("Assign the case to an active account.")})
    case = OutreachCase(
        member=member,
        organization=organization,
        opened_by=by,
        assigned_to=assigned_to,
        opened_at=now or timezone.now(),
        note=note.strip(),
    )
    case.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            case.save()
    except IntegrityError as exc:  # a second case opened at the same moment
        raise ValidationError(_("The member already has an open outreach case.")) from exc
    return case


@transaction.atomic
def outreach_attempt_log(
    *, case: OutreachCase, by, channel: str, result: str, at: datetime | None = None
) -> ContactAttempt:
    stored = _locked(case)
    _require_act(by, stored)
    if not stored.is_open:
        raise ValidationError(_("This outreach case is closed."))
    attempt = ContactAttempt(
        case=stored, by=by, at=at or timezone.now(), channel=channel, result=result.strip()
    )
    attempt.full_clean()
    attempt.save()
    return attempt


@transaction.atomic
def outreach_case_close(
    *,
    case: OutreachCase,
    by,
    result: str = OutreachCase.Result.FOUND,
    note: str = "",
    now: datetime | None = None,
) -> OutreachCase:
    """Close the case (usually: the member was found). Closing twice is refused."""
    stored = _locked(case)
    _require_act(by, stored)
    if not stored.is_open:
        raise ValidationError(_("This outreach case is closed already."))
    if result not in OutreachCase.Result.values:
        raise ValidationError({"result": _("Choose how the case ended.")})
    stored.closed_at = now or timezone.now()
    stored.closed_by = by
    stored.result = result
    if note.strip():
        stored.note = note.strip()[:500]
    stored.save(update_fields=["closed_at", "closed_by", "result", "note", "updated_at"])
    return stored
