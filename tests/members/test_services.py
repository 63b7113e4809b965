import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from members import services
from members.models import Member, Participation

pytestmark = pytest.mark.django_db


def test_secretary_creates_a_member_in_their_branch_only(tree):
    member = services.member_create(
        by=tree.secretary,
        username="newbie",
        email="newbie@example.com",
        real_name="王新",
        branch=tree.branch,
    )
    assert member.user.has_usable_password() is False
    assert tree.branch.timeline.filter(kind="member_registered").exists()
    with pytest.raises(PermissionDenied):
        services.member_create(
            by=tree.secretary,
            username="x",
            email="x@example.com",
            real_name="李",
            branch=tree.sibling,
        )
    with pytest.raises(ValidationError):  # duplicate user name, any case
        services.member_create(
            by=tree.secretary,
            username="NEWBIE",
            email="other@example.com",
            real_name="王",
            branch=tree.branch,
        )


def test_registration_only_in_a_branch_kind(tree):
    with pytest.raises(ValidationError):
        services.member_create(
            by=tree.secretary,
            username="g",
            email="g@example.com",
            real_name="张",
            branch=tree.party_group,
        )


def test_pocket_member_has_no_branch_as_a_database_rule(tree):
    with pytest.raises(IntegrityError), transaction.atomic():
        Member.objects.filter(pk=tree.member.pk).update(contact_status="pocket")
    with pytest.raises(IntegrityError), transaction.atomic():
        Member.objects.filter(pk=tree.member.pk).update(branch=None)
    Member.objects.filter(pk=tree.member.pk).update(branch=None, contact_status="pocket")


def test_member_update_cannot_move_a_member_out_of_scope(tree):
    with pytest.raises(PermissionDenied):
        services.member_update(
            member=tree.member, by=tree.secretary, fields={"branch": tree.sibling}
        )
    with pytest.raises(PermissionDenied):
        services.member_update(member=tree.sibling_member, by=tree.secretary, fields={"phone": "1"})
    updated = services.member_update(
        member=tree.member, by=tree.reviewer, fields={"branch": tree.sibling}
    )
    assert updated.branch == tree.sibling


def test_participation_rules(tree):
    with pytest.raises(ValidationError):  # a branch is not a place to "take part"
        services.participation_start(
            member=tree.member, organization=tree.sibling, by=tree.reviewer
        )
    with pytest.raises(PermissionDenied):  # the sibling's secretary manages neither side
        services.participation_start(
            member=tree.member, organization=tree.joint, by=tree.secretary2
        )
    p = services.participation_start(
        member=tree.member, organization=tree.party_group, by=tree.secretary
    )
    with pytest.raises(ValidationError):  # double submit
        services.participation_start(
            member=tree.member, organization=tree.party_group, by=tree.secretary
        )
    assert (
        Participation.objects.filter(member=tree.member, organization=tree.party_group).count() == 1
    )
    services.participation_end(participation=p, by=tree.secretary)
    with pytest.raises(ValidationError):
        services.participation_end(participation=p, by=tree.secretary)
    again = services.participation_start(
        member=tree.member, organization=tree.party_group, by=tree.secretary
    )
    assert again.pk != p.pk


def test_one_open_participation_per_organization_is_a_database_rule(tree):
    existing = Participation.objects.get(member=tree.participant)
    with pytest.raises(IntegrityError), transaction.atomic():
        Participation.objects.create(
            member=tree.participant,
            organization=existing.organization,
            started_on=existing.started_on,
        )
