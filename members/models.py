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
