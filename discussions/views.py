"""Comment, like and board views. Thin: parse, look up through the scope-checked selectors,
call a service. With htmx they answer with the partial to swap in; without JavaScript they
redirect back to `next` with a message (plain form posts keep working)."""

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from branches import scope

from . import selectors, services
from .context import THREAD_PAGE_PARAM, like_context, thread_context, with_param
from .forms import AnswerForm, BoardPostForm, CommentForm, HideForm, TargetForm
from .models import BoardPost, Comment

SWITCHER_LIMIT = 30


def _safe_next(request, fallback: str) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return fallback


def _target_url(target) -> str:
    get_url = getattr(target, "get_absolute_url", None)
    return get_url() if get_url else "/"


def _message_of(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc) or _("You may not do this.")


def _thread_response(request, target, *, next_url, page=1, error="", body="", notice=""):
    context = thread_context(
        user=request.user,
        target=target,
        page=page,
        next_url=next_url,
        error=error,
        body=body,
        notice=notice,
    )
    return render(request, "discussions/includes/_thread.html", context)


def _done(request, *, target, next_url, ok: str = "", error: str = "", body: str = "", anchor=""):
    """Answer a thread action: the fresh thread for htmx, else a redirect with a message."""
    if request.htmx:
        return _thread_response(
            request, target, next_url=next_url, error=error, body=body, notice=ok
        )
    if error:
        messages.error(request, error)
    elif ok:
        messages.success(request, ok)
    return redirect(next_url + (f"#{anchor}" if anchor else ""))


# --- comments -----------------------------------------------------------------------------------


@login_required
@require_POST
def comment_create(request):
    target_form = TargetForm(request.POST)
    if not target_form.is_valid():
        return HttpResponseBadRequest()
    target = selectors.access_target(
        content_type_id=target_form.cleaned_data["content_type"],
        object_id=target_form.cleaned_data["object_id"],
        user=request.user,
    )
    next_url = _safe_next(request, _target_url(target))
    form = CommentForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest()
    body = form.cleaned_data["body"]
    try:
        comment = services.comment_create(
            target=target,
            author=request.user,
            body=body,
            parent=form.cleaned_data["parent"],
            client_token=form.cleaned_data["client_token"],
        )
    except (ValidationError, PermissionDenied) as exc:
        return _done(request, target=target, next_url=next_url, error=_message_of(exc), body=body)
    return _done(
        request,
        target=target,
        next_url=with_param(next_url, THREAD_PAGE_PARAM, None),
        ok=_("Your comment is posted."),
        anchor=f"comment-{comment.pk}",
    )


@login_required
@require_GET
def thread(request):
    """A page of a thread, for htmx's "newer/older" links."""
    target_form = TargetForm(request.GET)
    if not target_form.is_valid():
        return HttpResponseBadRequest()
    target = selectors.access_target(
        content_type_id=target_form.cleaned_data["content_type"],
        object_id=target_form.cleaned_data["object_id"],
        user=request.user,
    )
    next_url = _safe_next(request, _target_url(target))
    return _thread_response(
        request, target, next_url=next_url, page=request.GET.get(THREAD_PAGE_PARAM, 1)
    )


@login_required
@require_POST
def comment_delete(request, comment_id: int):
    comment = selectors.access_comment_by_id(comment_id=comment_id, user=request.user)
    target = comment.target
    next_url = _safe_next(request, _target_url(target))
    try:
        services.comment_delete(comment=comment, by=request.user)
    except (ValidationError, PermissionDenied) as exc:
        return _done(request, target=target, next_url=next_url, error=_message_of(exc))
    return _done(request, target=target, next_url=next_url, ok=_("Your comment is deleted."))


@login_required
@require_POST
def comment_hide(request, comment_id: int):
    comment = selectors.access_comment_by_id(comment_id=comment_id, user=request.user)
    target = comment.target
    next_url = _safe_next(request, _target_url(target))
    form = HideForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        services.comment_hide(comment=comment, by=request.user, reason=reason)
    except (ValidationError, PermissionDenied) as exc:
        return _done(request, target=target, next_url=next_url, error=_message_of(exc))
    return _done(request, target=target, next_url=next_url, ok=_("The comment is hidden."))


# --- likes --------------------------------------------------------------------------------------


@login_required
@require_POST
def like_toggle(request):
    target_form = TargetForm(request.POST)
    if not target_form.is_valid():
        return HttpResponseBadRequest()
    target = selectors.access_target(
        content_type_id=target_form.cleaned_data["content_type"],
        object_id=target_form.cleaned_data["object_id"],
        user=request.user,
        likeable=True,
    )
    fallback = _target_url(target.target if isinstance(target, Comment) else target)
    next_url = _safe_next(request, fallback)
    want = {"1": True, "0": False}.get(request.POST.get("want", ""))
    error = ""
    try:
        services.like_toggle(target=target, user=request.user, want=want)
    except (ValidationError, PermissionDenied) as exc:
        error = _message_of(exc)
    if request.htmx:
        context = like_context(user=request.user, target=target, next_url=next_url)
        context["error"] = error
        return render(request, "discussions/includes/_like.html", context)
    if error:
        messages.error(request, error)
    anchor = f"#comment-{target.pk}" if isinstance(target, Comment) else ""
    return redirect(next_url + anchor)


# --- the board ----------------------------------------------------------------------------------


def _new_post_form(data=None) -> BoardPostForm:
    return BoardPostForm(data, initial={"client_token": uuid.uuid4()})


@login_required
@require_http_methods(["GET", "POST"])
def board(request):
    """The board of one organisation (the registered branch by default, `?org=` for another
    the user may read), with the form to write on it."""
    org_id = request.GET.get("org") or request.POST.get("org")
    if org_id:
        try:
            organization = selectors.access_board_by_id(
                organization_id=int(org_id), user=request.user
            )
        except ValueError:
            return HttpResponseBadRequest()
    else:
        organization = selectors.default_board_for_user(request.user)
    if organization is None:
        return render(request, "discussions/board.html", {"organization": None}, status=200)

    is_member = organization.path in scope.home_paths(request.user)
    form = _new_post_form()
    if request.method == "POST":
        if not is_member:
            raise PermissionDenied(
                _("Only members of %(org)s may write on its board.") % {"org": organization}
            )
        form = _new_post_form(request.POST)
        if form.is_valid():
            try:
                services.board_post_create(
                    organization=organization,
                    author=request.user,
                    kind=form.cleaned_data["kind"],
                    body=form.cleaned_data["body"],
                    anonymous=form.cleaned_data["anonymous"],
                    client_token=form.cleaned_data["client_token"],
                )
            except (ValidationError, PermissionDenied) as exc:
                form.add_error(None, _message_of(exc))
            else:
                messages.success(request, _("Your post is on the board."))
                return redirect(with_param(request.path, "org", organization.pk))

    status = request.GET.get("status")
    status = status if status in BoardPost.Status.values else None
    can_moderate = selectors.can_moderate(request.user, organization)
    boards = list(selectors.boards_for_user(request.user)[:SWITCHER_LIMIT])
    if organization not in boards:
        boards.append(organization)
    page_obj = selectors.board_page(
        organization=organization, user=request.user, page=request.GET.get("page"), status=status
    )
    return render(
        request,
        "discussions/board.html",
        {
            "organization": organization,
            "boards": boards if len(boards) > 1 else [],
            "form": form if is_member else None,
            "page_obj": page_obj,
            "can_moderate": can_moderate,
            "status": status,
            "statuses": BoardPost.Status.choices
            if can_moderate
            else [c for c in BoardPost.Status.choices if c[0] != BoardPost.Status.HIDDEN],
            "next_url": request.get_full_path(),
        },
    )


@login_required
@require_GET
def board_post(request, post_id: int):
    post = selectors.access_board_post_by_id(post_id=post_id, user=request.user)
    return render(
        request,
        "discussions/board_post.html",
        {
            "post": post,
            "organization": post.organization,
            "can_moderate": selectors.can_moderate(request.user, post.organization),
            "next_url": request.get_full_path(),
            "detail": True,
        },
    )


def _post_done(request, post, *, next_url, ok="", error=""):
    if request.htmx:
        fresh = selectors.access_board_post_by_id(post_id=post.pk, user=request.user)
        context = {
            "post": fresh,
            "can_moderate": selectors.can_moderate(request.user, fresh.organization),
            "next_url": next_url,
            "error": error,
            "notice": ok,
            "detail": request.POST.get("detail") == "1",
        }
        return render(request, "discussions/includes/_post.html", context)
    if error:
        messages.error(request, error)
    elif ok:
        messages.success(request, ok)
    return redirect(next_url)


def _moderate(request, post_id: int, action, ok: str):
    post = selectors.access_board_post_by_id(post_id=post_id, user=request.user)
    next_url = _safe_next(request, post.get_absolute_url())
    try:
        action(post)
    except (ValidationError, PermissionDenied) as exc:
        return _post_done(request, post, next_url=next_url, error=_message_of(exc))
    return _post_done(request, post, next_url=next_url, ok=ok)


@login_required
@require_POST
def board_post_answer(request, post_id: int):
    form = AnswerForm(request.POST)
    answer = form.cleaned_data["answer"] if form.is_valid() else ""
    return _moderate(
        request,
        post_id,
        lambda post: services.board_post_answer(post=post, by=request.user, answer=answer),
        _("The answer is published."),
    )


@login_required
@require_POST
def board_post_resolve(request, post_id: int):
    return _moderate(
        request,
        post_id,
        lambda post: services.board_post_resolve(post=post, by=request.user),
        _("The post is marked resolved."),
    )


@login_required
@require_POST
def board_post_hide(request, post_id: int):
    form = HideForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    return _moderate(
        request,
        post_id,
        lambda post: services.board_post_hide(post=post, by=request.user, reason=reason),
        _("The post is hidden."),
    )
