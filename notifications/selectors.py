"""Reads for the inbox and the notices, each a fixed number of queries."""

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from branches import scope

from . import audiences
from .models import Notice, NoticeRead, Notification


def inbox_for_user(*, user) -> QuerySet:
    return (
        Notification.objects.filter(recipient=user)
        .select_related("event")
        .order_by("-created_at", "-id")
    )


def unread_count(*, user) -> int:
    """One indexed count (the partial index on unread rows)."""
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def access_notification_by_id(*, notification_id: int, user) -> Notification:
    row = (
        Notification.objects.select_related("event")
        .filter(pk=notification_id, recipient=user)
        .first()
    )
    if row is None:
        raise Http404
    return row


def _category_q(category: str | None) -> Q:
    field = {"office": "for_office", "front_line": "for_front_line", "remote": "for_remote"}.get(
        category or ""
    )
    return Q(**{field: True}) if field else Q()


def notices_visible_to(*, user) -> QuerySet:
    """Published notices a user may read: published by an organisation on the path from their
    branch to the root and meant for their category, or anywhere in a subtree they manage."""
    if user.is_active and user.is_superuser:
        return Notice.objects.filter(status=Notice.Status.PUBLISHED)
    home = scope.ancestor_paths(scope.home_paths(user))
    managed = scope.managed_paths(user)
    q = Q(organization__path__in=home) & _category_q(audiences.viewer_category(user))
    if managed:
        q |= scope.subtree_q(managed, prefix="organization__")
    return Notice.objects.filter(q, status=Notice.Status.PUBLISHED)


def notice_list_for_user(*, user, kind: str | None = None) -> QuerySet:
    """The /notices/ list: current (not expired) notices, pinned first, newest first, with
    whether the user has read each (one query per page)."""
    qs = (
        notices_visible_to(user=user)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()))
        .select_related("organization")
        .annotate(is_read=Exists(NoticeRead.objects.filter(notice=OuterRef("pk"), user=user)))
        .order_by("-pinned", "-published_at", "-id")
    )
    if kind in Notice.Kind.values:
        qs = qs.filter(kind=kind)
    return qs


def access_notice_by_id(*, notice_id: int, user) -> Notice:
    """A published notice the user may read (expired ones stay readable by link), or a draft
    for those who manage its organisation; 404 otherwise."""
    notice = (
        Notice.objects.select_related("organization", "author__member").filter(pk=notice_id).first()
    )
    if notice is None:
        raise Http404
    if notice.is_published and notices_visible_to(user=user).filter(pk=notice.pk).exists():
        return notice
    if scope.can_manage(user, notice.organization):
        return notice
    raise Http404


def notice_visible_to(user, notice: Notice) -> bool:
    """For other apps (comments, likes): may this user see this notice?"""
    return notice.is_published and notices_visible_to(user=user).filter(pk=notice.pk).exists()


def unread_notices_for_user(*, user, limit: int = 3) -> dict:
    """The home card: how many current notices the user has not read, and the newest few."""
    qs = notice_list_for_user(user=user).filter(is_read=False)
    items = list(qs[: limit + 1])
    return {"items": items[:limit], "more": len(items) > limit}


def notice_audience(notice: Notice) -> QuerySet:
    from .services import notice_audience as audience_of

    audience = audience_of(notice)
    return audiences.resolve(audience.name, audience.params)


def notice_unread_audience(*, notice: int) -> QuerySet:
    """Registered audience "notifications.notice_unread": the notice's audience minus those
    who have read it. Nobody if the notice was deleted since (the fan-out must still finish,
    or the sweep would run it again forever)."""
    obj = Notice.objects.filter(pk=notice).first()
    if obj is None:
        from django.contrib.auth import get_user_model

        return get_user_model().objects.none()
    readers = NoticeRead.objects.filter(notice_id=notice).values("user_id")
    return notice_audience(obj).exclude(pk__in=readers)


def notice_read_stats(*, notice: Notice, limit: int = 200) -> dict:
    """Who has read a notice and who has not (for its secretary): counts and the first names
    of each list. Four queries whatever the audience size."""
    audience = notice_audience(notice)
    readers = NoticeRead.objects.filter(notice=notice).values("user_id")
    read = audience.filter(pk__in=readers)
    unread = audience.exclude(pk__in=readers)

    def names(qs):
        return [
            getattr(getattr(u, "member", None), "real_name", "") or u.get_username()
            for u in qs.select_related("member").order_by("member__real_name", "pk")[:limit]
        ]

    return {
        "read_count": read.count(),
        "unread_count": unread.count(),
        "read": names(read),
        "unread": names(unread),
        "limit": limit,
    }
