"""Double submits racing each other on a real database: two requests at the same moment,
each in its own connection and transaction. PostgreSQL only (SQLite serialises writers)."""

import threading
import uuid

import pytest
from django.db import connection

from discussions import services
from discussions.models import Comment, Like

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("require_postgres")]


def race(fn, n=2):
    """Run `fn` in `n` threads released together; returns their results or exceptions."""
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def run(i):
        try:
            barrier.wait(timeout=10)
            results[i] = fn()
        except Exception as exc:  # reported to the test
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return results


def test_two_concurrent_like_toggles_make_at_most_one_like(tree, make_notice):
    notice = make_notice()
    user = tree.member.user
    for _ in range(5):
        results = race(lambda: services.like_toggle(target=notice, user=user))
        assert not [r for r in results if isinstance(r, Exception)], results
        assert Like.objects.filter(object_id=notice.pk, user=user).count() <= 1
        Like.objects.all().delete()
    results = race(lambda: services.like_toggle(target=notice, user=user, want=True), n=4)
    assert results == [True] * 4
    assert Like.objects.filter(object_id=notice.pk, user=user).count() == 1


def test_a_concurrent_double_submit_makes_one_comment(tree, make_notice):
    notice = make_notice()
    token = uuid.uuid4()
    results = race(
        lambda: services.comment_create(
            target=notice, author=tree.member.user, body="双击了", client_token=token
        ),
        n=3,
    )
    assert not [r for r in results if isinstance(r, Exception)], results
    assert Comment.objects.count() == 1
    assert {r.pk for r in results} == {Comment.objects.get().pk}
