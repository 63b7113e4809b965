"""The demo's management slice: transfers in every state (one overdue), pending join
requests for `secretary`, and `member` free to start a transfer."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse

from members import selectors
from members.models import JoinRequest, Transfer

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """The small demo, seeded once for this module (it takes a while)."""
    from django.conf import settings

    with django_db_blocker.unblock():
        debug, settings.DEBUG = settings.DEBUG, True
        try:
            call_command("seed_demo", stdout=StringIO(), stderr=StringIO())
        finally:
            settings.DEBUG = debug
        yield
        call_command("flush", "--noinput", stdout=StringIO())


def user(username):
    return get_user_model().objects.get(username=username)


def test_transfers_in_every_state_and_overdue_ones(demo):
    states = set(Transfer.objects.values_list("state", flat=True))
    assert states == set(Transfer.State.values)
    assert Transfer.objects.filter(to_branch__isnull=True, member__archived_at__isnull=False)
    overdue = selectors.transfers_overdue(user=user("reviewer"))
    assert {t.state for t in overdue} == {Transfer.State.REQUESTED, Transfer.State.RELEASED}
    # `secretary` has one to release and one to accept; `secretary2` an overdue one to accept.
    secretary = user("secretary")
    mine = selectors.transfers_open().filter(
        selectors.transfer_scope_q([m.branch.path for m in [secretary.member]])
    )
    assert {t.state for t in mine} == {Transfer.State.REQUESTED, Transfer.State.RELEASED}
    assert selectors.transfers_overdue(user=user("secretary2")).exists()


def test_pending_join_requests_and_a_member_free_to_transfer(demo, client):
    pending = JoinRequest.objects.filter(state=JoinRequest.State.PENDING)
    assert pending.count() >= 3
    assert pending.filter(branch=user("secretary").member.branch).count() >= 2
    assert JoinRequest.objects.filter(state=JoinRequest.State.REFUSED).exists()
    assert not Transfer.objects.filter(member__user__username="member").exists()
    client.force_login(user("member"))
    page = client.get(reverse("members:me"), {"q": "康定"}).content.decode()
    assert reverse("members:me_transfer") + "?to=" in page


def test_running_twice_adds_no_transfer(demo):
    before = (Transfer.objects.count(), JoinRequest.objects.count())
    from django.conf import settings

    debug, settings.DEBUG = settings.DEBUG, True
    try:
        call_command("seed_demo", stdout=StringIO(), stderr=StringIO())
    finally:
        settings.DEBUG = debug
    assert (Transfer.objects.count(), JoinRequest.objects.count()) == before
