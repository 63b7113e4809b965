"""Reads of the reflections (心得体会): who may see a meeting's reflections, the block of the
meeting detail page, the list and the page of one reflection, and the audience of those who
have not written theirs. Each page costs a fixed number of queries whatever the data size."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from branches import scope
from discussions.selectors import with_discussion_counts

from ..models import Meeting, Reflection
from . import pages
from .attendees import expected_attendees, is_expected

#: Meeting kinds after which members write a reflection.
REFLECTION_KINDS = (Meeting.Kind.PARTY_LESSON, Meeting.Kind.THEMED_DAY)
#: Reflections shown in the block of the meeting page (the rest on the list page).
BLOCK_LATEST = 5
#: Names shown in the manager's "not written yet" list (the count shows them all).
MISSING_SHOWN = 30


def max_length() -> int:
    return getattr(settings, "NETBRANCH_REFLECTION_MAX_LENGTH", 5000)


def takes_reflections(meeting: Meeting) -> bool:
    return meeting.kind in REFLECTION_KINDS


def is_open_for_reflections(meeting: Meeting, *, now=None) -> bool:
    """A lesson or themed day that has started and is not cancelled."""
    now = now or timezone.now()
    return (
        takes_reflections(meeting)
        and meeting.status != Meeting.Status.CANCELLED
        and meeting.starts_at <= now
    )


def meeting_visible_to(user, meeting: Meeting) -> bool:
    """Who may read a meeting's reflections: whoever may open the meeting's page (managers and
    reviewers over its organisation; once announced or held, those expected, the host and the
    recorder)."""
    return pages.meeting_visible_to(user, meeting)


def reflection_visible_to(user, reflection: Reflection) -> bool:
    return meeting_visible_to(user, reflection.meeting)


# --- lookups by id from a URL ----------------------------------------------------------------


def access_meeting_for_reflections(*, meeting_id, user) -> Meeting:
    """A lesson or themed day whose reflections the user may read; 404 otherwise (an unknown
    id, another branch's meeting, a kind without reflections alike)."""
    meeting = Meeting.objects.select_related("organization").filter(pk=meeting_id).first()
    if meeting is None or not takes_reflections(meeting) or not meeting_visible_to(user, meeting):
        raise Http404
    return meeting


def access_reflection_by_id(*, reflection_id, user) -> Reflection:
    """A reflection with its meeting, author and like/comment counts; 404 unless the user may
    see its meeting."""
    reflection = (
        with_discussion_counts(
            Reflection.objects.select_related("meeting__organization", "author__member"),
            user=user,
        )
        .filter(pk=reflection_id)
        .first()
    )
    if reflection is None or not reflection_visible_to(user, reflection):
        raise Http404
    return reflection


# --- lists -----------------------------------------------------------------------------------


def reflections_of_meeting(*, meeting: Meeting, user) -> QuerySet:
    """The meeting's reflections, newest first, with authors' names and like/comment counts
    annotated (no query per row)."""
    return with_discussion_counts(
        Reflection.objects.filter(meeting=meeting).select_related("author__member"), user=user
    ).order_by("-created_at", "-id")


def reflections_page(*, meeting: Meeting, user, page=1) -> Page:
    """One page of the list: two queries (the count and the page)."""
    return Paginator(
        reflections_of_meeting(meeting=meeting, user=user), settings.NETBRANCH_PAGE_SIZE
    ).get_page(page)


def reflection_missing(meeting: Meeting) -> QuerySet:
    """Active users expected at the meeting who have not written their reflection."""
    written = Reflection.objects.filter(meeting_id=meeting.pk).values("author_id")
    return expected_attendees(meeting).exclude(pk__in=written)


def audience_reflection_missing(*, meeting: int) -> QuerySet:
    """The audience "meetings.reflection_missing" (registered with notifications)."""
    stored = Meeting.objects.select_related("organization").filter(pk=meeting).first()
    if stored is None:
        return get_user_model().objects.none()
    return reflection_missing(stored)


def reflections_block(*, meeting: Meeting, user, latest: int | None = BLOCK_LATEST) -> dict:
    """What the reflections block of the meeting page shows: my reflection (or whether I may
    write one), the latest reflections and their total, and for managers who has not written.

    At most seven queries, whatever the number of reflections or attendees.
    """
    if not takes_reflections(meeting):
        return {"applicable": False}
    manager = scope.can_manage(user, meeting.organization)
    expected = is_expected(meeting, user)
    open_ = is_open_for_reflections(meeting)
    mine = None
    if expected:
        mine = Reflection.objects.filter(meeting=meeting, author=user).first()
    context = {
        "applicable": True,
        "meeting": meeting,
        "can_manage": manager,
        "expected": expected,
        "open": open_,
        "can_write": expected and open_,
        "mine": mine,
        "max_length": max_length(),
        "reflections": [],
        "total": 0,
    }
    if latest is not None:
        rows = list(reflections_of_meeting(meeting=meeting, user=user)[:latest])
        total = Reflection.objects.filter(meeting=meeting).count()
        context.update(reflections=rows, total=total, more=total > len(rows))
    if manager and open_:
        missing = (
            reflection_missing(meeting).select_related("member").order_by("member__real_name", "pk")
        )
        shown = list(missing[:MISSING_SHOWN])
        count = missing.count()
        context.update(missing=shown, missing_count=count, missing_more=count - len(shown))
    return context
