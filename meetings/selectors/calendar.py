"""Reads of the calendar files: one meeting's .ics and a member's personal feed, in
iCalendar through the `icalendar` library. Times are written in UTC; each meeting keeps one
UID whatever changes, so calendar apps update the event in place."""

import html
from collections.abc import Callable, Iterable
from datetime import UTC, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.html import strip_tags
from django.utils.translation import gettext as _
from icalendar import Calendar, Event

from ..models import CalendarFeed, Meeting
from .pages import expected_q, shown_q

FEED_DAYS_BACK = 90
PRODID = "-//NetBranch//Meetings//ZH"


def feed_by_token(token: str) -> CalendarFeed:
    """The feed of an active user with this secret token; 404 for an unknown, revoked or
    replaced token (one query)."""
    feed = (
        CalendarFeed.objects.select_related("user").filter(token=token).first()
        if token and len(token) <= 64
        else None
    )
    if feed is None or not feed.user.is_active:
        raise Http404
    return feed


def feed_meetings_for_user(*, user, now=None) -> QuerySet:
    """The announced (or held) meetings where the user is expected, from FEED_DAYS_BACK days ago on,
    cancelled ones included (they are sent with STATUS:CANCELLED)."""
    now = now or timezone.now()
    return (
        Meeting.objects.filter(
            expected_q(user),
            shown_q(),
            starts_at__gte=now - timedelta(days=FEED_DAYS_BACK),
        )
        .select_related("organization")
        .order_by("starts_at", "pk")
    )


def _uid_host() -> str:
    return urlsplit(settings.NETBRANCH_BASE_URL).hostname or "netbranch"


def meeting_uid(meeting: Meeting) -> str:
    return f"meeting-{meeting.pk}@{_uid_host()}"


def plain_text(rich: str) -> str:
    """The text of sanitised rich text: tags dropped, entities decoded, blank lines folded."""
    text = html.unescape(strip_tags((rich or "").replace("</p>", "</p>\n").replace("<br>", "\n")))
    lines = [line.strip() for line in text.splitlines()]
    return "\n".join(line for line in lines if line)


def _description(meeting: Meeting, url: str) -> str:
    parts = [f"{meeting.get_kind_display()} · {meeting.organization.display_name}"]
    if meeting.status == Meeting.Status.CANCELLED and meeting.cancelled_reason:
        parts.append(_("Cancelled: %(reason)s") % {"reason": meeting.cancelled_reason})
    if meeting.video_link:
        parts.append(_("Video link: %(url)s") % {"url": meeting.video_link})
    agenda = plain_text(meeting.agenda)
    if agenda:
        parts.append(agenda)
    parts.append(url)
    return "\n\n".join(parts)


def _utc(value):
    return value.astimezone(UTC)


def meeting_event(meeting: Meeting, *, url: str) -> Event:
    status = "CANCELLED" if meeting.status == Meeting.Status.CANCELLED else "CONFIRMED"
    event = Event.new(
        uid=meeting_uid(meeting),
        summary=meeting.title,
        start=_utc(meeting.starts_at),
        end=_utc(meeting.ends_at),
        stamp=_utc(meeting.updated_at or timezone.now()),
        last_modified=_utc(meeting.updated_at or timezone.now()),
        status=status,
        url=url,
        description=_description(meeting, url),
        location=meeting.place or meeting.video_link or None,
        # Calendar apps apply a change only when the sequence grows: seconds since creation.
        sequence=max(0, int((meeting.updated_at - meeting.created_at).total_seconds()))
        if meeting.updated_at and meeting.created_at
        else 0,
    )
    return event


def build_calendar(
    meetings: Iterable[Meeting], *, url_of: Callable[[Meeting], str], name: str
) -> bytes:
    """An iCalendar file of the meetings (no query: the caller's queryset is read once)."""
    calendar = Calendar.new(prodid=PRODID, name=name, method="PUBLISH", calscale="GREGORIAN")
    calendar.add("X-WR-TIMEZONE", settings.TIME_ZONE)
    for meeting in meetings:
        calendar.add_component(meeting_event(meeting, url=url_of(meeting)))
    return calendar.to_ical()
