"""The reads behind the member pages of the activity sync (/meetings/, a meeting, the sign-in
code) and the home card: each a fixed number of queries whatever the number of attendees or
meetings. Who is expected is decided from the user's organisation paths and role assignments,
which `branches.scope` caches per request, so it costs no query per meeting."""

from datetime import timedelta

from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    FilteredRelation,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Coalesce, NullIf
from django.http import Http404
from django.utils import timezone

from branches import scope
from branches.models import RoleAssignment
from lessons.models import Lesson

from ..models import Attendance, Meeting, Reflection
from .attendees import expected_attendees

UPCOMING_SHOWN = 20
MANAGED_SHOWN = 20
REFLECTIONS_DAYS = 30
REFLECTIONS_SHOWN = 5
ROSTER_PAGE_PARAM = "apage"
ROSTER_FILTERS = ("all", "missing", "leave", "present")

_NOTHING = Q(pk__in=[])


# --- who is expected, who may do what -------------------------------------------------------


def _committee_paths(user) -> set[str]:
    roles = {r.value for r in RoleAssignment.BRANCH_COMMITTEE_ROLES}
    return {path for role, path in scope.assignments(user) if role in roles}


def expected_q(user, *, prefix: str = "") -> Q:
    """Q over meetings (or, with `prefix`, over rows leading to a meeting) where the user is
    expected: the same rule as `attendees.expected_attendees`, read from the other side. A
    member is expected at the meetings of every organisation on the path from their registered
    branch and their participations up to the root; a committee meeting expects the committee
    of its own organisation. No query beyond the per-request scope caches."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return _NOTHING
    committee_kind = Meeting.Kind.COMMITTEE_MEETING
    home = scope.ancestor_paths(scope.home_paths(user))
    committee = _committee_paths(user)
    q = _NOTHING
    if home:
        q |= Q(**{f"{prefix}organization__path__in": sorted(home)}) & ~Q(
            **{f"{prefix}kind": committee_kind}
        )
    if committee:
        q |= Q(**{f"{prefix}kind": committee_kind, f"{prefix}organization__path__in": sorted(committee)})  # fmt: skip
    return q


def is_expected(meeting: Meeting, user) -> bool:
    """`expected_q` for one meeting, without a query (the scope caches aside)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    path = meeting.organization.path
    if meeting.kind == Meeting.Kind.COMMITTEE_MEETING:
        return path in _committee_paths(user)
    return path in scope.ancestor_paths(scope.home_paths(user))


def can_manage(user, meeting: Meeting) -> bool:
    """Secretaries, deputies, committee members and reviewers over the organisation."""
    return scope.can_manage(user, meeting.organization)


def can_record(user, meeting: Meeting) -> bool:
    """The recorder or a manager (as `services.attendance_record` checks)."""
    return (bool(meeting.recorder_id) and meeting.recorder_id == user.pk) or can_manage(
        user, meeting
    )


def can_show_code(user, meeting: Meeting) -> bool:
    """The host, the recorder and the managers show the sign-in QR code."""
    return user.pk in {meeting.host_id, meeting.recorder_id} - {None} or can_manage(user, meeting)


def shown_q(*, prefix: str = "") -> Q:
    """Meetings their attendees see: announced ones, and those held (a meeting held offline
    is entered afterwards, without a notice)."""
    return Q(**{f"{prefix}published_at__isnull": False}) | Q(**{f"{prefix}status": Meeting.Status.HELD})  # fmt: skip


def is_shown(meeting: Meeting) -> bool:
    return meeting.is_published or meeting.status == Meeting.Status.HELD


def meeting_visible_to(user, meeting: Meeting) -> bool:
    """Managers see every meeting of their organisations, drafts included; others see an
    announced (or held) meeting where they are expected, host or recorder."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if can_manage(user, meeting):
        return True
    if not is_shown(meeting):
        return False
    return is_expected(meeting, user) or user.pk in {meeting.host_id, meeting.recorder_id} - {None}


def access_meeting_by_id(*, meeting_id: int, user) -> Meeting:
    """The meeting, with its organisation, host and recorder, when the user may see it; 404
    otherwise (an unknown id and a meeting of someone else look the same)."""
    meeting = (
        Meeting.objects.select_related("organization", "host__member", "recorder__member")
        .filter(pk=meeting_id)
        .first()
    )
    if meeting is None or not meeting_visible_to(user, meeting):
        raise Http404
    return meeting


# --- /meetings/ -----------------------------------------------------------------------------


def _with_my_answer(qs: QuerySet, user) -> QuerySet:
    """Annotate the user's answer and sign-in (one LEFT JOIN: one row per meeting and user)."""
    return qs.annotate(
        mine=FilteredRelation("attendances", condition=Q(attendances__user=user.pk))
    ).annotate(
        my_rsvp=F("mine__rsvp"),
        my_leave_reason=F("mine__leave_reason"),
        my_signed_in_at=F("mine__signed_in_at"),
    )


def meetings_for_user(*, user, kind: str | None = None) -> QuerySet:
    """Announced (or held) meetings where the user is expected, with their answer."""
    qs = Meeting.objects.filter(expected_q(user), shown_q())
    if kind in Meeting.Kind.values:
        qs = qs.filter(kind=kind)
    return _with_my_answer(qs.select_related("organization"), user)


def upcoming_meetings_for_user(*, user, kind: str | None = None, now=None) -> list[Meeting]:
    """Planned meetings that have not ended, soonest first (at most UPCOMING_SHOWN)."""
    now = now or timezone.now()
    qs = meetings_for_user(user=user, kind=kind).filter(
        status=Meeting.Status.PLANNED, ends_at__gte=now
    )
    return list(qs.order_by("starts_at", "pk")[:UPCOMING_SHOWN])


def past_meetings_for_user(*, user, kind: str | None = None, now=None) -> QuerySet:
    """Held and cancelled meetings, and planned ones that have ended, newest first (the view
    paginates)."""
    now = now or timezone.now()
    qs = meetings_for_user(user=user, kind=kind).filter(
        Q(status__in=[Meeting.Status.HELD, Meeting.Status.CANCELLED]) | Q(ends_at__lt=now)
    )
    return qs.order_by("-starts_at", "-pk")


def managed_meetings_for_user(*, user, kind: str | None = None, now=None) -> list[Meeting] | None:
    """For managers: the planned meetings of their organisations that have not ended, drafts
    included, soonest first, with how many answered coming or asked for leave. None for
    users who manage nothing."""
    if not scope.has_role(user):
        return None
    now = now or timezone.now()
    qs = Meeting.objects.filter(status=Meeting.Status.PLANNED, ends_at__gte=now)
    if not (user.is_superuser and user.is_active):
        qs = qs.filter(scope.subtree_q(scope.managed_paths(user), prefix="organization__"))
    if kind in Meeting.Kind.values:
        qs = qs.filter(kind=kind)
    qs = qs.select_related("organization").annotate(
        coming_count=Count("attendances", filter=Q(attendances__rsvp=Attendance.Rsvp.COMING)),
        leave_count=Count("attendances", filter=Q(attendances__rsvp=Attendance.Rsvp.LEAVE)),
    )
    return list(qs.order_by("starts_at", "pk")[:MANAGED_SHOWN])


# --- a meeting ------------------------------------------------------------------------------


def _attendees(meeting: Meeting) -> QuerySet:
    """The expected users, each joined to their answer for this meeting (or NULLs)."""
    return expected_attendees(meeting).annotate(
        att=FilteredRelation(
            "meeting_attendances", condition=Q(meeting_attendances__meeting=meeting.pk)
        )
    )


def is_over(meeting: Meeting, now=None) -> bool:
    now = now or timezone.now()
    return meeting.status == Meeting.Status.HELD or (
        meeting.status == Meeting.Status.PLANNED and meeting.ends_at <= now
    )


def attendance_counts(meeting: Meeting, *, now=None) -> dict:
    """Expected, coming, on leave, present and absent, counted in one aggregate query over
    the expected attendees. Absent (once the meeting is over): expected, not present and not
    on leave (应到、实到、请假、缺席, as the branch ledger counts them); None before."""
    leave = Q(att__rsvp=Attendance.Rsvp.LEAVE)
    present = Q(att__signed_in_at__isnull=False)
    row = _attendees(meeting).aggregate(
        expected=Count("pk"),
        coming=Count("pk", filter=Q(att__rsvp=Attendance.Rsvp.COMING)),
        leave=Count("pk", filter=leave),
        present=Count("pk", filter=present),
        missing=Count("pk", filter=~present & ~leave),
        answered=Count("pk", filter=~Q(att__rsvp="") & Q(att__rsvp__isnull=False)),
    )
    row["absent"] = row["missing"] if is_over(meeting, now) else None
    row["unanswered"] = row["expected"] - row["answered"]
    return row


def roster(meeting: Meeting, *, show: str = "all") -> QuerySet:
    """The expected attendees with their answers, for the recorder's table: those not signed
    in first (they may need recording), then by name; `show` filters (missing: neither
    present nor on leave; leave; present). The view paginates."""
    qs = (
        _attendees(meeting)
        .select_related("member")
        .annotate(
            rsvp=F("att__rsvp"),
            leave_reason=F("att__leave_reason"),
            signed_in_at=F("att__signed_in_at"),
            via=F("att__via"),
            recorded_by_name=Coalesce(
                NullIf(F("att__recorded_by__member__real_name"), Value("")),
                F("att__recorded_by__username"),
            ),
            present_order=Case(
                When(att__signed_in_at__isnull=False, then=Value(1)),
                default=Value(0),
                output_field=IntegerField(),
            ),
        )
    )
    present = Q(att__signed_in_at__isnull=False)
    leave = Q(att__rsvp=Attendance.Rsvp.LEAVE)
    if show == "missing":
        qs = qs.filter(~present & ~leave)
    elif show == "leave":
        qs = qs.filter(leave)
    elif show == "present":
        qs = qs.filter(present)
    return qs.order_by("present_order", "member__real_name", "username", "pk")


def meeting_detail(*, meeting: Meeting, user, now=None) -> dict:
    """A meeting's page: my answer (one query), the counts (one), the linked published
    lessons (one), and what I may do now."""
    from ..services.meetings import sign_in_window

    now = now or timezone.now()
    mine = Attendance.objects.filter(meeting=meeting, user=user).first()
    lessons = list(
        meeting.lessons.filter(status=Lesson.Status.PUBLISHED).order_by("-published_at", "-pk")
    )
    expected = is_expected(meeting, user)
    open_ = meeting.status == Meeting.Status.PLANNED and meeting.is_published
    opens, closes = sign_in_window(meeting)
    signed_in = bool(mine and mine.signed_in_at)
    manager = can_manage(user, meeting)
    recorder = can_record(user, meeting)
    return {
        "meeting": meeting,
        "mine": mine,
        "lessons": lessons,
        "counts": attendance_counts(meeting, now=now),
        "expected": expected,
        "shown": is_shown(meeting),
        "rsvp_open": open_ and expected and now < meeting.starts_at,
        "sign_in_open": open_ and expected and opens <= now <= closes and not signed_in,
        "sign_in_opens": opens,
        "sign_in_closes": closes,
        "signed_in": signed_in,
        "over": is_over(meeting, now),
        "can_manage": manager,
        "can_record": recorder,
        "can_show_code": can_show_code(user, meeting),
        "can_publish": manager
        and not meeting.is_published
        and meeting.status == Meeting.Status.PLANNED,
        "can_cancel": manager and meeting.status == Meeting.Status.PLANNED,
        "record_open": recorder and meeting.status != Meeting.Status.CANCELLED and now >= opens,
    }


# --- the home card --------------------------------------------------------------------------


def home_card(*, user, now=None) -> dict | None:
    """The home page's meeting card in two queries: the next announced meeting I am expected
    at (that has not ended) with my answer, and the held meetings of the last 30 days where
    reflections were asked for, I am expected and I have written none. None when there is
    neither."""
    now = now or timezone.now()
    expected = expected_q(user)
    if expected == _NOTHING:
        return None
    upcoming = _with_my_answer(
        Meeting.objects.filter(
            expected,
            published_at__isnull=False,
            status=Meeting.Status.PLANNED,
            ends_at__gte=now,
        ).select_related("organization"),
        user,
    )
    meeting = upcoming.order_by("starts_at", "pk").first()
    reflections = list(
        Meeting.objects.filter(
            expected,
            status=Meeting.Status.HELD,
            reflections_requested_at__isnull=False,
            starts_at__gte=now - timedelta(days=REFLECTIONS_DAYS),
        )
        .filter(~Exists(Reflection.objects.filter(meeting=OuterRef("pk"), author=user.pk)))
        .order_by("-starts_at", "-pk")[:REFLECTIONS_SHOWN]
    )
    if meeting is None and not reflections:
        return None
    return {
        "meeting": meeting,
        "rsvp_open": bool(meeting) and now < meeting.starts_at,
        "reflections": reflections,
    }
