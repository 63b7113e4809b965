"""Study sync (学习同步): lessons, the document library, study plans, study records, checks and
points."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from branches.models import Organization
from core.models import TimeStampedModel
from core.richtext import RichTextField
from core.uploads import CheckedFileField, CheckedImageField, CheckedVideoField

MICRO_LESSON_MAX_MINUTES = 20


class Audience(models.Model):
    """Who content is for, within the subtree of its organisation: member categories and
    statuses, or only the branch committees (secretary training)."""

    for_office = models.BooleanField(_("office members"), default=True)
    for_front_line = models.BooleanField(_("front-line members"), default=True)
    for_remote = models.BooleanField(_("remote-site members"), default=True)
    for_full = models.BooleanField(_("full members"), default=True)
    for_probationary = models.BooleanField(_("probationary members"), default=True)
    committee_only = models.BooleanField(
        _("secretaries and committee members only"),
        default=False,
        help_text=_("For training: only secretaries, deputies and committee members see it."),
    )

    class Meta:
        abstract = True

    @property
    def categories(self) -> list[str]:
        flags = (
            ("office", self.for_office),
            ("front_line", self.for_front_line),
            ("remote", self.for_remote),
        )
        return [name for name, on in flags if on]

    @property
    def statuses(self) -> list[str]:
        return [
            name
            for name, on in (("full", self.for_full), ("probationary", self.for_probationary))
            if on
        ]


def audience_constraints(prefix: str) -> list[models.CheckConstraint]:
    return [
        models.CheckConstraint(
            condition=Q(for_office=True) | Q(for_front_line=True) | Q(for_remote=True),
            name=f"{prefix}_has_a_category",
            violation_error_message=_("Choose at least one category of members."),
        ),
        models.CheckConstraint(
            condition=Q(for_full=True) | Q(for_probationary=True),
            name=f"{prefix}_has_a_status",
            violation_error_message=_("Choose full members, probationary members or both."),
        ),
    ]


class Topic(models.Model):
    name = models.CharField(_("name"), max_length=40, unique=True)

    class Meta:
        verbose_name = _("topic")
        verbose_name_plural = _("topics")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Lesson(Audience, TimeStampedModel):
    class Kind(models.TextChoices):
        MICRO = "micro", _("micro-lesson")
        ONLINE = "online", _("online lesson")
        VIDEO = "video", _("video lesson")
        LECTURE = "lecture", _("special lecture")

    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        SCHEDULED = "scheduled", _("scheduled")
        PUBLISHED = "published", _("published")
        ARCHIVED = "archived", _("archived")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.MICRO)
    title = models.CharField(_("title"), max_length=120)
    summary = models.CharField(_("summary"), max_length=240, blank=True)
    body = RichTextField(_("text"), blank=True)
    cover = CheckedImageField(_("cover image"), upload_to="lessons/covers/%Y/%m/", blank=True)
    topics = models.ManyToManyField(
        Topic, verbose_name=_("topics"), blank=True, related_name="lessons"
    )
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("published by"),
        on_delete=models.PROTECT,
        related_name="lessons",
        help_text=_("Members of this organisation and everything under it can study the lesson."),
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    speaker = models.CharField(
        _("speaker"),
        max_length=60,
        blank=True,
        help_text=_("Who gives the lesson, if not the author."),
    )
    video_file = CheckedVideoField(
        _("video file"), upload_to="lessons/videos/%Y/%m/", blank=True, help_text=_("MP4 or WebM.")
    )
    video_url = models.URLField(
        _("video link"), blank=True, help_text=_("A link to a video on one of the allowed sites.")
    )
    video_minutes = models.PositiveSmallIntegerField(
        _("video length (minutes)"), null=True, blank=True
    )
    reading_minutes = models.PositiveSmallIntegerField(
        _("reading time (minutes)"),
        default=1,
        help_text=_("Computed from the text, the pictures and the video."),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    publish_at = models.DateTimeField(
        _("publish at"),
        null=True,
        blank=True,
        help_text=_("For a scheduled lesson: when it publishes itself."),
    )
    published_at = models.DateTimeField(_("published at"), null=True, blank=True, db_index=True)

    class Meta:
        verbose_name = _("lesson")
        verbose_name_plural = _("lessons")
        ordering = ["-published_at", "-id"]
        constraints = [
            *audience_constraints("lesson"),
            models.CheckConstraint(
                condition=~Q(kind="micro") | Q(reading_minutes__lte=MICRO_LESSON_MAX_MINUTES),
                name="lesson_micro_at_most_20_minutes",
                violation_error_message=_("A micro-lesson takes 20 minutes at most."),
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["micro", "online", "video", "lecture"]),
                name="lesson_kind_valid",
            ),
            models.CheckConstraint(
                condition=~Q(status="published") | Q(published_at__isnull=False),
                name="lesson_published_has_time",
            ),
            models.CheckConstraint(
                condition=~Q(status="scheduled") | Q(publish_at__isnull=False),
                name="lesson_scheduled_has_time",
            ),
        ]
        indexes = [
            models.Index(
                fields=["organization", "status", "-published_at"], name="lesson_org_list"
            ),
            models.Index(fields=["publish_at"], condition=Q(status="scheduled"), name="lesson_due"),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("lessons:detail", args=[self.pk])

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED


class LessonShare(models.Model):
    """A reviewer shares a branch's good lesson with a wider subtree; the lesson keeps its
    author and branch."""

    lesson = models.ForeignKey(
        Lesson, verbose_name=_("lesson"), on_delete=models.CASCADE, related_name="shares"
    )
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("shared with"),
        on_delete=models.CASCADE,
        related_name="shared_lessons",
    )
    shared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    shared_at = models.DateTimeField(_("shared at"), auto_now_add=True)

    class Meta:
        verbose_name = _("lesson share")
        verbose_name_plural = _("lesson shares")
        constraints = [
            models.UniqueConstraint(fields=["lesson", "organization"], name="lessonshare_once")
        ]

    def __str__(self) -> str:
        return f"{self.lesson} → {self.organization}"


class LessonAttachment(models.Model):
    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="attachments")
    title = models.CharField(_("title"), max_length=120, blank=True)
    file = CheckedFileField(_("file"), upload_to="lessons/files/%Y/%m/")

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.title or self.file.name.rsplit("/", 1)[-1]


class Question(models.Model):
    """One multiple-choice question of a lesson's check (1 to 3 per lesson). The right answer
    is never sent to the browser before the member answers."""

    class Choice(models.TextChoices):
        A = "a", "A"
        B = "b", "B"
        C = "c", "C"
        D = "d", "D"

    lesson = models.ForeignKey(
        Lesson, verbose_name=_("lesson"), on_delete=models.CASCADE, related_name="questions"
    )
    order = models.PositiveSmallIntegerField(_("order"), default=1)
    text = models.CharField(_("question"), max_length=300)
    choice_a = models.CharField(_("answer A"), max_length=200)
    choice_b = models.CharField(_("answer B"), max_length=200)
    choice_c = models.CharField(_("answer C"), max_length=200, blank=True)
    choice_d = models.CharField(_("answer D"), max_length=200, blank=True)
    correct = models.CharField(_("right answer"), max_length=1, choices=Choice.choices)
    explanation = models.CharField(
        _("explanation"), max_length=300, blank=True, help_text=_("Shown after answering.")
    )

    class Meta:
        verbose_name = _("check question")
        verbose_name_plural = _("check questions")
        ordering = ["lesson", "order", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(correct__in=["a", "b", "c", "d"]), name="question_correct_valid"
            ),
            models.CheckConstraint(
                condition=~Q(correct="c") | ~Q(choice_c=""), name="question_correct_c_exists"
            ),
            models.CheckConstraint(
                condition=~Q(correct="d") | ~Q(choice_d=""), name="question_correct_d_exists"
            ),
        ]

    def __str__(self) -> str:
        return self.text

    @property
    def choices(self) -> list[tuple[str, str]]:
        pairs = (
            ("a", self.choice_a),
            ("b", self.choice_b),
            ("c", self.choice_c),
            ("d", self.choice_d),
        )
        return [(key, text) for key, text in pairs if text]


class StudyRecord(models.Model):
    """One member's study of one lesson: opened, finished (marked, and the check passed where
    there is one), with the points it earned."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="study_records"
    )
    lesson = models.ForeignKey(
        Lesson, verbose_name=_("lesson"), on_delete=models.CASCADE, related_name="records"
    )
    started_at = models.DateTimeField(_("opened at"))
    marked_at = models.DateTimeField(_("marked as studied at"), null=True, blank=True)
    check_passed_at = models.DateTimeField(_("check passed at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True, db_index=True)
    points = models.PositiveSmallIntegerField(_("points"), default=0)

    class Meta:
        verbose_name = _("study record")
        verbose_name_plural = _("study records")
        constraints = [models.UniqueConstraint(fields=["user", "lesson"], name="studyrecord_once")]
        indexes = [models.Index(fields=["user", "-finished_at"], name="studyrecord_user_finished")]

    def __str__(self) -> str:
        return f"{self.user} · {self.lesson}"


class PointsEntry(models.Model):
    """A line of the points ledger. The unique (user, lesson, reason) makes re-reading, double
    submits and replays unable to add points twice."""

    class Reason(models.TextChoices):
        FINISHED = "finished", _("lesson finished")
        CHECK = "check", _("check passed")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="points_entries"
    )
    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="points_entries")
    reason = models.CharField(_("reason"), max_length=10, choices=Reason.choices)
    points = models.PositiveSmallIntegerField(_("points"))
    earned_at = models.DateTimeField(_("earned at"), db_index=True)

    class Meta:
        verbose_name = _("points")
        verbose_name_plural = _("points")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "lesson", "reason"], name="points_once_per_reason"
            ),
        ]
        indexes = [models.Index(fields=["user", "earned_at"], name="points_user_time")]

    def __str__(self) -> str:
        return f"{self.user} +{self.points} {self.get_reason_display()}"


class LessonReminder(models.Model):
    """A reminder to those who have not finished a lesson: at most one per lesson per day."""

    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="reminders")
    day = models.DateField()
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    recipients = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["lesson", "day"], name="lessonreminder_once_a_day")
        ]

    def __str__(self) -> str:
        return f"{self.lesson_id} · {self.day}"


class CheckAttempt(models.Model):
    """An answer to a lesson's check. `client_id` (made by the browser, also offline) makes a
    replayed submission count once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="check_attempts")
    answers = models.JSONField(default=dict)
    passed = models.BooleanField(default=False)
    client_id = models.UUIDField(null=True, blank=True)
    answered_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "client_id"], name="checkattempt_client_once"),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.lesson} · {'ok' if self.passed else 'no'}"


class Document(Audience, TimeStampedModel):
    """The document library: Party rules, group documents, study material, as a file (PDF,
    Office) or as rich text."""

    class Category(models.TextChoices):
        PARTY_RULES = "party_rules", _("Party rules")
        GROUP_DOCUMENTS = "group_documents", _("group documents")
        STUDY_MATERIAL = "study_material", _("study material")

    title = models.CharField(_("title"), max_length=160)
    category = models.CharField(_("category"), max_length=20, choices=Category.choices)
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("published by"),
        on_delete=models.PROTECT,
        related_name="documents",
    )
    summary = models.CharField(_("summary"), max_length=240, blank=True)
    body = RichTextField(_("text"), blank=True)
    file = CheckedFileField(_("file"), upload_to="documents/%Y/%m/", blank=True)
    issued_on = models.DateField(_("date"), help_text=_("The date of the document."))
    issuer = models.CharField(_("issued by"), max_length=120, blank=True)
    published = models.BooleanField(_("published"), default=False)

    class Meta:
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        ordering = ["-issued_on", "-id"]
        constraints = [
            *audience_constraints("document"),
            models.CheckConstraint(
                condition=~Q(body="") | ~Q(file=""),
                name="document_has_text_or_file",
                violation_error_message=_("Give the document a text or a file."),
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("lessons:document", args=[self.pk])


class DocumentRead(models.Model):
    """A member opened a document (counts towards a study plan's progress)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="reads")
    read_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "document"], name="documentread_once")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} · {self.document_id}"


class StudyPlan(Audience, TimeStampedModel):
    """A plan for a month or a quarter: an ordered list of lessons and documents, due by a date."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        PUBLISHED = "published", _("published")

    title = models.CharField(_("title"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("published by"),
        on_delete=models.PROTECT,
        related_name="study_plans",
    )
    starts_on = models.DateField(_("from"))
    due_on = models.DateField(_("due by"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reminded_at = models.DateTimeField(_("due-soon reminder sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("study plan")
        verbose_name_plural = _("study plans")
        ordering = ["-starts_on", "-id"]
        constraints = [
            *audience_constraints("studyplan"),
            models.CheckConstraint(
                condition=Q(due_on__gte=models.F("starts_on")), name="studyplan_due_after_start"
            ),
            models.CheckConstraint(
                condition=~Q(status="published") | Q(published_at__isnull=False),
                name="studyplan_published_has_time",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("lessons:plan", args=[self.pk])


class StudyPlanItem(models.Model):
    plan = models.ForeignKey(StudyPlan, on_delete=models.CASCADE, related_name="items")
    order = models.PositiveSmallIntegerField(_("order"), default=1)
    lesson = models.ForeignKey(
        Lesson,
        verbose_name=_("lesson"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    document = models.ForeignKey(
        Document,
        verbose_name=_("document"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("plan item")
        verbose_name_plural = _("plan items")
        ordering = ["plan", "order", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(lesson__isnull=False) & Q(document__isnull=True))
                | (Q(lesson__isnull=True) & Q(document__isnull=False)),
                name="studyplanitem_lesson_or_document",
                violation_error_message=_("Each item is a lesson or a document."),
            ),
        ]

    def __str__(self) -> str:
        return str(self.lesson or self.document)
