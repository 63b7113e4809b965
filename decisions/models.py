"""Deliberation and decisions (议事决策): motions put to a vote, the votes, and the follow-up
of what was decided.

A public vote is one row per voter (`Vote`: who and what). A secret ballot keeps who voted and
what was voted in two tables with nothing linking them: `VoterRecord` (motion, user) says who
has voted, `Ballot` (motion, choice) holds what was voted, without a user, a time or a
sequence (random UUID keys), and the close rewrites the ballot box in a random order (see
`services.motion_close`). A secret ballot cannot be changeable: changing a vote means finding
one's own ballot again, that is a link (or a receipt, which enables coercion and vote-buying);
and its interim results stay hidden, else watching the count move as each voter is recorded
would link them. Both rules are database constraints.
"""

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from branches.models import Organization
from core.models import TimeStampedModel
from core.richtext import RichTextField
from core.uploads import CheckedFileField, CheckedImageField


class Choice(models.TextChoices):
    FOR = "for", _("for")
    AGAINST = "against", _("against")
    ABSTAIN = "abstain", _("abstain")


CHOICES = ["for", "against", "abstain"]


class Motion(TimeStampedModel):
    """A motion (议案) put to the vote of an organisation's electorate; once passed, a decision
    (决议) with an owner, a due date and progress updates."""

    class Electorate(models.TextChoices):
        FULL_MEMBERS = "full_members", _("the full members of the organisation")
        COMMITTEE = "committee", _("the committee of the organisation")
        ATTENDEES = "attendees", _("the meeting's expected attendees")

    class Threshold(models.TextChoices):
        SIMPLE = "simple", _("simple majority (more than half)")
        TWO_THIRDS = "two_thirds", _("two-thirds majority (at least two thirds)")

    class MajorityOf(models.TextChoices):
        ELECTORATE = "electorate", _("of those entitled to vote")
        CAST = "cast", _("of the votes cast")

    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        OPEN = "open", _("open")
        CLOSED = "closed", _("closed")

    class Result(models.TextChoices):
        PASSED = "passed", _("passed")
        REJECTED = "rejected", _("rejected")
        NO_QUORUM = "no_quorum", _("no quorum")

    organization = models.ForeignKey(
        Organization,
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        related_name="motions",
    )
    meeting = models.ForeignKey(
        "meetings.Meeting",
        verbose_name=_("meeting"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="motions",
        help_text=_(
            "The meeting where the motion is put to the vote; empty for online deliberation "
            "between meetings."
        ),
    )
    title = models.CharField(_("title"), max_length=160)
    body = RichTextField(_("text"), blank=True)
    electorate = models.CharField(
        _("who may vote"),
        max_length=16,
        choices=Electorate.choices,
        default=Electorate.FULL_MEMBERS,
        help_text=_("Probationary members have no vote, whichever is chosen."),
    )
    opens_at = models.DateTimeField(_("voting opens at"))
    closes_at = models.DateTimeField(_("voting closes at"))
    secret = models.BooleanField(
        _("secret ballot"),
        default=False,
        help_text=_(
            "Who voted is stored apart from what was voted: nobody, not even an administrator, "
            "can tell who voted what. A secret ballot cannot be changed once cast, and its "
            "results stay hidden until the close."
        ),
    )
    changeable = models.BooleanField(
        _("votes may be changed"),
        default=False,
        help_text=_("Voters may change their vote until the close (public votes only)."),
    )
    results_hidden = models.BooleanField(
        _("results hidden until the close"),
        default=True,
        help_text=_("Otherwise the count is shown live while the vote is open."),
    )
    quorum_percent = models.PositiveSmallIntegerField(
        _("quorum (%)"),
        default=50,
        validators=[MaxValueValidator(100)],
        help_text=_(
            "The share of those entitled who must cast a vote (abstentions count) for the "
            "result to stand."
        ),
    )
    threshold = models.CharField(
        _("majority needed"), max_length=12, choices=Threshold.choices, default=Threshold.SIMPLE
    )
    majority_of = models.CharField(
        _("majority counted"),
        max_length=12,
        choices=MajorityOf.choices,
        default=MajorityOf.ELECTORATE,
        help_text=_(
            "The Party's rule for a branch general meeting counts the votes for against all "
            "those entitled to vote (应到会有表决权的党员)."
        ),
    )
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.DRAFT
    )
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("raised by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    opened_at = models.DateTimeField(_("opened at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("closed by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Empty when the vote closed at the end of its window."),
    )
    # The result, computed once at the close and frozen.
    result = models.CharField(_("result"), max_length=10, choices=Result.choices, blank=True)
    electorate_size = models.PositiveIntegerField(_("entitled to vote"), null=True, blank=True)
    votes_for = models.PositiveIntegerField(_("for"), null=True, blank=True)
    votes_against = models.PositiveIntegerField(_("against"), null=True, blank=True)
    votes_abstain = models.PositiveIntegerField(_("abstentions"), null=True, blank=True)
    # Follow-up of a passed motion (公开: every member of the organisation sees it).
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("follow-up owner"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="decisions_owned",
        help_text=_("Carries the decision out and reports its progress."),
    )
    due_on = models.DateField(_("due on"), null=True, blank=True)
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    done_at = models.DateTimeField(_("carried out at"), null=True, blank=True)

    class Meta:
        verbose_name = _("motion")
        verbose_name_plural = _("motions")
        ordering = ["-opens_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(closes_at__gt=F("opens_at")),
                name="motion_closes_after_opens",
                violation_error_message=_("Voting closes after it opens."),
            ),
            models.CheckConstraint(
                condition=~Q(secret=True, changeable=True),
                name="motion_secret_not_changeable",
                violation_error_message=_(
                    "A secret ballot cannot be changed once cast: changing it would need a link "
                    "between the voter and the ballot."
                ),
            ),
            models.CheckConstraint(
                condition=~Q(secret=True, results_hidden=False),
                name="motion_secret_results_hidden",
                violation_error_message=_(
                    "The results of a secret ballot stay hidden until the close: a live count "
                    "would show how each voter voted."
                ),
            ),
            models.CheckConstraint(
                condition=~Q(electorate="attendees") | Q(meeting__isnull=False),
                name="motion_attendees_need_meeting",
                violation_error_message=_("Choose the meeting whose attendees vote."),
            ),
            models.CheckConstraint(
                condition=Q(quorum_percent__lte=100), name="motion_quorum_percent_valid"
            ),
            models.CheckConstraint(
                condition=Q(electorate__in=["full_members", "committee", "attendees"]),
                name="motion_electorate_valid",
            ),
            models.CheckConstraint(
                condition=Q(threshold__in=["simple", "two_thirds"]), name="motion_threshold_valid"
            ),
            models.CheckConstraint(
                condition=Q(majority_of__in=["electorate", "cast"]), name="motion_majority_of_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["draft", "open", "closed"]), name="motion_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(opened_at__isnull=False),
                name="motion_opened_has_time",
            ),
            # Closed <=> a frozen result with its counts.
            models.CheckConstraint(
                condition=Q(
                    status="closed",
                    closed_at__isnull=False,
                    result__in=["passed", "rejected", "no_quorum"],
                    electorate_size__isnull=False,
                    votes_for__isnull=False,
                    votes_against__isnull=False,
                    votes_abstain__isnull=False,
                )
                | (
                    ~Q(status="closed")
                    & Q(
                        closed_at__isnull=True,
                        result="",
                        electorate_size__isnull=True,
                        votes_for__isnull=True,
                        votes_against__isnull=True,
                        votes_abstain__isnull=True,
                    )
                ),
                name="motion_closed_iff_result",
            ),
            # Only a passed motion is followed up.
            models.CheckConstraint(
                condition=Q(result="passed")
                | Q(owner__isnull=True, due_on__isnull=True, progress=0, done_at__isnull=True),
                name="motion_follow_up_when_passed",
            ),
            models.CheckConstraint(
                condition=Q(progress=100, done_at__isnull=False)
                | Q(progress__lt=100, done_at__isnull=True),
                name="motion_done_iff_complete",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "-opens_at"], name="motion_org_time"),
            models.Index(fields=["closes_at"], condition=Q(status="open"), name="motion_due_close"),
            models.Index(
                fields=["due_on"],
                condition=Q(result="passed", done_at__isnull=True),
                name="motion_follow_up_due",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("decisions:detail", args=[self.pk])

    def clean(self) -> None:
        super().clean()
        if (
            self.meeting_id
            and self.organization_id
            and self.meeting.organization_id != self.organization_id
        ):
            raise ValidationError(
                {"meeting": _("Choose a meeting of the motion's own organisation.")}
            )

    @property
    def is_decision(self) -> bool:
        return self.result == self.Result.PASSED

    @property
    def is_done(self) -> bool:
        return self.done_at is not None

    @property
    def votes_cast(self) -> int | None:
        if self.votes_for is None:
            return None
        return self.votes_for + self.votes_against + self.votes_abstain

    def voting_open_at(self, now) -> bool:
        return self.status == self.Status.OPEN and self.opens_at <= now < self.closes_at

    @property
    def results_visible(self) -> bool:
        """Counts may be shown: after the close, or live when the motion allows it."""
        return self.status == self.Status.CLOSED or (
            self.status == self.Status.OPEN and not self.results_hidden and not self.secret
        )


class MotionAttachment(models.Model):
    """A document attached to a motion (checked by content in `core`)."""

    motion = models.ForeignKey(Motion, on_delete=models.CASCADE, related_name="attachments")
    title = models.CharField(_("title"), max_length=120, blank=True)
    file = CheckedFileField(_("file"), upload_to="decisions/files/%Y/%m/")
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.title or self.file.name.rsplit("/", 1)[-1]


class Vote(models.Model):
    """A public (named) vote: who voted what. Changed in place when the motion allows it."""

    motion = models.ForeignKey(Motion, on_delete=models.CASCADE, related_name="votes")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("voter"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    choice = models.CharField(_("vote"), max_length=8, choices=Choice.choices)
    cast_at = models.DateTimeField(_("cast at"))
    changed_at = models.DateTimeField(_("changed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("public vote")
        verbose_name_plural = _("public votes")
        constraints = [
            models.UniqueConstraint(fields=["motion", "user"], name="vote_once"),
            models.CheckConstraint(condition=Q(choice__in=CHOICES), name="vote_choice_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.motion_id} · {self.user_id}"


class VoterRecord(models.Model):
    """Secret ballot: that this user has voted on this motion, nothing about how. Random key,
    no time."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    motion = models.ForeignKey(Motion, on_delete=models.CASCADE, related_name="voter_records")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("voter record")
        verbose_name_plural = _("voter records")
        constraints = [models.UniqueConstraint(fields=["motion", "user"], name="voterrecord_once")]

    def __str__(self) -> str:
        return f"{self.motion_id} · {self.user_id}"


class Ballot(models.Model):
    """Secret ballot: one vote, without a voter, a time or a sequence number (random key)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    motion = models.ForeignKey(Motion, on_delete=models.CASCADE, related_name="ballots")
    choice = models.CharField(max_length=8, choices=Choice.choices)

    class Meta:
        verbose_name = _("ballot")
        verbose_name_plural = _("ballots")
        constraints = [
            models.CheckConstraint(condition=Q(choice__in=CHOICES), name="ballot_choice_valid")
        ]

    def __str__(self) -> str:
        return f"{self.motion_id}"


class ProgressUpdate(models.Model):
    """A progress report on a decision, by its owner or a secretary."""

    motion = models.ForeignKey(Motion, on_delete=models.CASCADE, related_name="updates")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    body = models.TextField(_("what was done"))
    percent = models.PositiveSmallIntegerField(_("progress (%)"))
    created_at = models.DateTimeField(_("reported at"), auto_now_add=True)

    class Meta:
        verbose_name = _("progress update")
        verbose_name_plural = _("progress updates")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(percent__lte=100), name="progressupdate_percent_valid"
            ),
            models.CheckConstraint(condition=~Q(body=""), name="progressupdate_not_empty"),
        ]

    def __str__(self) -> str:
        return f"{self.motion} · {self.percent}%"


class ProgressPhoto(models.Model):
    update = models.ForeignKey(ProgressUpdate, on_delete=models.CASCADE, related_name="photos")
    image = CheckedImageField(_("photo"), upload_to="decisions/progress/%Y/%m/")

    class Meta:
        verbose_name = _("progress photo")
        verbose_name_plural = _("progress photos")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.image.name.rsplit("/", 1)[-1]


class DecisionReminder(models.Model):
    """A reminder to the owner of an overdue decision: at most one per decision per day
    (`notifications.services.remind_once_a_day`)."""

    motion = models.ForeignKey(Motion, on_delete=models.CASCADE, related_name="reminders")
    day = models.DateField()
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    recipients = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["motion", "day"], name="decisionreminder_once_a_day")
        ]

    def __str__(self) -> str:
        return f"{self.motion_id} · {self.day}"
