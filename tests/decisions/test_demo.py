"""The beat entry, and the demo: what the demo accounts find (open votes for `member`, secret
and public; decisions in progress, done and overdue; a vote without quorum), idempotent, and
the bulk volume."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.base import CommandError
from django.db.models import Count

from decisions import selectors, services, tasks
from decisions.models import Ballot, Motion, ProgressPhoto, Vote, VoterRecord
from members.selectors import member_for_user
from portal.celery import app
from portal.demo import DEMO_PASSWORD, DemoContext, ensure_admin
from portal.demo import branches as demo_branches
from portal.demo import decisions as demo
from portal.demo import members as demo_members
from tests.decisions.conftest import close_at_end

pytestmark = pytest.mark.django_db


def test_the_tick_is_on_the_beat_and_closes_what_is_due(tree, make_motion):
    assert "decisions.tasks.tick" in {e["task"] for e in app.conf.beat_schedule.values()}
    motion = make_motion(open=True)
    Motion.objects.filter(pk=motion.pk).update(
        opens_at=motion.opens_at.replace(year=2020), closes_at=motion.closes_at.replace(year=2021)
    )
    assert tasks.tick.delay().get()["closed"] == 1
    assert Motion.objects.get(pk=motion.pk).status == Motion.Status.CLOSED
    assert tasks.tick.delay().get()["closed"] == 0
    close_at_end(Motion.objects.get(pk=motion.pk))  # and again: nothing


def _context() -> DemoContext:
    ctx = DemoContext(password_hash=make_password(DEMO_PASSWORD), write=StringIO().write)
    ensure_admin(ctx)
    demo_branches.seed(ctx)
    demo_members.seed(ctx)
    return ctx


def test_the_demo_shows_every_state_to_the_demo_accounts():
    ctx = _context()
    demo.seed(ctx)
    motions = {m.title: m for m in Motion.objects.all()}
    ballot = motions[demo.BALLOT_OPEN]
    assert ballot.secret and ballot.status == Motion.Status.OPEN and ballot.results_hidden
    assert VoterRecord.objects.filter(motion=ballot).count() == Ballot.objects.filter(motion=ballot).count() > 0  # fmt: skip
    public = motions[demo.PUBLIC_OPEN]
    assert not public.secret and not public.results_hidden and Vote.objects.filter(motion=public).exists()  # fmt: skip
    assert motions[demo.DRAFT].status == Motion.Status.DRAFT
    in_progress, done, overdue = motions[demo.IN_PROGRESS], motions[demo.DONE], motions[demo.OVERDUE]  # fmt: skip
    assert in_progress.is_decision and 0 < in_progress.progress < 100 and in_progress.owner
    assert done.is_decision and done.secret and done.done_at is not None
    assert overdue.is_decision and overdue.due_on < ctx.today and overdue.done_at is None
    assert motions[demo.NO_QUORUM].result == Motion.Result.NO_QUORUM
    assert motions[demo.REJECTED].result == Motion.Result.REJECTED
    assert ProgressPhoto.objects.exists()
    for motion in motions.values():
        if motion.status == Motion.Status.CLOSED:
            assert motion.closed_at < ctx.now  # dated in the past
    # `member` has two open votes to cast; the secretary sees the overdue decision.
    User = get_user_model()
    member, secretary = User.objects.get(username="member"), User.objects.get(username="secretary")  # fmt: skip
    card = selectors.vote_card(user=member, member=member_for_user(member))
    assert {m.title for m in card["votes"]} == {demo.BALLOT_OPEN, demo.PUBLIC_OPEN}
    card = selectors.vote_card(user=secretary, member=member_for_user(secretary))
    assert [m.title for m in card["overdue"]] == [demo.OVERDUE]
    # Idempotent: seeding again creates nothing.
    before = (Motion.objects.count(), Vote.objects.count(), Ballot.objects.count())
    ctx.created.clear()
    demo.seed(ctx)
    assert (Motion.objects.count(), Vote.objects.count(), Ballot.objects.count()) == before
    assert not ctx.created
    # The open secret ballot closes like any other.
    closed = services.motion_close(motion=ballot, by=secretary)
    assert closed.votes_cast == VoterRecord.objects.filter(motion=ballot).count()


def test_the_bulk_volume():
    ctx = _context()
    demo_branches.bulk(ctx, members=400)
    demo_members.bulk(ctx, members=400)
    demo.bulk(ctx, members=400)
    branches = len(demo_branches.bulk_branches(ctx))
    per_title = dict(Motion.objects.values_list("title").annotate(n=Count("pk")))
    assert per_title[demo.BULK_TITLE] == per_title[demo.BULK_OPEN] == branches > 0
    assert Vote.objects.count() > 100
    assert VoterRecord.objects.count() == Ballot.objects.count() > 50
    for motion in Motion.objects.filter(title=demo.BULK_TITLE)[:20]:
        assert motion.votes_cast == Vote.objects.filter(motion=motion).count()
    demo.bulk(ctx, members=400)  # again: nothing
    assert Motion.objects.filter(title=demo.BULK_TITLE).count() == branches
    Motion.objects.filter(title=demo.BULK_OPEN).first().delete()
    with pytest.raises(CommandError):
        demo.bulk(ctx, members=400)
