"""Reads of the minutes and the ledger (台账): who keeps a meeting's minutes, the minutes block
of the meeting page, and the ledger of held meetings over a period with its counts computed in
the database (a fixed number of queries whatever the number of meetings or attendees)."""

import re
from collections.abc import Iterator
from datetime import date, timedelta
from html import unescape

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import (
    Case,
    Exists,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    When,
)
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone
from django.utils.html import strip_tags
from django.utils.translation import gettext_lazy as _

from branches import scope
from branches.models import Organization, RoleAssignment
from core.richtext import sanitize_html
from members.models import Member
from members.selectors import open_participations

from ..models import Attendance, Meeting
from .cadence import local_midnight
from .pages import meeting_visible_to

#: The printable ledger shows at most this many meetings (the Excel export has them all).
LEDGER_PAGE_LIMIT = 500


def may_keep_minutes(meeting: Meeting, user) -> bool:
    """The meeting's recorder or a manager of its organisation (no query beyond the cached
    role assignments; `meeting.organization` should be loaded)."""
    if not (getattr(user, "is_authenticated", False) and user.is_active):
        return False
    if meeting.recorder_id and meeting.recorder_id == user.pk:
        return True
    return scope.can_manage(user, meeting.organization)


def minutes_are_empty(html: str) -> bool:
    """No text and no picture: an editor's empty paragraph is empty."""
    html = sanitize_html(html)
    return not unescape(strip_tags(html)).strip() and "<img" not in html


def access_meeting_for_minutes(*, meeting_id: int, user) -> Meeting:
    """The meeting whose minutes `user` keeps: 404 for an unknown id or a meeting the user may
    not even see (`pages.meeting_visible_to`), 403 for one they see but do not keep the
    minutes of."""
    meeting = Meeting.objects.select_related("organization").filter(pk=meeting_id).first()
    if meeting is None:
        raise Http404
    if may_keep_minutes(meeting, user):
        return meeting
    if meeting_visible_to(user, meeting):
        raise PermissionDenied
    raise Http404


def people_by_id(ids) -> dict:
    """{user id: user with its member} for a few ids: one query (none for no ids)."""
    ids = {i for i in ids if i}
    if not ids:
        return {}
    users = get_user_model().objects.filter(pk__in=ids).select_related("member")
    return {u.pk: u for u in users}


def minutes_block(*, meeting: Meeting, user) -> dict:
    """What the minutes block of the meeting page shows to `user` (who may see the meeting as
    the meeting page decides: `pages.meeting_visible_to`): at most two queries (the people
    named, the attachments) beyond the per-request scope caches."""
    keeper = may_keep_minutes(meeting, user)
    manager = keeper and scope.can_manage(user, meeting.organization)
    confirmed = meeting.minutes_confirmed_at is not None
    visible = keeper or meeting_visible_to(user, meeting)
    held = meeting.status == Meeting.Status.HELD
    show_minutes = visible and held and (confirmed or keeper)
    people = (
        people_by_id([meeting.minutes_written_by_id, meeting.minutes_confirmed_by_id])
        if show_minutes
        else {}
    )
    started = meeting.starts_at <= timezone.now()
    open_ = held and not confirmed
    return {
        "meeting": meeting,
        "visible": visible,
        "keeper": keeper,
        "held": held,
        "confirmed": confirmed,
        "show_minutes": show_minutes,
        "attachments": list(meeting.attachments.order_by("pk")) if show_minutes else [],
        "written_by": people.get(meeting.minutes_written_by_id),
        "confirmed_by": people.get(meeting.minutes_confirmed_by_id),
        "can_mark_held": keeper
        and meeting.status == Meeting.Status.PLANNED
        and meeting.is_published
        and started,
        "can_write": keeper and open_,
        "can_confirm": manager and open_ and not minutes_are_empty(meeting.minutes),
        "manager": manager,
        # A planned meeting that took place without network, or a correction of one entered.
        "can_enter_offline": keeper
        and started
        and not confirmed
        and (meeting.status == Meeting.Status.PLANNED or meeting.held_offline),
    }


# --- the ledger -----------------------------------------------------------------------------


def ledger_organizations(user) -> QuerySet:
    """The organisations whose ledger `user` may read: those they manage (secretaries their
    branch and what is under it, reviewers their subtree), tree order."""
    return scope.managed_organizations(user).order_by("path")


def ledger_organization(*, user, organization_id: int | None) -> Organization:
    """The organisation picked for the ledger, in the user's scope: 403 for a user who manages
    nothing, 404 for an id outside their scope; without an id, the top one they manage."""
    if not scope.has_role(user):
        raise PermissionDenied
    orgs = ledger_organizations(user)
    if organization_id is None:
        org = orgs.order_by("depth", "path").first()
    else:
        org = orgs.filter(pk=organization_id).first()
    if org is None:
        raise Http404
    return org


def _count(field: str = "pk", *, distinct: bool = False) -> Func:
    template = "COUNT(DISTINCT %(expressions)s)" if distinct else "COUNT(%(expressions)s)"
    return Func(F(field), function="COUNT", template=template, output_field=IntegerField())


def _expected_count() -> Case:
    """How many are expected at each meeting, as `expected_attendees` defines it (the members
    of its organisation and subtree today, the committee for a committee meeting), in SQL."""
    org_path = OuterRef("organization__path")
    participating = open_participations().filter(
        member=OuterRef("pk"), organization__path__startswith=OuterRef(org_path)
    )
    members = (
        Member.objects.filter(user__is_active=True)
        .filter(Q(branch__path__startswith=org_path) | Exists(participating))
        .order_by()
        .annotate(n=_count())
        .values("n")
    )
    committee = (
        RoleAssignment.objects.filter(
            organization=OuterRef("organization"),
            role__in=RoleAssignment.BRANCH_COMMITTEE_ROLES,
            user__is_active=True,
        )
        .order_by()
        .annotate(n=_count("user_id", distinct=True))
        .values("n")
    )
    return Case(
        When(kind=Meeting.Kind.COMMITTEE_MEETING, then=Subquery(committee)),
        default=Subquery(members),
        output_field=IntegerField(),
    )


def _attendance_count(q: Q) -> Subquery:
    rows = (
        Attendance.objects.filter(q, meeting=OuterRef("pk"))
        .order_by()
        .annotate(n=_count())
        .values("n")
    )
    return Subquery(rows, output_field=IntegerField())


def ledger_meetings(
    *, organization: Organization, start: date, end: date, subtree: bool = True
) -> QuerySet:
    """Held meetings of the organisation (and, with `subtree`, of those under it) whose start
    falls on a local day from `start` to `end`: organisation in tree order, then by time, with
    the people, the counts (expected, present, on leave) and the attachments. Two queries."""
    orgs = Q(organization__path__startswith=organization.path) if subtree else Q(organization=organization)  # fmt: skip
    return (
        Meeting.objects.filter(
            orgs,
            status=Meeting.Status.HELD,
            starts_at__gte=local_midnight(start),
            starts_at__lt=local_midnight(end + timedelta(days=1)),
        )
        .select_related(
            "organization",
            "host__member",
            "recorder__member",
            "minutes_confirmed_by__member",
        )
        .prefetch_related("attachments")
        .annotate(
            # Frozen at confirmation; counted now for minutes still open.
            expected=Coalesce(F("expected_count"), _expected_count()),
            present=_attendance_count(Q(signed_in_at__isnull=False)),
            on_leave=_attendance_count(Q(rsvp=Attendance.Rsvp.LEAVE, signed_in_at__isnull=True)),
        )
        .order_by("organization__path", "starts_at", "pk")
    )


def absent(meeting: Meeting) -> int:
    """Expected, neither present nor on leave (never below zero: people may have moved)."""
    return max((meeting.expected or 0) - (meeting.present or 0) - (meeting.on_leave or 0), 0)


# --- the Excel export -------------------------------------------------------------------------

#: Excel keeps at most 32,767 characters in a cell.
CELL_MAX = 32_000
_BLOCK_END = re.compile(r"</(p|h[1-6]|li|blockquote|tr|figcaption|pre)>|<br\s*/?>", re.IGNORECASE)
_BLANK_LINES = re.compile(r"\n\s*\n+")

LEDGER_HEADERS = (
    _("organisation"), _("kind"), _("title"), _("starts at"), _("ends at"), _("place"),
    _("format"), _("host"), _("recorder"), _("expected"), _("present"), _("on leave"),
    _("absent"), _("held offline"), _("entered at"), _("minutes confirmed at"),
    _("minutes confirmed by"), _("minutes"), _("attachments"),
)  # fmt: skip


def minutes_text(html: str) -> str:
    """Rich-text minutes as plain text for a spreadsheet: one line per paragraph."""
    text = _BLOCK_END.sub("\n", sanitize_html(html))
    text = unescape(strip_tags(text)).replace("\xa0", " ")
    text = _BLANK_LINES.sub("\n", text).strip()
    return text[:CELL_MAX]


def _name(user) -> str:
    if user is None:
        return ""
    member = getattr(user, "member", None)
    return (member.real_name if member else "") or user.get_username()


def ledger_rows(meetings: QuerySet) -> Iterator[list]:
    """The ledger's rows for `core.exports` (which neutralises text that a spreadsheet would
    run as a formula). Minutes appear only once confirmed."""
    for m in meetings.iterator(chunk_size=1000):
        confirmed = m.minutes_confirmed_at is not None
        yield [
            m.organization.name,
            m.get_kind_display(),
            m.title,
            m.starts_at,
            m.ends_at,
            m.place,
            m.get_format_display(),
            _name(m.host),
            _name(m.recorder),
            m.expected,
            m.present,
            m.on_leave,
            absent(m),
            _("yes") if m.held_offline else "",
            m.entered_at,
            m.minutes_confirmed_at,
            _name(m.minutes_confirmed_by),
            minutes_text(m.minutes) if confirmed else _("(not confirmed yet)"),
            "\n".join(str(a) for a in m.attachments.all()) if confirmed else "",
        ]
