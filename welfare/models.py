"""Service sync (服务同步): 微公益 public-welfare activities (sign-up, what was done, photos,
features to a wider subtree) and 双结对 pairing help cases (a household or a person helped over
months, follow-up visits, the handover when the project leaves).

Personal data of beneficiaries (name, address, phone, situation, plan, follow-up notes, photos
not cleared for showing, the handover contact and document) is shown only where
`welfare.privacy` allows it; `PairingCase.__str__` is the public label, so that admin logs,
notifications and anything else that prints a case never carries a name.
"""

import posixpath
import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from branches.models import Organization, ProjectSite
from core.models import TimeStampedModel
from core.richtext import RichTextField
from core.uploads import CheckedFileField, CheckedImageField
from members.models import Member


def _random_name(folder: str, filename: str) -> str:
    """Replace the uploaded file's name (which may carry a person's name) by a random one,
    keeping the extension: `welfare/handover/2025/<hex>.pdf`."""
    from django.utils import timezone

    extension = posixpath.splitext(filename)[1].lower()[:8]
    return f"{folder}/{timezone.now():%Y}/{uuid.uuid4().hex}{extension}"


def handover_document_path(instance, filename: str) -> str:
    return _random_name("welfare/handover", filename)


def case_photo_path(instance, filename: str) -> str:
    return _random_name("welfare/cases", filename)


# ---------------------------------------------------------------------------------------------
# Activities
# ---------------------------------------------------------------------------------------------


class WelfareActivity(TimeStampedModel):
    class Kind(models.TextChoices):
        DONATION = "donation", _("donation")
        VOLUNTEERING = "volunteering", _("volunteering")
        VISIT = "visit", _("visit to households in need")
        EDUCATION = "education", _("education support")
        CARE = "care", _("care for colleagues and families")
        EMERGENCY = "emergency", _("emergency help")
        OTHER = "other", _("other")

    class Status(models.TextChoices):
        PLANNED = "planned", _("planned")
        DONE = "done", _("done")

    organization = models.ForeignKey(
        Organization,
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        related_name="welfare_activities",
        help_text=_("Its members see the activity and may sign up."),
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    title = models.CharField(_("title"), max_length=120)
    description = RichTextField(_("description"), blank=True)
    held_on = models.DateField(_("date"))
    place = models.CharField(_("place"), max_length=120, blank=True)
    project_site = models.ForeignKey(
        ProjectSite,
        verbose_name=_("project site"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="welfare_activities",
    )
    meeting = models.ForeignKey(
        "meetings.Meeting",
        verbose_name=_("part of the themed Party day"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        limit_choices_to={"kind": "themed_day"},
        related_name="welfare_activities",
        help_text=_("When the activity is held as part of a themed Party day of the branch."),
    )
    places = models.PositiveIntegerField(
        _("places"), null=True, blank=True, help_text=_("Leave empty for no limit.")
    )
    signed_up = models.PositiveIntegerField(_("signed up"), default=0, editable=False)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PLANNED
    )
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    done_at = models.DateTimeField(_("recorded as done at"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    money_yuan = models.DecimalField(
        _("money given (yuan)"), max_digits=12, decimal_places=2, default=0
    )
    goods = models.CharField(
        _("goods given"), max_length=240, blank=True, help_text=_("e.g. 20 quilts, 50 school bags")
    )
    goods_value_yuan = models.DecimalField(
        _("value of the goods (yuan)"), max_digits=12, decimal_places=2, default=0
    )
    beneficiaries = models.PositiveIntegerField(
        _("people helped"), default=0, help_text=_("How many people the activity reached.")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("welfare activity")
        verbose_name_plural = _("welfare activities")
        ordering = ["-held_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    kind__in=[
                        "donation",
                        "volunteering",
                        "visit",
                        "education",
                        "care",
                        "emergency",
                        "other",
                    ]
                ),
                name="welfareactivity_kind_valid",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["planned", "done"]), name="welfareactivity_status_valid"
            ),
            # The place limit, in the database: no race can oversubscribe an activity.
            models.CheckConstraint(
                condition=Q(places__isnull=True) | Q(signed_up__lte=F("places")),
                name="welfareactivity_within_places",
                violation_error_message=_("More members have signed up than there are places."),
            ),
            models.CheckConstraint(
                condition=~Q(status="done") | Q(done_at__isnull=False, published_at__isnull=False),
                name="welfareactivity_done_recorded",
            ),
            models.CheckConstraint(
                condition=Q(money_yuan__gte=0) & Q(goods_value_yuan__gte=0),
                name="welfareactivity_amounts_not_negative",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "-held_on"], name="welfareactivity_org_date"),
            models.Index(fields=["status", "held_on"], name="welfareactivity_status_date"),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("welfare:activity", args=[self.pk])

    @property
    def is_published(self) -> bool:
        return self.published_at is not None

    @property
    def is_done(self) -> bool:
        return self.status == self.Status.DONE

    @property
    def places_left(self) -> int | None:
        if self.places is None:
            return None
        return max(0, self.places - self.signed_up)


class WelfareSignUp(models.Model):
    """A member signed up for a planned activity: once (a database rule)."""

    activity = models.ForeignKey(
        WelfareActivity,
        verbose_name=_("activity"),
        on_delete=models.CASCADE,
        related_name="sign_ups",
    )
    member = models.ForeignKey(
        Member, verbose_name=_("member"), on_delete=models.CASCADE, related_name="welfare_sign_ups"
    )
    signed_up_at = models.DateTimeField(_("signed up at"))

    class Meta:
        verbose_name = _("sign-up")
        verbose_name_plural = _("sign-ups")
        ordering = ["signed_up_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["activity", "member"], name="welfaresignup_once"),
        ]

    def __str__(self) -> str:
        return f"{self.member} · {self.activity}"


class WelfareParticipant(models.Model):
    """Who took part in a done activity, and for how many hours."""

    activity = models.ForeignKey(
        WelfareActivity,
        verbose_name=_("activity"),
        on_delete=models.CASCADE,
        related_name="participants",
    )
    member = models.ForeignKey(
        Member,
        verbose_name=_("member"),
        on_delete=models.CASCADE,
        related_name="welfare_participations",
    )
    hours = models.DecimalField(_("hours"), max_digits=4, decimal_places=1, default=0)

    class Meta:
        verbose_name = _("participant")
        verbose_name_plural = _("participants")
        ordering = ["activity", "id"]
        constraints = [
            models.UniqueConstraint(fields=["activity", "member"], name="welfareparticipant_once"),
            models.CheckConstraint(
                condition=Q(hours__gte=0) & Q(hours__lte=240),
                name="welfareparticipant_hours_range",
                violation_error_message=_("Hours are between 0 and 240."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member} · {self.hours} h"


class WelfarePhoto(models.Model):
    """A photo of an activity. Members beyond the branch committee see it only once it is
    cleared for showing (nobody recognisable, or the people in it agreed)."""

    activity = models.ForeignKey(
        WelfareActivity, verbose_name=_("activity"), on_delete=models.CASCADE, related_name="photos"
    )
    image = CheckedImageField(_("photo"), upload_to="welfare/activities/%Y/%m/")
    caption = models.CharField(_("caption"), max_length=120, blank=True)
    cleared = models.BooleanField(
        _("cleared for showing"),
        default=False,
        help_text=_(
            "Tick only when nobody can be recognised or the people in it agreed: then every "
            "member who sees the activity sees the photo."
        ),
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("photo")
        verbose_name_plural = _("photos")
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.caption or self.image.name.rsplit("/", 1)[-1]


class WelfareFeature(models.Model):
    """A reviewer features a branch's activity to a wider subtree; its members then see it."""

    activity = models.ForeignKey(
        WelfareActivity,
        verbose_name=_("activity"),
        on_delete=models.CASCADE,
        related_name="features",
    )
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("featured to"),
        on_delete=models.CASCADE,
        related_name="featured_welfare_activities",
    )
    featured_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    featured_at = models.DateTimeField(_("featured at"), auto_now_add=True)

    class Meta:
        verbose_name = _("feature")
        verbose_name_plural = _("features")
        constraints = [
            models.UniqueConstraint(fields=["activity", "organization"], name="welfarefeature_once")
        ]

    def __str__(self) -> str:
        return f"{self.activity} → {self.organization}"


# ---------------------------------------------------------------------------------------------
# Pairing help cases
# ---------------------------------------------------------------------------------------------


class PairingCase(TimeStampedModel):
    """A household or a person helped over months by paired members (双结对 帮扶)."""

    class Status(models.TextChoices):
        OPEN = "open", _("in progress")
        HANDED_OVER = "handed_over", _("handed over")
        CLOSED = "closed", _("closed")

    class BeneficiaryKind(models.TextChoices):
        HOUSEHOLD = "household", _("household")
        PERSON = "person", _("person")

    class HelpKind(models.TextChoices):
        EDUCATION = "education", _("schooling")
        HEALTH = "health", _("illness or disability")
        LIVELIHOOD = "livelihood", _("livelihood")
        ELDERLY = "elderly", _("elderly living alone")
        OTHER = "other", _("other")

    class HandoverTo(models.TextChoices):
        VILLAGE = "village_committee", _("village committee")
        BRANCH = "branch", _("another branch")
        CHARITY = "charity", _("a charity")
        OTHER = "other", _("other")

    organization = models.ForeignKey(
        Organization,
        verbose_name=_("branch"),
        on_delete=models.PROTECT,
        related_name="pairing_cases",
    )
    project_site = models.ForeignKey(
        ProjectSite,
        verbose_name=_("project site"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="pairing_cases",
    )
    beneficiary_kind = models.CharField(
        _("helped"),
        max_length=10,
        choices=BeneficiaryKind.choices,
        default=BeneficiaryKind.HOUSEHOLD,
    )
    help_kind = models.CharField(
        _("kind of help"), max_length=12, choices=HelpKind.choices, default=HelpKind.OTHER
    )
    village = models.CharField(
        _("village or community"),
        max_length=60,
        help_text=_("Shown to every member who sees the case: 'a household in …'."),
    )
    # Personal data: only for those `welfare.privacy` allows.
    name = models.CharField(
        _("full name"),
        max_length=60,
        help_text=_("The head of the household, or the person helped. Personal data."),
    )
    surname = models.CharField(
        _("surname"),
        max_length=8,
        blank=True,
        help_text=_("Shown as 'surname 某' to other members; taken from the name when empty."),
    )
    address = models.CharField(_("address"), max_length=200, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    household_size = models.PositiveSmallIntegerField(_("people in the household"), null=True, blank=True)  # fmt: skip
    situation = models.TextField(
        _("situation"), blank=True, help_text=_("Only what the help needs. Personal data.")
    )
    plan = models.TextField(_("help plan"), blank=True)
    paired_members = models.ManyToManyField(
        Member, verbose_name=_("paired members"), related_name="pairing_cases", blank=True
    )
    started_on = models.DateField(_("paired since"))
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.OPEN
    )
    last_follow_up_on = models.DateField(_("last follow-up visit"), null=True, blank=True)
    handed_over_on = models.DateField(_("handed over on"), null=True, blank=True)
    handover_to_kind = models.CharField(
        _("handed over to (kind)"), max_length=20, choices=HandoverTo.choices, blank=True
    )
    handover_to = models.CharField(_("handed over to"), max_length=120, blank=True)
    handover_contact = models.CharField(_("contact"), max_length=120, blank=True)
    handover_document = CheckedFileField(
        _("signed handover document"), upload_to=handover_document_path, blank=True
    )
    handover_note = models.TextField(_("handover note"), blank=True)
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    closed_reason = models.CharField(_("reason for closing"), max_length=240, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("pairing help case")
        verbose_name_plural = _("pairing help cases")
        ordering = ["-started_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["open", "handed_over", "closed"]),
                name="pairingcase_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(beneficiary_kind__in=["household", "person"]),
                name="pairingcase_beneficiary_kind_valid",
            ),
            models.CheckConstraint(
                condition=~Q(status="handed_over")
                | (Q(handed_over_on__isnull=False) & ~Q(handover_to="") & ~Q(handover_to_kind="")),
                name="pairingcase_handover_recorded",
                violation_error_message=_("A handed-over case says to whom and when."),
            ),
            models.CheckConstraint(
                condition=~Q(status="closed") | Q(closed_on__isnull=False),
                name="pairingcase_closed_has_date",
            ),
            models.CheckConstraint(
                condition=Q(handed_over_on__isnull=True) | Q(handed_over_on__gte=F("started_on")),
                name="pairingcase_handover_after_start",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "status"], name="pairingcase_org_status"),
            models.Index(
                fields=["last_follow_up_on", "started_on"],
                condition=Q(status="open"),
                name="pairingcase_open_due",
            ),
        ]

    def __str__(self) -> str:
        from .privacy import public_label

        return public_label(self)

    def get_absolute_url(self) -> str:
        return reverse("welfare:case", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN


class FollowUp(models.Model):
    """A follow-up visit of a pairing case: when, and what was done (personal data)."""

    case = models.ForeignKey(
        PairingCase, verbose_name=_("case"), on_delete=models.CASCADE, related_name="follow_ups"
    )
    visited_on = models.DateField(_("visited on"))
    notes = models.TextField(_("what was done"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("follow-up visit")
        verbose_name_plural = _("follow-up visits")
        ordering = ["-visited_on", "-id"]
        indexes = [models.Index(fields=["case", "-visited_on"], name="followup_case_date")]
        constraints = [
            models.CheckConstraint(condition=~Q(notes=""), name="followup_has_notes"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} · {self.visited_on}"


class FollowUpPhoto(models.Model):
    """A photo of a follow-up visit. Files get random names; a photo not cleared for showing is
    served only through a permission-checked view."""

    follow_up = models.ForeignKey(FollowUp, on_delete=models.CASCADE, related_name="photos")
    image = CheckedImageField(_("photo"), upload_to=case_photo_path)
    cleared = models.BooleanField(_("cleared for showing"), default=False)

    class Meta:
        verbose_name = _("follow-up photo")
        verbose_name_plural = _("follow-up photos")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.follow_up_id} · {self.pk}"


class CaseReminder(models.Model):
    """A reminder that a case has had no follow-up visit for a period: claimed once per case
    and period (the unique row), so a doubled beat tick never sends it twice."""

    class Stage(models.TextChoices):
        PAIRED = "paired", _("paired members")
        SECRETARY = "secretary", _("secretary")

    case = models.ForeignKey(PairingCase, on_delete=models.CASCADE, related_name="reminders")
    period_start = models.DateField()
    stage = models.CharField(max_length=10, choices=Stage.choices)
    sent_at = models.DateTimeField()
    recipients = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["case", "period_start"], name="casereminder_once"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} · {self.period_start} · {self.stage}"
