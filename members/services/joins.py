"""Join requests: a person with an account and no registration (a pocket member, or someone
with no member record yet) asks a branch to register them; the branch's secretary approves
(the person is registered there) or refuses with a reason."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from branches import scope
from branches.models import Organization
from branches.services import timeline_record
from notifications.services import notify, users

from ..models import JoinRequest, Member
from .records import _check_registration
from .transfers import officers_of, transfers_close_on_registration

State = JoinRequest.State


def _tell(kind: str, join_request: JoinRequest, user_ids, *, by, url: str) -> None:
    recipients = {u for u in user_ids if u and u != getattr(by, "pk", None)}
    if recipients:
        notify(
            kind=kind,
            target=join_request,
            audience=users(recipients),
            by=by,
            subject=f"{join_request.real_name} → {join_request.branch}",
            url=url,
        )


def _registered_member(user) -> Member | None:
    member = Member.objects.select_related("branch").filter(user=user).first()
    if member is not None and member.archived_at is not None:
        raise ValidationError(_("This record is archived."))
    if member is not None and member.branch is not None:
        raise ValidationError(
            _("You are registered with %(branch)s already: ask for a transfer on your record page.")
            % {"branch": member.branch}
        )
    return member


@transaction.atomic
def join_request_send(
    *,
    user,
    branch: Organization,
    real_name: str,
    phone: str = "",
    details: str = "",
    letter_number: str = "",
) -> JoinRequest:
    if not (getattr(user, "is_authenticated", False) and user.is_active):
        raise PermissionDenied(_("Log in to ask to join a branch."))
    _check_registration(branch)
    _registered_member(user)
    join_request = JoinRequest(
        user=user,
        branch=branch,
        real_name=real_name.strip(),
        phone=phone.strip(),
        details=details.strip(),
        letter_number=letter_number.strip(),
    )
    join_request.full_clean(validate_constraints=False)
    if JoinRequest.objects.filter(user=user, state=State.PENDING).exists():
        raise ValidationError(_("You already have a join request waiting."))
    try:
        with transaction.atomic():
            join_request.save()
    except IntegrityError as exc:  # the same form sent twice at once
        raise ValidationError(_("You already have a join request waiting.")) from exc
    _tell(
        "join_requested",
        join_request,
        officers_of(branch),
        by=user,
        url=reverse("admin:members_joinrequest_change", args=[join_request.pk]),
    )
    return join_request


def _locked(join_request: JoinRequest, by) -> JoinRequest:
    stored = (
        JoinRequest.objects.select_for_update(of=("self",))
        .select_related("branch", "user")
        .get(pk=join_request.pk)
    )
    if not scope.can_manage(by, stored.branch):
        raise PermissionDenied(_("Only the branch asked may decide this request."))
    if stored.state != State.PENDING:
        raise ValidationError(
            _("This request is already %(state)s.") % {"state": stored.get_state_display()}
        )
    return stored


@transaction.atomic
def join_request_approve(*, join_request: JoinRequest, by) -> Member:
    """Register the person with the branch: their pocket record gets the branch, or a new
    member record is made for their account."""
    stored = _locked(join_request, by)
    member = Member.objects.select_for_update(of=("self",)).filter(user=stored.user).first()
    if member is not None and (member.branch_id is not None or member.archived_at is not None):
        raise ValidationError(_("This person is registered with a branch already."))
    if member is None:
        member = Member(
            user=stored.user, real_name=stored.real_name, branch=stored.branch, phone=stored.phone
        )
        member.full_clean()
        member.save()
    else:
        member.branch = stored.branch
        member.contact_status = Member.ContactStatus.ACTIVE
        member.phone = member.phone or stored.phone
        member.save(update_fields=["branch", "contact_status", "phone", "updated_at"])
    transfers_close_on_registration(member=member, by=by)
    stored.state = State.APPROVED
    stored.decided_at = timezone.now()
    stored.decided_by = by
    stored.save(update_fields=["state", "decided_at", "decided_by", "updated_at"])
    timeline_record(
        organization=stored.branch, kind="member_registered", params={"person": member.real_name}
    )
    _tell("join_approved", stored, [stored.user_id], by=by, url=reverse("members:me"))
    return member


@transaction.atomic
def join_request_refuse(*, join_request: JoinRequest, by, reason: str) -> JoinRequest:
    stored = _locked(join_request, by)
    reason = reason.strip()
    if not reason:
        raise ValidationError({"refusal_reason": _("Give the reason for the refusal.")})
    stored.state = State.REFUSED
    stored.refusal_reason = reason
    stored.decided_at = timezone.now()
    stored.decided_by = by
    stored.save(update_fields=["state", "refusal_reason", "decided_at", "decided_by", "updated_at"])
    _tell("join_refused", stored, [stored.user_id], by=by, url=reverse("members:join"))
    return stored


@transaction.atomic
def join_request_withdraw(*, join_request: JoinRequest, by) -> JoinRequest:
    stored = JoinRequest.objects.select_for_update(of=("self",)).get(pk=join_request.pk)
    if stored.user_id != by.pk:
        raise PermissionDenied(_("Only the person who asked may withdraw the request."))
    if stored.state != State.PENDING:
        raise ValidationError(
            _("This request is already %(state)s.") % {"state": stored.get_state_display()}
        )
    stored.state = State.WITHDRAWN
    stored.decided_at = timezone.now()
    stored.decided_by = by
    stored.save(update_fields=["state", "decided_at", "decided_by", "updated_at"])
    return stored
