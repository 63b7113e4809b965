"""Helpers for the discussions tests: published notices to comment on, board posts, and many
comments at once for the query-count tests."""

import itertools
import uuid

import pytest
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from discussions.models import BoardPost, Comment, Like
from notifications.models import Notice

_titles = itertools.count(1)


@pytest.fixture
def make_notice(tree):
    def make(org=None, **fields) -> Notice:
        fields.setdefault("title", f"通知{next(_titles)}")
        fields.setdefault("body", "<p>请各位党员按时参加学习。</p>")
        fields.setdefault("status", Notice.Status.PUBLISHED)
        fields.setdefault("published_at", timezone.now())
        fields.setdefault("author", tree.secretary)
        return Notice.objects.create(organization=org or tree.branch, **fields)

    return make


@pytest.fixture
def notice(make_notice):
    """A notice of the first branch: its members see it, the sibling branch does not."""
    return make_notice()


@pytest.fixture
def make_post(tree):
    def make(org=None, author=None, **fields) -> BoardPost:
        fields.setdefault("body", "食堂能不能晚上多开半小时？")
        fields.setdefault("kind", BoardPost.Kind.QUESTION)
        return BoardPost.objects.create(
            organization=org or tree.branch, author=author or tree.member.user, **fields
        )

    return make


def bulk_comments(target, organization, authors, n: int, *, replies_each: int = 2, likers=()):
    """`n` top-level comments on `target`, each with replies and likes, in a few inserts."""
    content_type = ContentType.objects.get_for_model(target)
    now = timezone.now()
    tops = Comment.objects.bulk_create(
        [
            Comment(
                content_type=content_type,
                object_id=target.pk,
                organization=organization,
                author=authors[i % len(authors)],
                body=f"评论 {i}",
                created_at=now - timezone.timedelta(minutes=10 + i),
                client_token=uuid.uuid4(),
            )
            for i in range(n)
        ]
    )
    replies = Comment.objects.bulk_create(
        [
            Comment(
                content_type=content_type,
                object_id=target.pk,
                organization=organization,
                author=authors[(i + j + 1) % len(authors)],
                parent=top,
                body=f"回复 {i}.{j}",
                created_at=top.created_at + timezone.timedelta(seconds=j + 1),
                client_token=uuid.uuid4(),
            )
            for i, top in enumerate(tops)
            for j in range(replies_each)
        ]
    )
    comment_type = ContentType.objects.get_for_model(Comment)
    Like.objects.bulk_create(
        [
            Like(content_type=comment_type, object_id=c.pk, user=user)
            for c in [*tops, *replies]
            for user in likers
        ]
    )
    return tops, replies


def bulk_posts(organization, authors, n: int):
    now = timezone.now()
    statuses = itertools.cycle(["open", "answered", "resolved", "hidden"])
    posts = []
    for i in range(n):
        status = next(statuses)
        answered = status in ("answered", "resolved")
        posts.append(
            BoardPost(
                organization=organization,
                author=authors[i % len(authors)],
                kind=BoardPost.Kind.values[i % 3],
                body=f"留言 {i}",
                anonymous=i % 5 == 0,
                status=status,
                answer="已回复" if answered else "",
                answered_at=now if answered else None,
                answered_by=authors[0] if answered else None,
                resolved_at=now if status == "resolved" else None,
                hidden_at=now if status == "hidden" else None,
                hidden_reason="与主题无关" if status == "hidden" else "",
                created_at=now - timezone.timedelta(minutes=i),
                client_token=uuid.uuid4(),
            )
        )
    return BoardPost.objects.bulk_create(posts)
