"""Votes racing each other and the close on a real database: each request in its own
connection and transaction, released together. PostgreSQL only (SQLite serialises writers)."""

import pytest
from django.core.exceptions import ValidationError

from decisions import services
from decisions.models import Ballot, Motion, Vote, VoterRecord
from notifications.models import Event
from tests import factories
from tests.lessons.conftest import race

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("require_postgres")]


@pytest.mark.parametrize("secret", [False, True])
def test_a_concurrent_double_submit_makes_one_vote(tree, make_motion, secret):
    for _ in range(3):
        motion = make_motion(open=True, secret=secret)
        results = race(
            lambda motion=motion: services.vote_cast(
                motion=motion, user=tree.member.user, choice="for"
            ),
            n=4,
        )
        cast = [r for r in results if r == services.CAST]
        others = [r for r in results if r != services.CAST]
        assert len(cast) == 1, results
        if secret:
            assert all(isinstance(r, ValidationError) for r in others), results
            assert VoterRecord.objects.filter(motion=motion).count() == 1
            assert Ballot.objects.filter(motion=motion).count() == 1
        else:
            assert others == [services.UNCHANGED] * 3, results
            assert Vote.objects.filter(motion=motion).count() == 1


def test_voters_at_the_same_moment_are_all_counted(tree, make_motion):
    voters = [factories.MemberFactory(branch=tree.branch).user for _ in range(6)]
    motion = make_motion(open=True, secret=True)
    queue = list(voters)

    def vote():
        return services.vote_cast(motion=motion, user=queue.pop(), choice="for")

    assert race(vote, n=6) == [services.CAST] * 6
    closed = services.motion_close(motion=motion, by=tree.secretary)
    assert (closed.votes_for, closed.electorate_size) == (6, 9)


def test_a_vote_racing_the_close_is_counted_or_refused_never_lost(tree, make_motion):
    voters = [factories.MemberFactory(branch=tree.branch).user for _ in range(3)]
    for _ in range(4):
        motion = make_motion(open=True, secret=True)
        queue = list(voters)

        def act(motion=motion, queue=queue):
            user = queue.pop() if queue else None
            if user is None:
                return services.motion_close(motion=motion, by=tree.secretary)
            return services.vote_cast(motion=motion, user=user, choice="against")

        results = race(act, n=4)
        refused = [r for r in results if isinstance(r, ValidationError)]
        assert all("not open" in str(r) for r in refused), results
        closed = Motion.objects.get(pk=motion.pk)
        counted = Ballot.objects.filter(motion=motion).count()
        assert closed.votes_against == counted == VoterRecord.objects.filter(motion=motion).count()
        assert counted + len(refused) == 3


def test_two_closes_at_once_count_and_announce_once(tree, make_motion):
    motion = make_motion(open=True)
    services.vote_cast(motion=motion, user=tree.member.user, choice="for")
    results = race(lambda: services.motion_close(motion=motion, now=motion.closes_at), n=3)
    assert all(isinstance(r, Motion) for r in results), results
    assert Event.objects.filter(target_id=motion.pk, kind="motion_no_quorum").count() == 1
