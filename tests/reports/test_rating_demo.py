"""The ratings' beat entry and task, and the demo: two years of ratings for every demo branch
(last year's decided, confirmed or set with a reason; this year's computed), a five-star
branch's shared account and another waiting for the reviewer, idempotent; the bulk volume."""

from io import StringIO

import pytest
from django.contrib.auth.hashers import make_password

from notifications.models import Event
from portal.celery import app
from portal.demo import DEMO_PASSWORD, DemoContext, ensure_admin
from portal.demo import branches as demo_branches
from portal.demo import members as demo_members
from portal.demo import ratings as demo
from reports import tasks
from reports.models import BranchRating, PracticeAccount, RatingDecision
from reports.services import rating as services

pytestmark = pytest.mark.django_db


def test_the_ratings_are_on_the_beat_and_the_task_computes_the_current_year(tree):
    entries = {e["task"]: e for e in app.conf.beat_schedule.values()}
    assert "reports.tasks.compute_ratings" in entries
    result = tasks.compute_ratings.delay().get()
    assert result["rated"] == result["created"] == 4  # branch, sibling, joint, outside
    assert set(BranchRating.objects.values_list("year", flat=True)) == {services.current_year()}


def _context() -> DemoContext:
    ctx = DemoContext(password_hash=make_password(DEMO_PASSWORD), write=StringIO().write)
    ensure_admin(ctx)
    demo_branches.seed(ctx)
    demo_members.seed(ctx)
    return ctx


def test_the_demo_rates_every_branch_for_two_years():
    ctx = _context()
    demo.seed(ctx)
    year = ctx.today.year
    branches = services.rated_organizations().count()
    last = BranchRating.objects.filter(year=year - 1)
    assert last.count() == BranchRating.objects.filter(year=year).count() == branches > 5
    assert not last.filter(status=BranchRating.Status.COMPUTED).exists()
    overridden = last.filter(status=BranchRating.Status.OVERRIDDEN)
    assert overridden.exists() and not overridden.filter(reason="").exists()
    assert len(set(last.values_list("computed_stars", flat=True))) >= 3  # a spread of stars
    assert not BranchRating.objects.filter(year=year).exclude(status="computed").exists()

    shared = PracticeAccount.objects.get(status=PracticeAccount.Status.SHARED)
    assert shared.organization == ctx.orgs["c1_sctr"] and shared.rating.shown_stars == 5
    assert Event.objects.filter(kind="practice_shared").exists()
    waiting = PracticeAccount.objects.get(status=PracticeAccount.Status.SUBMITTED)
    assert waiting.organization == ctx.orgs["c1_joint"] and waiting.rating.shown_stars == 5

    counts = (BranchRating.objects.count(), RatingDecision.objects.count(), PracticeAccount.objects.count())  # fmt: skip
    demo.seed(ctx)  # again: nothing new
    assert counts == (BranchRating.objects.count(), RatingDecision.objects.count(), PracticeAccount.objects.count())  # fmt: skip


def test_the_bulk_volume():
    ctx = _context()
    demo.seed(ctx)
    demo_branches.bulk(ctx, members=400)
    demo_members.bulk(ctx, members=400)
    demo.bulk(ctx, members=400)
    ids = [b.id for b in demo_branches.bulk_branches(ctx) if b.kind in services.RATED_KINDS]
    year = ctx.today.year
    assert BranchRating.objects.filter(organization_id__in=ids, year=year).count() == len(ids) > 0
    last = BranchRating.objects.filter(organization_id__in=ids, year=year - 1)
    assert last.filter(status=BranchRating.Status.CONFIRMED).count() == len(ids)
    assert RatingDecision.objects.filter(rating__in=last, action="confirmed").count() == len(ids)
    before = BranchRating.objects.count()
    demo.bulk(ctx, members=400)  # again: nothing
    assert BranchRating.objects.count() == before
