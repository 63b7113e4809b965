"""The discussions demo module: through the services, idempotent, and dated in the past."""

from collections import Counter

import pytest
from django.contrib.auth.hashers import make_password
from django.core.management import CommandError
from django.utils import timezone

from discussions.models import BoardPost, Comment, Like
from members.models import ActivityFact, Member
from notifications.models import Event, Notice
from portal.demo import DemoContext, branches, ensure_admin, members
from portal.demo import discussions as demo

pytestmark = pytest.mark.django_db


def run(*, bulk: int = 0) -> DemoContext:
    ctx = DemoContext(password_hash=make_password("x"), write=lambda s: None, verbosity=0)
    ensure_admin(ctx)
    for module in (branches, members):
        module.seed(ctx)
    _notices(ctx)
    demo.seed(ctx)
    if bulk:
        for module in (branches, members, demo):
            module.bulk(ctx, members=bulk)
    return ctx


def _notices(ctx):
    """What portal.demo.notifications will provide: a couple of published notices."""
    for key, title in (("c1", "关于开展主题党日活动的通知"), ("c1_joint", "青藏片区学习安排")):
        Notice.objects.get_or_create(
            organization=ctx.orgs[key],
            title=title,
            defaults={
                "body": "<p>请按时参加。</p>",
                "status": Notice.Status.PUBLISHED,
                "published_at": ctx.days_ago(10),
            },
        )


def counts():
    return Counter(
        posts=BoardPost.objects.count(),
        comments=Comment.objects.count(),
        likes=Like.objects.count(),
        facts=ActivityFact.objects.count(),
        events=Event.objects.count(),
    )


def test_seed_is_lively_and_idempotent(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        ctx = run()
    first = counts()
    joint, kangding = ctx.orgs["c1_joint"], ctx.orgs["c1_sctr"]
    for org in (joint, kangding):
        posts = BoardPost.objects.filter(organization=org)
        assert {"open", "answered", "resolved", "hidden"} <= set(
            posts.values_list("status", flat=True)
        )
        assert posts.filter(anonymous=True).exists()
        assert posts.filter(kind="suggestion").exists() and posts.filter(kind="question").exists()
        assert not posts.filter(status="hidden", hidden_reason="").exists()
    assert BoardPost.objects.filter(author__username="member", status="resolved").exists()
    assert Comment.objects.filter(content_type__model="notice").exists()
    assert Comment.objects.filter(parent__isnull=False).exists()
    assert Like.objects.filter(content_type__model="notice").exists()
    assert Event.objects.filter(kind="board_answered").exists()
    # Dated in the past, activity facts with them.
    assert not Comment.objects.filter(
        created_at__gt=timezone.now() - timezone.timedelta(minutes=5)
    ).exists()
    assert not BoardPost.objects.filter(
        created_at__gt=timezone.now() - timezone.timedelta(hours=1)
    ).exists()
    member = Member.objects.get(user__username="member")
    assert (
        member.last_active_at
        == ActivityFact.objects.filter(member=member).latest("occurred_at").occurred_at
    )

    with django_capture_on_commit_callbacks(execute=True):
        again = run()
    assert counts() == first
    assert not again.created


def test_bulk_is_idempotent_for_the_same_size():
    run(bulk=300)
    first = counts()
    bulk_posts = BoardPost.objects.filter(author__username__regex=r"^m[0-9]{6}$")
    assert bulk_posts.count() == 12
    assert (
        bulk_posts.filter(status="answered").exists()
        or bulk_posts.filter(status="resolved").exists()
    )
    ctx = DemoContext(password_hash="x", write=lambda s: None, verbosity=0)
    demo.bulk(ctx, members=300)
    assert counts() == first
    BoardPost.objects.filter(pk=bulk_posts.first().pk).delete()
    with pytest.raises(CommandError):
        demo.bulk(ctx, members=300)
