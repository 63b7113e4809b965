"""Writes on members' records, their participations and their activity facts."""

from datetime import date, datetime

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from branches import scope
from branches.models import Organization
from branches.services import timeline_record
from core.services import model_update

from ..models import ActivityFact, Member, Participation

MEMBER_FIELDS = (
    "real_name",
    "branch",
    "project_site",
    "status",
    "category",
    "joined_party_on",
    "phone",
    "position",
    "contact_status",
)
# What a member may correct on their own record page.
OWN_FIELDS = ("phone", "position")


def _require_manage(by, organization: Organization | None) -> None:
    if organization is None:
        if not (by.is_active and by.is_superuser):
            raise PermissionDenied(
                _("Only an administrator may manage members registered nowhere.")
            )
        return
    if not scope.can_manage(by, organization):
        raise PermissionDenied(_("You may not manage members of %(org)s.") % {"org": organization})


def _check_registration(branch: Organization | None, *, field: str = "branch") -> None:
    """A membership may be registered with `branch` (the error is put on the form's `field`)."""
    if branch is not None and branch.kind not in Organization.REGISTRATION_KINDS:
        raise ValidationError(
            {
                field: _(
                    "A membership is registered with a branch, a joint branch or a mobile branch."
                )
            }
        )


@transaction.atomic
def member_create(
    *, by, username: str, email: str, real_name: str, branch: Organization | None, **fields
) -> Member:
    """Create a member and their account. The account has no usable password: the member sets
    one through 'forgot password' (or an invitation) with the e-mail given here."""
    _require_manage(by, branch)
    _check_registration(branch)
    User = get_user_model()
    if User.objects.filter(Q(username__iexact=username) | Q(email__iexact=email)).exists():
        raise ValidationError(_("An account with this user name or e-mail already exists."))
    user = User(username=username, email=email)
    user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    if branch is None:
        fields.setdefault("contact_status", Member.ContactStatus.POCKET)
    member = Member(user=user, real_name=real_name, branch=branch, **fields)
    member.full_clean()
    member.save()
    if branch is not None:
        timeline_record(organization=branch, kind="member_registered", params={"person": real_name})
    return member


@transaction.atomic
def member_update(*, member: Member, by, fields: dict) -> Member:
    """Change a member's record. Moving the registration to another branch is a transfer
    (its own workflow) for everyone but an administrator or a manager of both branches."""
    stored = (
        Member.objects.select_for_update(of=("self",)).select_related("branch").get(pk=member.pk)
    )
    _require_manage(by, stored.branch)
    if "branch" in fields and fields["branch"] != stored.branch:
        _require_manage(by, fields["branch"])
        _check_registration(fields["branch"])
    changed = model_update(instance=stored, fields=fields, allowed=MEMBER_FIELDS)
    if "branch" in changed and stored.branch is not None:
        timeline_record(
            organization=stored.branch,
            kind="member_registered",
            params={"person": stored.real_name},
        )
    return stored


@transaction.atomic
def member_own_update(*, member: Member, by, fields: dict) -> Member:
    """The member corrects their own contact details (`OWN_FIELDS`) on their record page."""
    if member.user_id != by.pk or not by.is_active:
        raise PermissionDenied(_("Only the member may correct their own record here."))
    stored = Member.objects.select_for_update(of=("self",)).get(pk=member.pk)
    if stored.archived_at is not None:
        raise ValidationError(_("This record is archived."))
    model_update(instance=stored, fields=fields, allowed=OWN_FIELDS)
    return stored


@transaction.atomic
def participation_start(
    *,
    member: Member,
    organization: Organization,
    by,
    started_on: date | None = None,
    note: str = "",
) -> Participation:
    """The member takes part in a joint or mobile branch, a micro-branch or a party group."""
    if organization.kind not in Organization.PARTICIPATION_KINDS:
        raise ValidationError(
            {
                "organization": _(
                    "Members take part in joint or mobile branches, micro-branches and party groups."
                )
            }
        )
    if not (
        scope.can_manage(by, organization)
        or (member.branch and scope.can_manage(by, member.branch))
    ):
        raise PermissionDenied(
            _("You may not add participants to %(org)s.") % {"org": organization}
        )
    if member.branch_id == organization.pk:
        raise ValidationError(_("The member is registered there already."))
    if Participation.objects.filter(
        member=member, organization=organization, ended_on__isnull=True
    ).exists():
        raise ValidationError(_("The member already takes part in this organisation."))
    participation = Participation(
        member=member,
        organization=organization,
        started_on=started_on or timezone.localdate(),
        note=note,
    )
    participation.full_clean(validate_constraints=False)
    participation.save()
    return participation


@transaction.atomic
def participation_end(
    *, participation: Participation, by, ended_on: date | None = None
) -> Participation:
    stored = (
        Participation.objects.select_for_update(of=("self",))
        .select_related("organization", "member__branch")
        .get(pk=participation.pk)
    )
    member_branch = stored.member.branch
    if not (
        scope.can_manage(by, stored.organization)
        or (member_branch and scope.can_manage(by, member_branch))
    ):
        raise PermissionDenied(
            _("You may not change participants of %(org)s.") % {"org": stored.organization}
        )
    if stored.ended_on is not None:
        raise ValidationError(_("This participation has already ended."))
    model_update(
        instance=stored,
        fields={"ended_on": ended_on or timezone.localdate()},
        allowed=("ended_on",),
    )
    return stored


def member_activity_record(
    *, member: Member, kind: str, at: datetime | None = None
) -> ActivityFact:
    """Content apps report what a member did (studied, attended, posted, served).

    Two statements, no read: the fact, and `last_active_at` moved forward only if newer."""
    at = at or timezone.now()
    fact = ActivityFact.objects.create(member=member, kind=kind, occurred_at=at)
    Member.objects.filter(pk=member.pk).filter(
        Q(last_active_at__isnull=True) | Q(last_active_at__lt=at)
    ).update(last_active_at=at, updated_at=timezone.now())
    return fact
