"""The five-star branch rating (五星党支部): how a branch's year is scored, and the committee's
decisions on it. What secretaries read on /reports/rating/ is this module's documentation.

The score
---------
Nine criteria, each a value from 0 to 1 computed from the year's figures
(`reports.selectors.figures`), times its weight in ``settings.NETBRANCH_RATING_WEIGHTS``
(the weights sum to 100, so the score runs from 0 to 100):

=============  ============================================================================
meetings       meetings compliance: of the meetings the cadence requires (each month's or
               quarter's meeting of each kind: branch general meeting, committee meeting,
               party group meetings, Party lesson, themed Party day), the share not missed; a
               month or quarter still running is not missed yet. Nothing required: 1.
attendance     attendance rate of the year's meetings (present / expected). No meeting: 0.
study          study completion (lessons finished / lessons to finish). No lesson: 0.
reflections    reflections per member, against REFLECTIONS_PER_MEMBER a year (capped at 1).
welfare        welfare-activity hours per member, against WELFARE_HOURS_PER_MEMBER a year
               (capped at 1).
decisions      decisions followed up: carried out / due (carried out + overdue). None due: 1.
board          board questions answered / asked. None asked: 1.
contact        share of members in active contact, less the share of members lost or pocket
               without an open outreach case (each of them counts twice); at least 0.
reports        activity reports submitted on time: the year's reports due so far whose first
               submission came on or before the due date, over those due. None due yet: 1.
=============  ============================================================================

Each criterion's points are its value × weight, rounded to one decimal; the score is the sum
of the points, so that the breakdown a secretary reads adds up to the score. The stars come
from ``settings.NETBRANCH_RATING_STARS``, the least score for 5, 4, 3 and 2 stars (a score
equal to a threshold reaches it); below the last threshold, 1 star.

Computation and decisions
-------------------------
`ratings_compute` rates every branch (党支部: branch, joint branch, mobile branch) for a year at
once: the year's figures from the dashboard's rollup (`BranchFigures`) where present, the
rest computed by `figures_for` in one call, then one upsert of the `BranchRating` rows. It runs
every night for the current year (Celery beat) and on demand from the reviewer's list.
A rating starts "computed"; a reviewer of the committee above the branch (never the branch's
own secretary) confirms the computed stars or sets others with a reason. A recomputation
never undoes that decision: on a confirmed or overridden rating it updates the score, the
computed stars and the breakdown, and records a "computed" entry in the history when the score
or the computed stars changed, but keeps the committee's `stars`. The reviewer may then
confirm the new stars or keep theirs. Every decision and every changed computation is kept in
`RatingDecision`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Case, Count, F, IntegerField, OuterRef, Subquery, Sum, When
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from branches import scope
from branches.models import Organization, RoleAssignment
from notifications import services as notification_services

from ..models import (
    ActivityReport,
    BranchFigures,
    BranchRating,
    PeriodKind,
    PracticeAccount,
    RatingDecision,
    ReportEvent,
)
from ..periods import Period, local_today, local_zone

#: Reflections a member is expected to write in a year (the criterion's value is 1 there).
REFLECTIONS_PER_MEMBER = 4
#: Hours of welfare activity per member in a year that give the full welfare points.
WELFARE_HOURS_PER_MEMBER = 8
#: The organisations that are rated: branches proper (党支部), not committees, general
#: branches, micro-branches or party groups (their activity counts in their branch's figures).
RATED_KINDS = tuple(Organization.REGISTRATION_KINDS)
#: Roles of a branch's own committee: never the ones who decide its rating.
BRANCH_ROLES = (
    RoleAssignment.Role.SECRETARY,
    RoleAssignment.Role.DEPUTY_SECRETARY,
    RoleAssignment.Role.COMMITTEE_MEMBER,
)

ONE = Decimal(1)
ZERO = Decimal(0)
_VALUE_Q = Decimal("0.001")
_POINTS_Q = Decimal("0.1")


@dataclass(frozen=True)
class Criterion:
    key: str
    label: object  # lazy translation
    explanation: object


CRITERIA: tuple[Criterion, ...] = (
    Criterion(
        "meetings",
        gettext_lazy("Meetings held as required"),
        gettext_lazy(
            "Of the meetings the cadence requires (三会一课, themed Party day: each month's or "
            "quarter's meeting of each kind), the share not missed; a month or quarter still "
            "running is not missed yet."
        ),
    ),
    Criterion(
        "attendance",
        gettext_lazy("Attendance"),
        gettext_lazy("Members present at the year's meetings over members expected."),
    ),
    Criterion(
        "study",
        gettext_lazy("Study completion"),
        gettext_lazy("Lessons finished by the members over the lessons they were to study."),
    ),
    Criterion(
        "reflections",
        gettext_lazy("Reflections"),
        gettext_lazy("Reflections written per member; %(n)s a year gives the full points."),
    ),
    Criterion(
        "welfare",
        gettext_lazy("Welfare activity"),
        gettext_lazy(
            "Hours of welfare activity per member; %(h)s hours a year give the full points."
        ),
    ),
    Criterion(
        "decisions",
        gettext_lazy("Decisions followed up"),
        gettext_lazy("Decisions carried out over decisions due (carried out or overdue)."),
    ),
    Criterion(
        "board",
        gettext_lazy("Board questions answered"),
        gettext_lazy("Questions on the branch board answered over questions asked."),
    ),
    Criterion(
        "contact",
        gettext_lazy("Contact with members"),
        gettext_lazy(
            "Share of members in active contact, less the share lost or pocket members "
            "without an open outreach case."
        ),
    ),
    Criterion(
        "reports",
        gettext_lazy("Reports on time"),
        gettext_lazy(
            "The year's activity reports due so far that were first submitted by their due date."
        ),
    ),
)
CRITERIA_KEYS = tuple(c.key for c in CRITERIA)


# --- settings -----------------------------------------------------------------------------------


def weights() -> dict[str, int]:
    """The weights from settings, checked: only known criteria, whole non-negative numbers
    summing to 100 (a criterion left out weighs 0)."""
    raw = getattr(settings, "NETBRANCH_RATING_WEIGHTS", None) or {}
    unknown = set(raw) - set(CRITERIA_KEYS)
    if unknown:
        raise ImproperlyConfigured(f"NETBRANCH_RATING_WEIGHTS: unknown criteria {sorted(unknown)}")
    out = {key: int(raw.get(key, 0)) for key in CRITERIA_KEYS}
    if any(w < 0 for w in out.values()) or sum(out.values()) != 100:
        raise ImproperlyConfigured("NETBRANCH_RATING_WEIGHTS must be non-negative and sum to 100")
    return out


def thresholds() -> list[int]:
    """The least score for 5, 4, 3 and 2 stars, from settings (descending)."""
    raw = [Decimal(str(t)) for t in getattr(settings, "NETBRANCH_RATING_STARS", [])]
    if len(raw) != 4 or raw != sorted(raw, reverse=True):
        raise ImproperlyConfigured("NETBRANCH_RATING_STARS must be four descending scores")
    return raw


def stars_for(score: Decimal) -> int:
    for stars, least in zip((5, 4, 3, 2), thresholds(), strict=True):
        if score >= least:
            return stars
    return 1


# --- the formula --------------------------------------------------------------------------------


def _d(x) -> Decimal:
    if x is None:
        return ZERO
    return Decimal(str(x))


def _ratio(part, whole, *, empty: Decimal) -> Decimal:
    """part / whole clamped to 0..1; `empty` when there is nothing to measure."""
    whole = _d(whole)
    if whole <= 0:
        return empty
    return max(ZERO, min(ONE, _d(part) / whole))


def _values(figures: Mapping, reports_on_time) -> dict[str, tuple[Decimal, dict]]:
    """Each criterion's value 0..1 and the numbers it came from."""
    members = int(figures.get("members") or 0)
    required = figures.get("meetings_required") or {}
    required_total = sum(int(n or 0) for n in required.values())
    missed = min(int(figures.get("meetings_missed") or 0), required_total)

    contact = figures.get("contact") or {}
    contact_total = sum(int(n or 0) for n in contact.values()) or members
    unattended = max(
        0,
        int(contact.get("lost") or 0)
        + int(contact.get("pocket") or 0)
        - int(figures.get("outreach_open") or 0),
    )
    if contact_total > 0:
        contact_value = max(
            ZERO,
            min(ONE, (_d(contact.get("active")) - unattended) / _d(contact_total)),
        )
    else:
        contact_value = ZERO

    done = int(figures.get("decisions_done") or 0)
    overdue = int(figures.get("decisions_overdue") or 0)
    asked = int(figures.get("board_questions") or 0)
    answered = int(figures.get("board_answered") or 0)
    reflections = int(figures.get("reflections") or 0)
    hours = _d(figures.get("welfare_hours"))
    on_time, due = reports_on_time if reports_on_time else (0, 0)

    def rate(key):
        value = figures.get(key)
        return ZERO if value is None else max(ZERO, min(ONE, _d(value)))

    return {
        "meetings": (
            _ratio(required_total - missed, required_total, empty=ONE),
            {"missed": missed, "required": required_total},
        ),
        "attendance": (
            rate("attendance_rate"),
            {
                "present": figures.get("attendance_present") or 0,
                "expected": figures.get("attendance_expected") or 0,
            },
        ),
        "study": (rate("study_completion"), {"finished": figures.get("study_finished") or 0}),
        "reflections": (
            _ratio(reflections, members * REFLECTIONS_PER_MEMBER, empty=ZERO),
            {"reflections": reflections, "members": members},
        ),
        "welfare": (
            _ratio(hours, members * WELFARE_HOURS_PER_MEMBER, empty=ZERO),
            {"hours": float(hours), "members": members},
        ),
        "decisions": (
            _ratio(done, done + overdue, empty=ONE),
            {"done": done, "due": done + overdue},
        ),
        "board": (_ratio(answered, asked, empty=ONE), {"answered": answered, "asked": asked}),
        "contact": (
            contact_value,
            {
                "active": int(contact.get("active") or 0),
                "members": contact_total,
                "unattended": unattended,
            },
        ),
        "reports": (_ratio(on_time, due, empty=ONE), {"on_time": on_time, "due": due}),
    }


def score(figures: Mapping, reports_on_time: tuple[int, int] | None) -> tuple[Decimal, int, dict]:
    """The score (0..100, one decimal), the stars and the breakdown of one branch's year.

    `figures` is the year's figures dict (the keys of `reports.selectors.figures`; missing keys
    count as 0); `reports_on_time` is (reports first submitted by their due date, reports due),
    or None when none is due. Pure: no query. The breakdown is JSON-ready:
    {"criteria": [{"key", "value", "weight", "points", "detail"}], "score", "stars"}.
    """
    w = weights()
    rows = []
    total = ZERO
    for key, (value, detail) in _values(figures, reports_on_time).items():
        value = value.quantize(_VALUE_Q, rounding=ROUND_HALF_UP)
        points = (value * w[key]).quantize(_POINTS_Q, rounding=ROUND_HALF_UP)
        total += points
        rows.append(
            {
                "key": key,
                "value": float(value),
                "weight": w[key],
                "points": float(points),
                "detail": detail,
            }
        )
    total = total.quantize(_POINTS_Q)
    stars = stars_for(total)
    return total, stars, {"criteria": rows, "score": float(total), "stars": stars}


def criteria_rows(breakdown: Mapping | None = None) -> list[dict]:
    """For the pages: every criterion with its label, explanation and weight, and (given a
    stored breakdown) its value and points."""
    w = weights()
    stored = {row["key"]: row for row in (breakdown or {}).get("criteria", [])}
    out = []
    for c in CRITERIA:
        row = stored.get(c.key, {})
        explanation = str(c.explanation)
        if "%(" in explanation:
            explanation = explanation % {
                "n": REFLECTIONS_PER_MEMBER,
                "h": WELFARE_HOURS_PER_MEMBER,
            }
        out.append(
            {
                "key": c.key,
                "label": c.label,
                "explanation": explanation,
                "weight": w[c.key],
                "value": row.get("value"),
                "percent": None if row.get("value") is None else round(row["value"] * 100),
                "points": row.get("points"),
                "detail": row.get("detail", {}),
            }
        )
    return out


def star_rows() -> list[tuple[int, Decimal]]:
    """[(5, 90), (4, 75), (3, 60), (2, 40)]: the least score for each number of stars."""
    return list(zip((5, 4, 3, 2), thresholds(), strict=True))


# --- the year's numbers, set-based --------------------------------------------------------------


def rated_organizations(organization_ids: Iterable[int] | None = None):
    qs = Organization.objects.filter(kind__in=RATED_KINDS)
    if organization_ids is not None:
        qs = qs.filter(pk__in=list(organization_ids))
    return qs


def year_figures(*, organization_ids: list[int], year: int, now: datetime | None = None) -> dict:
    """{org id: the year's figures}: the dashboard's rollup rows where present (one query),
    the others computed together by `figures_for` (a fixed number of queries)."""
    period = Period(PeriodKind.YEAR, date(year, 1, 1))
    out = dict(
        BranchFigures.objects.filter(
            organization_id__in=organization_ids,
            period_kind=PeriodKind.YEAR,
            period_start=period.start,
        ).values_list("organization_id", "figures")
    )
    missing = [pk for pk in organization_ids if pk not in out]
    if missing:
        from ..selectors.figures import figures_for

        out.update(figures_for(organization_ids=missing, period=period, now=now))
    return out


def reports_on_time(*, organization_ids: list[int], year: int, today: date) -> dict:
    """{org id: (on time, due)} over the year's activity reports (any period kind) already due
    before `today`: on time when the first submission came on or before the due date (local
    time). One query."""
    first_submitted = Subquery(
        ReportEvent.objects.filter(report=OuterRef("pk"), action=ReportEvent.Action.SUBMITTED)
        .order_by("at")
        .values("at")[:1]
    )
    rows = (
        ActivityReport.objects.filter(
            organization_id__in=organization_ids,
            period_start__gte=date(year, 1, 1),
            period_start__lte=date(year, 12, 31),
            due_on__lt=today,
        )
        .annotate(first_on=TruncDate(first_submitted, tzinfo=local_zone()))
        .annotate(
            punctual=Case(
                When(first_on__lte=F("due_on"), then=1),
                default=0,
                output_field=IntegerField(),
            )
        )
        .values("organization_id")
        .annotate(due=Count("pk"), on_time=Sum("punctual"))
        .values_list("organization_id", "on_time", "due")
    )
    return {org: (int(on_time or 0), due) for org, on_time, due in rows}


# --- computing the year -------------------------------------------------------------------------


def ratings_compute(
    *, year: int, organization_ids: Iterable[int] | None = None, now: datetime | None = None
) -> dict:
    """Rate every branch (or those of `organization_ids`) for `year`, set-based: a fixed
    number of queries whatever the number of branches. New ratings start "computed"; an
    existing rating gets the new score, computed stars and breakdown, and keeps the
    committee's decision (status, stars, reason). A "computed" history entry is recorded for
    each new rating and each whose score or computed stars changed.
    Returns {"rated", "created", "changed"}."""
    now = now or timezone.now()
    today = timezone.localdate(now, local_zone())
    org_ids = list(rated_organizations(organization_ids).values_list("pk", flat=True))
    if not org_ids:
        return {"rated": 0, "created": 0, "changed": 0}
    figures = year_figures(organization_ids=org_ids, year=year, now=now)
    return ratings_store(
        year=year,
        figures={org: figures.get(org) or {} for org in org_ids},
        reports_on_time=reports_on_time(organization_ids=org_ids, year=year, today=today),
        now=now,
    )


def ratings_store(
    *, year: int, figures: dict[int, dict], reports_on_time: dict, now: datetime
) -> dict:
    """Score each organisation of `figures` ({org id: the year's figures}) with its
    `reports_on_time` ({org id: (on time, due)}) and upsert the ratings in one statement per
    batch, keeping the committee's decisions; the history gets a "computed" entry for each new
    rating and each whose score or computed stars changed. Returns {"rated", "created",
    "changed"}."""
    org_ids = list(figures)
    punctual = reports_on_time
    before = {
        org: (pk, s, cs)
        for org, pk, s, cs in BranchRating.objects.filter(
            organization_id__in=org_ids, year=year
        ).values_list("organization_id", "pk", "score", "computed_stars")
    }
    rows = []
    for org in org_ids:
        total, stars, breakdown = score(figures[org], punctual.get(org))
        breakdown["figures_of"] = str(Period(PeriodKind.YEAR, date(year, 1, 1)))
        rows.append(
            BranchRating(
                organization_id=org,
                year=year,
                score=total,
                computed_stars=stars,
                breakdown=breakdown,
                computed_at=now,
            )
        )
    with transaction.atomic():
        BranchRating.objects.bulk_create(
            rows,
            batch_size=500,
            update_conflicts=True,
            unique_fields=["organization", "year"],
            update_fields=["score", "computed_stars", "breakdown", "computed_at", "updated_at"],
        )
        missing_pk = [r.organization_id for r in rows if r.pk is None]
        if missing_pk:  # a database that does not return ids from an upsert
            ids = dict(
                BranchRating.objects.filter(organization_id__in=missing_pk, year=year).values_list(
                    "organization_id", "pk"
                )
            )
            for r in rows:
                if r.pk is None:
                    r.pk = ids[r.organization_id]
        history = [
            RatingDecision(
                rating_id=r.pk,
                action=RatingDecision.Action.COMPUTED,
                stars=r.computed_stars,
                score=r.score,
                at=now,
            )
            for r in rows
            if r.organization_id not in before
            or before[r.organization_id][1:] != (r.score, r.computed_stars)
        ]
        RatingDecision.objects.bulk_create(history, batch_size=1000)
    created = sum(1 for r in rows if r.organization_id not in before)
    return {"rated": len(rows), "created": created, "changed": len(history) - created}


# --- the committee's decisions ------------------------------------------------------------------


def can_decide(user, organization: Organization) -> bool:
    """A reviewer whose subtree includes the branch, and who is not on the branch's own
    committee (a secretary never rates their own branch). No query beyond the cached scope."""
    if not getattr(user, "is_active", False):
        return False
    own = any(
        role in BRANCH_ROLES and path == organization.path for role, path in scope.assignments(user)
    )
    if own:
        return False
    return scope.can_manage(user, organization, scope.REVIEW_ROLES)


def _require_decider(user, organization) -> None:
    if not can_decide(user, organization):
        raise PermissionDenied(
            _("Only a reviewer of the committee above this branch may decide its rating.")
        )


def _branch_committee(organization: Organization) -> list[int]:
    return list(
        RoleAssignment.objects.filter(
            organization=organization,
            role__in=(RoleAssignment.Role.SECRETARY, RoleAssignment.Role.DEPUTY_SECRETARY),
        ).values_list("user_id", flat=True)
    )


def _notify_decided(rating: BranchRating, by) -> None:
    people = _branch_committee(rating.organization)
    if not people:
        return
    notification_services.notify(
        kind="rating_decided",
        target=rating,
        audience=notification_services.users(people),
        by=by,
        subject=_("%(year)s: %(stars)s stars") % {"year": rating.year, "stars": rating.stars},
        url=rating.organization.get_absolute_url(),
    )


def _locked(rating: BranchRating) -> BranchRating:
    return (
        BranchRating.objects.select_for_update(of=("self",))
        .select_related("organization")
        .get(pk=rating.pk)
    )


def rating_confirm(*, rating: BranchRating, by, reason: str = "") -> BranchRating:
    """The committee confirms the computed stars (again, after a recomputation changed them).
    The branch's secretaries are told."""
    _require_decider(by, rating.organization)
    with transaction.atomic():
        rating = _locked(rating)
        if rating.status == BranchRating.Status.CONFIRMED and rating.stars == rating.computed_stars:
            raise ValidationError(_("This rating is already confirmed."))
        now = timezone.now()
        rating.status = BranchRating.Status.CONFIRMED
        rating.stars = rating.computed_stars
        rating.reason = (reason or "").strip()
        rating.decided_by = by
        rating.decided_at = now
        rating.save(
            update_fields=["status", "stars", "reason", "decided_by", "decided_at", "updated_at"]
        )
        RatingDecision.objects.create(
            rating=rating,
            action=RatingDecision.Action.CONFIRMED,
            stars=rating.stars,
            score=rating.score,
            reason=rating.reason,
            by=by,
            at=now,
        )
        _notify_decided(rating, by)
    return rating


def rating_override(*, rating: BranchRating, by, stars: int, reason: str) -> BranchRating:
    """The committee sets other stars than the score gives, with a reason (required)."""
    _require_decider(by, rating.organization)
    reason = (reason or "").strip()
    errors = {}
    if not reason:
        errors["reason"] = _("Give the reason for setting the stars.")
    try:
        stars = int(stars)
    except (TypeError, ValueError):
        stars = 0
    if not 1 <= stars <= 5:
        errors["stars"] = _("Choose from one to five stars.")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        rating = _locked(rating)
        now = timezone.now()
        rating.status = BranchRating.Status.OVERRIDDEN
        rating.stars = stars
        rating.reason = reason
        rating.decided_by = by
        rating.decided_at = now
        rating.save(
            update_fields=["status", "stars", "reason", "decided_by", "decided_at", "updated_at"]
        )
        RatingDecision.objects.create(
            rating=rating,
            action=RatingDecision.Action.OVERRIDDEN,
            stars=stars,
            score=rating.score,
            reason=reason,
            by=by,
            at=now,
        )
        _notify_decided(rating, by)
    return rating


# --- practice accounts --------------------------------------------------------------------------


def can_write_practice(user, organization: Organization) -> bool:
    """The branch's own committee (secretary, deputy, committee member) writes its account."""
    if getattr(user, "is_superuser", False) and user.is_active:
        return True
    return any(
        role in BRANCH_ROLES and path == organization.path for role, path in scope.assignments(user)
    )


def five_star_rating(organization: Organization) -> BranchRating | None:
    """The branch's latest rating the committee decided, if it gives five stars."""
    rating = (
        BranchRating.objects.filter(
            organization=organization,
            status__in=(BranchRating.Status.CONFIRMED, BranchRating.Status.OVERRIDDEN),
        )
        .order_by("-year")
        .first()
    )
    return rating if rating is not None and rating.shown_stars == 5 else None


def require_five_stars(rating: BranchRating) -> None:
    decided = rating.status in (BranchRating.Status.CONFIRMED, BranchRating.Status.OVERRIDDEN)
    if not decided or rating.shown_stars != 5:
        raise ValidationError(
            _(
                "Only a branch the committee rated five stars may share an account of its "
                "practice; this rating is %(stars)s stars (%(status)s)."
            )
            % {"stars": rating.shown_stars, "status": rating.get_status_display()}
        )


def practice_account_save(
    *, rating: BranchRating, by, title: str, body: str, account: PracticeAccount | None = None
) -> PracticeAccount:
    """Write (or, while not yet shared, change) the account of a five-star branch's practice."""
    organization = rating.organization
    if not can_write_practice(by, organization):
        raise PermissionDenied(_("Only the branch's committee writes its practice account."))
    require_five_stars(rating)
    title = (title or "").strip()
    if not title:
        raise ValidationError({"title": _("Give the account a title.")})
    with transaction.atomic():
        if account is None:
            account = PracticeAccount(organization=organization, rating=rating, written_by=by)
        else:
            account = PracticeAccount.objects.select_for_update(of=("self",)).get(pk=account.pk)
            if account.status == PracticeAccount.Status.SHARED:
                raise ValidationError(_("A shared account can no longer be changed."))
        account.title = title[:120]
        account.body = body or ""
        account.save()
    return account


def practice_account_submit(*, account: PracticeAccount, by) -> PracticeAccount:
    """The branch hands its account to the committee, which may share it group-wide."""
    if not can_write_practice(by, account.organization):
        raise PermissionDenied(_("Only the branch's committee submits its practice account."))
    require_five_stars(account.rating)
    with transaction.atomic():
        account = PracticeAccount.objects.select_for_update(of=("self",)).get(pk=account.pk)
        if account.status != PracticeAccount.Status.DRAFT:
            raise ValidationError(_("This account is already with the committee."))
        account.status = PracticeAccount.Status.SUBMITTED
        account.save(update_fields=["status", "updated_at"])
    return account


def group_root(organization: Organization) -> Organization:
    """The root of the organisation's tree: the group whose members an account is shared with."""
    return Organization.objects.get(path=organization.path[: Organization.steplen])


def practice_account_share(*, account: PracticeAccount, by) -> PracticeAccount:
    """A reviewer above the branch shares a submitted account with every member of the group
    (the root of the tree): it shows on the branch page and everyone is notified."""
    _require_decider(by, account.organization)
    with transaction.atomic():
        account = (
            PracticeAccount.objects.select_for_update(of=("self",))
            .select_related("organization", "rating")
            .get(pk=account.pk)
        )
        if account.status != PracticeAccount.Status.SUBMITTED:
            raise ValidationError(_("Only a submitted account can be shared."))
        require_five_stars(account.rating)
        account.status = PracticeAccount.Status.SHARED
        account.shared_at = timezone.now()
        account.shared_by = by
        account.save(update_fields=["status", "shared_at", "shared_by", "updated_at"])
        notification_services.notify(
            kind="practice_shared",
            target=account,
            audience=notification_services.members_of([group_root(account.organization)]),
            by=by,
            subject=f"{account.organization.display_name}: {account.title}",
        )
    return account


def current_year() -> int:
    return local_today().year
