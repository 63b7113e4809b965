"""Reads of the paper packs (离线学习包): for a branch whose members work at a site with no
network, the secretary prints the current study plans with the lessons' full text and
pictures, the next meeting's notice and agenda, and a sign-in sheet with one line per expected
member and the meeting's short code; back on the network the sheet is entered by that code.

Each read costs a fixed number of queries whatever the number of members, plans or lessons."""

from datetime import timedelta

from django.db.models import Case, IntegerField, Prefetch, Q, QuerySet, Value, When
from django.http import Http404
from django.utils import timezone
from django.utils.safestring import mark_safe

from branches import scope
from branches.models import Organization, ProjectSite
from core.richtext import sanitize_html
from lessons.models import Lesson, StudyPlan, StudyPlanItem

from ..models import Meeting, Reflection, normalize_short_code
from .attendees import expected_attendees
from .minutes import may_keep_minutes

#: A pack offers the organisation's planned meetings from this many days back (one held at a
#: site without network stays planned until its sheet is entered) ...
PACK_DAYS_BACK = 30
#: ... and at most this many of them to choose from.
PACK_MEETINGS_SHOWN = 12
#: At most this many current study plans go into a pack.
PACK_PLANS = 3
#: The hub page lists at most this many organisations with a site without coverage.
PACK_ORGANIZATIONS_SHOWN = 50


def access_pack_organization(*, organization_id, user) -> Organization:
    """An organisation the user manages (assigned there or above it): 404 for any other, so
    that another branch's pack does not even exist for them."""
    organization = Organization.objects.filter(pk=organization_id).first()
    if organization is None or not scope.can_manage(user, organization):
        raise Http404
    return organization


def sites_without_coverage(*, user) -> QuerySet:
    """Open project sites without coverage run by an organisation the user manages, with the
    organisation: what the home worklist and the hub page link packs for (one query, none
    without a managing role)."""
    sites = ProjectSite.objects.filter(
        coverage=ProjectSite.Coverage.NONE, closed_on__isnull=True
    ).select_related("organization")
    if not (getattr(user, "is_superuser", False) and user.is_active):
        paths = scope.managed_paths(user)
        if not paths:
            return sites.none()
        sites = sites.filter(scope.subtree_q(paths, prefix="organization__"))
    return sites.order_by("organization__path", "name")


def _candidate_meetings(organization: Organization, now) -> list[Meeting]:
    return list(
        Meeting.objects.filter(
            organization=organization,
            status=Meeting.Status.PLANNED,
            minutes_confirmed_at__isnull=True,
            starts_at__gte=now - timedelta(days=PACK_DAYS_BACK),
        )
        .select_related("organization", "host__member")
        .order_by("starts_at", "pk")[:PACK_MEETINGS_SHOWN]
    )


def _choose(organization, meetings: list[Meeting], meeting_id, now) -> Meeting | None:
    """The meeting asked for (a planned one of the organisation whose minutes are open: one
    more query when it is older than the candidates), else the next one to come, else the
    latest one that took place and waits for its sheet."""
    if meeting_id is not None:
        for meeting in meetings:
            if meeting.pk == meeting_id:
                return meeting
        meeting = (
            Meeting.objects.filter(
                pk=meeting_id,
                organization=organization,
                status=Meeting.Status.PLANNED,
                minutes_confirmed_at__isnull=True,
            )
            .select_related("organization", "host__member")
            .first()
        )
        if meeting is None:
            raise Http404
        return meeting
    upcoming = [m for m in meetings if m.ends_at >= now]
    if upcoming:
        return upcoming[0]
    return meetings[-1] if meetings else None


def current_plans(organization: Organization, today) -> list[StudyPlan]:
    """The study plans current for the organisation's members: published on the path from it
    to the root, not only for the committee, running or starting within a month, not yet
    due; each with its published lessons and documents in order (two queries)."""
    live_items = (
        StudyPlanItem.objects.filter(
            Q(lesson__status=Lesson.Status.PUBLISHED) | Q(document__published=True)
        )
        .select_related("lesson", "document")
        .order_by("order", "id")
    )
    return list(
        StudyPlan.objects.filter(
            organization__path__in=scope.ancestor_paths([organization.path]),
            status=StudyPlan.Status.PUBLISHED,
            committee_only=False,
            starts_on__lte=today + timedelta(days=31),
            due_on__gte=today,
        )
        .select_related("organization")
        .prefetch_related(Prefetch("items", queryset=live_items, to_attr="live_items"))
        .order_by("due_on", "pk")[:PACK_PLANS]
    )


def sheet_rows(meeting: Meeting) -> list:
    """The sign-in sheet: every expected attendee with their member record and site, those at
    a site without coverage first, then by site and name (one query)."""
    return list(
        expected_attendees(meeting)
        .select_related("member__project_site")
        .annotate(
            offline_first=Case(
                When(member__project_site__coverage=ProjectSite.Coverage.NONE, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .order_by("offline_first", "member__project_site__name", "member__real_name", "pk")
    )


def _printable(html: str) -> str:
    """Rich text for paper: sanitised (nh3, as on display) and without lazy loading, so that a
    browser prints every picture."""
    return mark_safe(sanitize_html(html or ""))  # noqa: S308 - nh3 output


def _prepare(content) -> None:
    """A lesson or a document as a pack prints it: its text and the line under its title."""
    content.printable_body = _printable(content.body)
    if isinstance(content, Lesson):
        byline = [str(content.get_kind_display())]
        if content.speaker:
            byline.append(content.speaker)
    else:
        byline = [str(content.get_category_display())]
        if content.issuer:
            byline.append(content.issuer)
    content.pack_byline = " · ".join(byline)


def pack_for_organization(*, organization: Organization, meeting_id=None, now=None) -> dict:
    """Everything a pack prints, in six queries: the candidate meetings, the sites without
    coverage, the plans and their items, the meeting's linked lessons and the sheet's rows.
    The chosen meeting still needs its short code (`services.packs.meeting_ensure_short_code`)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    meetings = _candidate_meetings(organization, now)
    meeting = _choose(organization, meetings, meeting_id, now)
    sites = list(
        ProjectSite.objects.filter(
            scope.subtree_q([organization.path], prefix="organization__"),
            coverage=ProjectSite.Coverage.NONE,
            closed_on__isnull=True,
        ).order_by("name")
    )
    plans = current_plans(organization, today)
    in_plans = {item.lesson_id for plan in plans for item in plan.live_items if item.lesson_id}
    linked, rows = [], []
    if meeting is not None:
        linked = [
            lesson
            for lesson in meeting.lessons.filter(status=Lesson.Status.PUBLISHED).order_by("pk")
            if lesson.pk not in in_plans
        ]
        rows = sheet_rows(meeting)
        meeting.printable_agenda = _printable(meeting.agenda)
    for plan in plans:
        for item in plan.live_items:
            _prepare(item.lesson or item.document)
    for lesson in linked:
        _prepare(lesson)
    return {
        "organization": organization,
        "meetings": meetings,
        "meeting": meeting,
        "sites": sites,
        "plans": plans,
        "linked_lessons": linked,
        "rows": rows,
        "printed_at": now,
    }


# --- the entry of a sheet -------------------------------------------------------------------


def meeting_by_short_code(*, code: str, user) -> Meeting | None:
    """The meeting with this short code whose sheet the user may enter (its recorder or a
    manager of its organisation); None for an unknown code and for another organisation's
    meeting alike, so that a code tells nothing about meetings out of the user's reach."""
    code = normalize_short_code(code)
    if not code:
        return None
    meeting = Meeting.objects.select_related("organization").filter(short_code=code).first()
    if meeting is None or not may_keep_minutes(meeting, user):
        return None
    return meeting


def access_meeting_by_short_code(*, code: str, user) -> Meeting:
    meeting = meeting_by_short_code(code=code, user=user)
    if meeting is None:
        raise Http404
    return meeting


def sheet_entry_rows(meeting: Meeting) -> tuple[list, set[int], dict[int, Reflection]]:
    """The entry form's rows: the expected attendees with their member (one query), who is
    already recorded present (one query) and the reflections already written (one query)."""
    users = list(
        expected_attendees(meeting).select_related("member").order_by("member__real_name", "pk")
    )
    present = set(
        meeting.attendances.filter(signed_in_at__isnull=False).values_list("user_id", flat=True)
    )
    reflections = {r.author_id: r for r in Reflection.objects.filter(meeting=meeting)}
    return users, present, reflections
