"""Writes of welfare activities: planning, publishing (the organisation's members are told),
sign-up within the places (a database rule: a conditional counter update under a check
constraint, so no race oversubscribes an activity and a double sign-up counts once),
recording what was done (participants and their hours, money, goods, people helped; a line
on the branch timeline and an activity fact for each participant), photos, and features of an
activity to a wider subtree by a reviewer."""

from collections.abc import Iterable
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from branches import scope
from branches.models import Organization
from branches.services import timeline_record
from core.richtext import sanitize_html
from core.services import model_update
from core.uploads import validate_image
from members.models import ActivityFact, Member
from members.selectors import members_of_organizations
from members.services import member_activity_record
from notifications.services import members_of, notify

from ..models import (
    WelfareActivity,
    WelfareFeature,
    WelfareParticipant,
    WelfarePhoto,
    WelfareSignUp,
)

ACTIVITY_FIELDS = (
    "organization", "kind", "title", "description", "held_on", "place", "project_site", "meeting",
    "places",
)  # fmt: skip
#: What was done: set while recording the activity as done, and corrected later if need be.
OUTCOME_FIELDS = ("money_yuan", "goods", "goods_value_yuan", "beneficiaries")
MAX_HOURS = Decimal(240)


def _require_manage(by, organization: Organization, roles=scope.MANAGE_ROLES) -> None:
    if not scope.can_manage(by, organization, roles):
        raise PermissionDenied(
            _("You may not manage welfare activities of %(org)s.") % {"org": organization}
        )


def _locked(activity: WelfareActivity) -> WelfareActivity:
    return (
        WelfareActivity.objects.select_for_update(of=("self",))
        .select_related("organization")
        .get(pk=activity.pk)
    )


def _related(a: Organization, b: Organization) -> bool:
    """One organisation is the other or above it."""
    return a.path.startswith(b.path) or b.path.startswith(a.path)


def _check(activity: WelfareActivity) -> None:
    errors = {}
    meeting = activity.meeting
    if meeting is not None:
        if meeting.kind != "themed_day":
            errors["meeting"] = _("Choose a themed Party day.")
        elif not _related(meeting.organization, activity.organization):
            errors["meeting"] = _("Choose a themed Party day of this organisation.")
    site = activity.project_site
    if site is not None and not _related(site.organization, activity.organization):
        errors["project_site"] = _("Choose a project site of this organisation.")
    if activity.places is not None and activity.places < activity.signed_up:
        errors["places"] = _(
            "%(n)s members have signed up already: the places cannot be fewer."
        ) % {"n": activity.signed_up}
    if errors:
        raise ValidationError(errors)


def _noon(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(12, 0)))


# --- planning -------------------------------------------------------------------------------


@transaction.atomic
def activity_create(*, by, **fields) -> WelfareActivity:
    unknown = set(fields) - set(ACTIVITY_FIELDS) - set(OUTCOME_FIELDS)
    if unknown:
        raise TypeError(f"unknown fields: {sorted(unknown)}")
    _require_manage(by, fields["organization"])
    activity = WelfareActivity(created_by=by, status=WelfareActivity.Status.PLANNED, **fields)
    activity.description = sanitize_html(activity.description)
    _check(activity)
    activity.full_clean()
    activity.save()
    return activity


@transaction.atomic
def activity_update(*, activity: WelfareActivity, by, fields: dict) -> WelfareActivity:
    """Change an activity (a done one too, to correct the record). Once its members have been
    told, it stays with its organisation."""
    stored = _locked(activity)
    _require_manage(by, stored.organization)
    fields = dict(fields)
    if "organization" in fields and fields["organization"] != stored.organization:
        _require_manage(by, fields["organization"])
        if stored.is_published:
            raise ValidationError(
                {"organization": _("The activity is published: its organisation can no longer change.")}
            )  # fmt: skip
    if "description" in fields:
        fields["description"] = sanitize_html(fields["description"])
    for name, value in fields.items():
        if name not in ACTIVITY_FIELDS + OUTCOME_FIELDS:
            raise TypeError(f"cannot update {name}")
        setattr(stored, name, value)
    _check(stored)
    stored.full_clean()
    stored.save()
    return stored


@transaction.atomic
def activity_publish(*, activity: WelfareActivity, by) -> WelfareActivity:
    """Show the activity to its organisation's members; a coming one is announced to them,
    once: publishing again changes nothing."""
    stored = _locked(activity)
    _require_manage(by, stored.organization)
    if stored.is_published:
        return stored
    model_update(
        instance=stored, fields={"published_at": timezone.now()}, allowed=("published_at",), clean=False
    )  # fmt: skip
    if stored.status == WelfareActivity.Status.PLANNED and stored.held_on >= timezone.localdate():
        notify(
            kind="welfare_activity_published",
            target=stored,
            audience=members_of([stored.organization]),
            by=by,
            subject=f"{stored.title} ({stored.held_on:%Y-%m-%d}{', ' + stored.place if stored.place else ''})",
        )  # fmt: skip
    return stored


# --- sign-up --------------------------------------------------------------------------------


def is_member_there(user, organization: Organization) -> bool:
    """Is the user a member of the organisation or of something under it (registered there or
    taking part)? No query once the request has read the user's home organisations."""
    return any(p.startswith(organization.path) for p in scope.home_paths(user))


def sign_up_open(activity: WelfareActivity, *, today: date | None = None) -> bool:
    today = today or timezone.localdate()
    return (
        activity.is_published
        and activity.status == WelfareActivity.Status.PLANNED
        and activity.held_on >= today
    )


def _require_sign_up(activity: WelfareActivity, user) -> Member:
    member = Member.objects.filter(user=user).first()
    if member is None or not is_member_there(user, activity.organization):
        raise PermissionDenied(
            _("Only members of %(org)s can sign up.") % {"org": activity.organization}
        )
    if not sign_up_open(activity):
        raise ValidationError(_("Sign-up is closed: the activity is done or its date has passed."))
    return member


@transaction.atomic
def activity_sign_up(*, activity: WelfareActivity, user) -> WelfareSignUp:
    """Sign a member up for a planned activity. A second sign-up (a double tap, a race)
    returns the first and takes no second place; when the places are taken, nothing changes
    and a ValidationError says so."""
    member = _require_sign_up(activity, user)
    existing = WelfareSignUp.objects.filter(activity=activity, member=member).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            sign_up = WelfareSignUp.objects.create(
                activity=activity, member=member, signed_up_at=timezone.now()
            )
    except IntegrityError:  # the same member's other request got there first
        return WelfareSignUp.objects.get(activity=activity, member=member)
    # The place: one conditional UPDATE. Concurrent sign-ups queue on the row; each re-reads
    # the count, so the last place goes once. The check constraint backs it up.
    taken = (
        WelfareActivity.objects.filter(pk=activity.pk, status=WelfareActivity.Status.PLANNED)
        .filter(Q(places__isnull=True) | Q(signed_up__lt=F("places")))
        .update(signed_up=F("signed_up") + 1)
    )
    if not taken:
        raise ValidationError(_("All places are taken."))  # rolls the sign-up back
    return sign_up


@transaction.atomic
def activity_withdraw(*, activity: WelfareActivity, user) -> bool:
    """Withdraw one's sign-up before the activity; the place is free again."""
    if not sign_up_open(activity):
        raise ValidationError(_("The activity is done or its date has passed."))
    deleted, _counts = WelfareSignUp.objects.filter(activity=activity, member__user=user).delete()
    if deleted:
        WelfareActivity.objects.filter(pk=activity.pk, signed_up__gt=0).update(
            signed_up=F("signed_up") - 1
        )
    return bool(deleted)


# --- what was done --------------------------------------------------------------------------


def _hours(value) -> Decimal:
    try:
        hours = Decimal(str(value)).quantize(Decimal("0.1"))
    except (InvalidOperation, ValueError) as exc:
        raise ValidationError(_("Give the hours as a number.")) from exc
    if hours < 0 or hours > MAX_HOURS:
        raise ValidationError(_("Hours are between 0 and 240."))
    return hours


def _set_participants(activity: WelfareActivity, rows: Iterable[tuple[Member, object]]) -> list:
    """Replace the participants by `rows` of (member, hours); returns the members added."""
    wanted: dict[int, tuple[Member, Decimal]] = {}
    for member, hours in rows:
        wanted[member.pk] = (member, _hours(hours))
    allowed = set(
        members_of_organizations(organizations=[activity.organization])
        .filter(pk__in=list(wanted))
        .values_list("pk", flat=True)
    )
    outsiders = [m for pk, (m, _h) in wanted.items() if pk not in allowed]
    if outsiders:
        raise ValidationError(
            _("Not members of %(org)s: %(names)s.")
            % {"org": activity.organization, "names": "、".join(str(m) for m in outsiders)}
        )
    current = {p.member_id: p for p in activity.participants.all()}
    WelfareParticipant.objects.filter(activity=activity).exclude(
        member_id__in=list(wanted)
    ).delete()
    added = []
    for pk, (member, hours) in wanted.items():
        row = current.get(pk)
        if row is None:
            WelfareParticipant.objects.create(activity=activity, member=member, hours=hours)
            added.append(member)
        elif row.hours != hours:
            WelfareParticipant.objects.filter(pk=row.pk).update(hours=hours)
    return added


def _record_served(activity: WelfareActivity, members: Iterable[Member]) -> None:
    at = _noon(activity.held_on)
    for member in members:
        member_activity_record(member=member, kind=ActivityFact.Kind.SERVED, at=at)


@transaction.atomic
def activity_set_participants(
    *, activity: WelfareActivity, by, rows: Iterable[tuple[Member, object]]
) -> WelfareActivity:
    """Who took part and for how many hours (members of the organisation only). On a done
    activity, each member added gets the "took part in a welfare activity" fact."""
    stored = _locked(activity)
    _require_manage(by, stored.organization)
    added = _set_participants(stored, rows)
    if stored.is_done:
        _record_served(stored, added)
    return stored


@transaction.atomic
def activity_record_done(
    *,
    activity: WelfareActivity,
    by,
    participants: Iterable[tuple[Member, object]] | None = None,
    **outcome,
) -> WelfareActivity:
    """The secretary records what was done: the participants and their hours (without any,
    those who signed up, with no hours yet), money, goods and people helped. The first time,
    the activity is published if it was not, a line goes on the branch timeline and each
    participant gets the "took part in a welfare activity" fact. Recording again corrects the
    record and adds nothing twice."""
    unknown = set(outcome) - set(OUTCOME_FIELDS)
    if unknown:
        raise TypeError(f"unknown fields: {sorted(unknown)}")
    stored = _locked(activity)
    _require_manage(by, stored.organization)
    if stored.held_on > timezone.localdate():
        raise ValidationError(_("An activity can be recorded as done on its date or later."))
    first_time = stored.status != WelfareActivity.Status.DONE
    now = timezone.now()
    fields = dict(outcome)
    if first_time:
        fields.update(status=WelfareActivity.Status.DONE, done_at=now, recorded_by=by)
        if not stored.is_published:
            fields["published_at"] = now
    model_update(
        instance=stored,
        fields=fields,
        allowed=(*OUTCOME_FIELDS, "status", "done_at", "recorded_by", "published_at"),
    )
    if participants is not None:
        added = _set_participants(stored, participants)
    elif first_time and not stored.participants.exists():
        signed = [s.member for s in stored.sign_ups.select_related("member")]
        added = _set_participants(stored, [(m, 0) for m in signed])
    else:
        added = []
    if first_time:
        _record_served(stored, [p.member for p in stored.participants.select_related("member")])
        timeline_record(
            organization=stored.organization,
            kind="welfare_activity_done",
            params={"title": stored.title},
            url=stored.get_absolute_url(),
            at=min(_noon(stored.held_on), now),
        )
    else:
        _record_served(stored, added)
    return stored


# --- photos ---------------------------------------------------------------------------------


@transaction.atomic
def photo_add(
    *, activity: WelfareActivity, by, image, caption: str = "", cleared: bool = False
) -> WelfarePhoto:
    """Add a photo (checked as `core` checks every upload: format, size, no metadata)."""
    _require_manage(by, activity.organization)
    cleaned = validate_image(image)
    order = activity.photos.count()
    photo = WelfarePhoto(activity=activity, image=cleaned, caption=caption, cleared=cleared, order=order)  # fmt: skip
    photo.full_clean()
    photo.save()
    return photo


@transaction.atomic
def photo_set_cleared(*, photo: WelfarePhoto, by, cleared: bool) -> WelfarePhoto:
    _require_manage(by, photo.activity.organization)
    if photo.cleared != cleared:
        WelfarePhoto.objects.filter(pk=photo.pk).update(cleared=cleared)
        photo.cleared = cleared
    return photo


# --- features -------------------------------------------------------------------------------


@transaction.atomic
def activity_feature(
    *, activity: WelfareActivity, organization: Organization, by
) -> WelfareFeature:
    """A reviewer shows a good activity to a wider subtree of theirs: its members see it on
    their welfare page (they may like and comment, not sign up)."""
    _require_manage(by, organization, scope.REVIEW_ROLES)
    _require_manage(by, activity.organization, scope.REVIEW_ROLES)
    if not activity.is_published:
        raise ValidationError(_("Publish the activity before featuring it."))
    if organization.path.startswith(activity.organization.path):
        raise ValidationError(_("Its members see the activity already."))
    feature, _created = WelfareFeature.objects.get_or_create(
        activity=activity, organization=organization, defaults={"featured_by": by}
    )
    return feature


@transaction.atomic
def activity_unfeature(*, feature: WelfareFeature, by) -> None:
    _require_manage(by, feature.organization, scope.REVIEW_ROLES)
    feature.delete()
