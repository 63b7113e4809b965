"""The member-facing pages of the study sync. Thin: look up through the scope-checked
selectors, call a service. The two study actions (mark as studied, answer the check) answer
htmx with the study panel to swap in, and a plain form post with a redirect and a message."""

import uuid
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from . import selectors, services
from .models import Document, Lesson, StudyRecord

STUDY_ANCHOR = "study"


def _int_or_none(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _message_of(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc) or _("You may not do this.")


# --- lessons ----------------------------------------------------------------------------------


@login_required
@require_GET
def lesson_list(request):
    kind = request.GET.get("kind") or None
    kind = kind if kind in Lesson.Kind.values else None
    topic = _int_or_none(request.GET.get("topic"))
    q = (request.GET.get("q") or "").strip()[: selectors.SEARCH_MAX_LENGTH]
    qs = selectors.lesson_list_for_user(user=request.user, kind=kind, topic=topic, q=q)
    page = Paginator(qs, settings.NETBRANCH_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "lessons/lesson_list.html",
        {
            "page_obj": page,
            "kind": kind,
            "kinds": Lesson.Kind.choices,
            "topic": topic,
            "topics": selectors.topics_in_use(),
            "q": q,
            "filtered": bool(kind or topic or q),
        },
    )


def _study_context(request, lesson: Lesson, *, record=None, notice: str = "", error: str = ""):
    context = selectors.lesson_detail(lesson=lesson, user=request.user, record=record)
    context.update(
        {
            "client_id": uuid.uuid4(),  # a fresh one per render: a replay of this form counts once
            "notice": notice,
            "error": error,
            "points_finished": settings.NETBRANCH_POINTS_FINISHED,
            "points_check": settings.NETBRANCH_POINTS_CHECK,
        }
    )
    return context


@login_required
@require_GET
def lesson_detail(request, lesson_id: int):
    lesson = selectors.access_lesson_by_id(lesson_id=lesson_id, user=request.user)
    record = None
    if lesson.is_published:  # a manager previewing a draft starts no record
        record = services.study_open(lesson=lesson, user=request.user)
    context = _study_context(request, lesson, record=record)
    context["video_host"] = urlsplit(lesson.video_url).hostname if lesson.video_url else ""
    return render(request, "lessons/lesson_detail.html", context)


def _study_done(request, lesson: Lesson, *, notice: str = "", error: str = ""):
    """Answer a study action: the fresh study panel for htmx, else back to the lesson."""
    if request.htmx:
        context = _study_context(request, lesson, notice=notice, error=error)
        return render(request, "lessons/includes/_study.html", context)
    if error:
        messages.error(request, error)
    elif notice:
        messages.success(request, notice)
    return redirect(reverse("lessons:detail", args=[lesson.pk]) + f"#{STUDY_ANCHOR}")


def _points_message(added: int) -> str:
    return _("You earned %(n)s points.") % {"n": added} if added else ""


@login_required
@require_POST
def lesson_mark(request, lesson_id: int):
    lesson = selectors.access_lesson_by_id(lesson_id=lesson_id, user=request.user)
    before = (
        StudyRecord.objects.filter(user=request.user, lesson=lesson)
        .values_list("points", flat=True)
        .first()
    )
    try:
        record = services.study_mark(lesson=lesson, user=request.user)
    except (PermissionDenied, ValidationError) as exc:
        return _study_done(request, lesson, error=_message_of(exc))
    added = record.points - (before or 0)
    if record.finished_at is not None:
        notice = " ".join(filter(None, [_("Lesson finished."), _points_message(added)]))
    else:
        notice = _("Marked as studied. Pass the check to finish the lesson.")
    return _study_done(request, lesson, notice=notice)


@login_required
@require_POST
def lesson_check(request, lesson_id: int):
    lesson = selectors.access_lesson_by_id(lesson_id=lesson_id, user=request.user)
    questions = list(lesson.questions.values_list("pk", flat=True))
    answers = {str(pk): (request.POST.get(f"q{pk}") or "").strip()[:1] for pk in questions}
    if questions and not all(answers.values()):
        return _study_done(request, lesson, error=_("Answer every question, please."))
    try:
        client_id = uuid.UUID(request.POST.get("client_id", ""))
    except ValueError:
        client_id = None
    try:
        result = services.check_answer(
            lesson=lesson, user=request.user, answers=answers, client_id=client_id
        )
    except (PermissionDenied, ValidationError) as exc:
        return _study_done(request, lesson, error=_message_of(exc))
    if result.already_passed:
        return _study_done(
            request, lesson, error=_("You have already passed this check: points count once.")
        )
    if not result.passed:
        return _study_done(
            request,
            lesson,
            error=_("Not all answers are right. Read the explanations and try again."),
        )
    parts = [_("All answers are right.")]
    if result.points:
        parts.append(_points_message(result.points))
    return _study_done(request, lesson, notice=" ".join(parts))


# --- my study, plans ------------------------------------------------------------------------------


@login_required
@require_GET
def study(request):
    context = selectors.study_overview(user=request.user, page=request.GET.get("page", 1))
    return render(request, "lessons/study.html", context)


@login_required
@require_GET
def plan_detail(request, plan_id: int):
    plan = selectors.access_plan_by_id(plan_id=plan_id, user=request.user)
    return render(
        request, "lessons/plan_detail.html", selectors.plan_detail(plan=plan, user=request.user)
    )


# --- documents ----------------------------------------------------------------------------------


@login_required
@require_GET
def document_list(request):
    category = request.GET.get("category") or None
    category = category if category in Document.Category.values else None
    q = (request.GET.get("q") or "").strip()[: selectors.SEARCH_MAX_LENGTH]
    qs = selectors.document_list_for_user(user=request.user, category=category, q=q)
    page = Paginator(qs, settings.NETBRANCH_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "lessons/document_list.html",
        {
            "page_obj": page,
            "category": category,
            "categories": Document.Category.choices,
            "q": q,
            "filtered": bool(category or q),
        },
    )


@login_required
@require_GET
def document_detail(request, document_id: int):
    document = selectors.access_document_by_id(document_id=document_id, user=request.user)
    if document.published:
        services.document_read(document=document, user=request.user)
    return render(request, "lessons/document_detail.html", {"document": document})
