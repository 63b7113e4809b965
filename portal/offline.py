"""The installable, offline-capable web app: the manifest, the service worker (served from the
site root so that it controls every page), the offline page, and the endpoint that receives
the actions a member did while offline (queued in the browser, sent when the network is
back).

Each queued action carries an id the browser made; `core.ClientAction` keeps one row per
(user, client id) with the outcome, so a replay (a second tab, a lost answer, a retry) gets
the same answer and changes nothing. The handlers live here because portal is the only app
that may import both lessons and meetings.
"""

import hashlib
import json
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from allauth.account.views import LogoutView
from django.conf import settings
from django.contrib import admin
from django.contrib.staticfiles import finders
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import path, reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from core.models import ClientAction
from lessons import selectors as lesson_selectors
from lessons import services as lesson_services
from lessons.models import Lesson, StudyRecord
from meetings.models import Meeting, Reflection
from meetings.selectors import reflections as reflection_selectors
from meetings.services import reflections as reflection_services

#: Largest JSON body accepted for one action (a reflection of 5,000 characters fits easily).
MAX_BODY_BYTES = 64 * 1024


class Refused(Exception):
    """The action cannot be taken; the member reads `message`. `status` is the HTTP status
    of the answer (404 when the thing is not there for this member)."""

    def __init__(self, message: str, status: int = 409):
        super().__init__(message)
        self.message = message
        self.status = status


def _message_of(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc) or _("You may not do this.")


def _clamp(happened_at: datetime, *, not_before: datetime | None) -> datetime:
    """When the action happened, as the browser said: never in the future, never before the
    thing existed (a phone's clock may be wrong)."""
    at = min(happened_at, timezone.now())
    if not_before is not None and at < not_before:
        at = not_before
    return at


def _opened_at(user, lesson) -> datetime:
    """The earliest a lesson action may say it happened: when the member opened the lesson
    (the page records it, and it is opened online before it can be read offline). Without
    such a record the action counts as happening now, so a forged old time cannot put points
    into a past period."""
    started = (
        StudyRecord.objects.filter(user=user, lesson=lesson)
        .values_list("started_at", flat=True)
        .first()
    )
    return started or timezone.now()


def _int(payload: dict, name: str) -> int:
    value = payload.get(name)
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(name)
    return int(value)


# --- handlers: (user, payload, happened_at, client_id) -> outcome dict; raise Refused ----------


def _visible_lesson(user, payload: dict) -> Lesson:
    lesson = (
        Lesson.objects.select_related("organization").filter(pk=_int(payload, "lesson")).first()
    )
    if lesson is None or not lesson_selectors.lesson_visible_to(user, lesson):
        raise Refused(_("This lesson is not open to you."), status=404)
    return lesson


def _lesson_outcome(lesson: Lesson, message: str) -> dict:
    return {"message": message, "title": lesson.title, "url": lesson.get_absolute_url()}


def handle_study_mark(user, payload: dict, happened_at: datetime, client_id) -> dict:
    lesson = _visible_lesson(user, payload)
    at = _clamp(happened_at, not_before=max(lesson.published_at, _opened_at(user, lesson)))
    before = (
        StudyRecord.objects.filter(user=user, lesson=lesson)
        .values_list("points", flat=True)
        .first()
    )
    try:
        record = lesson_services.study_mark(lesson=lesson, user=user, at=at)
    except (PermissionDenied, ValidationError) as exc:
        raise Refused(_message_of(exc)) from exc
    added = record.points - (before or 0)
    if record.finished_at is not None:
        parts = [_("Lesson finished.")]
        if added:
            parts.append(_("You earned %(n)s points.") % {"n": added})
        message = " ".join(parts)
    else:
        message = _("Marked as studied. Pass the check to finish the lesson.")
    return _lesson_outcome(lesson, message) | {"points": added}


def handle_check_answer(user, payload: dict, happened_at: datetime, client_id) -> dict:
    lesson = _visible_lesson(user, payload)
    answers = payload.get("answers")
    if not isinstance(answers, dict):
        raise ValueError("answers")
    answers = {str(k): str(v)[:1] for k, v in answers.items()}
    at = _clamp(happened_at, not_before=max(lesson.published_at, _opened_at(user, lesson)))
    try:
        result = lesson_services.check_answer(
            lesson=lesson, user=user, answers=answers, client_id=client_id, at=at
        )
    except (PermissionDenied, ValidationError) as exc:
        raise Refused(_message_of(exc)) from exc
    if result.already_passed:
        raise Refused(_("You have already passed this check: points count once."))
    if not result.passed:
        message = _("Not all answers are right. Read the explanations and try again.")
    else:
        message = _("All answers are right.")
        if result.points:
            message += " " + _("You earned %(n)s points.") % {"n": result.points}
    return _lesson_outcome(lesson, message) | {"points": result.points, "passed": result.passed}


def handle_reflection(user, payload: dict, happened_at: datetime, client_id) -> dict:
    body = payload.get("body")
    if not isinstance(body, str):
        raise ValueError("body")
    try:
        meeting = reflection_selectors.access_meeting_for_reflections(
            meeting_id=_int(payload, "meeting"), user=user
        )
    except Http404 as exc:
        raise Refused(_("This meeting is not open to you."), status=404) from exc
    url = reverse("meetings:reflections", args=[meeting.pk])
    if meeting.status == Meeting.Status.CANCELLED:
        raise Refused(_("This meeting is cancelled."))
    if meeting.minutes_confirmed_at is not None:
        # A queued reflection lands without the member seeing the page: once the record is
        # closed, they write it on the page themselves if they still want to.
        raise Refused(
            _(
                "The minutes of this meeting were confirmed on %(day)s: a reflection written "
                "offline is no longer taken. Open the meeting's reflections to write it there."
            )
            % {"day": timezone.localtime(meeting.minutes_confirmed_at).strftime("%Y-%m-%d")}
        )
    at = _clamp(happened_at, not_before=meeting.starts_at)
    changed = (
        Reflection.objects.filter(meeting=meeting, author=user)
        .values_list("updated_at", flat=True)
        .first()
    )
    if changed is not None and changed > at:
        raise Refused(
            _(
                "Your reflection was changed after you wrote this offline; the newer text is "
                "kept. Open the meeting's reflections to compare."
            )
        )
    try:
        reflection_services.reflection_write(meeting=meeting, author=user, body=body)
    except (PermissionDenied, ValidationError) as exc:
        raise Refused(_message_of(exc)) from exc
    return {"message": _("Your reflection is saved."), "title": meeting.title, "url": url}


#: What a queued action may be: its kind -> the handler.
HANDLERS: dict[str, Callable[..., dict]] = {
    "study_mark": handle_study_mark,
    "check_answer": handle_check_answer,
    "reflection": handle_reflection,
}


def client_action_take(
    *, user, client_id: uuid.UUID, kind: str, happened_at: datetime, payload: dict
) -> tuple[dict, bool]:
    """Take one queued action, once. Returns (outcome, replayed). The row is claimed first
    (a concurrent replay waits on the unique index and then reads the stored outcome); a
    refusal is stored too, so that it is answered the same way every time."""
    handler = HANDLERS[kind]
    with transaction.atomic():
        action, created = ClientAction.objects.get_or_create(
            user=user,
            client_id=client_id,
            defaults={"kind": kind, "happened_at": min(happened_at, timezone.now())},
        )
        if not created:
            action = ClientAction.objects.select_for_update(of=("self",)).get(pk=action.pk)
            if action.outcome:
                return action.outcome, True
        try:
            with transaction.atomic():
                outcome = {"status": "done", "http": 200} | handler(
                    user, payload, happened_at, client_id
                )
        except Refused as exc:
            outcome = {"status": "refused", "http": exc.status, "message": exc.message}
        action.outcome = outcome
        action.save(update_fields=["outcome"])
    return outcome, False


# --- views ------------------------------------------------------------------------------------


def _bad(message: str) -> JsonResponse:
    return JsonResponse({"status": "invalid", "message": message}, status=400)


@never_cache
@require_POST
def action_receive(request):
    """POST /offline/actions/: one queued action as JSON
    {"client_id", "kind", "happened_at" (ISO 8601), "payload": {...}}.
    Answers {"status": "done"|"refused", "message", "replayed", ...}: 200 done, 409 refused,
    404 not there for this member, 400 malformed, 401 not logged in. CSRF applies."""
    if not request.user.is_authenticated:
        return JsonResponse(
            {"status": "login", "message": _("Log in again to send what you did offline.")},
            status=401,
        )
    if len(request.body) > MAX_BODY_BYTES:
        return _bad(_("This action is too large."))
    try:
        data = json.loads(request.body)  # nesting too deep for the parser: RecursionError
        if not isinstance(data, dict):
            raise ValueError("not an object")
        client_id = uuid.UUID(str(data["client_id"]))
        kind = str(data["kind"])
        happened_at = parse_datetime(str(data["happened_at"]))
        payload = data.get("payload") or {}
        if happened_at is None or timezone.is_naive(happened_at) or not isinstance(payload, dict):
            raise ValueError("happened_at or payload")
    except (ValueError, KeyError, TypeError, RecursionError):
        return _bad(_("This action could not be read."))
    if kind not in HANDLERS:
        return _bad(_("This kind of action is not known."))
    try:
        outcome, replayed = client_action_take(
            user=request.user,
            client_id=client_id,
            kind=kind,
            happened_at=happened_at,
            payload=payload,
        )
    except (ValueError, TypeError):
        return _bad(_("This action could not be read."))
    return JsonResponse(outcome | {"replayed": replayed}, status=outcome.get("http", 200))


@require_GET
def manifest(request):
    """The web app manifest, in the member's language."""
    data = {
        "name": str(settings.NETBRANCH_SITE_NAME),
        "short_name": str(settings.NETBRANCH_SITE_NAME),
        "description": _("NetBranch — the branch on the net, members on the line."),
        "lang": request.LANGUAGE_CODE,
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#b3121b",
        "icons": [
            {
                "src": static(f"icons/{name}-{size}.png"),
                "sizes": f"{size}x{size}",
                "type": "image/png",
                "purpose": purpose,
            }
            for name, purpose in (("icon", "any"), ("maskable", "maskable"))
            for size in (192, 512)
        ],
    }
    response = HttpResponse(
        json.dumps(data, ensure_ascii=False), content_type="application/manifest+json"
    )
    response["Cache-Control"] = "public, max-age=3600"
    return response


SHELL_FILES = (
    "css/netbranch.css",
    "js/htmx.min.js",
    "js/offline.js",
    "js/offline-page.js",
    "img/icon.svg",
)


def shell_urls() -> list[str]:
    """What the service worker stores when it installs: the stylesheet, the scripts, the icon
    and the offline page."""
    return [*(static(name) for name in SHELL_FILES), reverse("offline")]


@never_cache
@require_GET
def service_worker(request):
    """/sw.js at the site root (its scope is the whole site). Never cached by the HTTP cache,
    so that a new version reaches phones on their next visit; the version changes with the
    shell's URLs (hashed in production) and the script itself."""
    context = {
        "shell": json.dumps(shell_urls()),
        "queue_js": json.dumps(static("js/offline.js")),
        "offline": json.dumps(reverse("offline")),
        "static_prefix": json.dumps(urlsplit(static("x")).path[:-1]),
    }
    body = render_to_string("portal/offline_sw.js", context)
    digest = hashlib.sha256(body.encode())
    for name in SHELL_FILES:  # unhashed names (development): a changed file is a new version
        found = finders.find(name)
        if found:
            digest.update(Path(found).read_bytes())
    version = digest.hexdigest()[:12]
    body = body.replace("__VERSION__", version)
    response = HttpResponse(body, content_type="application/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = "/"
    response["Cache-Control"] = "no-cache, no-store, must-revalidate"
    return response


@require_GET
def offline_page(request):
    """What this phone keeps for offline reading, listed by the page's script from the cache;
    without anything saved (or without JavaScript) it says how to save. Open to anyone: the
    service worker stores it when it installs and shows it when a page is not saved."""
    strings = {
        "keptOn": _("saved on %s"),
        "openedOn": _("opened on %s"),
        "remove": _("Remove"),
        "kinds": {
            "study_mark": _("Lesson marked as studied"),
            "check_answer": _("Check answered"),
            "reflection": _("Reflection written"),
        },
    }
    return render(request, "portal/offline.html", {"strings": strings})


class ClearingLogoutView(LogoutView):
    """allauth's logout, plus: the browser forgets what this member kept offline (cached
    pages, the queue of unsent actions, the service worker) — `Clear-Site-Data`."""

    def post(self, *args, **kwargs):
        response = super().post(*args, **kwargs)
        response["Clear-Site-Data"] = '"cache", "storage"'
        return response


def admin_logout(request):
    """The administration's logout (secretaries work there) clears the offline data too."""
    response = admin.site.admin_view(admin.site.logout)(request)
    if request.method == "POST" and response.status_code < 400:
        response["Clear-Site-Data"] = '"cache", "storage"'
    return response


urlpatterns = [
    path("manifest.webmanifest", manifest, name="webmanifest"),
    path("sw.js", service_worker, name="service_worker"),
    path("offline/", offline_page, name="offline"),
    path("offline/actions/", action_receive, name="offline_actions"),
    path("accounts/logout/", ClearingLogoutView.as_view(), name="account_logout"),
    path("admin/logout/", admin_logout),  # before the admin's own (portal/urls.py)
]
