"""Template contexts shared by the inclusion tags (full pages) and the views (htmx fragments),
so that one partial renders both."""

import uuid
from urllib.parse import urlencode, urlsplit, urlunsplit

from django.contrib.contenttypes.models import ContentType
from django.http import QueryDict

from . import conf, selectors

THREAD_PAGE_PARAM = "cpage"


def with_param(url: str, key: str, value) -> str:
    """`url` with the query parameter `key` set to `value` (removed when None)."""
    parts = urlsplit(url)
    query = QueryDict(parts.query, mutable=True)
    query.pop(key, None)
    if value is not None:
        query[key] = str(value)
    return urlunsplit(parts._replace(query=query.urlencode(), fragment=""))


def thread_context(
    *, user, target, page=1, next_url: str, error: str = "", body: str = "", notice: str = ""
) -> dict:
    thread = selectors.comment_thread(target=target, user=user, page=page)
    anchor = f"thread-{thread['content_type_id']}-{target.pk}"
    page_obj = thread["page_obj"]

    def page_url(number):
        return with_param(next_url, THREAD_PAGE_PARAM, number) + f"#{anchor}"

    def fragment_url(number):
        query = urlencode(
            {
                "content_type": thread["content_type_id"],
                "object_id": target.pk,
                THREAD_PAGE_PARAM: number,
                "next": next_url,
            }
        )
        return f"?{query}"

    pager = {}
    if page_obj.has_previous():
        pager["previous"] = (page_url(page_obj.previous_page_number()),
                             fragment_url(page_obj.previous_page_number()))  # fmt: skip
    if page_obj.has_next():
        pager["next"] = (page_url(page_obj.next_page_number()),
                         fragment_url(page_obj.next_page_number()))  # fmt: skip
    # Under an anonymous board post, its author's comments stay anonymous to other members.
    anonymous_author_id = target.author_id if getattr(target, "anonymous", False) else None
    return {
        **thread,
        "anonymous_author_id": anonymous_author_id,
        "user": user,
        "anchor": anchor,
        "next_url": with_param(
            next_url, THREAD_PAGE_PARAM, page_obj.number if page_obj.number > 1 else None
        ),
        "client_token": uuid.uuid4(),
        "max_length": conf.comment_max_length(),
        "error": error,
        "notice": notice,
        "body": body,
        "pager": pager,
    }


def like_context(*, user, target, next_url: str, count=None, liked=None) -> dict:
    """The like button of an object; reads `like_count`/`liked_by_me` when a selector
    annotated them, else one query."""
    if count is None:
        count = getattr(target, "like_count", None)
        liked = getattr(target, "liked_by_me", None)
    if count is None or liked is None:
        state = selectors.like_state(target=target, user=user)
        count, liked = state["count"], state["liked"]
    content_type = ContentType.objects.get_for_model(target)
    return {
        "target": target,
        "content_type_id": content_type.pk,
        "count": count,
        "liked": bool(liked),
        "next_url": next_url,
        "user": user,
    }
