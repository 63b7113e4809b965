"""Invitations: a branch's secretary invites someone by e-mail or with a link handed over; the
link works once and expires. The invitee sets a password (allauth's sign-up, opened only while
a valid invitation sits in their session) or, already having an account, confirms; either way
they are registered with the branch in the same transaction as the invitation is used.

Only the SHA-256 of the token is stored: the raw token is returned once by
`invitation_create`, shown to the secretary and put in the e-mail."""

import hashlib
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from branches import scope
from branches.models import Organization
from branches.services import timeline_record
from notifications.services import notify, users

from ..models import Invitation, Member
from .records import _check_registration
from .transfers import officers_of, transfers_close_on_registration

State = Invitation.State

# Where the landing page keeps the raw token of an anonymous invitee until they sign up.
INVITATION_SESSION_KEY = "netbranch_invitation"


class InvitationRefused(ValidationError):
    """The invitation cannot be used (unknown, used, expired, revoked) or not by this person
    (registered with a branch already). `code` says which: "invalid", "used", "expired",
    "revoked", "member", "archived"."""


def token_hash(raw_token: str) -> str:
    return hashlib.sha256(raw_token.encode()).hexdigest()


def invitation_path(raw_token: str) -> str:
    return reverse("members:invitation_accept", args=[raw_token])


def _refusal(invitation: Invitation | None, now: datetime) -> InvitationRefused | None:
    if invitation is None:
        return InvitationRefused(
            _("This invitation link is not valid: check that it was copied whole."),
            code="invalid",
        )
    state = invitation.state_at(now)
    if state == State.USED:
        return InvitationRefused(
            _(
                "This invitation was used already: each link works once. "
                "Log in, or ask %(branch)s for a new one."
            )
            % {"branch": invitation.branch},
            code="used",
        )
    if state == State.REVOKED:
        return InvitationRefused(
            _("This invitation was withdrawn by %(branch)s. Ask the branch for a new one.")
            % {"branch": invitation.branch},
            code="revoked",
        )
    if state == State.EXPIRED:
        return InvitationRefused(
            _("This invitation expired on %(day)s. Ask %(branch)s for a new one.")
            % {
                "day": timezone.localtime(invitation.expires_at).strftime("%Y-%m-%d"),
                "branch": invitation.branch,
            },
            code="expired",
        )
    return None


def invitation_check(*, raw_token: str, now: datetime | None = None) -> Invitation:
    """The invitation of this token if it may still be used (one query, no lock); raises
    `InvitationRefused` otherwise."""
    found = (
        Invitation.objects.select_related("branch").filter(token_hash=token_hash(raw_token)).first()
        if raw_token
        else None
    )
    refusal = _refusal(found, now or timezone.now())
    if refusal is not None:
        raise refusal
    return found


def invitation_pending(raw_token: str | None) -> Invitation | None:
    """The invitation of this token when it may still be used, else None."""
    try:
        return invitation_check(raw_token=raw_token or "")
    except InvitationRefused:
        return None


def member_refusal(user) -> InvitationRefused | None:
    """Why this account may not take an invitation: it has a member record registered with a
    branch (a move is a transfer), or an archived one. A pocket record may."""
    member = Member.objects.select_related("branch").filter(user=user).first()
    if member is None:
        return None
    if member.archived_at is not None:
        return InvitationRefused(
            _("Your member record is archived: ask your branch's secretary."), code="archived"
        )
    if member.branch is not None:
        return InvitationRefused(
            _(
                "You are registered with %(branch)s already: "
                "to move, ask for a transfer on your record page."
            )
            % {"branch": member.branch},
            code="member",
        )
    return None


@transaction.atomic
def invitation_create(
    *,
    by,
    branch: Organization,
    email: str = "",
    real_name: str = "",
    status: str = "",
    category: str = "",
    now: datetime | None = None,
) -> tuple[Invitation, str]:
    """A new invitation and its raw token (shown once). With an e-mail, the mail with the
    link leaves after commit (a Celery task that retries on SMTP failure)."""
    if not scope.can_manage(by, branch):
        raise PermissionDenied(_("You may not invite members to %(org)s.") % {"org": branch})
    _check_registration(branch)
    days = timedelta(days=settings.NETBRANCH_INVITATION_DAYS)
    raw_token = secrets.token_urlsafe(32)
    invitation = Invitation(
        branch=branch,
        email=email.strip().lower(),
        real_name=real_name.strip(),
        status=status,
        category=category,
        token_hash=token_hash(raw_token),
        created_by=by,
        expires_at=timezone.now() + days,
    )
    invitation.full_clean(exclude=["token_hash"], validate_constraints=False)
    invitation.save()
    if now is not None:  # a demo or a test on its own clock
        Invitation.objects.filter(pk=invitation.pk).update(
            created_at=now, updated_at=now, expires_at=now + days
        )
        invitation.created_at = invitation.updated_at = now
        invitation.expires_at = now + days
    if invitation.email:
        pk = invitation.pk
        transaction.on_commit(lambda: _enqueue_email(pk, raw_token), robust=True)
    return invitation, raw_token


def _enqueue_email(invitation_id: int, raw_token: str) -> None:
    from ..tasks import send_invitation_email

    send_invitation_email.delay(invitation_id, raw_token)


def invitation_email_send(*, invitation_id: int, raw_token: str) -> bool:
    """Send the invitation's e-mail once, unless it was used or revoked meanwhile. Marked
    after the SMTP server took it: a failure raises (the task retries), a success is never
    sent twice."""
    invitation = (
        Invitation.objects.select_related("branch", "created_by")
        .filter(pk=invitation_id, emailed_at__isnull=True, token_hash=token_hash(raw_token))
        .exclude(email="")
        .first()
    )
    if invitation is None or invitation.state_at(timezone.now()) != State.PENDING:
        return False
    link = settings.NETBRANCH_BASE_URL.rstrip("/") + invitation_path(raw_token)
    with translation.override(settings.LANGUAGE_CODE):
        body = render_to_string(
            "members/invitation_email.txt",
            {
                "invitation": invitation,
                "link": link,
                "expires": timezone.localtime(invitation.expires_at),
                "site_name": settings.NETBRANCH_SITE_NAME,
            },
        )
        subject = _("[%(site)s] %(branch)s invites you to register with it") % {
            "site": settings.NETBRANCH_SITE_NAME,
            "branch": invitation.branch,
        }
    EmailMessage(subject=subject[:180], body=body, to=[invitation.email]).send()
    Invitation.objects.filter(pk=invitation.pk).update(emailed_at=timezone.now())
    return True


@transaction.atomic
def invitation_revoke(*, invitation: Invitation, by, now: datetime | None = None) -> Invitation:
    stored = (
        Invitation.objects.select_for_update(of=("self",))
        .select_related("branch")
        .get(pk=invitation.pk)
    )
    if not scope.can_manage(by, stored.branch):
        raise PermissionDenied(_("Only the inviting branch may withdraw this invitation."))
    now = now or timezone.now()
    state = stored.state_at(now)
    if state != State.PENDING:
        raise InvitationRefused(
            _("This invitation is %(state)s already.") % {"state": State(state).label},
            code=state,
        )
    stored.revoked_at = now
    stored.revoked_by = by
    stored.save(update_fields=["revoked_at", "revoked_by", "updated_at"])
    return stored


@transaction.atomic
def invitation_accept(
    *, raw_token: str, user, real_name: str = "", phone: str = "", now: datetime | None = None
) -> Member:
    """Use the invitation: the account is registered with the branch (a new member record, or
    the branch given to its pocket record). The invitation row is locked, so of two uses at
    once exactly one wins; the other is refused and changes nothing."""
    if not (getattr(user, "is_authenticated", False) and user.is_active):
        raise PermissionDenied(_("Log in or set a password to use the invitation."))
    now = now or timezone.now()
    stored = (
        Invitation.objects.select_for_update(of=("self",))
        .select_related("branch")
        .filter(token_hash=token_hash(raw_token or ""))
        .first()
    )
    refusal = _refusal(stored, now)
    if refusal is not None:
        raise refusal
    refusal = member_refusal(user)
    if refusal is not None:
        raise refusal
    member = Member.objects.select_for_update(of=("self",)).filter(user=user).first()
    real_name = (real_name or stored.real_name or (member.real_name if member else "")).strip()
    if not real_name:
        raise ValidationError({"real_name": _("Give your real name.")})
    branch = stored.branch
    try:
        with transaction.atomic():
            if member is None:
                member = Member(
                    user=user,
                    real_name=real_name,
                    branch=branch,
                    phone=phone.strip(),
                    status=stored.status or Member.Status.FULL,
                    category=stored.category or Member.Category.OFFICE,
                )
                member.full_clean(validate_constraints=False)
                member.save()
            else:  # a pocket record: registered here now
                member.branch = branch
                member.contact_status = Member.ContactStatus.ACTIVE
                member.phone = member.phone or phone.strip()
                member.save(update_fields=["branch", "contact_status", "phone", "updated_at"])
                transfers_close_on_registration(member=member, by=user)
    except IntegrityError as exc:  # the same account using two invitations at once
        raise InvitationRefused(
            _("Your account was registered a moment ago: open your record page."), code="member"
        ) from exc
    stored.used_at = now
    stored.used_by = user
    stored.member = member
    stored.save(update_fields=["used_at", "used_by", "member", "updated_at"])
    timeline_record(
        organization=branch, kind="member_registered", params={"person": member.real_name}
    )
    officers = {u for u in [stored.created_by_id, *officers_of(branch)] if u and u != user.pk}
    if officers:
        notify(
            kind="invitation_accepted",
            target=stored,
            audience=users(officers),
            by=user,
            subject=f"{member.real_name} → {branch}",
            url=reverse("members:invitations_branch", args=[branch.pk]),
        )
    notify(
        kind="invitation_welcome",
        target=branch,
        audience=users([user]),
        by=None,
        subject=str(branch),
        url=branch.get_absolute_url(),
    )
    return member
