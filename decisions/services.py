"""Writes of deliberation and decisions: raising, opening and closing motions, votes (public
and secret), the frozen result and its announcement, and the follow-up of decisions (owner,
due date, progress, the daily reminder when overdue).

Votes and the close lock the motion's row, so a vote is either counted or refused: never cast
after the count, never twice (the unique constraints stand behind the lock)."""

import random
from collections import Counter
from datetime import date, datetime

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from branches.services import timeline_record
from core.richtext import sanitize_html
from core.services import model_update
from members.selectors import members_of_organizations
from notifications.services import Audience, members_of, notify, remind_once_a_day, users

from . import selectors
from .models import (
    Ballot,
    Choice,
    DecisionReminder,
    Motion,
    ProgressPhoto,
    ProgressUpdate,
    Vote,
    VoterRecord,
)

MOTION_FIELDS = (
    "organization", "meeting", "title", "body", "electorate", "opens_at", "closes_at", "secret",
    "changeable", "results_hidden", "quorum_percent", "threshold", "majority_of",
)  # fmt: skip
MAX_PHOTOS = 3
#: Overdue decisions remind their owner once a day, from this hour (local time) on.
REMIND_FROM_HOUR = 8
CLOSE_BATCH = 200

CAST = "cast"
CHANGED = "changed"
UNCHANGED = "unchanged"

_RESULT_KIND = {
    Motion.Result.PASSED: "motion_passed",
    Motion.Result.REJECTED: "motion_rejected",
    Motion.Result.NO_QUORUM: "motion_no_quorum",
}


def _require_raise(by, organization) -> None:
    if not selectors.can_raise(by, organization):
        raise PermissionDenied(
            _("You may not put motions to the vote in %(org)s.") % {"org": organization}
        )


def _locked(motion: Motion) -> Motion:
    return (
        Motion.objects.select_for_update(of=("self",))
        .select_related("organization", "meeting__organization")
        .get(pk=motion.pk)
    )


def _when(value: datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")


# --- raising and opening ----------------------------------------------------------------------


@transaction.atomic
def motion_create(*, by, **fields) -> Motion:
    """A draft motion: nobody but the committee sees it until it is opened."""
    unknown = set(fields) - set(MOTION_FIELDS)
    if unknown:
        raise TypeError(f"unknown fields: {sorted(unknown)}")
    _require_raise(by, fields["organization"])
    motion = Motion(raised_by=by, status=Motion.Status.DRAFT, **fields)
    motion.body = sanitize_html(motion.body)
    motion.full_clean()
    motion.save()
    return motion


@transaction.atomic
def motion_update(*, motion: Motion, by, fields: dict) -> Motion:
    """Change a draft. Once the vote is open, nothing about it changes any more."""
    stored = _locked(motion)
    _require_raise(by, stored.organization)
    if "organization" in fields:
        _require_raise(by, fields["organization"])
    if stored.status != Motion.Status.DRAFT:
        raise ValidationError(_("The vote is open: the motion can no longer change."))
    fields = dict(fields)
    if "body" in fields:
        fields["body"] = sanitize_html(fields["body"])
    model_update(instance=stored, fields=fields, allowed=MOTION_FIELDS)
    return stored


@transaction.atomic
def motion_open(*, motion: Motion, by, now: datetime | None = None) -> Motion:
    """Open the vote (at `opens_at`, or at once if that has passed) and tell the electorate,
    once: opening again changes nothing."""
    stored = _locked(motion)
    _require_raise(by, stored.organization)
    if stored.status == Motion.Status.OPEN:
        return stored
    if stored.status != Motion.Status.DRAFT:
        raise ValidationError(_("This vote is closed."))
    now = now or timezone.now()
    if stored.closes_at <= now:
        raise ValidationError(
            _("The voting window has already ended: set a later closing time first.")
        )
    model_update(
        instance=stored,
        fields={"status": Motion.Status.OPEN, "opened_at": now},
        allowed=("status", "opened_at"),
        clean=False,
    )
    notify(
        kind="motion_opened",
        target=stored,
        audience=Audience("decisions.electorate", {"motion": stored.pk}),
        by=by,
        subject=f"{stored.title} ({_when(max(stored.opens_at, now))} – {_when(stored.closes_at)})",
    )
    return stored


# --- votes ------------------------------------------------------------------------------------


@transaction.atomic
def vote_cast(*, motion: Motion, user, choice: str, now: datetime | None = None) -> str:
    """Cast (or, where the motion allows it, change) the user's vote. Returns CAST, CHANGED or
    UNCHANGED (the same public vote submitted twice). A secret ballot is recorded in two
    unlinked rows: that the user voted, and the ballot."""
    if choice not in Choice.values:
        raise ValidationError(_("Choose for, against or abstain."))
    stored = _locked(motion)  # serialises the votes of a motion and its close
    now = now or timezone.now()
    if not stored.voting_open_at(now):
        raise ValidationError(_("Voting on this motion is not open."))
    if not selectors.electorate_users(stored).filter(pk=user.pk).exists():
        raise PermissionDenied(_("You are not entitled to vote on this motion."))
    if stored.secret:
        if VoterRecord.objects.filter(motion=stored, user=user.pk).exists():
            raise ValidationError(_("You have already voted on this motion."))
        VoterRecord.objects.create(motion=stored, user=user)
        Ballot.objects.create(motion=stored, choice=choice)
        return CAST
    existing = Vote.objects.filter(motion=stored, user=user.pk).first()
    if existing is None:
        Vote.objects.create(motion=stored, user=user, choice=choice, cast_at=now)
        return CAST
    if existing.choice == choice:
        return UNCHANGED
    if not stored.changeable:
        raise ValidationError(
            _("You have already voted on this motion, and its votes cannot be changed.")
        )
    existing.choice = choice
    existing.changed_at = now
    existing.save(update_fields=["choice", "changed_at"])
    return CHANGED


# --- the close --------------------------------------------------------------------------------


def tally(
    *,
    electorate: int,
    votes_for: int,
    votes_against: int,
    votes_abstain: int,
    quorum_percent: int,
    threshold: str,
    majority_of: str,
) -> str:
    """The result, in integers (no rounding at the edges):
    - quorum: the votes cast (abstentions included) are at least `quorum_percent` % of the
      electorate; an empty electorate has no quorum;
    - simple majority: the votes for are more than half of the base; two-thirds: at least
      two thirds of it. The base is the electorate (the Party's rule, 应到会有表决权的党员)
      or the votes cast, abstentions included."""
    cast = votes_for + votes_against + votes_abstain
    if electorate <= 0 or cast * 100 < quorum_percent * electorate:
        return Motion.Result.NO_QUORUM
    base = electorate if majority_of == Motion.MajorityOf.ELECTORATE else cast
    if threshold == Motion.Threshold.TWO_THIRDS:
        passed = votes_for * 3 >= base * 2 and votes_for > 0
    else:
        passed = votes_for * 2 > base
    return Motion.Result.PASSED if passed else Motion.Result.REJECTED


def _shake_ballot_box(motion: Motion) -> list[str]:
    """Rewrite the ballots of a secret vote in a random order with fresh random keys, in one
    transaction: whatever the database kept of the order they came in (their physical place,
    the transaction that wrote each) no longer lines up with the voter records."""
    choices = list(Ballot.objects.filter(motion=motion).values_list("choice", flat=True))
    random.SystemRandom().shuffle(choices)
    Ballot.objects.filter(motion=motion).delete()
    Ballot.objects.bulk_create([Ballot(motion=motion, choice=c) for c in choices], batch_size=1000)
    return choices


@transaction.atomic
def motion_close(*, motion: Motion, by=None, now: datetime | None = None) -> Motion:
    """Count the votes once and freeze the result: passed, rejected or no quorum, the counts
    and the size of the electorate (those entitled now, and those who voted while they were).
    Without `by` (the beat), only a motion whose window has ended; a member of the committee
    may close earlier. Closing a closed motion changes nothing. The result is announced to the
    members of the organisation; a decision goes on its timeline."""
    stored = _locked(motion)
    if by is not None:
        _require_raise(by, stored.organization)
    if stored.status == Motion.Status.CLOSED:
        return stored
    if stored.status != Motion.Status.OPEN:
        raise ValidationError(_("Only an open vote can be closed."))
    now = now or timezone.now()
    if by is None and now < stored.closes_at:
        raise ValidationError(_("The voting window has not ended yet."))
    if stored.secret:
        counts = Counter(_shake_ballot_box(stored))
        voters = VoterRecord.objects.filter(motion=stored).values("user_id")
    else:
        counts = Counter(selectors.count_votes(stored))
        voters = Vote.objects.filter(motion=stored).values("user_id")
    electorate = (
        get_user_model()
        .objects.filter(
            Q(pk__in=selectors.electorate_users(stored).values("pk")) | Q(pk__in=voters)
        )
        .count()
    )
    fields = {
        "votes_for": counts["for"],
        "votes_against": counts["against"],
        "votes_abstain": counts["abstain"],
        "electorate_size": electorate,
    }
    result = tally(
        electorate=electorate,
        votes_for=fields["votes_for"],
        votes_against=fields["votes_against"],
        votes_abstain=fields["votes_abstain"],
        quorum_percent=stored.quorum_percent,
        threshold=stored.threshold,
        majority_of=stored.majority_of,
    )
    model_update(
        instance=stored,
        fields={
            **fields,
            "status": Motion.Status.CLOSED,
            "closed_at": now,
            "closed_by": by,
            "result": result,
        },
        allowed=(*fields, "status", "closed_at", "closed_by", "result"),
        clean=False,
    )
    notify(
        kind=_RESULT_KIND[result],
        target=stored,
        audience=members_of([stored.organization_id]),
        by=by,
        subject=_("%(title)s (for %(for)s, against %(against)s, abstain %(abstain)s)")
        % {
            "title": stored.title,
            "for": counts["for"],
            "against": counts["against"],
            "abstain": counts["abstain"],
        },
    )
    if result == Motion.Result.PASSED:
        timeline_record(
            organization=stored.organization,
            kind="decision_passed",
            params={"title": stored.title},
            url=stored.get_absolute_url(),
            at=now,
        )
    return stored


def motions_close_due(*, now: datetime | None = None) -> int:
    """Close every open motion whose window has ended (the beat, each in its own transaction).
    Idempotent: a motion closed meanwhile is left as it is."""
    now = now or timezone.now()
    due = list(
        Motion.objects.filter(status=Motion.Status.OPEN, closes_at__lte=now)
        .order_by("closes_at", "pk")
        .values_list("pk", flat=True)[:CLOSE_BATCH]
    )
    closed = 0
    for pk in due:
        motion = motion_close(motion=Motion(pk=pk), now=now)
        closed += motion.closed_at == now
    return closed


# --- follow-up --------------------------------------------------------------------------------


def decision_assign_check(*, motion: Motion, owner, due_on: date | None) -> None:
    """The owner is an active member of the organisation; the due date is not before the
    decision. Raises ValidationError (the admin's form shows it at the field)."""
    errors = {}
    if owner is not None and not (
        owner.is_active
        and members_of_organizations(organizations=[motion.organization])
        .filter(user=owner.pk)
        .exists()
    ):
        errors["owner"] = _("Choose a member of the organisation.")
    if due_on is not None and motion.closed_at and due_on < timezone.localdate(motion.closed_at):
        errors["due_on"] = _("The due date cannot be before the decision.")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def decision_assign(*, motion: Motion, by, owner, due_on: date | None) -> Motion:
    """Give a passed motion its owner and due date (a secretary). The new owner is told."""
    stored = _locked(motion)
    if not stored.is_decision:
        raise ValidationError(_("Only a passed motion is followed up."))
    if not selectors.can_assign(by, stored):
        raise PermissionDenied(_("Only the secretaries assign the follow-up of a decision."))
    decision_assign_check(motion=stored, owner=owner, due_on=due_on)
    old_owner = stored.owner_id
    model_update(
        instance=stored, fields={"owner": owner, "due_on": due_on}, allowed=("owner", "due_on")
    )
    if owner is not None and owner.pk != old_owner:
        notify(kind="decision_assigned", target=stored, audience=users([owner]), by=by)
    return stored


@transaction.atomic
def progress_add(
    *, motion: Motion, by, body: str, percent: int, photos=(), now: datetime | None = None
) -> ProgressUpdate:
    """Report progress on a decision (its owner or a secretary): what was done, how far it is
    (0–100 %), up to three photos. At 100 % the decision is carried out and takes no more
    updates. Each report goes on the organisation's timeline."""
    stored = _locked(motion)
    if not stored.is_decision:
        raise ValidationError(_("Only a passed motion is followed up."))
    if stored.is_done:
        raise ValidationError(_("This decision is carried out: it takes no more updates."))
    if not selectors.can_follow_up(by, stored):
        raise PermissionDenied(
            _("Only the owner of the decision and the secretaries report its progress.")
        )
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": _("Say what was done.")})
    if not isinstance(percent, int) or not 0 <= percent <= 100:
        raise ValidationError({"percent": _("Progress is a number from 0 to 100.")})
    photos = [p for p in photos if p]
    if len(photos) > MAX_PHOTOS:
        raise ValidationError(_("At most %(n)s photos per update.") % {"n": MAX_PHOTOS})
    now = now or timezone.now()
    update = ProgressUpdate.objects.create(motion=stored, author=by, body=body, percent=percent)
    for photo in photos:
        ProgressPhoto.objects.create(update=update, image=photo)
    done = percent == 100
    model_update(
        instance=stored,
        fields={"progress": percent, "done_at": now if done else None},
        allowed=("progress", "done_at"),
        clean=False,
    )
    timeline_record(
        organization=stored.organization,
        kind="decision_done" if done else "decision_progress",
        params={"title": stored.title, "percent": percent},
        url=stored.get_absolute_url(),
        at=now,
    )
    return update


def decisions_remind_overdue(*, now: datetime | None = None) -> int:
    """Remind the owner of each overdue decision, at most once a day per decision (the day's
    row is claimed first). Returns how many reminders went out."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    User = get_user_model()
    due = list(
        Motion.objects.filter(selectors.overdue_q(today=today), owner__is_active=True)
        .exclude(Exists(DecisionReminder.objects.filter(motion=OuterRef("pk"), day=today)))
        .order_by("due_on", "pk")
    )
    sent = 0
    for motion in due:
        with transaction.atomic():
            sent += remind_once_a_day(
                claim_model=DecisionReminder,
                target_field="motion",
                target=motion,
                by=None,
                kind="decision_overdue",
                audience=users([motion.owner_id]),
                count=User.objects.filter(pk=motion.owner_id, is_active=True),
            )
    return sent


def decisions_tick(*, now: datetime | None = None) -> dict:
    """The beat's one job: close the motions whose window ended and, from REMIND_FROM_HOUR
    on, remind the owners of overdue decisions (once a day each). Idempotent."""
    now = now or timezone.now()
    closed = motions_close_due(now=now)
    reminded = 0
    if timezone.localtime(now).hour >= REMIND_FROM_HOUR:
        reminded = decisions_remind_overdue(now=now)
    return {"closed": closed, "reminded": reminded}
