"""Reflection pages: the list of a meeting's reflections with my own (write, edit), a
reflection's page with its comments, and the manager's "ask for reflections" and "remind"
buttons. Plain form posts that redirect with a message; a refused reflection is shown again
with its text, never lost."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from ..selectors import reflections as selectors
from ..services import reflections as services

ANCHOR = "reflections"


def _message_of(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc) or _("You may not do this.")


def _list_url(meeting) -> str:
    return reverse("meetings:reflections", args=[meeting.pk])


def _back(request, meeting) -> str:
    """Where a form came from (the meeting page or the list), if it is one of ours."""
    candidate = request.POST.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate.split("#", 1)[0]
    return _list_url(meeting)


def _list_context(request, meeting, **extra) -> dict:
    context = selectors.reflections_block(meeting=meeting, user=request.user, latest=None)
    context["page_obj"] = selectors.reflections_page(
        meeting=meeting, user=request.user, page=request.GET.get("page", 1)
    )
    context["next_url"] = _list_url(meeting)
    context["edit_url"] = f"{_list_url(meeting)}?edit=1#my-reflection"
    context["editing"] = request.GET.get("edit") == "1"
    context.update(extra)
    return context


@login_required
@require_GET
def reflection_list(request, meeting_id: int):
    meeting = selectors.access_meeting_for_reflections(meeting_id=meeting_id, user=request.user)
    return render(request, "meetings/reflections/list.html", _list_context(request, meeting))


@login_required
@require_POST
def reflection_write(request, meeting_id: int):
    meeting = selectors.access_meeting_for_reflections(meeting_id=meeting_id, user=request.user)
    body = request.POST.get("body", "")
    try:
        services.reflection_write(meeting=meeting, author=request.user, body=body)
    except (PermissionDenied, ValidationError) as exc:
        # Shown again with the text typed, so that nothing is lost.
        context = _list_context(request, meeting, editing=True, draft=body, error=_message_of(exc))
        return render(request, "meetings/reflections/list.html", context, status=400)
    messages.success(request, _("Your reflection is saved."))
    return redirect(f"{_back(request, meeting)}#{ANCHOR}")


@login_required
@require_POST
def reflections_request(request, meeting_id: int):
    meeting = selectors.access_meeting_for_reflections(meeting_id=meeting_id, user=request.user)
    try:
        asked = services.reflections_request(meeting=meeting, by=request.user)
    except (PermissionDenied, ValidationError) as exc:
        messages.error(request, _message_of(exc))
    else:
        if asked:
            messages.success(request, _("The attendees are asked for their reflections."))
        else:
            messages.info(request, _("Reflections were already asked for."))
    return redirect(f"{_back(request, meeting)}#{ANCHOR}")


@login_required
@require_POST
def reflections_remind(request, meeting_id: int):
    meeting = selectors.access_meeting_for_reflections(meeting_id=meeting_id, user=request.user)
    try:
        count = services.reflections_remind(meeting=meeting, by=request.user)
    except (PermissionDenied, ValidationError) as exc:
        messages.error(request, _message_of(exc))
    else:
        if count:
            text = ngettext(
                "%(n)s member is reminded to write their reflection.",
                "%(n)s members are reminded to write their reflection.",
                count,
            )
            messages.success(request, text % {"n": count})
        else:
            messages.info(
                request,
                _("Nobody was reminded: today's reminder has gone out, or everyone has written."),
            )
    return redirect(f"{_back(request, meeting)}#{ANCHOR}")


@login_required
@require_GET
def reflection_detail(request, reflection_id: int):
    reflection = selectors.access_reflection_by_id(reflection_id=reflection_id, user=request.user)
    return render(
        request,
        "meetings/reflections/detail.html",
        {"reflection": reflection, "meeting": reflection.meeting},
    )


urlpatterns = [
    path("meetings/<int:meeting_id>/reflections/", reflection_list, name="reflections"),
    path("meetings/<int:meeting_id>/reflections/write/", reflection_write, name="reflection_write"),
    path(
        "meetings/<int:meeting_id>/reflections/request/",
        reflections_request,
        name="reflections_request",
    ),
    path(
        "meetings/<int:meeting_id>/reflections/remind/",
        reflections_remind,
        name="reflections_remind",
    ),
    path("meetings/reflections/<int:reflection_id>/", reflection_detail, name="reflection"),
]
