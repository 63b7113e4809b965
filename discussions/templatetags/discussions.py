"""`{% load discussions %}`:

- `{% comment_thread obj %}`: the comments of a registered object, with the form to write one
  (the page of comments comes from `?cpage=`).
- `{% like_button obj %}`: the like button of a registered object or of a comment.
- `{% post_author post can_moderate %}`: a board post's author as the viewer may see it
  ("a member" for an anonymous post, except to its author and the moderators).
"""

import uuid

from django import template
from django.core.exceptions import ObjectDoesNotExist
from django.utils.translation import gettext as _

from ..context import THREAD_PAGE_PARAM, like_context, thread_context

register = template.Library()


def _request_bits(context):
    request = context.get("request") or getattr(context, "request", None)
    user = getattr(request, "user", None) or context.get("user")
    next_url = request.get_full_path() if request is not None else "/"
    return request, user, next_url


@register.inclusion_tag("discussions/includes/_thread.html", takes_context=True)
def comment_thread(context, obj):
    request, user, next_url = _request_bits(context)
    page = request.GET.get(THREAD_PAGE_PARAM, 1) if request is not None else 1
    return thread_context(user=user, target=obj, page=page, next_url=next_url)


@register.inclusion_tag("discussions/includes/_like.html", takes_context=True)
def like_button(context, obj):
    _request, user, next_url = _request_bits(context)
    if context.get("next_url"):  # inside a thread: back to the page the thread is on
        next_url = context["next_url"]
    return like_context(user=user, target=obj, next_url=next_url)


@register.simple_tag(takes_context=True)
def post_author(context, post, can_moderate=False) -> str:
    user = context.get("user")
    if post.anonymous and not can_moderate and getattr(user, "pk", None) != post.author_id:
        return _("a member")
    return display_name(post.author)


@register.filter
def display_name(user) -> str:
    """A person's real name (their member record), else their user name."""
    if user is None:
        return ""
    try:
        name = user.member.real_name
    except ObjectDoesNotExist:  # staff without a member record
        name = ""
    return name or user.get_username()


@register.simple_tag
def new_token() -> str:
    """A fresh client token for a form: a double submit of that form creates one row."""
    return str(uuid.uuid4())
