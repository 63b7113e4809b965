"""The decision pages: /decisions/ (open votes, results, decisions and their progress), a
motion (text, attachments, the vote, the result, the follow-up, comments), and the few
actions on it. Thin: scope-checked lookups, a service call, a message and a redirect (PRG);
the vote answers htmx with its panel. Refusals of the services become messages."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from core.exports import xlsx_response
from lessons.forms import add_service_error

from . import selectors, services
from .forms import ProgressForm, VoteForm
from .models import Motion

VOTE_ANCHOR = "vote"
FOLLOW_UP_ANCHOR = "follow-up"
SHOWS = ("all", "decisions", "in_progress")


def _message_of(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc) or _("You may not do this.")


def _detail_url(motion: Motion, anchor: str = "") -> str:
    url = reverse("decisions:detail", args=[motion.pk])
    return f"{url}#{anchor}" if anchor else url


# --- the list ---------------------------------------------------------------------------------


@login_required
@require_GET
def motion_list(request):
    user = request.user
    show = request.GET.get("show")
    show = show if show in SHOWS else "all"
    page = Paginator(
        selectors.closed_motions_for_user(user=user, show=show), settings.NETBRANCH_PAGE_SIZE
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "decisions/motion_list.html",
        {
            "open_motions": selectors.open_motions_for_user(user=user),
            "drafts": selectors.drafts_for_user(user=user),
            "page_obj": page,
            "show": show,
            "shows": [
                ("all", _("all results")),
                ("decisions", _("decisions")),
                ("in_progress", _("in progress")),
            ],
            "today": timezone.localdate(),
        },
    )


# --- a motion ---------------------------------------------------------------------------------


def _context(request, motion: Motion, **extra) -> dict:
    context = selectors.motion_detail(motion=motion, user=request.user)
    mine = context["mine"]
    context["vote_form"] = VoteForm(initial={"choice": mine.choice} if mine else None)
    context["progress_form"] = ProgressForm(initial={"percent": motion.progress})
    context.update(extra)
    return context


@login_required
@require_GET
def motion_detail(request, motion_id: int):
    motion = selectors.access_motion_by_id(motion_id=motion_id, user=request.user)
    return render(request, "decisions/motion_detail.html", _context(request, motion))


def _vote_done(request, motion: Motion, *, notice: str = "", error: str = ""):
    """Answer a vote: the fresh vote panel for htmx, else back to the motion."""
    if request.htmx:
        motion = selectors.access_motion_by_id(motion_id=motion.pk, user=request.user)
        context = _context(request, motion, notice=notice, error=error)
        return render(request, "decisions/includes/_vote.html", context)
    if error:
        messages.error(request, error)
    elif notice:
        messages.success(request, notice)
    return redirect(_detail_url(motion, VOTE_ANCHOR))


@login_required
@require_POST
def motion_vote(request, motion_id: int):
    motion = selectors.access_motion_by_id(motion_id=motion_id, user=request.user)
    form = VoteForm(request.POST)
    if not form.is_valid():
        return _vote_done(request, motion, error=_("Choose for, against or abstain."))
    try:
        outcome = services.vote_cast(
            motion=motion, user=request.user, choice=form.cleaned_data["choice"]
        )
    except (PermissionDenied, ValidationError) as exc:
        return _vote_done(request, motion, error=_message_of(exc))
    if outcome == services.CHANGED:
        notice = _("Your vote is changed.")
    elif outcome == services.UNCHANGED:
        notice = _("Your vote was already recorded.")
    elif motion.secret:
        notice = _("Your ballot is in the box.")
    else:
        notice = _("Your vote is recorded.")
    return _vote_done(request, motion, notice=notice)


@login_required
@require_POST
def motion_open(request, motion_id: int):
    motion = selectors.access_motion_by_id(motion_id=motion_id, user=request.user)
    try:
        services.motion_open(motion=motion, by=request.user)
    except (PermissionDenied, ValidationError) as exc:
        messages.error(request, _message_of(exc))
    else:
        messages.success(request, _("The vote is open; those entitled to vote are being told."))
    return redirect(_detail_url(motion))


@login_required
@require_POST
def motion_close(request, motion_id: int):
    motion = selectors.access_motion_by_id(motion_id=motion_id, user=request.user)
    try:
        closed = services.motion_close(motion=motion, by=request.user)
    except (PermissionDenied, ValidationError) as exc:
        messages.error(request, _message_of(exc))
    else:
        messages.success(
            request,
            _("The vote is closed: %(result)s.") % {"result": closed.get_result_display()},
        )
    return redirect(_detail_url(motion))


@login_required
@require_POST
def motion_progress(request, motion_id: int):
    motion = selectors.access_motion_by_id(motion_id=motion_id, user=request.user)
    form = ProgressForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.progress_add(
                motion=motion,
                by=request.user,
                body=form.cleaned_data["body"],
                percent=form.cleaned_data["percent"],
                photos=form.photos,
            )
        except PermissionDenied as exc:
            messages.error(request, _message_of(exc))
            return redirect(_detail_url(motion, FOLLOW_UP_ANCHOR))
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("Your progress report is published."))
            return redirect(_detail_url(motion, FOLLOW_UP_ANCHOR))
    context = _context(request, motion, progress_form=form)
    return render(request, "decisions/motion_detail.html", context, status=400)


@login_required
@require_GET
def motion_export(request, motion_id: int):
    """The results sheet of a closed motion, for those who manage it. A secret ballot's sheet
    lists who voted, never how."""
    motion = selectors.access_motion_by_id(motion_id=motion_id, user=request.user)
    if not selectors.can_manage(request.user, motion):
        raise PermissionDenied
    if motion.status != Motion.Status.CLOSED:
        raise Http404
    headers, rows = selectors.export_rows(motion)
    return xlsx_response(
        filename=f"motion-{motion.pk}-results.xlsx",
        headers=headers,
        rows=rows,
        sheet_title=_("Results"),
    )
