"""Scope matrix of the admin: role × organisation (own, child, sibling, parent, outside) ×
action (changelist, change view by raw id, autocomplete, foreign-key POST, crafted action)."""

import pytest
from django.urls import reverse

from branches.models import Organization, ProjectSite, RoleAssignment
from members.models import Member

pytestmark = pytest.mark.django_db


def login(client, user):
    client.force_login(user)
    return client


def changelist_names(client, url, column="real_name"):
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return {str(getattr(obj, column)) for obj in response.context["cl"].result_list}


MEMBER_LIST = reverse("admin:members_member_changelist")


@pytest.mark.parametrize(
    ("who", "sees", "does_not_see"),
    [
        (
            "secretary",
            {"党员0", "member", "office", "secretary"},
            {"sibling_member", "outsider", "participant", "secretary2"},
        ),
        (
            "secretary2",
            {"sibling_member", "participant", "secretary2"},
            {"member", "office", "outsider"},
        ),
        (
            "reviewer",
            {"member", "office", "sibling_member", "participant", "secretary", "secretary2"},
            {"outsider"},
        ),
        ("admin", {"member", "outsider"}, set()),
    ],
)
def test_member_changelist_is_scoped(client, tree, who, sees, does_not_see):
    login(client, getattr(tree, who))
    response = client.get(MEMBER_LIST)
    assert response.status_code == 200
    usernames = {m.user.username for m in response.context["cl"].result_list}
    assert (sees - {"党员0"}) <= usernames
    assert not (does_not_see & usernames)


def test_joint_branch_secretary_sees_participants_registered_elsewhere(client, tree):
    from tests.factories import RoleAssignmentFactory, UserFactory

    joint_secretary = UserFactory(username="joint_sec")
    RoleAssignmentFactory(
        user=joint_secretary, organization=tree.joint, role=RoleAssignment.Role.SECRETARY
    )
    login(client, joint_secretary)
    usernames = {m.user.username for m in client.get(MEMBER_LIST).context["cl"].result_list}
    assert usernames == {"participant"}


def test_plain_member_cannot_open_the_admin(client, tree):
    login(client, tree.member.user)
    assert client.get(reverse("admin:index")).status_code == 403
    assert client.get(MEMBER_LIST).status_code == 403


def test_anonymous_admin_goes_to_the_allauth_login(client, tree):
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


@pytest.mark.parametrize(
    ("who", "target", "status"),
    [
        ("secretary", "member", 200),
        ("secretary", "sibling_member", 404),
        ("secretary", "outsider", 404),
        ("secretary2", "sibling_member", 200),
        ("secretary2", "member", 404),
        ("reviewer", "sibling_member", 200),
        ("reviewer", "outsider", 404),
        ("admin", "outsider", 200),
    ],
)
def test_member_change_view_by_raw_id(client, tree, who, target, status):
    login(client, getattr(tree, who))
    url = reverse("admin:members_member_change", args=[getattr(tree, target).pk])
    assert client.get(url).status_code == status


@pytest.mark.parametrize(
    ("who", "target", "status"),
    [
        ("secretary", "branch", 200),
        ("secretary", "party_group", 200),  # child
        ("secretary", "sibling", 404),
        ("secretary", "company", 404),  # parent
        ("reviewer", "sibling", 200),
        ("reviewer", "outside", 404),
    ],
)
def test_organization_change_view_by_raw_id(client, tree, who, target, status):
    login(client, getattr(tree, who))
    url = reverse("admin:branches_organization_change", args=[getattr(tree, target).pk])
    assert client.get(url).status_code == status


def test_site_changelist_and_raw_id(client, tree):
    login(client, tree.secretary)
    names = changelist_names(client, reverse("admin:branches_projectsite_changelist"), "name")
    assert names == {tree.site.name}
    url = reverse("admin:branches_projectsite_change", args=[tree.sibling_site.pk])
    assert client.get(url).status_code == 404


def autocomplete(client, model, field, term=""):
    response = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "members", "model_name": "member", "field_name": field, "term": term},
    )
    return response


@pytest.mark.parametrize(
    ("who", "visible", "hidden"),
    [
        (
            "secretary",
            {"branch", "party_group"},
            {"sibling", "company", "group", "outside", "joint"},
        ),
        ("secretary2", {"sibling"}, {"branch", "party_group", "outside"}),
        (
            "reviewer",
            {"group", "company", "branch", "sibling", "joint"},
            {"outside", "other_group"},
        ),
    ],
)
def test_autocomplete_offers_only_scoped_organizations(client, tree, who, visible, hidden):
    login(client, getattr(tree, who))
    response = autocomplete(client, "member", "branch")
    assert response.status_code == 200
    ids = {int(r["id"]) for r in response.json()["results"]}
    assert {getattr(tree, n).pk for n in visible} <= ids
    assert not ({getattr(tree, n).pk for n in hidden} & ids)


def test_post_setting_a_foreign_key_to_another_branch_is_refused(client, tree):
    login(client, tree.secretary)
    member = tree.member
    url = reverse("admin:members_member_change", args=[member.pk])
    data = {
        "real_name": member.real_name,
        "branch": tree.sibling.pk,  # not in the secretary's subtree
        "project_site": tree.site.pk,
        "status": member.status,
        "category": member.category,
        "contact_status": member.contact_status,
        "phone": "",
        "position": "",
        "joined_party_on": "",
        "participations-TOTAL_FORMS": "0",
        "participations-INITIAL_FORMS": "0",
        "participations-MIN_NUM_FORMS": "0",
        "participations-MAX_NUM_FORMS": "1000",
    }
    response = client.post(url, data)
    assert response.status_code == 200  # the form again, with an error
    assert "branch" in response.context["adminform"].form.errors
    member.refresh_from_db()
    assert member.branch_id == tree.branch.pk

    data["branch"] = tree.branch.pk
    data["project_site"] = tree.sibling_site.pk  # another branch's site
    response = client.post(url, data)
    assert "project_site" in response.context["adminform"].form.errors


def test_post_within_scope_saves_through_the_service(client, tree):
    login(client, tree.secretary)
    member = tree.member
    url = reverse("admin:members_member_change", args=[member.pk])
    response = client.post(
        url,
        {
            "real_name": "新名字",
            "branch": tree.branch.pk,
            "project_site": tree.site.pk,
            "status": Member.Status.PROBATIONARY,
            "category": member.category,
            "contact_status": member.contact_status,
            "phone": "13800000000",
            "position": "",
            "joined_party_on": "",
            "participations-TOTAL_FORMS": "0",
            "participations-INITIAL_FORMS": "0",
            "participations-MIN_NUM_FORMS": "0",
            "participations-MAX_NUM_FORMS": "1000",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    member.refresh_from_db()
    assert (member.real_name, member.status, member.phone) == (
        "新名字",
        "probationary",
        "13800000000",
    )


def test_action_on_a_crafted_id_touches_nothing_outside_scope(client, tree):
    login(client, tree.secretary)
    response = client.post(
        MEMBER_LIST,
        {"action": "export_xlsx", "_selected_action": [tree.sibling_member.pk, tree.outsider.pk]},
    )
    # Django filters the posted ids through the scoped queryset: nothing is left to export.
    assert exported_names(response) == []


def exported_names(response):
    from io import BytesIO

    from openpyxl import load_workbook

    assert response.status_code == 200
    sheet = load_workbook(BytesIO(b"".join(response.streaming_content))).active
    return [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]


def test_action_within_scope_exports(client, tree):
    login(client, tree.secretary)
    response = client.post(
        MEMBER_LIST, {"action": "export_xlsx", "_selected_action": [tree.member.pk]}
    )
    assert "attachment" in response["Content-Disposition"]
    assert exported_names(response) == [tree.member.real_name]


def test_reviewer_deletes_only_assignments_in_scope(client, tree):
    from tests.factories import RoleAssignmentFactory, UserFactory

    outsider_sec = UserFactory(username="outside_sec")
    foreign = RoleAssignmentFactory(user=outsider_sec, organization=tree.outside)
    login(client, tree.reviewer)
    url = reverse("admin:branches_roleassignment_changelist")
    client.post(url, {"action": "delete_selected", "_selected_action": [foreign.pk], "post": "yes"})
    assert RoleAssignment.objects.filter(pk=foreign.pk).exists()


def test_secretary_cannot_assign_roles(client, tree):
    login(client, tree.secretary)
    url = reverse("admin:branches_roleassignment_add")
    assert client.get(url).status_code == 403


def test_secretary_creates_a_party_group_only_inside_the_branch(client, tree):
    login(client, tree.secretary)
    url = reverse("admin:branches_organization_add")
    base = {
        "name": "第二党小组",
        "short_name": "",
        "kind": "group",
        "contact_phone": "",
        "description": "",
    }
    response = client.post(url, {**base, "parent": tree.sibling.pk})
    assert response.status_code == 200
    assert "parent" in response.context["adminform"].form.errors
    assert not Organization.objects.filter(name="第二党小组").exists()
    response = client.post(url, {**base, "parent": tree.branch.pk})
    assert response.status_code == 302
    created = Organization.objects.get(name="第二党小组")
    assert created.path.startswith(tree.branch.path) and created.depth == tree.branch.depth + 1


def test_list_filter_offers_only_scoped_values(client, tree):
    login(client, tree.secretary)
    response = client.get(MEMBER_LIST)
    filter_choices = []
    for spec in response.context["cl"].filter_specs:
        if getattr(spec, "field_path", "") == "branch":
            filter_choices = [label for _, label in spec.lookup_choices]
    assert tree.branch.name in filter_choices
    assert tree.sibling.name not in filter_choices
    assert tree.outside.name not in filter_choices


def test_removing_the_assignment_removes_admin_access(client, tree):
    from branches import services

    assignment = RoleAssignment.objects.get(user=tree.secretary)
    services.role_revoke(assignment=assignment, by=tree.admin)
    tree.secretary.refresh_from_db()
    assert not tree.secretary.is_staff
    login(client, tree.secretary)
    assert client.get(reverse("admin:index")).status_code == 403


def test_stale_staff_flag_without_a_role_opens_nothing(client, tree):
    """Even if is_staff were left on by hand, permissions and scope follow the roles."""
    RoleAssignment.objects.filter(user=tree.secretary).delete()
    login(client, tree.secretary)
    assert client.get(reverse("admin:index")).status_code == 403
    assert client.get(MEMBER_LIST).status_code == 403


def test_superuser_sees_sites_everywhere(client, tree):
    login(client, tree.admin)
    names = changelist_names(client, reverse("admin:branches_projectsite_changelist"), "name")
    assert names == set(ProjectSite.objects.values_list("name", flat=True))


def test_participants_registered_elsewhere_are_read_only(client, tree):
    from tests.factories import RoleAssignmentFactory, UserFactory

    joint_secretary = UserFactory(username="joint_sec2")
    RoleAssignmentFactory(
        user=joint_secretary, organization=tree.joint, role=RoleAssignment.Role.SECRETARY
    )
    login(client, joint_secretary)
    url = reverse("admin:members_member_change", args=[tree.participant.pk])
    response = client.get(url)
    assert response.status_code == 200
    assert not response.context["has_change_permission"]
    response = client.post(url, {"real_name": "改名", "branch": tree.joint.pk})
    assert response.status_code == 403
    tree.participant.refresh_from_db()
    assert tree.participant.real_name != "改名"


def test_home_worklist_counts_members_by_contact_status(client, tree):
    from members.models import Member

    Member.objects.filter(pk=tree.office.pk).update(contact_status="lost")
    login(client, tree.secretary)
    response = client.get("/")
    by_status = {s: n for s, _, n in response.context["worklist"]["by_status"]}
    assert by_status == {"active": 2, "lost": 1}
    assert "contact_status__exact=lost" in response.content.decode()
