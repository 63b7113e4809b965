"""Reads for comment threads, likes and the branch board, each a fixed number of queries
whatever the data size: counts are annotated subqueries, never a query per row."""

from datetime import timedelta

from django.contrib.contenttypes.models import ContentType
from django.core.paginator import Page, Paginator
from django.db.models import (
    BooleanField,
    Count,
    Exists,
    IntegerField,
    Model,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from branches import scope
from branches.models import Organization
from members.models import Member

from . import conf, registry
from .models import BoardPost, Comment, Like

# Organisations that have a board: where members are registered or take part.
BOARD_KINDS = (*Organization.BRANCH_KINDS, Organization.Kind.GROUP)


# --- permissions ----------------------------------------------------------------------------


def can_moderate(user, organization: Organization) -> bool:
    """Secretaries, deputies, committee members and reviewers over the organisation."""
    return scope.can_manage(user, organization)


def can_read_board(user, organization: Organization) -> bool:
    """Members read the boards of their registered branch and of the organisations they take
    part in; managers those they manage. No query beyond the per-user caches."""
    if organization.path in scope.home_paths(user):
        return True
    return organization.kind in BOARD_KINDS and scope.can_manage(user, organization)


def board_post_visible_to(user, post: BoardPost) -> bool:
    """May the user see this post (and so comment on it and like it)? A hidden post stays
    visible to its moderators and its author."""
    if not can_read_board(user, post.organization):
        return False
    if post.is_hidden:
        return post.author_id == user.pk or can_moderate(user, post.organization)
    return True


def _visible_comments_q(user, *, moderator: bool) -> Q:
    if moderator:
        return Q()
    return Q(hidden_at__isnull=True) | Q(author_id=user.pk)


def can_view_target(user, obj: Model) -> bool:
    """May the user see a registered object, or the comment `obj` and what it is about?"""
    if isinstance(obj, Comment):
        target = obj.target
        entry = registry.entry_for(target) if target is not None else None
        if entry is None or not entry.can_view(user, target):
            return False
        return not obj.is_hidden or obj.author_id == user.pk or can_moderate(user, obj.organization)
    entry = registry.entry_for(obj)
    return entry is not None and entry.can_view(user, obj)


# --- lookups by id from a URL or a form -----------------------------------------------------


def access_target(*, content_type_id, object_id, user, likeable: bool = False) -> Model:
    """The registered object named by a form (content type id, object id) if the user may see
    it; with `likeable`, a comment too. 404 otherwise, whatever the reason."""
    try:
        content_type = ContentType.objects.get_for_id(int(content_type_id))
        object_id = int(object_id)
    except (ContentType.DoesNotExist, TypeError, ValueError):
        raise Http404 from None
    model = content_type.model_class()
    if model is None:
        raise Http404
    if likeable and model is Comment:
        return access_comment_by_id(comment_id=object_id, user=user)
    if not registry.is_commentable(model):
        raise Http404
    obj = model._default_manager.filter(pk=object_id).first()
    if obj is None or not can_view_target(user, obj):
        raise Http404
    return obj


def access_comment_by_id(*, comment_id, user) -> Comment:
    """A comment whose target the user may see (a hidden one only for its author and the
    moderators); 404 otherwise."""
    comment = (
        Comment.objects.select_related("organization", "content_type").filter(pk=comment_id).first()
    )
    if comment is None or not can_view_target(user, comment):
        raise Http404
    return comment


def access_board_by_id(*, organization_id, user) -> Organization:
    organization = Organization.objects.filter(pk=organization_id).first()
    if organization is None or not can_read_board(user, organization):
        raise Http404
    return organization


def access_board_post_by_id(*, post_id, user) -> BoardPost:
    """A post of a board the user may read (hidden: its author and moderators only), with
    what its page shows; 404 otherwise."""
    post = (
        with_discussion_counts(
            BoardPost.objects.select_related(
                "organization", "author__member", "answered_by__member"
            ),
            user=user,
        )
        .filter(pk=post_id)
        .first()
    )
    if post is None or not board_post_visible_to(user, post):
        raise Http404
    return post


# --- counts -----------------------------------------------------------------------------------


def _count(qs: QuerySet) -> Coalesce:
    """COUNT(*) of a correlated subquery, 0 when empty."""
    counted = qs.order_by().values("object_id").annotate(n=Count("pk")).values("n")[:1]
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def with_likes(queryset: QuerySet, *, user) -> QuerySet:
    """Annotate `like_count` and `liked_by_me` on any queryset of likeable objects."""
    content_type = ContentType.objects.get_for_model(queryset.model)
    likes = Like.objects.filter(content_type=content_type, object_id=OuterRef("pk"))
    if getattr(user, "is_authenticated", False):
        liked = Exists(likes.filter(user_id=user.pk))
    else:
        liked = Value(False, output_field=BooleanField())
    return queryset.annotate(like_count=_count(likes), liked_by_me=liked)


def with_discussion_counts(queryset: QuerySet, *, user) -> QuerySet:
    """Annotate `comment_count` (visible comments and replies), `like_count` and
    `liked_by_me` on a queryset of a registered model: for lists, no query per row."""
    content_type = ContentType.objects.get_for_model(queryset.model)
    comments = Comment.objects.filter(
        content_type=content_type,
        object_id=OuterRef("pk"),
        hidden_at__isnull=True,
        deleted_at__isnull=True,
    )
    return with_likes(queryset, user=user).annotate(comment_count=_count(comments))


def like_state(*, target: Model, user) -> dict:
    """{"count": likes of the object, "liked": by this user}: one query."""
    content_type = ContentType.objects.get_for_model(target)
    row = Like.objects.filter(content_type=content_type, object_id=target.pk).aggregate(
        count=Count("pk"), mine=Count("pk", filter=Q(user_id=user.pk))
    )
    return {"count": row["count"], "liked": bool(row["mine"])}


# --- threads -----------------------------------------------------------------------------------


def comment_thread(*, target: Model, user, page=1, newest_first: bool = True) -> dict:
    """A page of the top-level comments on `target` (newest first by default) with their
    replies (oldest first), authors' names, like counts and whether the user liked each.

    Four queries whatever the size: the total, the page count, the page, the replies.
    Hidden comments show to moderators and to their author only; a comment deleted by its
    author stays as a stub while it has replies."""
    entry = registry.entry_for(target)
    if entry is None:
        raise LookupError(f"{type(target).__name__} is not registered as commentable")
    organization = entry.organization_of(target)
    moderator = can_moderate(user, organization)
    content_type = ContentType.objects.get_for_model(target)
    visible = _visible_comments_q(user, moderator=moderator)
    base = Comment.objects.filter(visible, content_type=content_type, object_id=target.pk)

    replies = (
        with_likes(base.filter(parent__isnull=False), user=user)
        .select_related("author__member")
        .order_by("created_at", "id")
    )
    live_replies = Comment.objects.filter(visible, parent=OuterRef("pk"))
    top = (
        with_likes(base.filter(parent__isnull=True), user=user)
        .filter(Q(deleted_at__isnull=True) | Exists(live_replies))
        .select_related("author__member")
        .prefetch_related(Prefetch("replies", queryset=replies, to_attr="visible_replies"))
        .order_by(*(("-created_at", "-id") if newest_first else ("created_at", "id")))
    )
    page_obj: Page = Paginator(top, conf.page_size()).get_page(page)
    total = base.filter(deleted_at__isnull=True).count()
    return {
        "target": target,
        "content_type_id": content_type.pk,
        "organization": organization,
        "page_obj": page_obj,
        "total": total,
        "can_moderate": moderator,
    }


# --- the board -----------------------------------------------------------------------------------


def boards_for_user(user) -> QuerySet:
    """Organisations whose board the user may read: their registered branch and the
    organisations they take part in, and for managers the boards in their subtrees. One
    query when evaluated (the scope caches cost at most one each per request)."""
    if not getattr(user, "is_authenticated", False):
        return Organization.objects.none()
    q = Q(path__in=scope.home_paths(user))
    if user.is_active and user.is_superuser:
        q |= Q(kind__in=BOARD_KINDS)
    else:
        managed = scope.managed_paths(user)
        if managed:
            q |= scope.subtree_q(managed) & Q(kind__in=BOARD_KINDS)
    return Organization.objects.filter(q).order_by("path")


def default_board_for_user(user) -> Organization | None:
    """The registered branch; else the first board the user may read."""
    branch_id = Member.objects.filter(user_id=user.pk).values_list("branch_id", flat=True).first()
    boards = boards_for_user(user)
    if branch_id:
        found = boards.filter(pk=branch_id).first()
        if found is not None:
            return found
    return boards.first()


def board_posts(*, organization: Organization, user, status: str | None = None) -> QuerySet:
    """The posts of a board, newest first, with authors, answerers and counts joined. Hidden
    posts show to moderators (and to their author) only."""
    qs = BoardPost.objects.filter(organization=organization)
    if not can_moderate(user, organization):
        qs = qs.filter(~Q(status=BoardPost.Status.HIDDEN) | Q(author_id=user.pk))
    if status in BoardPost.Status.values:
        qs = qs.filter(status=status)
    return with_discussion_counts(
        qs.select_related("organization", "author__member", "answered_by__member"), user=user
    ).order_by("-created_at", "-id")


def board_page(*, organization: Organization, user, page=1, status: str | None = None) -> Page:
    """One page of a board: two queries (the count and the page)."""
    qs = board_posts(organization=organization, user=user, status=status)
    return Paginator(qs, conf.page_size()).get_page(page)


def my_answered_posts(user, limit: int = 3) -> list[BoardPost]:
    """The home card: my board posts answered in the last 30 days, newest answer first."""
    if not getattr(user, "is_authenticated", False):
        return []
    since = timezone.now() - timedelta(days=30)
    return list(
        BoardPost.objects.filter(author_id=user.pk, answered_at__gte=since)
        .exclude(status=BoardPost.Status.HIDDEN)
        .select_related("organization")
        .order_by("-answered_at", "-id")[:limit]
    )
