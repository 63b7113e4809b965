"""Project-site lifecycle: re-homing the members of a closed site (a transfer released in one
step, or a participation in a joint or mobile branch), attaching members to an open site,
the managers' pages, the home worklist's count, the admin links and the query counts."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from branches.models import Organization, TimelineEntry
from members import selectors_sites, services
from members.models import Member, Participation, Transfer
from members.selectors import radar_rows
from notifications.models import Event, Notification
from tests import factories

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]
State = Transfer.State


@pytest.fixture
def closed(tree):
    """A site of the first branch closed five days ago, with `member` and two more members of
    the branch still there."""
    today = timezone.localdate()
    site = factories.ProjectSiteFactory(
        organization=tree.branch,
        name="已关闭项目部",
        opened_on=today - timedelta(days=400),
        closed_on=today - timedelta(days=5),
    )
    Member.objects.filter(pk=tree.member.pk).update(project_site=site)
    tree.member.refresh_from_db()
    others = [
        factories.MemberFactory(user__username=f"worker{i}", branch=tree.branch, project_site=site)
        for i in range(2)
    ]
    site.people = [tree.member, *others]
    return site


def post_rehome(client, site, members, action="transfer", target=None, **extra):
    return client.post(
        reverse("members:site_rehome", args=[site.pk]),
        {
            "members": [m.pk if isinstance(m, Member) else m for m in members],
            "action": action,
            "target": target.pk,
            **extra,
        },
    )


def recipients(kind: str) -> set[str]:
    return set(
        Notification.objects.filter(event__kind=kind).values_list("recipient__username", flat=True)
    )


# --- re-homing by transfer ------------------------------------------------------------------


def test_rehome_by_transfer_releases_and_the_receiving_branch_accepts_later(
    tree, closed, committed
):
    with committed():
        made = services.site_rehome(
            site=closed,
            by=tree.secretary,
            members=closed.people,
            action="transfer",
            target=tree.sibling,
            letter_number="川组转[2026]30号",
        )
    assert len(made) == 3
    assert {t.state for t in made} == {State.RELEASED}
    assert all(t.released_by == tree.secretary and t.to_branch == tree.sibling for t in made)
    assert all(t.reason == "Project site 已关闭项目部 closed" for t in made)
    # Released: each carries the letter (pocket) until B accepts; each and B's secretary told.
    assert set(Member.objects.filter(project_site=closed).values_list("branch", flat=True)) == {
        None
    }
    assert recipients("transfer_released") == {"member", "worker0", "worker1", "secretary2"}
    assert TimelineEntry.objects.filter(
        organization=tree.branch, kind="site_members_transferred", params__n=3
    ).exists()

    rows = selectors_sites.rehome_rows(site=closed)
    assert [m.pending for m in rows] == [False] * 3
    assert not selectors_sites.closed_sites_pending().exists()

    services.transfer_accept(transfer=made[0], by=tree.secretary2)
    moved = Member.objects.get(pk=made[0].member_id)
    assert moved.branch == tree.sibling and moved.project_site is None
    # Refused after the release: a pocket member, on the radar of the branch that released
    # them rather than back on the site's worklist.
    services.transfer_refuse(transfer=made[1], by=tree.secretary2, reason="暂不接收")
    rows = selectors_sites.rehome_rows(site=closed)
    assert [m.pk for m in rows if m.pocket] == [made[1].member_id]
    assert not [m for m in rows if m.pending]
    assert not selectors_sites.closed_sites_pending().exists()
    assert made[1].member_id in {m.pk for m in radar_rows(user=tree.secretary)}


def test_rehome_by_participation_keeps_the_registration_and_tells_each_member(
    tree, closed, committed
):
    with committed():
        made = services.site_rehome(
            site=closed,
            by=tree.secretary,
            members=[m.pk for m in closed.people],
            action="participate",
            target=tree.joint,
        )
    assert {p.organization for p in made} == {tree.joint}
    assert all(p.started_on == timezone.localdate() for p in made)
    assert set(Member.objects.filter(project_site=closed).values_list("branch", flat=True)) == {
        tree.branch.pk
    }
    assert not Transfer.objects.exists()
    assert recipients("site_members_participate") == {"member", "worker0", "worker1"}
    rows = selectors_sites.rehome_rows(site=closed)
    assert {m.takes_part_in for m in rows} == {tree.joint.name}
    assert not any(m.pending for m in rows)


# --- what is refused, with nothing changed --------------------------------------------------


def nothing_changed(site):
    assert not Transfer.objects.exists()
    assert not Participation.objects.filter(started_on__gte=site.closed_on).exists()
    assert not Event.objects.exists()


@pytest.mark.parametrize(
    ("who", "allowed"),
    [("secretary", True), ("reviewer", True), ("admin", True), ("secretary2", False)],
)
def test_only_managers_of_the_sites_organisation_rehome(tree, closed, who, allowed):
    by = getattr(tree, who)
    call = {
        "site": closed,
        "by": by,
        "members": closed.people,
        "action": "transfer",
        "target": tree.sibling,
    }
    if allowed:
        assert len(services.site_rehome(**call)) == 3
    else:
        with pytest.raises(PermissionDenied):
            services.site_rehome(**call)
        nothing_changed(closed)


def test_another_branchs_secretary_gets_404_and_changes_nothing(client, tree, closed):
    client.force_login(tree.secretary2)
    url = reverse("members:site_rehome", args=[closed.pk])
    assert client.get(url).status_code == 404
    assert post_rehome(client, closed, closed.people, target=tree.sibling).status_code == 404
    assert client.get(reverse("members:site_attach", args=[closed.pk])).status_code == 404
    nothing_changed(closed)


def test_a_site_of_another_organisation_is_404(client, tree):
    client.force_login(tree.secretary)
    assert (
        post_rehome(
            client, tree.sibling_site, [tree.sibling_member], target=tree.branch
        ).status_code
        == 404
    )
    assert client.get(reverse("members:site_rehome", args=[999999])).status_code == 404


@pytest.mark.parametrize("stranger", ["office", "sibling_member", "outsider", "missing"])
def test_a_member_not_at_the_site_refuses_the_whole_batch(client, tree, closed, stranger):
    intruder = 999999 if stranger == "missing" else getattr(tree, stranger).pk
    client.force_login(tree.secretary)
    response = post_rehome(client, closed, [*closed.people, intruder], target=tree.sibling)
    assert response.status_code == 400
    assert b"Nothing was done" in response.content
    nothing_changed(closed)


def test_a_member_with_a_transfer_in_progress_is_refused(tree, closed, request_transfer):
    request_transfer(member=closed.people[1], to=tree.sibling)
    with pytest.raises(ValidationError) as exc:
        services.site_rehome(
            site=closed,
            by=tree.secretary,
            members=closed.people,
            action="participate",
            target=tree.joint,
        )
    worker = closed.people[1].real_name
    assert exc.value.messages == [f"{worker}: already has a transfer in progress"]
    assert Transfer.objects.count() == 1
    assert not Participation.objects.filter(organization=tree.joint, member__in=closed.people)


@pytest.mark.parametrize(
    ("action", "target", "error"),
    [
        ("transfer", "outside", "Choose a branch of the group."),
        ("participate", "outside", "Choose a branch of the group."),
        ("participate", "sibling", "joint branch or a mobile branch"),
        ("participate", "party_group", "joint branch or a mobile branch"),
        ("transfer", "party_group", "A membership is registered with"),
        ("move", "sibling", "Choose a transfer or a participation."),
    ],
)
def test_targets_outside_the_group_or_of_the_wrong_kind_are_refused(
    tree, closed, action, target, error
):
    with pytest.raises(ValidationError, match=error):
        services.site_rehome(
            site=closed,
            by=tree.secretary,
            members=closed.people,
            action=action,
            target=getattr(tree, target),
        )
    nothing_changed(closed)


def test_an_open_site_is_not_rehomed(tree):
    with pytest.raises(ValidationError, match="still open"):
        services.site_rehome(
            site=tree.site,
            by=tree.secretary,
            members=[tree.member],
            action="transfer",
            target=tree.sibling,
        )


def test_double_submit_makes_one_set_of_transfers(client, tree, closed):
    client.force_login(tree.secretary)
    first = post_rehome(client, closed, closed.people, target=tree.sibling)
    assert first.status_code == 302
    second = post_rehome(client, closed, closed.people, target=tree.sibling)
    assert second.status_code == 400
    assert b"already has a transfer in progress" in second.content
    assert Transfer.objects.count() == 3
    assert Event.objects.filter(kind="transfer_released").count() == 6  # B and the member, once


def test_the_worklist_page_lists_pending_and_done(client, tree, closed):
    services.site_rehome(
        site=closed,
        by=tree.secretary,
        members=closed.people[:1],
        action="transfer",
        target=tree.sibling,
    )
    client.force_login(tree.secretary)
    page = client.get(reverse("members:site_rehome", args=[closed.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert html.count('name="members"') == 2
    assert f'value="{tree.member.pk}"' not in html
    assert "released, waiting for its secretary" in html
    assert tree.joint.name in html and tree.outside.name not in html
    # The site list shows the site with its two members to re-home.
    listing = client.get(reverse("members:sites")).content.decode()
    assert reverse("members:site_rehome", args=[closed.pk]) in listing
    assert '<span class="count">2</span>' in listing


def test_home_worklist_counts_closed_sites_with_members_to_rehome(client, tree, closed):
    client.force_login(tree.secretary)
    html = client.get("/").content.decode()
    assert "1 closed site with members to re-home" in html
    services.site_rehome(
        site=closed,
        by=tree.secretary,
        members=closed.people,
        action="participate",
        target=tree.joint,
    )
    html = client.get("/").content.decode()
    assert "closed site with members to re-home" not in html
    assert reverse("members:sites") in html
    client.force_login(tree.secretary2)
    assert "closed site with members to re-home" not in client.get("/").content.decode()


def test_the_admin_links_each_site_to_its_members_page(client, tree, closed):
    client.force_login(tree.secretary)
    listing = client.get(reverse("admin:branches_projectsite_changelist")).content.decode()
    assert reverse("members:site_rehome", args=[closed.pk]) in listing
    assert reverse("members:site_attach", args=[tree.site.pk]) in listing
    change = client.get(reverse("admin:branches_projectsite_change", args=[closed.pk]))
    assert reverse("members:site_rehome", args=[closed.pk]) in change.content.decode()


# --- attaching members to an open site ------------------------------------------------------


def test_attach_moves_members_to_the_site_and_into_the_joint_branch(client, tree, committed):
    client.force_login(tree.secretary)
    url = reverse("members:site_attach", args=[tree.site.pk])
    page = client.get(url, {"q": tree.office.real_name})
    assert f'value="{tree.office.pk}"' in page.content.decode()
    with committed():
        response = client.post(url, {"members": [tree.office.pk], "branch": tree.joint.pk})
    assert response.status_code == 302
    office = Member.objects.get(pk=tree.office.pk)
    assert office.project_site == tree.site and office.branch == tree.branch
    assert Participation.objects.filter(
        member=office, organization=tree.joint, ended_on=None
    ).exists()
    assert recipients("site_members_attached") == {"office"}
    assert "takes part in" in client.get(url).content.decode()
    # Twice: refused, nothing new.
    again = client.post(url, {"members": [tree.office.pk], "branch": tree.joint.pk})
    assert again.status_code == 400 and b"already attached" in again.content
    assert Participation.objects.filter(member=office, organization=tree.joint).count() == 1


def test_attach_refuses_members_one_does_not_look_after_and_closed_sites(tree, closed):
    with pytest.raises(ValidationError, match="not among the members you look after"):
        services.site_attach(
            site=tree.site,
            by=tree.secretary,
            members=[tree.office, tree.sibling_member],
            branch=tree.joint,
        )
    assert not Participation.objects.filter(member=tree.office).exists()
    assert Member.objects.get(pk=tree.office.pk).project_site is None
    with pytest.raises(ValidationError, match="closed"):
        services.site_attach(
            site=closed, by=tree.secretary, members=[tree.office], branch=tree.joint
        )
    with pytest.raises(ValidationError, match="joint branch or a mobile branch"):
        services.site_attach(
            site=tree.site, by=tree.secretary, members=[tree.office], branch=tree.sibling
        )
    with pytest.raises(PermissionDenied):
        services.site_attach(
            site=tree.site, by=tree.secretary2, members=[tree.office], branch=tree.joint
        )


# --- query counts ---------------------------------------------------------------------------


def _grow(site, branch, n):
    for i in range(n):
        factories.MemberFactory(branch=branch, project_site=site, user__username=f"grow{i}")


@pytest.mark.parametrize("page", ["rehome", "attach", "sites"])
def test_pages_cost_a_fixed_number_of_queries(
    client, tree, closed, django_assert_max_num_queries, page
):
    site = {"rehome": closed, "attach": tree.site, "sites": closed}[page]
    url = (
        reverse("members:sites")
        if page == "sites"
        else reverse(f"members:site_{page}", args=[site.pk])
    )
    services.site_rehome(
        site=closed,
        by=tree.secretary,
        members=closed.people[:1],
        action="participate",
        target=tree.joint,
    )
    client.force_login(tree.secretary)
    client.get(url)  # warm the session and the content types
    with django_assert_max_num_queries(8) as small:
        assert client.get(url).status_code == 200
    _grow(site, tree.branch, 48)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(url)
    assert response.status_code == 200
    print(page, len(small.captured_queries))


def test_rehome_of_fifty_members_costs_queries_per_member_only_in_the_write(client, tree, closed):
    """The POST does a bounded amount of work per member (the transfer services); what is
    checked here is that it succeeds in one transaction for fifty at once."""
    _grow(closed, tree.branch, 47)
    client.force_login(tree.secretary)
    ids = list(Member.objects.filter(project_site=closed).values_list("pk", flat=True))
    assert len(ids) == 50
    response = post_rehome(client, closed, ids, target=tree.sibling)
    assert response.status_code == 302
    assert Transfer.objects.filter(state=State.RELEASED).count() == 50
    assert Organization.objects.get(pk=tree.sibling.pk).transfers_in.count() == 50
