"""Finding a branch and join requests: search by branch or site, sending (only people
registered nowhere, one waiting request), deciding (only the branch asked, or above it), the
requester's page and the secretaries' admin."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from branches.models import TimelineEntry
from members import selectors, services
from members.models import JoinRequest, Member
from tests import factories
from tests.members.conftest import events_for, race, recipients_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]
State = JoinRequest.State


@pytest.fixture
def newcomer(db):
    """An account with no member record (arrived with a transfer letter)."""
    return factories.UserFactory(username="newcomer")


@pytest.fixture
def pocket(tree):
    """A pocket member: a record, registered nowhere."""
    return factories.MemberFactory(
        user__username="pocket",
        real_name="口袋党员",
        branch=None,
        contact_status=Member.ContactStatus.POCKET,
    )


def send(user, branch, **kw):
    kw.setdefault("real_name", "新来的")
    return services.join_request_send(user=user, branch=branch, **kw)


# --- search -------------------------------------------------------------------------------------


def test_search_by_branch_name_or_site_name_or_province(tree):
    factories.ProjectSiteFactory(
        organization=tree.sibling, name="拉萨项目部", province="西藏", place="堆龙德庆"
    )
    assert [b.name for b in selectors.branch_search(query="二号")] == [tree.sibling.name]
    assert [b.name for b in selectors.branch_search(query="西藏")] == [tree.sibling.name]
    assert [b.name for b in selectors.branch_search(query="拉萨")] == [tree.sibling.name]
    found = selectors.branch_search(query="党支部")
    assert tree.branch in found and tree.joint in found
    # Only where a registration may sit: no party group, no committee.
    assert selectors.branch_search(query="党小组") == []
    assert selectors.branch_search(query="党委") == []
    assert selectors.branch_search(query="  ") == []
    (sibling,) = selectors.branch_search(query="西藏")
    assert {s.name for s in sibling.open_sites} == {"二号项目部", "拉萨项目部"}


def test_search_costs_two_queries(tree, django_assert_num_queries):
    for i in range(5):
        factories.ProjectSiteFactory(organization=tree.branch, name=f"工地{i}")
    with django_assert_num_queries(2):
        results = selectors.branch_search(query="党支部")
        assert sum(len(b.open_sites) for b in results) >= 6


# --- sending ------------------------------------------------------------------------------------


def test_a_newcomer_asks_and_the_branch_is_told(tree, newcomer, committed):
    with committed():
        jr = send(newcomer, tree.branch, phone="13800000000", letter_number="川组转[2026]3号")
    assert jr.state == State.PENDING and jr.branch == tree.branch
    assert recipients_of(events_for(jr, "join_requested").get()) == {"secretary"}


def test_a_registered_member_transfers_instead(tree):
    with pytest.raises(ValidationError, match="ask for a transfer"):
        send(tree.member.user, tree.sibling)


def test_only_a_registration_branch_can_be_asked(tree, newcomer):
    for org in (tree.party_group, tree.company):
        with pytest.raises(ValidationError, match="registered with a branch"):
            send(newcomer, org)


def test_one_waiting_request_per_person(tree, newcomer):
    send(newcomer, tree.branch)
    with pytest.raises(ValidationError, match="already have a join request"):
        send(newcomer, tree.sibling)
    with pytest.raises(IntegrityError), transaction.atomic():
        JoinRequest.objects.create(user=newcomer, branch=tree.sibling, real_name="x")


def test_a_name_is_required(tree, newcomer):
    with pytest.raises(ValidationError):
        send(newcomer, tree.branch, real_name=" ")


# --- deciding -----------------------------------------------------------------------------------


def test_approval_registers_a_newcomer(tree, newcomer, committed):
    jr = send(newcomer, tree.branch, phone="13800000000")
    with committed():
        member = services.join_request_approve(join_request=jr, by=tree.secretary)
    assert member.user == newcomer and member.branch == tree.branch
    assert member.real_name == "新来的" and member.phone == "13800000000"
    jr.refresh_from_db()
    assert jr.state == State.APPROVED and jr.decided_by == tree.secretary
    assert recipients_of(events_for(jr, "join_approved").get()) == {"newcomer"}
    assert TimelineEntry.objects.filter(
        organization=tree.branch, kind="member_registered", params__person="新来的"
    ).exists()
    assert (
        selectors.members_of_organizations(organizations=[tree.branch])
        .filter(pk=member.pk)
        .exists()
    )


def test_approval_registers_a_pocket_member(tree, pocket):
    jr = send(pocket.user, tree.sibling, real_name="口袋党员")
    services.join_request_approve(join_request=jr, by=tree.secretary2)
    pocket.refresh_from_db()
    assert pocket.branch == tree.sibling
    assert pocket.contact_status == Member.ContactStatus.ACTIVE


@pytest.mark.parametrize(
    ("who", "allowed"),
    [
        ("secretary", True),
        ("reviewer", True),
        ("admin", True),
        ("secretary2", False),  # another branch's secretary
        ("member", False),
        ("outsider", False),
    ],
)
def test_only_the_branch_asked_decides(tree, newcomer, who, allowed):
    jr = send(newcomer, tree.branch)
    by = getattr(tree, who)
    by = getattr(by, "user", by)
    if allowed:
        services.join_request_refuse(join_request=jr, by=by, reason="请先联系原支部")
        assert JoinRequest.objects.get(pk=jr.pk).state == State.REFUSED
    else:
        with pytest.raises(PermissionDenied):
            services.join_request_approve(join_request=jr, by=by)
        with pytest.raises(PermissionDenied):
            services.join_request_refuse(join_request=jr, by=by, reason="不行")
        assert JoinRequest.objects.get(pk=jr.pk).state == State.PENDING
        assert not Member.objects.filter(user=newcomer).exists()


def test_a_decision_is_made_once_and_a_refusal_has_a_reason(tree, newcomer, committed):
    jr = send(newcomer, tree.branch)
    with pytest.raises(ValidationError, match="reason"):
        services.join_request_refuse(join_request=jr, by=tree.secretary, reason="")
    with committed():
        services.join_request_refuse(join_request=jr, by=tree.secretary, reason="请先联系原支部")
    assert recipients_of(events_for(jr, "join_refused").get()) == {"newcomer"}
    with pytest.raises(ValidationError, match="already refused"):
        services.join_request_approve(join_request=jr, by=tree.secretary)
    # A refused request leaves room for a new one.
    second = send(newcomer, tree.sibling)
    services.join_request_approve(join_request=second, by=tree.secretary2)
    with pytest.raises(ValidationError, match="already approved"):
        services.join_request_approve(join_request=second, by=tree.secretary2)


def test_withdrawing_is_for_the_requester(tree, newcomer):
    jr = send(newcomer, tree.branch)
    with pytest.raises(PermissionDenied):
        services.join_request_withdraw(join_request=jr, by=tree.secretary)
    services.join_request_withdraw(join_request=jr, by=newcomer)
    with pytest.raises(ValidationError):
        services.join_request_approve(join_request=jr, by=tree.secretary)


@pytest.mark.django_db(transaction=True)
def test_two_approvals_at_once_register_once(require_postgres, tree, newcomer):
    jr = send(newcomer, tree.branch)
    results = race(lambda: services.join_request_approve(join_request=jr, by=tree.secretary), n=3)
    assert sum(isinstance(r, Member) for r in results) == 1, results
    assert sum(isinstance(r, ValidationError) for r in results) == 2, results
    assert Member.objects.filter(user=newcomer).count() == 1


# --- pages --------------------------------------------------------------------------------------


def test_join_page_search_send_and_see_the_state(client, tree, newcomer):
    client.force_login(newcomer)
    page = client.get(reverse("members:join"), {"q": "二号"})
    assert page.status_code == 200
    assert reverse("members:join_send", args=[tree.sibling.pk]) in page.content.decode()
    form = client.get(reverse("members:join_send", args=[tree.sibling.pk]))
    assert form.status_code == 200
    response = client.post(
        reverse("members:join_send", args=[tree.sibling.pk]),
        {"real_name": "新来的", "phone": "", "letter_number": "L-1", "details": "从外单位调入"},
    )
    assert response.status_code == 302
    jr = JoinRequest.objects.get()
    assert (jr.user, jr.branch, jr.letter_number) == (newcomer, tree.sibling, "L-1")
    page = client.get(reverse("members:join"))
    assert "pending" in page.content.decode() and tree.sibling.name in page.content.decode()
    # A second send is refused with a message, not a second row.
    client.post(reverse("members:join_send", args=[tree.branch.pk]), {"real_name": "新来的"})
    assert JoinRequest.objects.count() == 1


def test_join_pages_refuse_bad_input(client, tree, newcomer):
    client.force_login(newcomer)
    assert client.get(reverse("members:join_send", args=[tree.party_group.pk])).status_code == 404
    assert client.get(reverse("members:join_send", args=[999_999])).status_code == 404
    bad = client.post(reverse("members:join_send", args=[tree.branch.pk]), {"real_name": ""})
    assert bad.status_code == 400 and not JoinRequest.objects.exists()
    other = send(factories.UserFactory(username="someone"), tree.branch)
    assert client.post(reverse("members:join_withdraw", args=[other.pk])).status_code == 404
    assert JoinRequest.objects.get(pk=other.pk).state == State.PENDING
    assert client.get(reverse("members:join")).status_code == 200
    client.logout()
    assert client.get(reverse("members:join")).status_code == 302


def test_join_page_points_a_registered_member_to_their_record(client, tree):
    client.force_login(tree.member.user)
    page = client.get(reverse("members:join"), {"q": "二号"})
    assert reverse("members:me") in page.content.decode()
    assert reverse("members:join_send", args=[tree.sibling.pk]) not in page.content.decode()


# --- admin --------------------------------------------------------------------------------------


def test_admin_approve_and_refuse(client, tree, newcomer, pocket):
    first = send(newcomer, tree.branch)
    second = send(pocket.user, tree.branch)
    url = reverse("admin:members_joinrequest_changelist")
    client.force_login(tree.secretary2)
    assert list(client.get(url).context["cl"].result_list) == []
    client.post(url, {"action": "approve", "_selected_action": [first.pk]})
    assert JoinRequest.objects.get(pk=first.pk).state == State.PENDING

    client.force_login(tree.secretary)
    client.post(url, {"action": "approve", "_selected_action": [first.pk]})
    assert JoinRequest.objects.get(pk=first.pk).state == State.APPROVED
    page = client.post(url, {"action": "refuse", "_selected_action": [second.pk]})
    assert "admin/members/joinrequest/refuse.html" in [t.name for t in page.templates]
    client.post(
        url,
        {"action": "refuse", "_selected_action": [second.pk], "apply": "1", "reason": "信息不全"},
    )
    assert JoinRequest.objects.get(pk=second.pk).refusal_reason == "信息不全"


def test_admin_list_costs_the_same_for_few_and_many(client, tree):
    url = reverse("admin:members_joinrequest_changelist")
    client.force_login(tree.secretary)

    def queries():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    for i in range(2):
        send(factories.UserFactory(username=f"a{i}"), tree.branch)
    small = queries()
    assert small == 9
    for i in range(25):
        send(factories.UserFactory(username=f"b{i}"), tree.branch)
    assert queries() == small
