"""Sign-ups racing each other on a real database, each in its own connection and transaction:
the places are never oversubscribed and a member's double submit takes one place. PostgreSQL
only (SQLite serialises writers)."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from tests import factories
from welfare import services
from welfare.models import FollowUp, WelfareActivity, WelfareSignUp

from .conftest import days, race

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("require_postgres")]


def planned(tree, places):
    activity = services.activity_create(
        by=tree.secretary, organization=tree.branch, kind="volunteering", title="无偿献血",
        held_on=timezone.localdate() + days(3), places=places,
    )  # fmt: skip
    return services.activity_publish(activity=activity, by=tree.secretary)


def test_six_members_racing_for_two_places_get_two(tree):
    activity = planned(tree, places=2)
    people = [factories.MemberFactory(branch=tree.branch).user for _ in range(6)]
    results = race(lambda i: services.activity_sign_up(activity=activity, user=people[i]), n=6)
    refused = [r for r in results if isinstance(r, ValidationError)]
    assert len(refused) == 4, results
    assert not [r for r in results if isinstance(r, Exception) and r not in refused]
    activity.refresh_from_db()
    assert activity.signed_up == 2 == WelfareSignUp.objects.filter(activity=activity).count()


def test_a_members_concurrent_double_submit_takes_one_place(tree):
    activity = planned(tree, places=5)
    user = tree.member.user
    results = race(lambda i: services.activity_sign_up(activity=activity, user=user), n=4)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert len({r.pk for r in results}) == 1
    assert WelfareActivity.objects.get(pk=activity.pk).signed_up == 1


def test_concurrent_withdrawals_free_one_place(tree):
    activity = planned(tree, places=5)
    services.activity_sign_up(activity=activity, user=tree.member.user)
    results = race(
        lambda i: services.activity_withdraw(activity=activity, user=tree.member.user), n=3
    )
    assert sorted(results) == [False, False, True], results
    assert WelfareActivity.objects.get(pk=activity.pk).signed_up == 0


def test_a_visit_submitted_twice_at_once_is_recorded_once(tree):
    case = services.case_create(
        by=tree.secretary, organization=tree.branch, village="那曲镇三村", name="卓玛",
        started_on=timezone.localdate() - days(5), paired_members=[tree.member],
    )  # fmt: skip
    results = race(
        lambda i: services.follow_up_add(
            case=case, by=tree.member.user, visited_on=timezone.localdate(), notes="送去棉衣"
        ),
        n=3,
    )
    assert not [r for r in results if isinstance(r, Exception)], results
    assert len({r.pk for r in results}) == 1
    assert FollowUp.objects.filter(case=case).count() == 1
