"""Activity sync (活动同步): the "three meetings and one lesson" and themed Party days —
meetings, their expected attendees' answers and sign-ins, and the reminders sent for them."""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from branches.models import Organization
from core.models import TimeStampedModel
from core.richtext import RichTextField
from core.uploads import CheckedFileField, CheckedImageField

#: The short code printed on a paper pack's sign-in sheet: no 0/O or 1/I to misread.
SHORT_CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
SHORT_CODE_LENGTH = 6


def random_short_code() -> str:
    return "".join(secrets.choice(SHORT_CODE_ALPHABET) for _i in range(SHORT_CODE_LENGTH))


def normalize_short_code(value: str) -> str:
    """What a secretary types, read the way it is printed: upper case, no spaces or dashes."""
    return "".join((value or "").split()).replace("-", "").upper()


class Meeting(TimeStampedModel):
    class Kind(models.TextChoices):
        GENERAL_MEETING = "general_meeting", _("branch general meeting")
        COMMITTEE_MEETING = "committee_meeting", _("branch committee meeting")
        GROUP_MEETING = "group_meeting", _("party group meeting")
        PARTY_LESSON = "party_lesson", _("Party lesson")
        THEMED_DAY = "themed_day", _("themed Party day")
        OTHER = "other", _("other activity")

    class Format(models.TextChoices):
        ON_SITE = "on_site", _("on site")
        ONLINE = "online", _("online")
        BOTH = "both", _("on site and online")

    class Status(models.TextChoices):
        PLANNED = "planned", _("planned")
        HELD = "held", _("held")
        CANCELLED = "cancelled", _("cancelled")

    organization = models.ForeignKey(
        Organization,
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        related_name="meetings",
        help_text=_("Its members are expected; for a committee meeting, its committee."),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    title = models.CharField(_("title"), max_length=120)
    agenda = RichTextField(_("agenda"), blank=True)
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    place = models.CharField(_("place"), max_length=120, blank=True)
    format = models.CharField(
        _("format"), max_length=10, choices=Format.choices, default=Format.ON_SITE
    )
    video_link = models.URLField(
        _("video link"), blank=True, help_text=_("For members taking part online.")
    )
    host = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("host"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    recorder = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorder"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Writes the minutes and may record the attendance of members without a phone."),
    )
    lessons = models.ManyToManyField(
        "lessons.Lesson", verbose_name=_("linked lessons"), blank=True, related_name="meetings"
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PLANNED
    )
    published_at = models.DateTimeField(_("notice sent at"), null=True, blank=True)
    held_offline = models.BooleanField(
        _("held offline"),
        default=False,
        help_text=_("Held where there is no network and entered afterwards."),
    )
    entered_at = models.DateTimeField(_("entered at"), null=True, blank=True)
    cancelled_reason = models.CharField(_("reason for cancelling"), max_length=240, blank=True)
    sign_in_sheet = CheckedImageField(
        _("photo of the sign-in sheet"),
        upload_to="meetings/sheets/%Y/%m/",
        blank=True,
        help_text=_("For a meeting held offline: a photo of the paper sign-in sheet."),
    )
    minutes = RichTextField(_("minutes"), blank=True)
    minutes_written_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("minutes written by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    minutes_confirmed_at = models.DateTimeField(_("minutes confirmed at"), null=True, blank=True)
    minutes_confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("minutes confirmed by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    expected_count = models.PositiveIntegerField(
        _("expected attendees"),
        null=True,
        blank=True,
        help_text=_("How many were expected, frozen when the minutes are confirmed."),
    )
    reflections_requested_at = models.DateTimeField(
        _("reflections asked for at"), null=True, blank=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    short_code = models.CharField(
        _("short code"),
        max_length=SHORT_CODE_LENGTH,
        unique=True,
        null=True,
        blank=True,
        editable=False,
        help_text=_("Printed on the paper sign-in sheet; the sheet is entered by this code."),
    )

    class Meta:
        verbose_name = _("meeting")
        verbose_name_plural = _("meetings")
        ordering = ["-starts_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")),
                name="meeting_ends_after_start",
                violation_error_message=_("A meeting ends after it starts."),
            ),
            models.CheckConstraint(
                condition=Q(
                    kind__in=[
                        "general_meeting",
                        "committee_meeting",
                        "group_meeting",
                        "party_lesson",
                        "themed_day",
                        "other",
                    ]
                ),
                name="meeting_kind_valid",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["planned", "held", "cancelled"]),
                name="meeting_status_valid",
            ),
            models.CheckConstraint(
                condition=~Q(held_offline=True) | Q(entered_at__isnull=False, status="held"),
                name="meeting_offline_entered_and_held",
            ),
            models.CheckConstraint(
                condition=Q(minutes_confirmed_at__isnull=True) | Q(status="held"),
                name="meeting_minutes_confirmed_when_held",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "-starts_at"], name="meeting_org_time"),
            models.Index(fields=["starts_at"], condition=Q(status="planned"), name="meeting_due"),
        ]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs):
        # An identifier, like a slug: every meeting saved gets its code (rows made with
        # bulk_create get one when announced or printed, `services.packs`).
        if not self.short_code:
            self.short_code = unused_short_code()
            update_fields = kwargs.get("update_fields")
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "short_code"}
        super().save(*args, **kwargs)

    @property
    def is_published(self) -> bool:
        return self.published_at is not None

    def get_absolute_url(self) -> str:
        return reverse("meetings:detail", args=[self.pk])

    @property
    def minutes_confirmed(self) -> bool:
        return self.minutes_confirmed_at is not None

    @property
    def counts_in_cadence(self) -> bool:
        return self.status == self.Status.HELD and self.kind != self.Kind.OTHER


def unused_short_code() -> str:
    """A random short code no meeting has (32^6 codes: a retry is rare, two are rarer)."""
    while True:
        code = random_short_code()
        if not Meeting.objects.filter(short_code=code).exists():
            return code


class MeetingAttachment(models.Model):
    """A file attached to the minutes (a scan, a slide deck): checked by content in `core`."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="attachments")
    title = models.CharField(_("title"), max_length=120, blank=True)
    file = CheckedFileField(_("file"), upload_to="meetings/files/%Y/%m/")
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("attachment to the minutes")
        verbose_name_plural = _("attachments to the minutes")

    def __str__(self) -> str:
        return self.title or self.file.name.rsplit("/", 1)[-1]


class Attendance(models.Model):
    """One expected attendee's answers for one meeting: the RSVP (coming, or leave asked with
    a reason) and the sign-in. No row means no answer yet."""

    class Rsvp(models.TextChoices):
        COMING = "coming", _("coming")
        LEAVE = "leave", _("asks for leave")

    class Via(models.TextChoices):
        BUTTON = "button", _("sign-in button")
        QR = "qr", _("QR code")
        RECORDED = "recorded", _("recorded by the recorder")

    meeting = models.ForeignKey(
        Meeting, verbose_name=_("meeting"), on_delete=models.CASCADE, related_name="attendances"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("member"),
        on_delete=models.CASCADE,
        related_name="meeting_attendances",
    )
    rsvp = models.CharField(_("answer"), max_length=10, choices=Rsvp.choices, blank=True)
    leave_reason = models.CharField(_("reason for leave"), max_length=240, blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    signed_in_at = models.DateTimeField(_("signed in at"), null=True, blank=True)
    via = models.CharField(_("signed in by"), max_length=10, choices=Via.choices, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("attendance")
        verbose_name_plural = _("attendance")
        ordering = ["meeting", "user_id"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "user"], name="attendance_once"),
            models.CheckConstraint(
                condition=~Q(rsvp="leave") | ~Q(leave_reason=""),
                name="attendance_leave_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(signed_in_at__isnull=True) | ~Q(via=""),
                name="attendance_sign_in_has_via",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.meeting_id} · {self.user_id}"


class MeetingReminder(models.Model):
    """A reminder sent for a meeting. Claimed (inserted) in the same transaction as the
    notification, so a doubled beat tick or a dead worker never sends one twice or loses it."""

    class Kind(models.TextChoices):
        DAY = "24h", _("24 hours before")
        HOUR = "1h", _("1 hour before")

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="reminders")
    kind = models.CharField(max_length=4, choices=Kind.choices)
    sent_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["meeting", "kind"], name="meetingreminder_once")
        ]

    def __str__(self) -> str:
        return f"{self.meeting_id} · {self.kind}"


class Reflection(TimeStampedModel):
    """A member's reflection (心得体会) after a Party lesson or a themed day: one per member and
    meeting, read, liked and commented on by the members of the branch."""

    meeting = models.ForeignKey(
        Meeting, verbose_name=_("meeting"), on_delete=models.CASCADE, related_name="reflections"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.CASCADE,
        related_name="meeting_reflections",
    )
    body = models.TextField(_("reflection"), blank=True)
    photo = CheckedImageField(
        _("photo of the handwritten reflection"),
        upload_to="meetings/reflections/%Y/%m/",
        blank=True,
        help_text=_("From a paper sign-in sheet: the reflection as written by hand."),
    )
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("entered from the paper sheet by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("reflection")
        verbose_name_plural = _("reflections")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "author"], name="reflection_once"),
            models.CheckConstraint(
                condition=~Q(body="") | ~Q(photo=""), name="reflection_not_empty"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.meeting} · {self.author}"


class ReflectionReminder(models.Model):
    """A reminder to those who have not written their reflection: at most one per meeting per
    day (`notifications.services.remind_once_a_day`)."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="reflection_reminders")  # fmt: skip
    day = models.DateField()
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    recipients = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["meeting", "day"], name="reflectionreminder_once_a_day")
        ]

    def __str__(self) -> str:
        return f"{self.meeting_id} · {self.day}"


class CadenceWarning(models.Model):
    """A warning sent to a secretary that a period is about to end without a required meeting:
    at most one per organisation, kind and period."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=Meeting.Kind.choices)
    period_start = models.DateField()
    sent_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "kind", "period_start"], name="cadencewarning_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.organization_id} · {self.kind} · {self.period_start}"


class CalendarFeed(models.Model):
    """A member's personal calendar feed: a secret URL token. Revoking deletes the row (the old
    URL stops working at once); a new feed gets a new token."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="meeting_calendar_feed"
    )
    token = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")

    def __str__(self) -> str:
        return f"{self.user_id}"
