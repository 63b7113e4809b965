import pytest
from django.core.exceptions import PermissionDenied

from branches import scope, services
from branches.models import Organization, RoleAssignment
from tests.factories import OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db


def chain(depth: int) -> list[Organization]:
    nodes = [OrganizationFactory(kind=Organization.Kind.COMMITTEE)]
    for _ in range(depth - 1):
        nodes.append(OrganizationFactory(parent=nodes[-1]))
    for n in nodes:
        n.refresh_from_db()
    return nodes


@pytest.mark.parametrize("depth", [2, 6, 12])
def test_subtree_and_path_to_root_are_one_query_at_any_depth(django_assert_num_queries, depth):
    nodes = chain(depth)
    top, bottom = nodes[0], nodes[-1]
    with django_assert_num_queries(1):
        assert [o.pk for o in scope.path_to_root(bottom)] == [n.pk for n in nodes]
    with django_assert_num_queries(1):
        assert {o.pk for o in scope.subtree(top)} == {n.pk for n in nodes}
    with django_assert_num_queries(1):
        assert list(scope.path_to_root(bottom, include_self=False))[-1].pk == nodes[-2].pk


def test_subtree_does_not_leak_into_a_sibling_with_a_similar_path(tree):
    names = set(scope.subtree(tree.branch).values_list("name", flat=True))
    assert names == {tree.branch.name, tree.party_group.name}


def test_managed_and_visible_organizations(tree):
    assert set(scope.managed_organizations(tree.secretary)) == {tree.branch, tree.party_group}
    assert set(scope.managed_organizations(tree.reviewer)) == {
        tree.group,
        tree.company,
        tree.branch,
        tree.sibling,
        tree.party_group,
        tree.joint,
    }
    assert not scope.managed_organizations(tree.member.user).exists()
    # A member sees content from their branch up to the root, not the sibling's.
    assert set(scope.visible_organizations(tree.member.user)) == {
        tree.group,
        tree.company,
        tree.branch,
    }
    # A participant also sees the joint branch where they take part.
    assert tree.joint in set(scope.visible_organizations(tree.participant.user))
    assert scope.can_see(tree.member.user, tree.company)
    assert not scope.can_see(tree.member.user, tree.sibling)
    assert not scope.can_see(tree.member.user, tree.party_group)  # below, not on the path
    assert scope.can_manage(tree.reviewer, tree.party_group)
    assert not scope.can_manage(tree.secretary, tree.sibling)
    assert not scope.can_manage(tree.secretary, tree.company)


def test_scope_checks_reuse_one_cached_query(tree, django_assert_num_queries):
    user = type(tree.secretary).objects.get(pk=tree.secretary.pk)
    with django_assert_num_queries(1):
        for org in (tree.branch, tree.sibling, tree.party_group, tree.company):
            scope.can_manage(user, org)
        scope.has_role(user)


def test_role_assign_and_revoke_keep_staff_status_in_step(tree):
    user = UserFactory(username="newcomer")
    assert not user.is_staff
    assignment = services.role_assign(
        user=user, organization=tree.sibling, role="committee_member", by=tree.reviewer
    )
    user.refresh_from_db()
    assert user.is_staff and user.has_perm("members.change_member")
    second = services.role_assign(
        user=user, organization=tree.branch, role="deputy_secretary", by=tree.reviewer
    )
    services.role_revoke(assignment=assignment, by=tree.reviewer)
    user.refresh_from_db()
    assert user.is_staff  # still has a role
    services.role_revoke(assignment=second, by=tree.reviewer)
    user = type(user).objects.get(pk=user.pk)
    assert not user.is_staff and not user.has_perm("members.view_member")


def test_only_reviewers_in_scope_assign_roles(tree):
    user = UserFactory(username="candidate")
    with pytest.raises(PermissionDenied):
        services.role_assign(
            user=user, organization=tree.branch, role="committee_member", by=tree.secretary
        )
    with pytest.raises(PermissionDenied):
        services.role_assign(
            user=user, organization=tree.outside, role="secretary", by=tree.reviewer
        )
    assert not RoleAssignment.objects.filter(user=user).exists()


def test_one_secretary_per_organization_is_a_database_rule(tree):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        RoleAssignment.objects.create(
            user=tree.secretary2, organization=tree.branch, role="secretary"
        )


def test_permissions_follow_roles(tree):
    assert tree.secretary.has_perm("members.change_member")
    assert tree.secretary.has_perm("branches.change_projectsite")
    assert not tree.secretary.has_perm("branches.add_roleassignment")
    assert tree.reviewer.has_perm("branches.add_roleassignment")
    assert not tree.member.user.has_perm("members.view_member")
    assert not tree.secretary.has_perm("auth.change_user")


def test_kind_choices_match_the_database_constraint():
    from branches.models import ORGANIZATION_KINDS

    assert sorted(ORGANIZATION_KINDS) == sorted(Organization.Kind.values)


def test_organization_create_requires_scope(tree):
    with pytest.raises(PermissionDenied):
        services.organization_create(parent=tree.sibling, by=tree.secretary, name="x", kind="group")
    with pytest.raises(PermissionDenied):
        services.organization_create(parent=None, by=tree.reviewer, name="x", kind="committee")
    group = services.organization_create(
        parent=tree.branch, by=tree.secretary, name="新党小组", kind="group"
    )
    assert group.get_absolute_url().endswith(f"/{group.pk}/")
    assert group.timeline.filter(kind="organization_created").exists()


def test_site_close_adds_a_timeline_entry_and_refuses_twice(tree):
    import datetime

    from django.core.exceptions import ValidationError

    services.site_close(site=tree.site, by=tree.secretary, on=datetime.date(2026, 10, 1))
    assert tree.branch.timeline.filter(kind="site_closed").count() == 1
    tree.site.refresh_from_db()
    with pytest.raises(ValidationError):
        services.site_close(site=tree.site, by=tree.secretary, on=datetime.date(2026, 10, 2))
    with pytest.raises(ValidationError):  # closed before it opened
        services.site_update(
            site=tree.sibling_site,
            by=tree.secretary2,
            fields={"closed_on": datetime.date(2000, 1, 1)},
        )
    with pytest.raises(PermissionDenied):
        services.site_close(
            site=tree.sibling_site, by=tree.secretary, on=datetime.date(2026, 10, 1)
        )
