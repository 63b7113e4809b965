"""Committee review (党委审阅): branches' activity reports, the five-star branch rating
(五星党支部) and the practice accounts five-star branches share group-wide.

The figures of a report are computed from the other apps' data by `reports.selectors.figures`
and frozen into `ActivityReport.figures` when the report is submitted, so that an approved
report keeps saying what it said whatever happens to the data afterwards.
"""

from datetime import date

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from branches.models import Organization
from core.models import TimeStampedModel
from core.richtext import RichTextField
from core.uploads import CheckedFileField

from .periods import Period


class PeriodKind(models.TextChoices):
    MONTH = "month", _("monthly")
    QUARTER = "quarter", _("quarterly")
    YEAR = "year", _("yearly")


class ActivityReport(TimeStampedModel):
    """A branch's activity report for a month, quarter or year.

    draft → submitted → approved, or submitted → returned (with comments) → submitted again.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        SUBMITTED = "submitted", _("submitted")
        RETURNED = "returned", _("returned")
        APPROVED = "approved", _("approved")

    organization = models.ForeignKey(
        Organization,
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        related_name="activity_reports",
    )
    period_kind = models.CharField(_("period"), max_length=8, choices=PeriodKind.choices)
    period_start = models.DateField(_("period starts"))
    period_end = models.DateField(_("period ends"))
    due_on = models.DateField(_("due on"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    narrative = RichTextField(_("narrative"), blank=True)
    figures = models.JSONField(
        _("figures"),
        default=dict,
        blank=True,
        help_text=_("Computed by the portal and frozen when the report is submitted."),
    )
    figures_at = models.DateTimeField(_("figures as of"), null=True, blank=True)
    prepared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("prepared by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewed by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    review_comment = models.TextField(_("reviewer's comments"), blank=True)
    overdue_flagged_at = models.DateTimeField(_("flagged overdue at"), null=True, blank=True)

    class Meta:
        verbose_name = _("activity report")
        verbose_name_plural = _("activity reports")
        ordering = ["-period_start", "organization__path"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "period_kind", "period_start"],
                name="activityreport_one_per_period",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["draft", "submitted", "returned", "approved"]),
                name="activityreport_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(period_kind__in=["month", "quarter", "year"]),
                name="activityreport_period_kind_valid",
            ),
            models.CheckConstraint(
                condition=Q(period_end__gte=models.F("period_start")),
                name="activityreport_period_ordered",
            ),
            models.CheckConstraint(
                condition=Q(status="draft")
                | Q(submitted_at__isnull=False, figures_at__isnull=False),
                name="activityreport_submitted_has_figures",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["returned", "approved"]) | Q(reviewed_at__isnull=False),
                name="activityreport_reviewed_has_date",
            ),
        ]
        indexes = [models.Index(fields=["period_kind", "period_start", "status"])]

    def __str__(self) -> str:
        return f"{self.organization} · {self.period.label()}"

    @property
    def period(self) -> Period:
        return Period(self.period_kind, self.period_start)

    @property
    def is_editable(self) -> bool:
        """The secretary may still change the narrative and attachments."""
        return self.status in (self.Status.DRAFT, self.Status.RETURNED)

    def is_overdue(self, today: date) -> bool:
        return self.status in (self.Status.DRAFT, self.Status.RETURNED) and today > self.due_on

    def get_absolute_url(self) -> str:
        return reverse("reports:report", args=[self.pk])


class BranchFigures(models.Model):
    """The dashboard's rollup: one organisation's figures for one period, computed in the
    database for every organisation at once by `reports.services.figures_refresh` (a Celery
    task on a clock, and on demand), so that the dashboard over thousands of branches reads a
    few rows instead of aggregating a year of activity on every request. Reports do not use
    it: a report's figures are computed for its branch when it is submitted."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    period_kind = models.CharField(_("period"), max_length=8, choices=PeriodKind.choices)
    period_start = models.DateField(_("period starts"))
    figures = models.JSONField(_("figures"), default=dict)
    last_activity_at = models.DateTimeField(_("last recorded activity"), null=True, blank=True)
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        verbose_name = _("branch figures")
        verbose_name_plural = _("branch figures")
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "period_kind", "period_start"],
                name="branchfigures_one_per_period",
            )
        ]
        indexes = [models.Index(fields=["period_kind", "period_start"])]

    def __str__(self) -> str:
        return f"{self.organization_id} {self.period_kind} {self.period_start}"


class ReportAttachment(models.Model):
    """A file attached to a report (checked by content in `core`)."""

    report = models.ForeignKey(ActivityReport, on_delete=models.CASCADE, related_name="attachments")
    title = models.CharField(_("title"), max_length=120, blank=True)
    file = CheckedFileField(_("file"), upload_to="reports/files/%Y/%m/")
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.title or self.file.name.rsplit("/", 1)[-1]


class ReportEvent(models.Model):
    """The report's history: each submission, return (with the comments) and approval."""

    class Action(models.TextChoices):
        SUBMITTED = "submitted", _("submitted")
        RETURNED = "returned", _("returned")
        APPROVED = "approved", _("approved")

    report = models.ForeignKey(ActivityReport, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    at = models.DateTimeField(_("at"))
    comment = models.TextField(_("comment"), blank=True)

    class Meta:
        verbose_name = _("report history entry")
        verbose_name_plural = _("report history")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.at:%Y-%m-%d}"


class ReportReminder(models.Model):
    """One reminder of each kind per organisation and period, whether or not a report exists."""

    class Kind(models.TextChoices):
        DUE_SOON = "due_soon", _("due soon")
        OVERDUE = "overdue", _("overdue")

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    period_kind = models.CharField(max_length=8, choices=PeriodKind.choices)
    period_start = models.DateField()
    kind = models.CharField(max_length=10, choices=Kind.choices)
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("report reminder")
        verbose_name_plural = _("report reminders")
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "period_kind", "period_start", "kind"],
                name="reportreminder_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.organization_id} {self.period_kind} {self.period_start} {self.kind}"


class BranchRating(TimeStampedModel):
    """The five-star rating (五星党支部) of a branch for a year: the score computed from the
    year's figures with the weights in `NETBRANCH_RATING_WEIGHTS`, and the stars the committee
    confirmed or set instead (with a reason). Each decision is kept in `RatingDecision`."""

    class Status(models.TextChoices):
        COMPUTED = "computed", _("computed, awaiting the committee")
        CONFIRMED = "confirmed", _("confirmed")
        OVERRIDDEN = "overridden", _("set by the committee")

    organization = models.ForeignKey(
        Organization,
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        related_name="ratings",
    )
    year = models.PositiveSmallIntegerField(_("year"))
    score = models.DecimalField(_("score"), max_digits=5, decimal_places=1)
    computed_stars = models.PositiveSmallIntegerField(_("stars from the score"))
    breakdown = models.JSONField(
        _("breakdown"), default=dict, blank=True, help_text=_("Each criterion's value and points.")
    )
    computed_at = models.DateTimeField(_("computed at"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.COMPUTED
    )
    stars = models.PositiveSmallIntegerField(
        _("stars"), null=True, blank=True, help_text=_("The stars the committee confirmed or set.")
    )
    reason = models.TextField(_("reason"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        verbose_name = _("branch rating")
        verbose_name_plural = _("branch ratings")
        ordering = ["-year", "organization__path"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "year"], name="branchrating_one_a_year"
            ),
            models.CheckConstraint(
                condition=Q(computed_stars__gte=1, computed_stars__lte=5),
                name="branchrating_computed_stars_range",
            ),
            models.CheckConstraint(
                condition=Q(stars__isnull=True) | Q(stars__gte=1, stars__lte=5),
                name="branchrating_stars_range",
            ),
            models.CheckConstraint(
                condition=Q(status="computed", stars__isnull=True)
                | Q(
                    status__in=["confirmed", "overridden"],
                    stars__isnull=False,
                    decided_at__isnull=False,
                ),
                name="branchrating_decision_complete",
            ),
            models.CheckConstraint(
                condition=~Q(status="overridden") | ~Q(reason=""),
                name="branchrating_override_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organization} {self.year}: {self.shown_stars}★"

    @property
    def shown_stars(self) -> int:
        """What the branch page shows: the committee's stars once decided, else the computed."""
        return self.stars if self.stars is not None else self.computed_stars


class RatingDecision(models.Model):
    """History of a rating: every confirmation or override, and recomputations."""

    class Action(models.TextChoices):
        COMPUTED = "computed", _("computed")
        CONFIRMED = "confirmed", _("confirmed")
        OVERRIDDEN = "overridden", _("overridden")

    rating = models.ForeignKey(BranchRating, on_delete=models.CASCADE, related_name="decisions")
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    stars = models.PositiveSmallIntegerField(_("stars"))
    score = models.DecimalField(_("score"), max_digits=5, decimal_places=1)
    reason = models.TextField(_("reason"), blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    at = models.DateTimeField(_("at"))

    class Meta:
        verbose_name = _("rating decision")
        verbose_name_plural = _("rating history")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.stars}★"


class PracticeAccount(TimeStampedModel):
    """A five-star branch's short account of its practice (经验做法), shared group-wide by
    the reviewer through `notifications` and shown on the branch page."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        SUBMITTED = "submitted", _("submitted to the committee")
        SHARED = "shared", _("shared group-wide")

    organization = models.ForeignKey(
        Organization,
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        related_name="practice_accounts",
    )
    rating = models.ForeignKey(
        BranchRating,
        verbose_name=_("rating"),
        on_delete=models.PROTECT,
        related_name="practice_accounts",
    )
    title = models.CharField(_("title"), max_length=120)
    body = RichTextField(_("account"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    written_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("written by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    shared_at = models.DateTimeField(_("shared at"), null=True, blank=True)
    shared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("shared by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("practice account")
        verbose_name_plural = _("practice accounts")
        ordering = ["-shared_at", "-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["draft", "submitted", "shared"]),
                name="practiceaccount_status_valid",
            ),
            models.CheckConstraint(
                condition=~Q(status="shared") | Q(shared_at__isnull=False),
                name="practiceaccount_shared_has_date",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("reports:practice", args=[self.pk])
