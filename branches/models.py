"""The organisation tree, project sites, role assignments and the branch timeline."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from treebeard.mp_tree import MP_Node

from core.models import TimeStampedModel
from core.richtext import RichTextField
from core.uploads import CheckedImageField

ORGANIZATION_KINDS = [
    "committee",
    "general_branch",
    "branch",
    "joint_branch",
    "mobile_branch",
    "micro_branch",
    "group",
]


class Organization(MP_Node, TimeStampedModel):
    """A node of the Party organisation tree, stored as a materialised path.

    `path` is the key: a subtree is `path LIKE 'prefix%'` and the path to the root is
    `path IN (prefixes)`, each one indexed query whatever the depth.
    """

    class Kind(models.TextChoices):
        COMMITTEE = "committee", _("Party committee")
        GENERAL_BRANCH = "general_branch", _("general branch")
        BRANCH = "branch", _("branch")
        JOINT_BRANCH = "joint_branch", _("joint branch")
        MOBILE_BRANCH = "mobile_branch", _("mobile branch")
        MICRO_BRANCH = "micro_branch", _("micro-branch")
        GROUP = "group", _("party group")

    # Kinds where a member's registration (组织关系) may sit.
    REGISTRATION_KINDS = (Kind.BRANCH, Kind.JOINT_BRANCH, Kind.MOBILE_BRANCH)
    # Kinds where a member takes part while registered elsewhere.
    PARTICIPATION_KINDS = (Kind.JOINT_BRANCH, Kind.MOBILE_BRANCH, Kind.MICRO_BRANCH, Kind.GROUP)
    BRANCH_KINDS = (Kind.BRANCH, Kind.JOINT_BRANCH, Kind.MOBILE_BRANCH, Kind.MICRO_BRANCH)

    steplen = 4

    name = models.CharField(_("name"), max_length=120)
    short_name = models.CharField(_("short name"), max_length=40, blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    description = RichTextField(_("description"), blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["path"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=ORGANIZATION_KINDS), name="organization_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("branches:detail", args=[self.pk])

    @property
    def display_name(self) -> str:
        return self.short_name or self.name

    @property
    def is_branch(self) -> bool:
        return self.kind in self.BRANCH_KINDS

    def ancestor_paths(self) -> list[str]:
        """Paths of every ancestor, the root first (no query)."""
        return [self.path[:end] for end in range(self.steplen, len(self.path), self.steplen)]


class ProjectSite(TimeStampedModel):
    """A construction project site (项目部), run by an organisation, open for a year or two."""

    class Coverage(models.TextChoices):
        GOOD = "good", _("good coverage")
        WEAK = "weak", _("weak coverage")
        NONE = "none", _("no coverage")

    name = models.CharField(_("name"), max_length=120)
    province = models.CharField(_("province"), max_length=40)
    place = models.CharField(_("place"), max_length=120, blank=True)
    altitude_m = models.PositiveIntegerField(_("altitude (m)"), null=True, blank=True)
    coverage = models.CharField(
        _("network coverage"), max_length=8, choices=Coverage.choices, default=Coverage.GOOD
    )
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("run by"),
        on_delete=models.PROTECT,
        related_name="sites",
        help_text=_("The branch responsible for the site."),
    )
    opened_on = models.DateField(_("opened on"))
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    photo = CheckedImageField(_("photo"), upload_to="sites/%Y/%m/", blank=True)

    class Meta:
        verbose_name = _("project site")
        verbose_name_plural = _("project sites")
        ordering = ["-opened_on", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(closed_on__isnull=True) | Q(closed_on__gte=models.F("opened_on")),
                name="projectsite_closed_after_opened",
            ),
            models.CheckConstraint(
                condition=Q(coverage__in=["good", "weak", "none"]),
                name="projectsite_coverage_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_open(self) -> bool:
        return self.closed_on is None


class RoleAssignment(TimeStampedModel):
    """A user's role over an organisation's subtree. It is the only source of admin access."""

    class Role(models.TextChoices):
        SECRETARY = "secretary", _("secretary")
        DEPUTY_SECRETARY = "deputy_secretary", _("deputy secretary")
        COMMITTEE_MEMBER = "committee_member", _("committee member")
        REVIEWER = "reviewer", _("committee reviewer")

    # Roles that manage a branch's daily work (the 支委 of a branch).
    BRANCH_COMMITTEE_ROLES = (Role.SECRETARY, Role.DEPUTY_SECRETARY, Role.COMMITTEE_MEMBER)

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="role_assignments",
    )
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("organisation"),
        on_delete=models.CASCADE,
        related_name="role_assignments",
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    title = models.CharField(
        _("portfolio"),
        max_length=60,
        blank=True,
        help_text=_(
            "A committee member's portfolio, shown on the branch page, e.g. 'organisation' or 'publicity'."
        ),
    )

    class Meta:
        verbose_name = _("role assignment")
        verbose_name_plural = _("role assignments")
        ordering = ["organization__path", "role"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organization", "role"], name="roleassignment_unique"
            ),
            models.UniqueConstraint(
                fields=["organization"],
                condition=Q(role="secretary"),
                name="roleassignment_one_secretary",
                violation_error_message=_("This organisation already has a secretary."),
            ),
            models.CheckConstraint(
                condition=Q(
                    role__in=["secretary", "deputy_secretary", "committee_member", "reviewer"]
                ),
                name="roleassignment_role_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.organization}"


class TimelineEntry(models.Model):
    """One line of a branch's activity timeline. Other apps add entries through
    `branches.services.timeline_record`; the text is rendered from `kind` and `params` in the
    reader's language (see `branches.timeline`)."""

    organization = models.ForeignKey(
        Organization,
        verbose_name=_("organisation"),
        on_delete=models.CASCADE,
        related_name="timeline",
    )
    kind = models.CharField(_("kind"), max_length=40)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    url = models.CharField(_("link"), max_length=300, blank=True)
    occurred_at = models.DateTimeField(_("occurred at"), db_index=True)

    class Meta:
        verbose_name = _("timeline entry")
        verbose_name_plural = _("timeline entries")
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["organization", "-occurred_at"], name="timeline_org_time")]

    def __str__(self) -> str:
        from .timeline import render_entry

        return render_entry(self)
