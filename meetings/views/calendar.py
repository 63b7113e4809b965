"""Calendar files: one meeting's .ics (logged in, the meeting's own access rule), the personal
feed (no login: the secret token in the URL is the key) and the page where a member makes,
renews or revokes their feed URL."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from ..models import CalendarFeed
from ..selectors import calendar as calendar_selectors
from ..selectors import pages as page_selectors
from ..services import calendar as calendar_services


def _ics_response(body: bytes, *, filename: str | None = None) -> HttpResponse:
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    if filename:
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-cache"
    return response


def _url_of(request):
    return lambda meeting: request.build_absolute_uri(reverse("meetings:detail", args=[meeting.pk]))


@login_required
@require_GET
def meeting_ics(request, meeting_id: int):
    meeting = page_selectors.access_meeting_by_id(meeting_id=meeting_id, user=request.user)
    body = calendar_selectors.build_calendar([meeting], url_of=_url_of(request), name=meeting.title)
    return _ics_response(body, filename=f"meeting-{meeting.pk}.ics")


@require_GET
def feed(request, token: str):
    """The member's meetings for a calendar app. 404 for an unknown, revoked or replaced
    token, the same as for a wrong one."""
    calendar_feed = calendar_selectors.feed_by_token(token)
    meetings = calendar_selectors.feed_meetings_for_user(user=calendar_feed.user)
    body = calendar_selectors.build_calendar(
        meetings, url_of=_url_of(request), name=_("My branch meetings")
    )
    calendar_services.calendar_feed_touch(feed=calendar_feed)
    return _ics_response(body)


def _feed_urls(request, calendar_feed: CalendarFeed | None) -> dict:
    if calendar_feed is None:
        return {}
    url = request.build_absolute_uri(reverse("meetings:feed", args=[calendar_feed.token]))
    return {"feed_url": url, "webcal_url": "webcal://" + url.split("://", 1)[1]}


@login_required
@require_GET
def calendar_page(request):
    calendar_feed = CalendarFeed.objects.filter(user=request.user).first()
    return render(
        request,
        "meetings/calendar.html",
        {"calendar_feed": calendar_feed, **_feed_urls(request, calendar_feed)},
    )


@login_required
@require_POST
def calendar_create(request):
    had = CalendarFeed.objects.filter(user=request.user).exists()
    calendar_services.calendar_feed_create(user=request.user)
    if had:
        messages.success(request, _("Your new calendar link is ready. The old link no longer works."))  # fmt: skip
    else:
        messages.success(request, _("Your calendar link is ready. Add it to your calendar app."))
    return redirect("meetings:calendar")


@login_required
@require_POST
def calendar_revoke(request):
    if calendar_services.calendar_feed_revoke(user=request.user):
        messages.success(request, _("Your calendar link is revoked: it no longer works."))
    else:
        messages.info(request, _("You have no calendar link."))
    return redirect("meetings:calendar")


urlpatterns = [
    path("meetings/<int:meeting_id>/calendar.ics", meeting_ics, name="ics"),
    path("meetings/calendar/", calendar_page, name="calendar"),
    path("meetings/calendar/new/", calendar_create, name="calendar_create"),
    path("meetings/calendar/revoke/", calendar_revoke, name="calendar_revoke"),
    path("meetings/feed/<slug:token>.ics", feed, name="feed"),
]
