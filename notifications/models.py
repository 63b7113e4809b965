"""Events and their delivery (inbox rows, e-mail), and notices (通知公告 / 企务公开 / 党建动态)."""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from branches.models import Organization
from core.models import TimeStampedModel
from core.richtext import RichTextField
from core.uploads import CheckedFileField


class Event(models.Model):
    """Something to tell people. Written in the caller's transaction; the fan-out task
    resolves `audience` (a registered name plus parameters) and inserts the inbox rows. The
    row alone is enough to run the fan-out again (the sweep does, when it did not finish)."""

    kind = models.CharField(_("kind"), max_length=60)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    target_type = models.ForeignKey(
        ContentType, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    target_id = models.PositiveBigIntegerField(null=True, blank=True)
    target = GenericForeignKey("target_type", "target_id")
    subject = models.CharField(_("subject"), max_length=200)
    url = models.CharField(_("link"), max_length=300, blank=True)
    audience = models.CharField(_("audience"), max_length=80)
    audience_params = models.JSONField(_("audience parameters"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    enqueued_at = models.DateTimeField(_("last sent to the queue"), null=True, blank=True)
    fanned_out_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    recipients = models.PositiveIntegerField(_("recipients"), default=0)
    attempts = models.PositiveSmallIntegerField(_("fan-out attempts"), default=0)

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["created_at"], condition=Q(fanned_out_at__isnull=True), name="event_pending"
            ),
            models.Index(fields=["target_type", "target_id"], name="event_target"),
        ]

    def __str__(self) -> str:
        from .kinds import render

        return render(self)


class Notification(models.Model):
    """One inbox row: an event for one recipient, exactly once (unique together)."""

    event = models.ForeignKey(
        Event, verbose_name=_("event"), on_delete=models.CASCADE, related_name="notifications"
    )
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient"),
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    created_at = models.DateTimeField(_("created at"))
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    emailed_at = models.DateTimeField(_("e-mailed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "recipient"], name="notification_once_per_recipient"
            ),
        ]
        indexes = [
            models.Index(fields=["recipient", "-created_at", "-id"], name="notification_inbox"),
            models.Index(
                fields=["recipient"], condition=Q(read_at__isnull=True), name="notification_unread"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.recipient} · {self.event}"


class EmailPreference(models.Model):
    """How a user wants e-mail: each notification at once, a daily digest, or none."""

    class Mode(models.TextChoices):
        IMMEDIATE = "immediate", _("each notification at once")
        DIGEST = "digest", _("one daily digest")
        OFF = "off", _("no e-mail")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="email_preference",
    )
    mode = models.CharField(
        _("e-mail"), max_length=10, choices=Mode.choices, default=Mode.IMMEDIATE
    )

    class Meta:
        verbose_name = _("e-mail preference")
        verbose_name_plural = _("e-mail preferences")
        constraints = [
            models.CheckConstraint(
                condition=Q(mode__in=["immediate", "digest", "off"]),
                name="emailpreference_mode_valid",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_mode_display()}"


class DigestSent(models.Model):
    """One daily digest per user per day: the row is claimed before the mail goes out."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "day"], name="digest_once_per_day")]

    def __str__(self) -> str:
        return f"{self.user_id} · {self.day}"


class Notice(TimeStampedModel):
    """A notice, a disclosure of enterprise affairs, a decision announcement or Party-building
    news, published by an organisation to the members of its subtree."""

    class Kind(models.TextChoices):
        NOTICE = "notice", _("notice")
        DISCLOSURE = "disclosure", _("disclosure of enterprise affairs")
        DECISION = "decision", _("decision announcement")
        NEWS = "news", _("Party-building news")

    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        PUBLISHED = "published", _("published")

    organization = models.ForeignKey(
        Organization,
        verbose_name=_("published by"),
        on_delete=models.PROTECT,
        related_name="notices",
        help_text=_("Members of this organisation and everything under it receive the notice."),
    )
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, default=Kind.NOTICE)
    title = models.CharField(_("title"), max_length=120)
    summary = models.CharField(_("summary"), max_length=200, blank=True)
    body = RichTextField(_("text"))
    pinned = models.BooleanField(
        _("pinned"), default=False, help_text=_("Pinned notices stay on top.")
    )
    expires_at = models.DateTimeField(
        _("expires at"),
        null=True,
        blank=True,
        help_text=_("After this time the notice leaves the list."),
    )
    for_office = models.BooleanField(_("office members"), default=True)
    for_front_line = models.BooleanField(_("front-line members"), default=True)
    for_remote = models.BooleanField(_("remote-site members"), default=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    published_at = models.DateTimeField(_("published at"), null=True, blank=True, db_index=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("notice")
        verbose_name_plural = _("notices")
        ordering = ["-pinned", "-published_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="draft") | Q(published_at__isnull=False),
                name="notice_published_has_time",
            ),
            models.CheckConstraint(
                condition=Q(for_office=True) | Q(for_front_line=True) | Q(for_remote=True),
                name="notice_has_an_audience",
                violation_error_message=_("Choose at least one category of members."),
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["notice", "disclosure", "decision", "news"]),
                name="notice_kind_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "status", "-published_at"], name="notice_org_list")
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("notifications:notice_detail", args=[self.pk])

    @property
    def categories(self) -> list[str]:
        """The member categories (members.Member.Category values) the notice is meant for."""
        flags = (
            ("office", self.for_office),
            ("front_line", self.for_front_line),
            ("remote", self.for_remote),
        )
        return [name for name, on in flags if on]

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED


class NoticeAttachment(models.Model):
    notice = models.ForeignKey(Notice, on_delete=models.CASCADE, related_name="attachments")
    title = models.CharField(_("title"), max_length=120, blank=True)
    file = CheckedFileField(_("file"), upload_to="notices/%Y/%m/")

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.title or self.file.name.rsplit("/", 1)[-1]


class NoticeRead(models.Model):
    """Who has read a notice (the first time they opened it)."""

    notice = models.ForeignKey(Notice, on_delete=models.CASCADE, related_name="reads")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    read_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["notice", "user"], name="noticeread_once")]

    def __str__(self) -> str:
        return f"{self.notice_id} · {self.user_id}"


class NoticeReminder(models.Model):
    """A reminder to those who have not read a notice: at most one per notice per day."""

    notice = models.ForeignKey(Notice, on_delete=models.CASCADE, related_name="reminders")
    day = models.DateField()
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    recipients = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["notice", "day"], name="noticereminder_once_a_day")
        ]

    def __str__(self) -> str:
        return f"{self.notice_id} · {self.day}"
