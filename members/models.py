"""Members, their participations in other organisations, and the activity facts that the
lost-contact radar reads."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from branches.models import Organization, ProjectSite
from core.models import TimeStampedModel


class Member(TimeStampedModel):
    """A Party member, one-to-one with the user account."""

    class Status(models.TextChoices):
        FULL = "full", _("full member")
        PROBATIONARY = "probationary", _("probationary member")

    class Category(models.TextChoices):
        OFFICE = "office", _("office")
        FRONT_LINE = "front_line", _("front line")
        REMOTE = "remote", _("remote site")

    class ContactStatus(models.TextChoices):
        ACTIVE = "active", _("active")
        AT_RISK = "at_risk", _("at risk")
        LOST = "lost", _("lost contact")
        POCKET = "pocket", _("pocket member")
        INVISIBLE = "invisible", _("invisible member")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="member",
    )
    real_name = models.CharField(_("real name"), max_length=60, db_index=True)
    branch = models.ForeignKey(
        Organization,
        verbose_name=_("registered branch"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="registered_members",
        help_text=_("Where the membership is registered (组织关系). Empty for a pocket member."),
    )
    project_site = models.ForeignKey(
        ProjectSite,
        verbose_name=_("project site"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="members",
    )
    status = models.CharField(
        _("membership"), max_length=16, choices=Status.choices, default=Status.FULL
    )
    category = models.CharField(
        _("category"), max_length=16, choices=Category.choices, default=Category.OFFICE
    )
    joined_party_on = models.DateField(_("joined the Party on"), null=True, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    position = models.CharField(_("job"), max_length=60, blank=True)
    contact_status = models.CharField(
        _("contact status"),
        max_length=16,
        choices=ContactStatus.choices,
        default=ContactStatus.ACTIVE,
        db_index=True,
    )
    last_active_at = models.DateTimeField(
        _("last active"),
        null=True,
        blank=True,
        db_index=True,
        help_text=_("The latest activity fact (studied, attended, posted)."),
    )
    archived_at = models.DateTimeField(
        _("archived"),
        null=True,
        blank=True,
        help_text=_(
            "Set when the member transferred out of the group: no longer counted anywhere, "
            "account deactivated, history kept."
        ),
    )

    class Meta:
        verbose_name = _("member")
        verbose_name_plural = _("members")
        ordering = ["real_name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["full", "probationary"]), name="member_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(category__in=["office", "front_line", "remote"]),
                name="member_category_valid",
            ),
            models.CheckConstraint(
                condition=Q(
                    contact_status__in=["active", "at_risk", "lost", "pocket", "invisible"]
                ),
                name="member_contact_status_valid",
            ),
            # A pocket member is registered nowhere, and a member registered nowhere is pocket.
            models.CheckConstraint(
                condition=Q(contact_status="pocket", branch__isnull=True)
                | (~Q(contact_status="pocket") & Q(branch__isnull=False)),
                name="member_pocket_iff_unregistered",
                violation_error_message=_(
                    "A pocket member has no registered branch, and every other member has one."
                ),
            ),
        ]

    def __str__(self) -> str:
        return self.real_name


class Participation(TimeStampedModel):
    """A member taking part in a joint or mobile branch, a micro-branch or a party group while
    registered elsewhere (参加活动的支部)."""

    member = models.ForeignKey(
        Member, verbose_name=_("member"), on_delete=models.CASCADE, related_name="participations"
    )
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("organisation"),
        on_delete=models.CASCADE,
        related_name="participations",
    )
    started_on = models.DateField(_("started on"))
    ended_on = models.DateField(_("ended on"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("participation")
        verbose_name_plural = _("participations")
        ordering = ["-started_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["member", "organization"],
                condition=Q(ended_on__isnull=True),
                name="participation_one_open_per_org",
                violation_error_message=_("The member already takes part in this organisation."),
            ),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=models.F("started_on")),
                name="participation_ends_after_start",
            ),
        ]
        indexes = [models.Index(fields=["organization", "ended_on"], name="participation_org_open")]

    def __str__(self) -> str:
        return f"{self.member} @ {self.organization}"

    @property
    def is_open(self) -> bool:
        return self.ended_on is None


class ActivityFact(models.Model):
    """Something a member did, reported by the content apps through
    `members.services.member_activity_record`. The lost-contact radar reads only this table."""

    class Kind(models.TextChoices):
        STUDIED = "studied", _("studied")
        ATTENDED = "attended", _("attended")
        POSTED = "posted", _("posted")
        SERVED = "served", _("took part in a welfare activity")

    member = models.ForeignKey(
        Member, verbose_name=_("member"), on_delete=models.CASCADE, related_name="activity_facts"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    occurred_at = models.DateTimeField(_("occurred at"))

    class Meta:
        verbose_name = _("activity fact")
        verbose_name_plural = _("activity facts")
        ordering = ["-occurred_at"]
        indexes = [models.Index(fields=["member", "-occurred_at"], name="activityfact_member_time")]

    def __str__(self) -> str:
        return f"{self.member} {self.get_kind_display()} {self.occurred_at:%Y-%m-%d}"


def _user_fk(name: str, related: str):
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=name,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name=related,
    )


# A transfer in progress: requested, or released by A and waiting for B. (A transfer out of the
# group is over once released.)
TRANSFER_OPEN_Q = Q(state="requested") | Q(state="released", to_branch__isnull=False)


class Transfer(TimeStampedModel):
    """A transfer of a member's registration (组织关系转接) from branch A to branch B, or out of
    the group. Two approvals: A releases, B accepts. A transfer out of the group ends when A
    releases it (with the receiving organisation's name and the letter number)."""

    class State(models.TextChoices):
        REQUESTED = "requested", _("requested")
        RELEASED = "released", _("released")
        ACCEPTED = "accepted", _("accepted")
        REFUSED = "refused", _("refused")
        WITHDRAWN = "withdrawn", _("withdrawn")

    member = models.ForeignKey(
        Member, verbose_name=_("member"), on_delete=models.PROTECT, related_name="transfers"
    )
    from_branch = models.ForeignKey(
        Organization,
        verbose_name=_("from branch"),
        on_delete=models.PROTECT,
        related_name="transfers_out",
    )
    to_branch = models.ForeignKey(
        Organization,
        verbose_name=_("to branch"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="transfers_in",
        help_text=_("Empty for a transfer out of the group."),
    )
    external_organization = models.CharField(
        _("receiving organisation outside the group"), max_length=200, blank=True
    )
    letter_number = models.CharField(_("letter number"), max_length=60, blank=True)
    state = models.CharField(
        _("state"), max_length=16, choices=State.choices, default=State.REQUESTED
    )
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    refusal_reason = models.CharField(_("reason for refusal"), max_length=500, blank=True)
    requested_at = models.DateTimeField(_("requested at"), db_index=True)
    requested_by = _user_fk(_("requested by"), "+")
    released_at = models.DateTimeField(_("released at"), null=True, blank=True)
    released_by = _user_fk(_("released by"), "+")
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = _user_fk(_("closed by"), "+")
    overdue_notified_at = models.DateTimeField(
        _("flagged overdue at"),
        null=True,
        blank=True,
        help_text=_("When both branches and the reviewers were told it is overdue (once)."),
    )

    class Meta:
        verbose_name = _("transfer")
        verbose_name_plural = _("transfers")
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    state__in=["requested", "released", "accepted", "refused", "withdrawn"]
                ),
                name="transfer_state_valid",
            ),
            models.UniqueConstraint(
                fields=["member"],
                condition=TRANSFER_OPEN_Q,
                name="transfer_one_open_per_member",
                violation_error_message=_("The member already has a transfer in progress."),
            ),
            # Either another branch of the group or an organisation outside it, never both.
            models.CheckConstraint(
                condition=(Q(to_branch__isnull=False) & Q(external_organization=""))
                | (Q(to_branch__isnull=True) & ~Q(external_organization="")),
                name="transfer_one_destination",
            ),
            models.CheckConstraint(
                condition=~Q(to_branch=models.F("from_branch")),
                name="transfer_to_another_branch",
            ),
            # No skipped step: accepted only after a release; released (and accepted) carry
            # the release date; a closed transfer carries its closing date, an open one none.
            models.CheckConstraint(
                condition=Q(state="requested", released_at__isnull=True)
                | Q(state__in=["released", "accepted"], released_at__isnull=False)
                | Q(state__in=["refused", "withdrawn"]),
                name="transfer_released_dated",
            ),
            models.CheckConstraint(
                condition=Q(state="accepted", to_branch__isnull=False) | ~Q(state="accepted"),
                name="transfer_accepted_by_a_branch",
            ),
            models.CheckConstraint(
                condition=Q(state__in=["requested", "released"], closed_at__isnull=True)
                | (~Q(state__in=["requested", "released"]) & Q(closed_at__isnull=False)),
                name="transfer_closed_dated",
            ),
        ]
        indexes = [
            models.Index(fields=["state", "requested_at"], name="transfer_state_time"),
        ]

    def __str__(self) -> str:
        return f"{self.member} → {self.destination}"

    @property
    def destination(self) -> str:
        return str(self.to_branch) if self.to_branch_id else self.external_organization

    @property
    def is_external(self) -> bool:
        return self.to_branch_id is None

    @property
    def is_open(self) -> bool:
        return self.state == self.State.REQUESTED or (
            self.state == self.State.RELEASED and not self.is_external
        )


class JoinRequest(TimeStampedModel):
    """A person with an account and no registration asks a branch to register them."""

    class State(models.TextChoices):
        PENDING = "pending", _("pending")
        APPROVED = "approved", _("approved")
        REFUSED = "refused", _("refused")
        WITHDRAWN = "withdrawn", _("withdrawn")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account"),
        on_delete=models.CASCADE,
        related_name="join_requests",
    )
    branch = models.ForeignKey(
        Organization,
        verbose_name=_("branch"),
        on_delete=models.PROTECT,
        related_name="join_requests",
    )
    real_name = models.CharField(_("real name"), max_length=60)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    details = models.CharField(
        _("details"),
        max_length=1000,
        blank=True,
        help_text=_("Where you work, when you joined the Party, where you were registered."),
    )
    letter_number = models.CharField(_("letter number"), max_length=60, blank=True)
    state = models.CharField(
        _("state"), max_length=16, choices=State.choices, default=State.PENDING
    )
    refusal_reason = models.CharField(_("reason for refusal"), max_length=500, blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = _user_fk(_("decided by"), "+")

    class Meta:
        verbose_name = _("join request")
        verbose_name_plural = _("join requests")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=["pending", "approved", "refused", "withdrawn"]),
                name="joinrequest_state_valid",
            ),
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(state="pending"),
                name="joinrequest_one_pending_per_user",
                violation_error_message=_("You already have a join request waiting."),
            ),
            models.CheckConstraint(
                condition=Q(state="pending", decided_at__isnull=True)
                | (~Q(state="pending") & Q(decided_at__isnull=False)),
                name="joinrequest_decided_dated",
            ),
        ]
        indexes = [models.Index(fields=["branch", "state"], name="joinrequest_branch_state")]

    def __str__(self) -> str:
        return f"{self.real_name} → {self.branch}"


class OutreachCase(TimeStampedModel):
    """The branch looking for a member it lost contact with: contact attempts are logged
    until the member is found (or the case is closed for another reason)."""

    class Result(models.TextChoices):
        FOUND = "found", _("found")
        TRANSFERRED = "transferred", _("transferred elsewhere")
        NOT_FOUND = "not_found", _("not found")

    member = models.ForeignKey(
        Member, verbose_name=_("member"), on_delete=models.CASCADE, related_name="outreach_cases"
    )
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        related_name="outreach_cases",
    )
    opened_by = _user_fk(_("opened by"), "+")
    assigned_to = _user_fk(_("assigned to"), "outreach_cases_assigned")
    opened_at = models.DateTimeField(_("opened at"), db_index=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = _user_fk(_("closed by"), "+")
    result = models.CharField(_("result"), max_length=16, choices=Result.choices, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("outreach case")
        verbose_name_plural = _("outreach cases")
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["member"],
                condition=Q(closed_at__isnull=True),
                name="outreachcase_one_open_per_member",
                violation_error_message=_("The member already has an open outreach case."),
            ),
            models.CheckConstraint(
                condition=Q(closed_at__isnull=True, result="")
                | (
                    Q(closed_at__isnull=False) & Q(result__in=["found", "transferred", "not_found"])
                ),
                name="outreachcase_closed_with_result",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "closed_at"], name="outreachcase_org_open"),
        ]

    def __str__(self) -> str:
        return f"{self.member} ({self.opened_at:%Y-%m-%d})"

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


class ContactAttempt(models.Model):
    """One try at reaching the member of an outreach case."""

    class Channel(models.TextChoices):
        PHONE = "phone", _("phone")
        VISIT = "visit", _("visit")
        MESSAGE = "message", _("message")

    case = models.ForeignKey(
        OutreachCase,
        verbose_name=_("outreach case"),
        on_delete=models.CASCADE,
        related_name="attempts",
    )
    by = _user_fk(_("by"), "+")
    at = models.DateTimeField(_("at"))
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    result = models.CharField(_("result"), max_length=500)

    class Meta:
        verbose_name = _("contact attempt")
        verbose_name_plural = _("contact attempts")
        ordering = ["-at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(channel__in=["phone", "visit", "message"]),
                name="contactattempt_channel_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case.member_id} {self.get_channel_display()} {self.at:%Y-%m-%d}"


class Invitation(TimeStampedModel):
    """A branch invites someone to register with it, by e-mail or by a link handed over (in
    person, in a chat group). The link carries a random token that works once and expires;
    only its SHA-256 hash is stored. The invitee sets a password and becomes a member."""

    class State(models.TextChoices):
        PENDING = "pending", _("pending")
        USED = "used", _("used")
        EXPIRED = "expired", _("expired")
        REVOKED = "revoked", _("revoked")

    branch = models.ForeignKey(
        Organization,
        verbose_name=_("branch"),
        on_delete=models.PROTECT,
        related_name="invitations",
    )
    email = models.EmailField(
        _("e-mail"), blank=True, help_text=_("Empty for a link handed over in person.")
    )
    real_name = models.CharField(_("real name"), max_length=60, blank=True)
    status = models.CharField(
        _("membership"), max_length=16, choices=Member.Status.choices, blank=True
    )
    category = models.CharField(
        _("category"), max_length=16, choices=Member.Category.choices, blank=True
    )
    token_hash = models.CharField(_("token hash"), max_length=64, unique=True, editable=False)
    created_by = _user_fk(_("invited by"), "+")
    expires_at = models.DateTimeField(_("expires at"))
    emailed_at = models.DateTimeField(_("e-mailed at"), null=True, blank=True)
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)
    used_by = _user_fk(_("used by"), "+")
    member = models.ForeignKey(
        Member,
        verbose_name=_("member"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="invitations",
    )
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = _user_fk(_("revoked by"), "+")

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(used_at__isnull=True) | Q(revoked_at__isnull=True),
                name="invitation_used_or_revoked",
                violation_error_message=_("An invitation is either used or revoked, not both."),
            ),
            models.CheckConstraint(
                condition=Q(used_by__isnull=True) | Q(used_at__isnull=False),
                name="invitation_used_dated",
            ),
            models.CheckConstraint(
                condition=Q(member__isnull=True) | Q(used_at__isnull=False),
                name="invitation_member_when_used",
            ),
            models.CheckConstraint(
                condition=Q(revoked_by__isnull=True) | Q(revoked_at__isnull=False),
                name="invitation_revoked_dated",
            ),
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("created_at")),
                name="invitation_expires_after_creation",
            ),
            models.CheckConstraint(
                condition=~Q(token_hash=""),
                name="invitation_token_hash_set",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["", "full", "probationary"]),
                name="invitation_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(category__in=["", "office", "front_line", "remote"]),
                name="invitation_category_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["branch", "-created_at"], name="invitation_branch_time"),
        ]

    def __str__(self) -> str:
        return f"{self.email or self.real_name or _('link')} → {self.branch}"

    def state_at(self, now) -> str:
        if self.revoked_at is not None:
            return self.State.REVOKED
        if self.used_at is not None:
            return self.State.USED
        if self.expires_at <= now:
            return self.State.EXPIRED
        return self.State.PENDING
