"""Transfers of a member's registration (组织关系转接): a state machine with two approvals.

    requested ──A releases──▶ released ──B accepts──▶ accepted   (registration moves to B)
        │                        │
        ├──A refuses──▶ refused ◀┤──B refuses
        └──withdrawn◀────────────┘ (the member, whoever asked, or A)

Releasing is handing the member their transfer letter: they leave A and, until a branch takes
them in, are registered nowhere, a pocket member (口袋党员, `Member.branch` empty). A's
managers keep them on their radar (`selectors.radar_scope_q`, the branch that released them
last) and can open an outreach case. B's acceptance registers them with B; if B refuses they
stay pocket and present the letter elsewhere (a join request on `/join/` with the letter
number, which closes the old transfer when approved); withdrawing a released transfer gives
the letter back and the member returns to A.

A transfer out of the group names the receiving organisation instead of B and ends when A
releases it with the letter number: the member is archived (no longer counted anywhere,
account deactivated, history kept).

Every step locks the transfer row (`select_for_update(of=("self",))`) and checks the state it
finds there, so two secretaries clicking at once give one step and one refusal; the database
keeps one open transfer per member and the dates each state needs.
"""

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from branches import scope
from branches.models import Organization, RoleAssignment
from branches.services import timeline_record
from notifications.services import notify, users

from ..models import TRANSFER_OPEN_Q, Member, Participation, Transfer
from .records import _check_registration

State = Transfer.State
OFFICER_ROLES = (RoleAssignment.Role.SECRETARY, RoleAssignment.Role.DEPUTY_SECRETARY)


def officers_of(organization: Organization | None) -> list[int]:
    """The users who run the branch day to day (secretary, deputy): who is told about a step."""
    if organization is None:
        return []
    return list(
        RoleAssignment.objects.filter(
            organization=organization, role__in=OFFICER_ROLES, user__is_active=True
        ).values_list("user_id", flat=True)
    )


def _tell(kind: str, transfer: Transfer, user_ids, *, by, member_page: bool = False) -> None:
    recipients = {u for u in user_ids if u and u != getattr(by, "pk", None)}
    if not recipients:
        return
    url = (
        reverse("members:me")
        if member_page
        else reverse("admin:members_transfer_change", args=[transfer.pk])
    )
    notify(
        kind=kind,
        target=transfer,
        audience=users(recipients),
        by=by,
        subject=f"{transfer.member.real_name}: {transfer.from_branch} → {transfer.destination}",
        url=url,
    )


def _locked(transfer: Transfer) -> Transfer:
    return (
        Transfer.objects.select_for_update(of=("self",))
        .select_related("member__user", "member__project_site", "from_branch", "to_branch")
        .get(pk=transfer.pk)
    )


def _require(by, organization: Organization | None) -> None:
    if organization is None or not scope.can_manage(by, organization):
        raise PermissionDenied(_("You may not decide this transfer."))


@transaction.atomic
def transfer_request(
    *,
    member: Member,
    by,
    to_branch: Organization | None = None,
    external_organization: str = "",
    letter_number: str = "",
    reason: str = "",
) -> Transfer:
    """The member, or a manager of their branch, asks to move the registration to `to_branch`
    or, with `external_organization`, out of the group."""
    stored = (
        Member.objects.select_for_update(of=("self",))
        .select_related("branch", "user")
        .get(pk=member.pk)
    )
    if not (
        (stored.user_id == by.pk and by.is_active)
        or (stored.branch and scope.can_manage(by, stored.branch))
    ):
        raise PermissionDenied(_("Only the member or their branch may ask for a transfer."))
    if stored.archived_at is not None:
        raise ValidationError(_("This record is archived."))
    if stored.branch is None:
        raise ValidationError(
            _("A member registered nowhere joins a branch through a join request.")
        )
    external_organization = external_organization.strip()
    if (to_branch is None) == (not external_organization):
        raise ValidationError(_("Name either a branch of the group or an organisation outside it."))
    if to_branch is not None:
        _check_registration(to_branch, field="to_branch")
        if to_branch.pk == stored.branch_id:
            raise ValidationError({"to_branch": _("The member is registered there already.")})
    if Transfer.objects.filter(TRANSFER_OPEN_Q, member=stored).exists():
        raise ValidationError(_("The member already has a transfer in progress."))
    transfer = Transfer(
        member=stored,
        from_branch=stored.branch,
        to_branch=to_branch,
        external_organization=external_organization,
        letter_number=letter_number.strip(),
        reason=reason.strip(),
        requested_at=timezone.now(),
        requested_by=by,
    )
    transfer.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            transfer.save()
    except IntegrityError as exc:  # a second request at the same moment
        raise ValidationError(_("The member already has a transfer in progress.")) from exc
    _tell("transfer_requested", transfer, officers_of(stored.branch), by=by)
    return transfer


@transaction.atomic
def transfer_release(*, transfer: Transfer, by, letter_number: str = "") -> Transfer:
    """Branch A lets the member go. Within the group the transfer then waits for B; out of the
    group it ends here (the letter number is required) and the member is archived."""
    stored = _locked(transfer)
    _require(by, stored.from_branch)
    if stored.state != State.REQUESTED:
        raise ValidationError(
            _("Only a requested transfer can be released (this one is %(state)s).")
            % {"state": stored.get_state_display()}
        )
    now = timezone.now()
    stored.letter_number = letter_number.strip() or stored.letter_number
    if stored.is_external and not stored.letter_number:
        raise ValidationError(
            {"letter_number": _("A transfer out of the group needs the letter number.")}
        )
    stored.state = State.RELEASED
    stored.released_at = now
    stored.released_by = by
    stored.save(
        update_fields=["state", "released_at", "released_by", "letter_number", "updated_at"]
    )
    member = stored.member
    if stored.is_external:
        Member.objects.filter(pk=member.pk).update(archived_at=now, updated_at=now)
        get_user_model().objects.filter(pk=member.user_id).update(is_active=False)
        member.archived_at = now
        timeline_record(
            organization=stored.from_branch,
            kind="member_transferred_out",
            params={"person": member.real_name, "to": stored.external_organization},
        )
        return stored
    # The letter is in the member's hands: registered nowhere until a branch accepts them.
    Member.objects.filter(pk=member.pk).update(
        branch=None, contact_status=Member.ContactStatus.POCKET, updated_at=now
    )
    member.branch, member.contact_status = None, Member.ContactStatus.POCKET
    _tell("transfer_released", stored, officers_of(stored.to_branch), by=by)
    _tell("transfer_released", stored, [member.user_id], by=by, member_page=True)
    return stored


@transaction.atomic
def transfer_accept(*, transfer: Transfer, by) -> Transfer:
    """Branch B takes the member in: the registration moves to B (the second approval)."""
    stored = _locked(transfer)
    if stored.is_external:
        raise ValidationError(_("A transfer out of the group ends when it is released."))
    _require(by, stored.to_branch)
    if stored.state != State.RELEASED:
        if stored.state == State.REQUESTED:
            raise ValidationError(_("The branch the member leaves has to release them first."))
        raise ValidationError(
            _("Only a released transfer can be accepted (this one is %(state)s).")
            % {"state": stored.get_state_display()}
        )
    member = Member.objects.select_for_update(of=("self",)).get(pk=stored.member_id)
    if member.branch_id is not None:
        raise ValidationError(_("The member has been registered with another branch meanwhile."))
    now = timezone.now()
    stored.state = State.ACCEPTED
    stored.closed_at = now
    stored.closed_by = by
    stored.save(update_fields=["state", "closed_at", "closed_by", "updated_at"])
    member.branch = stored.to_branch
    member.contact_status = Member.ContactStatus.ACTIVE
    update = ["branch", "contact_status", "updated_at"]
    site = stored.member.project_site
    if site is not None and site.organization_id != stored.to_branch_id:
        member.project_site = None  # the site belonged to the old branch
        update.append("project_site")
    member.save(update_fields=update)
    # Taking part in the branch one is now registered with is no longer a participation.
    Participation.objects.filter(
        member=member, organization=stored.to_branch, ended_on__isnull=True
    ).update(ended_on=timezone.localdate(now), updated_at=now)
    params = {
        "person": member.real_name,
        "from": stored.from_branch.name,
        "to": stored.to_branch.name,
    }
    timeline_record(organization=stored.from_branch, kind="member_transferred_out", params=params)
    timeline_record(organization=stored.to_branch, kind="member_transferred_in", params=params)
    _tell("transfer_accepted", stored, [member.user_id], by=by, member_page=True)
    _tell("transfer_accepted", stored, officers_of(stored.from_branch), by=by)
    return stored


@transaction.atomic
def transfer_refuse(*, transfer: Transfer, by, reason: str) -> Transfer:
    """A refuses to release, or B refuses to accept, with a reason the member reads."""
    stored = _locked(transfer)
    if not stored.is_open:
        raise ValidationError(
            _("This transfer is already %(state)s.") % {"state": stored.get_state_display()}
        )
    deciding = stored.from_branch if stored.state == State.REQUESTED else stored.to_branch
    _require(by, deciding)
    reason = reason.strip()
    if not reason:
        raise ValidationError({"refusal_reason": _("Give the reason for the refusal.")})
    stored.state = State.REFUSED
    stored.refusal_reason = reason
    stored.closed_at = timezone.now()
    stored.closed_by = by
    stored.save(update_fields=["state", "refusal_reason", "closed_at", "closed_by", "updated_at"])
    _tell("transfer_refused", stored, [stored.member.user_id], by=by, member_page=True)
    if deciding == stored.to_branch:
        _tell("transfer_refused", stored, officers_of(stored.from_branch), by=by)
    return stored


@transaction.atomic
def transfer_withdraw(*, transfer: Transfer, by) -> Transfer:
    """The member (or whoever asked, or branch A) calls an open transfer off."""
    stored = _locked(transfer)
    if not (
        (by.is_active and by.pk in (stored.member.user_id, stored.requested_by_id))
        or scope.can_manage(by, stored.from_branch)
    ):
        raise PermissionDenied(_("You may not withdraw this transfer."))
    if not stored.is_open:
        raise ValidationError(
            _("This transfer is already %(state)s.") % {"state": stored.get_state_display()}
        )
    was_released = stored.state == State.RELEASED
    stored.state = State.WITHDRAWN
    stored.closed_at = timezone.now()
    stored.closed_by = by
    stored.save(update_fields=["state", "closed_at", "closed_by", "updated_at"])
    if was_released:
        # The letter goes back: the member is registered with A again (unless a branch has
        # registered them meanwhile).
        Member.objects.filter(pk=stored.member_id, branch__isnull=True).update(
            branch=stored.from_branch_id,
            contact_status=Member.ContactStatus.ACTIVE,
            updated_at=stored.closed_at,
        )
    told = officers_of(stored.from_branch) + (officers_of(stored.to_branch) if was_released else [])
    _tell("transfer_withdrawn", stored, told, by=by)
    _tell("transfer_withdrawn", stored, [stored.member.user_id], by=by, member_page=True)
    return stored


def transfers_close_on_registration(*, member: Member, by) -> int:
    """A pocket member registered by a join request or an invitation: a released transfer
    still waiting for another branch is over (withdrawn, both branches told). Call inside the
    registering transaction."""
    waiting = list(
        Transfer.objects.select_for_update(of=("self",))
        .select_related("member", "from_branch", "to_branch")
        .filter(member=member, state=State.RELEASED)
    )
    now = timezone.now()
    for stored in waiting:
        stored.state = State.WITHDRAWN
        stored.closed_at = now
        stored.closed_by = by
        stored.save(update_fields=["state", "closed_at", "closed_by", "updated_at"])
        told = officers_of(stored.from_branch) + officers_of(stored.to_branch)
        _tell("transfer_withdrawn", stored, told, by=by)
    return len(waiting)


def transfers_flag_overdue(*, now=None, limit: int = 1000) -> int:
    """Daily: tell both branches' secretaries and the reviewers above them, once per transfer,
    that a transfer has waited longer than NETBRANCH_TRANSFER_OVERDUE_DAYS. Rows are claimed
    with SKIP LOCKED and stamped in the same transaction, so two runs never tell twice."""
    from ..selectors import transfer_overdue_cutoff

    now = now or timezone.now()
    with transaction.atomic():
        due = list(
            Transfer.objects.select_for_update(of=("self",), skip_locked=True)
            .filter(
                TRANSFER_OPEN_Q,
                requested_at__lt=transfer_overdue_cutoff(now),
                overdue_notified_at__isnull=True,
            )
            .select_related("member", "from_branch", "to_branch")
            .order_by("requested_at", "pk")[:limit]
        )
        if not due:
            return 0
        branches = {t.from_branch for t in due} | {t.to_branch for t in due if t.to_branch}
        officers: dict[int, set[int]] = {}
        for org_id, user_id in RoleAssignment.objects.filter(
            organization__in=[b.pk for b in branches],
            role__in=OFFICER_ROLES,
            user__is_active=True,
        ).values_list("organization_id", "user_id"):
            officers.setdefault(org_id, set()).add(user_id)
        reviewers = list(
            RoleAssignment.objects.filter(
                role=RoleAssignment.Role.REVIEWER,
                user__is_active=True,
                organization__path__in=scope.ancestor_paths([b.path for b in branches]),
            ).values_list("organization__path", "user_id")
        )
        url = reverse("admin:members_transfer_changelist") + "?overdue=yes"
        for t in due:
            ends = [t.from_branch] + ([t.to_branch] if t.to_branch else [])
            told = set().union(*(officers.get(b.pk, set()) for b in ends))
            told |= {u for path, u in reviewers if any(b.path.startswith(path) for b in ends)}
            if told:
                notify(
                    kind="transfer_overdue",
                    target=t,
                    audience=users(told),
                    subject=f"{t.member.real_name}: {t.from_branch} → {t.destination}",
                    url=url,
                )
        Transfer.objects.filter(pk__in=[t.pk for t in due]).update(overdue_notified_at=now)
    return len(due)
