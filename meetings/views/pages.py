"""The member pages of the activity sync: my meetings, a meeting (answer, sign in, counts,
minutes, reflections, comments, and the management block), the sign-in link the host's QR
code carries, and the QR page itself. Thin: scope-checked lookups, a service call, a message
and a redirect (PRG); refusals of the services become messages, nothing is written."""

from urllib.parse import urlencode

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from discussions.templatetags.discussions import display_name

from .. import services
from ..forms import CancelForm, RecordForm, RsvpForm
from ..models import Attendance, Meeting
from ..selectors import expected_attendees
from ..selectors import pages as selectors

ATTENDANCE_ANCHOR = "attendance"
ANSWER_ANCHOR = "answer"
#: How often the host's QR page fetches a fresh code (htmx) and reloads without JavaScript.
CODE_POLL_SECONDS = 5
CODE_RELOAD_SECONDS = 10


def _message_of(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc) or _("You may not do this.")


def _detail_url(meeting: Meeting, anchor: str = "") -> str:
    url = reverse("meetings:detail", args=[meeting.pk])
    return f"{url}#{anchor}" if anchor else url


def _safe_next(request, fallback: str) -> str:
    candidate = request.POST.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return fallback


def _kind_of(request) -> str | None:
    kind = request.GET.get("kind") or None
    return kind if kind in Meeting.Kind.values else None


# --- my meetings ----------------------------------------------------------------------------


@login_required
@require_GET
def meeting_list(request):
    kind = _kind_of(request)
    user = request.user
    past = Paginator(
        selectors.past_meetings_for_user(user=user, kind=kind), settings.NETBRANCH_PAGE_SIZE
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "meetings/meeting_list.html",
        {
            "kind": kind,
            "kinds": Meeting.Kind.choices,
            "upcoming": selectors.upcoming_meetings_for_user(user=user, kind=kind),
            "page_obj": past,
            "managed": selectors.managed_meetings_for_user(user=user, kind=kind),
        },
    )


# --- a meeting ------------------------------------------------------------------------------


@login_required
@require_GET
def meeting_detail(request, meeting_id: int):
    meeting = selectors.access_meeting_by_id(meeting_id=meeting_id, user=request.user)
    context = selectors.meeting_detail(meeting=meeting, user=request.user)
    if context["can_record"]:
        show = request.GET.get("show")
        show = show if show in selectors.ROSTER_FILTERS else "all"
        context["show"] = show
        context["roster_filters"] = [
            ("all", _("everyone")),
            ("missing", _("not signed in")),
            ("leave", _("on leave")),
            ("present", _("present")),
        ]
        context["roster"] = Paginator(
            selectors.roster(meeting, show=show), settings.NETBRANCH_PAGE_SIZE
        ).get_page(request.GET.get(selectors.ROSTER_PAGE_PARAM))
    context["rsvp_form"] = RsvpForm(
        initial={"answer": getattr(context["mine"], "rsvp", "") or Attendance.Rsvp.COMING}
    )
    context["cancel_form"] = CancelForm()
    return render(request, "meetings/meeting_detail.html", context)


@login_required
@require_POST
def meeting_rsvp(request, meeting_id: int):
    meeting = selectors.access_meeting_by_id(meeting_id=meeting_id, user=request.user)
    back = _safe_next(request, _detail_url(meeting, ANSWER_ANCHOR))
    form = RsvpForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(back)
    try:
        services.meeting_rsvp(
            meeting=meeting,
            user=request.user,
            coming=form.coming,
            reason=form.cleaned_data["reason"],
        )
    except (PermissionDenied, ValidationError) as exc:
        messages.error(request, _message_of(exc))
    else:
        if form.coming:
            messages.success(request, _("You said you will come."))
        else:
            messages.success(request, _("You asked for leave. The secretary will see your reason."))
    return redirect(back)


@login_required
@require_http_methods(["GET", "POST"])
def meeting_sign_in(request, meeting_id: int):
    """GET (the link the host's QR code carries, or the page's button) shows what you sign in
    to and a confirm button; it never writes. POST signs in, by the QR code when one is
    given, else by the button."""
    meeting = selectors.access_meeting_by_id(meeting_id=meeting_id, user=request.user)
    source = request.POST if request.method == "POST" else request.GET
    code = (source.get("code") or "").strip()[:64]
    if request.method == "GET":
        opens, closes = services.sign_in_window(meeting)
        mine = Attendance.objects.filter(meeting=meeting, user=request.user).first()
        return render(
            request,
            "meetings/sign_in.html",
            {
                "meeting": meeting,
                "code": code,
                "mine": mine,
                "expected": selectors.is_expected(meeting, request.user),
                "opens": opens,
                "closes": closes,
            },
        )
    at = timezone.now()
    try:
        attendance = services.attendance_sign_in(
            meeting=meeting,
            user=request.user,
            via=Attendance.Via.QR if code else Attendance.Via.BUTTON,
            code=code or None,
            at=at,
        )
    except (PermissionDenied, ValidationError) as exc:
        messages.error(request, _message_of(exc))
    else:
        if attendance.signed_in_at == at:
            messages.success(request, _("You are signed in. Welcome!"))
        else:
            when = timezone.localtime(attendance.signed_in_at).strftime("%H:%M")
            messages.info(request, _("You were already signed in at %(time)s.") % {"time": when})
    return redirect(_detail_url(meeting, ANSWER_ANCHOR))


def _code_context(request, meeting: Meeting) -> dict:
    code = services.meeting_sign_in_code(meeting)
    link = request.build_absolute_uri(
        reverse("meetings:sign_in", args=[meeting.pk]) + "?" + urlencode({"code": code})
    )
    # segno draws the SVG from the URL alone: nothing user-supplied goes into the markup.
    svg = segno.make(link, error="m", micro=False).svg_inline(
        scale=6, border=2, omitsize=True, svgclass="qr", lineclass="qr-line"
    )
    opens, closes = services.sign_in_window(meeting)
    now = timezone.now()
    return {
        "meeting": meeting,
        "link": link,
        "qr": mark_safe(svg),  # noqa: S308 - generated by segno, no user input
        "counts": selectors.attendance_counts(meeting),
        "opens": opens,
        "closes": closes,
        "window_open": meeting.status == Meeting.Status.PLANNED
        and meeting.is_published
        and opens <= now <= closes,
        "poll_seconds": CODE_POLL_SECONDS,
        "reload_seconds": CODE_RELOAD_SECONDS,
        "code_seconds": settings.NETBRANCH_SIGN_IN_CODE_SECONDS,
    }


@never_cache
@login_required
@require_GET
def meeting_sign_in_code(request, meeting_id: int):
    """The host's screen: the QR code of the sign-in link with the current code, and how
    many are present. htmx fetches the fragment every few seconds; without JavaScript the
    page reloads itself."""
    meeting = selectors.access_meeting_by_id(meeting_id=meeting_id, user=request.user)
    if not selectors.can_show_code(request.user, meeting):
        raise PermissionDenied
    context = _code_context(request, meeting)
    if request.htmx:
        return render(request, "meetings/includes/_code.html", context)
    return render(request, "meetings/sign_in_code.html", context)


@login_required
@require_POST
def meeting_record(request, meeting_id: int):
    """The recorder records an expected member present (one who has no phone)."""
    meeting = selectors.access_meeting_by_id(meeting_id=meeting_id, user=request.user)
    back = _safe_next(request, _detail_url(meeting, ATTENDANCE_ANCHOR))
    form = RecordForm(request.POST)
    person = None
    if form.is_valid():
        person = (
            expected_attendees(meeting)
            .select_related("member")
            .filter(pk=form.cleaned_data["user"])
            .first()
        )
    if person is None:
        messages.error(request, _("This person is not expected at the meeting."))
        return redirect(back)
    at = timezone.now()
    try:
        attendance = services.attendance_record(
            meeting=meeting, user=person, by=request.user, at=at
        )
    except (PermissionDenied, ValidationError) as exc:
        messages.error(request, _message_of(exc))
    else:
        name = display_name(person)
        if attendance.signed_in_at == at:
            messages.success(request, _("%(name)s is recorded present.") % {"name": name})
        else:
            messages.info(request, _("%(name)s was already signed in.") % {"name": name})
    return redirect(back)


@login_required
@require_POST
def meeting_publish(request, meeting_id: int):
    meeting = selectors.access_meeting_by_id(meeting_id=meeting_id, user=request.user)
    was_published = meeting.is_published
    try:
        services.meeting_publish(meeting=meeting, by=request.user)
    except (PermissionDenied, ValidationError) as exc:
        messages.error(request, _message_of(exc))
    else:
        if was_published:
            messages.info(request, _("The notice had already gone out."))
        else:
            messages.success(request, _("The notice is sent to the expected attendees."))
    return redirect(_detail_url(meeting))


@login_required
@require_POST
def meeting_cancel(request, meeting_id: int):
    meeting = selectors.access_meeting_by_id(meeting_id=meeting_id, user=request.user)
    form = CancelForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(_detail_url(meeting, "manage"))
    try:
        services.meeting_cancel(
            meeting=meeting, by=request.user, reason=form.cleaned_data["reason"]
        )
    except (PermissionDenied, ValidationError) as exc:
        messages.error(request, _message_of(exc))
    else:
        messages.success(request, _("The meeting is cancelled."))
    return redirect(_detail_url(meeting))


urlpatterns = [
    path("meetings/", meeting_list, name="list"),
    path("meetings/<int:meeting_id>/", meeting_detail, name="detail"),
    path("meetings/<int:meeting_id>/answer/", meeting_rsvp, name="rsvp"),
    path("meetings/<int:meeting_id>/sign-in/", meeting_sign_in, name="sign_in"),
    path("meetings/<int:meeting_id>/sign-in-code/", meeting_sign_in_code, name="sign_in_code"),
    path("meetings/<int:meeting_id>/record/", meeting_record, name="record"),
    path("meetings/<int:meeting_id>/publish/", meeting_publish, name="publish"),
    path("meetings/<int:meeting_id>/cancel/", meeting_cancel, name="cancel"),
]
