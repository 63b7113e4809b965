"""The lost-contact radar: thresholds at their edges with a frozen clock (`now=`), set-based
updates (queries independent of the number of members), and the secretary's worklist page
scoped to their subtree."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from members import services
from members.models import ActivityFact, Member, Transfer

Contact = Member.ContactStatus
User = get_user_model()
NOW = timezone.now().replace(microsecond=0)
DAY = timedelta(days=1)
SECOND = timedelta(seconds=1)


@pytest.fixture(autouse=True)
def thresholds(settings):
    settings.NETBRANCH_CONTACT_AT_RISK_DAYS = 30
    settings.NETBRANCH_CONTACT_LOST_DAYS = 90


def _registered_long_ago():
    Member.objects.update(created_at=NOW - 400 * DAY)


def _set(member, *, active=None, login=None):
    Member.objects.filter(pk=member.pk).update(last_active_at=active)
    User.objects.filter(pk=member.user_id).update(last_login=login)


def _status(member):
    return Member.objects.values_list("contact_status", flat=True).get(pk=member.pk)


@pytest.mark.parametrize(
    ("active_ago", "login_ago", "expected"),
    [
        (0 * DAY, None, Contact.ACTIVE),
        (30 * DAY, None, Contact.ACTIVE),  # exactly on the edge: still active
        (30 * DAY + SECOND, None, Contact.AT_RISK),
        (90 * DAY, None, Contact.AT_RISK),
        (90 * DAY + SECOND, None, Contact.LOST),
        (90 * DAY + SECOND, 90 * DAY + SECOND, Contact.LOST),
        (90 * DAY + SECOND, 90 * DAY, Contact.INVISIBLE),  # logs in, takes no part
        (None, 1 * DAY, Contact.INVISIBLE),
        (None, None, Contact.LOST),
        (40 * DAY, 0 * DAY, Contact.AT_RISK),  # logging in does not make a member active
    ],
)
def test_thresholds_at_their_edges(tree, active_ago, login_ago, expected):
    _registered_long_ago()
    _set(
        tree.member,
        active=None if active_ago is None else NOW - active_ago,
        login=None if login_ago is None else NOW - login_ago,
    )
    services.members_update_contact_status(now=NOW)
    assert _status(tree.member) == expected


def test_a_newly_registered_member_has_a_grace_period(tree):
    Member.objects.update(created_at=NOW - 30 * DAY)
    _set(tree.member)
    services.members_update_contact_status(now=NOW)
    assert _status(tree.member) == Contact.ACTIVE
    Member.objects.filter(pk=tree.member.pk).update(created_at=NOW - 30 * DAY - SECOND)
    services.members_update_contact_status(now=NOW)
    assert _status(tree.member) == Contact.AT_RISK


def test_taking_part_again_makes_the_member_active(tree):
    _registered_long_ago()
    _set(tree.member, active=NOW - 200 * DAY)
    services.members_update_contact_status(now=NOW)
    assert _status(tree.member) == Contact.LOST
    services.member_activity_record(
        member=tree.member, kind=ActivityFact.Kind.STUDIED, at=NOW - DAY
    )
    moved = services.members_update_contact_status(now=NOW)
    assert _status(tree.member) == Contact.ACTIVE
    assert moved[Contact.ACTIVE] == 1
    # A second run changes nothing.
    assert sum(services.members_update_contact_status(now=NOW).values()) == 0


def test_pocket_and_archived_members_are_left_alone(tree):
    _registered_long_ago()
    Member.objects.filter(pk=tree.member.pk).update(branch=None, contact_status=Contact.POCKET)
    Member.objects.filter(pk=tree.office.pk).update(
        archived_at=NOW - DAY, contact_status=Contact.ACTIVE
    )
    services.members_update_contact_status(now=NOW)
    assert _status(tree.member) == Contact.POCKET
    assert _status(tree.office) == Contact.ACTIVE


def _bulk(n, branch):
    start = User.objects.count()
    users = User.objects.bulk_create(User(username=f"bulk{start + i}") for i in range(n))
    Member.objects.bulk_create(
        Member(user=u, real_name=f"bulk{i}", branch=branch, last_active_at=NOW - (i % 120) * DAY)
        for i, u in enumerate(users)
    )


def _update_queries():
    with CaptureQueriesContext(connection) as ctx:
        services.members_update_contact_status(now=NOW)
    return len(ctx.captured_queries)


def test_update_is_set_based(tree):
    _bulk(3, tree.branch)
    _registered_long_ago()
    small = _update_queries()
    _bulk(60, tree.sibling)
    Member.objects.update(created_at=NOW - 400 * DAY, contact_status=Contact.ACTIVE)
    assert _update_queries() == small <= 6
    statuses = set(Member.objects.values_list("contact_status", flat=True))
    assert {Contact.ACTIVE, Contact.AT_RISK, Contact.LOST} <= statuses


# --- the worklist page ---------------------------------------------------------------------------


def _lost(member):
    Member.objects.filter(pk=member.pk).update(contact_status=Contact.LOST)


def test_radar_shows_why_and_only_the_secretarys_subtree(client, tree, english):
    _lost(tree.member)
    _lost(tree.sibling_member)
    services.member_activity_record(
        member=tree.member, kind=ActivityFact.Kind.ATTENDED, at=NOW - 120 * DAY
    )
    client.force_login(tree.secretary)
    page = client.get(reverse("members:radar")).content.decode()
    assert tree.member.real_name in page
    assert tree.sibling_member.real_name not in page
    assert "last attended on " + (NOW - 120 * DAY).strftime("%Y-%m-%d") in page
    # The reviewer sees the whole group; a plain member gets nothing.
    client.force_login(tree.reviewer)
    page = client.get(reverse("members:radar")).content.decode()
    assert tree.member.real_name in page and tree.sibling_member.real_name in page
    client.force_login(tree.member.user)
    assert client.get(reverse("members:radar")).status_code == 403


def test_radar_says_the_last_fact_in_chinese(client, tree):
    _lost(tree.member)
    services.member_activity_record(
        member=tree.member, kind=ActivityFact.Kind.POSTED, at=NOW - 120 * DAY
    )
    client.force_login(tree.secretary)
    page = client.get(reverse("members:radar")).content.decode()
    assert "最近一次发言：" in page and "posted" not in page


def test_radar_filters_by_status(client, tree):
    _lost(tree.member)
    Member.objects.filter(pk=tree.office.pk).update(contact_status=Contact.INVISIBLE)
    client.force_login(tree.secretary)
    page = client.get(reverse("members:radar"), {"status": "invisible"}).content.decode()
    assert tree.office.real_name in page and tree.member.real_name not in page


def test_radar_shows_a_pocket_member_released_by_the_branch(client, tree):
    transfer = services.transfer_request(
        member=tree.member, by=tree.secretary, external_organization="外单位", letter_number="1"
    )
    Transfer.objects.filter(pk=transfer.pk).update(state=Transfer.State.RELEASED, released_at=NOW)
    Member.objects.filter(pk=tree.member.pk).update(branch=None, contact_status=Contact.POCKET)
    client.force_login(tree.secretary)
    assert tree.member.real_name in client.get(reverse("members:radar")).content.decode()
    client.force_login(tree.secretary2)
    assert tree.member.real_name not in client.get(reverse("members:radar")).content.decode()


def _page_queries(client):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(reverse("members:radar")).status_code == 200
    return len(ctx.captured_queries)


def test_radar_query_count_is_fixed(client, tree):
    client.force_login(tree.reviewer)
    _bulk(3, tree.branch)
    Member.objects.update(contact_status=Contact.LOST)
    for m in Member.objects.all()[:3]:
        services.outreach_case_open(member=m, by=tree.reviewer)
    small = _page_queries(client)
    _bulk(80, tree.sibling)
    Member.objects.update(contact_status=Contact.LOST)
    for m in Member.objects.filter(outreach_cases__isnull=True)[:20]:
        services.outreach_case_open(member=m, by=tree.reviewer)
    assert _page_queries(client) == small
