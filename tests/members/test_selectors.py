import datetime

import pytest

from members import selectors, services
from members.models import Member, Participation
from tests.factories import MemberFactory, ParticipationFactory

pytestmark = pytest.mark.django_db


def names(qs):
    return {m.user.username for m in qs.select_related("user")}


def test_members_of_an_organization_registered_and_participating(tree):
    assert names(selectors.members_of_organizations(organizations=[tree.joint])) == {"participant"}
    assert names(selectors.members_of_organizations(organizations=[tree.sibling])) == {
        "sibling_member",
        "participant",
        "secretary2",
    }
    company = names(selectors.members_of_organizations(organizations=[tree.company]))
    assert company == {
        "member",
        "office",
        "secretary",
        "sibling_member",
        "participant",
        "secretary2",
    }
    assert "outsider" not in names(selectors.members_of_organizations(organizations=[tree.group]))


def test_a_member_registered_and_participating_is_counted_once(tree):
    ParticipationFactory(member=tree.member, organization=tree.party_group)
    qs = selectors.members_of_organizations(organizations=[tree.branch])
    assert qs.filter(pk=tree.member.pk).count() == 1
    assert qs.count() == 3


def test_subtree_switch_and_filters(tree):
    ParticipationFactory(member=tree.office, organization=tree.party_group)
    direct = selectors.members_of_organizations(organizations=[tree.branch], subtree=False)
    assert names(direct) == {"member", "office", "secretary"}
    only_group = selectors.members_of_organizations(organizations=[tree.party_group], subtree=False)
    assert names(only_group) == {"office"}
    remote = selectors.members_of_organizations(organizations=[tree.company], categories=["remote"])
    assert names(remote) == {"member"}
    Member.objects.filter(pk=tree.office.pk).update(status="probationary")
    probationary = selectors.members_of_organizations(
        organizations=[tree.company], statuses=["probationary"]
    )
    assert names(probationary) == {"office"}


def test_ended_participation_and_inactive_accounts_do_not_count(tree):
    Participation.objects.filter(member=tree.participant).update(ended_on=datetime.date(2026, 1, 1))
    assert not selectors.members_of_organizations(organizations=[tree.joint]).exists()
    tree.office.user.is_active = False
    tree.office.user.save()
    assert "office" not in names(selectors.members_of_organizations(organizations=[tree.branch]))


def test_one_query_whatever_the_size(tree, django_assert_num_queries):
    for _ in range(30):
        ParticipationFactory(member=MemberFactory(branch=tree.sibling), organization=tree.joint)
    with django_assert_num_queries(1):
        count = selectors.members_of_organizations(organizations=[tree.company]).count()
    assert count == 36


def test_activity_record_moves_last_active_forward_only(tree):
    now = datetime.datetime(2026, 11, 1, 8, 0, tzinfo=datetime.UTC)
    services.member_activity_record(member=tree.member, kind="studied", at=now)
    services.member_activity_record(
        member=tree.member, kind="posted", at=now - datetime.timedelta(days=3)
    )
    tree.member.refresh_from_db()
    assert tree.member.last_active_at == now
    assert tree.member.activity_facts.count() == 2


def test_home_paths_cover_registration_and_participation(tree):
    user = tree.participant.user
    assert set(selectors.home_organization_paths(user)) == {tree.sibling.path, tree.joint.path}
