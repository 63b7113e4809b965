"""Transfers of the registration: the state machine (no skipped step, no double acceptance,
only the right secretary acts, concurrent approvals on Postgres), transfers out of the group,
overdue transfers, and the admin the secretaries work in."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from branches.models import TimelineEntry
from members import selectors, services
from members.models import Member, Transfer
from tests import factories
from tests.members.conftest import events_for, race, recipients_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]
State = Transfer.State


def fresh(obj):
    return type(obj).objects.get(pk=obj.pk)


# --- asking ----------------------------------------------------------------------------------------


def test_the_member_asks_and_their_branch_is_told(tree, request_transfer, committed):
    with committed():
        transfer = request_transfer(reason="调往二号项目", letter_number="川组转[2026]12号")
    assert transfer.state == State.REQUESTED
    assert transfer.from_branch == tree.branch and transfer.to_branch == tree.sibling
    assert transfer.requested_by == tree.member.user and transfer.released_at is None
    (event,) = events_for(transfer, "transfer_requested")
    assert recipients_of(event) == {"secretary"}
    # Asking moves nothing.
    assert fresh(tree.member).branch == tree.branch


@pytest.mark.parametrize(
    ("who", "allowed"),
    [
        ("member", True),  # the member themself
        ("secretary", True),  # A's secretary
        ("reviewer", True),  # the committee above A
        ("admin", True),
        ("secretary2", False),  # B's secretary cannot start it
        ("office", False),  # another member of A
        ("outsider", False),
    ],
)
def test_who_may_ask_for_a_transfer(tree, request_transfer, who, allowed):
    by = getattr(tree, who)
    by = getattr(by, "user", by)
    if allowed:
        assert request_transfer(by=by).state == State.REQUESTED
    else:
        with pytest.raises(PermissionDenied):
            request_transfer(by=by)
        assert not Transfer.objects.exists()


def test_a_transfer_names_one_registration_branch_other_than_the_current_one(
    tree, request_transfer
):
    with pytest.raises(ValidationError, match="registered there already"):
        request_transfer(to=tree.branch)
    with pytest.raises(ValidationError, match="registered with a branch"):
        request_transfer(to=tree.party_group)
    with pytest.raises(ValidationError, match="either a branch"):
        request_transfer(to=tree.sibling, external_organization="某市委组织部")
    with pytest.raises(ValidationError, match="either a branch"):
        services.transfer_request(member=tree.member, by=tree.member.user)
    assert not Transfer.objects.exists()


def test_one_transfer_in_progress_per_member(tree, request_transfer):
    request_transfer()
    with pytest.raises(ValidationError, match="already has a transfer in progress"):
        request_transfer(to=tree.joint)
    with pytest.raises(IntegrityError), transaction.atomic():
        Transfer.objects.create(
            member=tree.member,
            from_branch=tree.branch,
            to_branch=tree.joint,
            requested_at=timezone.now(),
        )


def test_a_closed_transfer_does_not_block_a_new_one(tree, request_transfer):
    first = request_transfer()
    services.transfer_withdraw(transfer=first, by=tree.member.user)
    assert request_transfer(to=tree.joint).state == State.REQUESTED


def test_the_database_refuses_inconsistent_states(tree):
    now = timezone.now()
    base = {"member": tree.member, "from_branch": tree.branch, "requested_at": now}
    bad = [
        {"to_branch": tree.sibling, "state": "lost"},  # unknown state
        {"to_branch": tree.sibling, "state": State.ACCEPTED, "closed_at": now},  # never released
        {"to_branch": tree.sibling, "state": State.RELEASED},  # released without a date
        {"to_branch": tree.branch},  # to itself
        {"state": State.REQUESTED},  # nowhere
        {"to_branch": tree.sibling, "external_organization": "某市委"},  # both
        {"to_branch": tree.sibling, "state": State.REFUSED},  # closed without a date
    ]
    for fields in bad:
        with pytest.raises(IntegrityError), transaction.atomic():
            Transfer.objects.create(**base, **fields)


# --- the two approvals ----------------------------------------------------------------------------


def test_release_then_accept_moves_the_registration(tree, request_transfer, committed):
    transfer = request_transfer()
    with committed():
        released = services.transfer_release(transfer=transfer, by=tree.secretary)
    assert released.state == State.RELEASED and released.released_by == tree.secretary
    # The letter is in the member's hands: registered nowhere (pocket) until B accepts.
    pocket = fresh(tree.member)
    assert pocket.branch is None and pocket.contact_status == Member.ContactStatus.POCKET
    told = [recipients_of(e) for e in events_for(transfer, "transfer_released").order_by("pk")]
    assert told == [{"secretary2"}, {"member"}]

    with committed():
        accepted = services.transfer_accept(transfer=transfer, by=tree.secretary2)
    assert accepted.state == State.ACCEPTED and accepted.closed_by == tree.secretary2
    member = fresh(tree.member)
    assert member.branch == tree.sibling
    assert member.contact_status == Member.ContactStatus.ACTIVE
    assert member.project_site is None  # the old branch's site
    notified = {u for e in events_for(transfer, "transfer_accepted") for u in recipients_of(e)}
    assert notified == {"member", "secretary"}
    kinds = dict(
        TimelineEntry.objects.filter(
            kind__in=["member_transferred_out", "member_transferred_in"]
        ).values_list("organization__name", "kind")
    )
    assert kinds == {
        tree.branch.name: "member_transferred_out",
        tree.sibling.name: "member_transferred_in",
    }


def test_no_skipped_step(tree, request_transfer):
    transfer = request_transfer()
    with pytest.raises(ValidationError, match="has to release them first"):
        services.transfer_accept(transfer=transfer, by=tree.secretary2)
    with pytest.raises(ValidationError, match="has to release them first"):
        services.transfer_accept(transfer=transfer, by=tree.admin)
    assert fresh(transfer).state == State.REQUESTED
    assert fresh(tree.member).branch == tree.branch


def test_no_double_release_nor_double_acceptance(tree, request_transfer):
    transfer = request_transfer()
    services.transfer_release(transfer=transfer, by=tree.secretary)
    with pytest.raises(ValidationError, match="Only a requested transfer"):
        services.transfer_release(transfer=transfer, by=tree.secretary)
    services.transfer_accept(transfer=transfer, by=tree.secretary2)
    with pytest.raises(ValidationError, match="Only a released transfer"):
        services.transfer_accept(transfer=transfer, by=tree.secretary2)
    assert TimelineEntry.objects.filter(kind="member_transferred_in").count() == 1


@pytest.mark.parametrize(
    ("step", "who", "allowed"),
    [
        ("release", "secretary", True),
        ("release", "reviewer", True),
        ("release", "secretary2", False),  # B cannot release for A
        ("release", "member", False),
        ("release", "outsider", False),
        ("accept", "secretary2", True),
        ("accept", "reviewer", True),
        ("accept", "secretary", False),  # A cannot accept for B
        ("accept", "member", False),
        ("accept", "outsider", False),
    ],
)
def test_only_the_right_secretary_acts(tree, request_transfer, step, who, allowed):
    transfer = request_transfer()
    if step == "accept":
        services.transfer_release(transfer=transfer, by=tree.secretary)
    by = getattr(tree, who)
    by = getattr(by, "user", by)
    service = services.transfer_release if step == "release" else services.transfer_accept
    before = fresh(transfer).state
    if allowed:
        service(transfer=transfer, by=by)
        assert fresh(transfer).state != before
    else:
        with pytest.raises(PermissionDenied):
            service(transfer=transfer, by=by)
        assert fresh(transfer).state == before
        # Refused to act: the member stays where the last real step left them.
        assert fresh(tree.member).branch == (None if step == "accept" else tree.branch)


def test_refusals_by_each_side_with_a_reason(tree, request_transfer, committed):
    transfer = request_transfer()
    with pytest.raises(PermissionDenied):  # B has nothing to refuse before A released
        services.transfer_refuse(transfer=transfer, by=tree.secretary2, reason="不收")
    with pytest.raises(ValidationError, match="reason"):
        services.transfer_refuse(transfer=transfer, by=tree.secretary, reason="  ")
    with committed():
        refused = services.transfer_refuse(transfer=transfer, by=tree.secretary, reason="工程未完")
    assert refused.state == State.REFUSED and refused.refusal_reason == "工程未完"
    assert recipients_of(events_for(transfer, "transfer_refused").get()) == {"member"}
    with pytest.raises(ValidationError, match="this one is refused"):
        services.transfer_release(transfer=transfer, by=tree.secretary)

    second = request_transfer()
    services.transfer_release(transfer=second, by=tree.secretary)
    with pytest.raises(PermissionDenied):  # now it is B's turn
        services.transfer_refuse(transfer=second, by=tree.secretary, reason="x")
    services.transfer_refuse(transfer=second, by=tree.secretary2, reason="编制已满")
    assert fresh(second).state == State.REFUSED
    # Released by A, refused by B: accepted nowhere, a pocket member carrying the letter.
    stranded = fresh(tree.member)
    assert stranded.branch is None and stranded.contact_status == Member.ContactStatus.POCKET


def test_withdrawing(tree, request_transfer):
    transfer = request_transfer()
    with pytest.raises(PermissionDenied):
        services.transfer_withdraw(transfer=transfer, by=tree.office.user)
    with pytest.raises(PermissionDenied):
        services.transfer_withdraw(transfer=transfer, by=tree.secretary2)
    services.transfer_release(transfer=transfer, by=tree.secretary)
    assert fresh(tree.member).branch is None
    withdrawn = services.transfer_withdraw(transfer=transfer, by=tree.member.user)
    assert withdrawn.state == State.WITHDRAWN and withdrawn.closed_at is not None
    assert fresh(tree.member).branch == tree.branch  # the letter went back to A
    with pytest.raises(ValidationError, match="already withdrawn"):
        services.transfer_withdraw(transfer=transfer, by=tree.member.user)
    with pytest.raises(ValidationError):
        services.transfer_accept(transfer=transfer, by=tree.secretary2)


# --- out of the group --------------------------------------------------------------------------------


def test_a_transfer_out_of_the_group_archives_the_member(tree, request_transfer):
    transfer = request_transfer(external_organization="某市直机关工委")
    assert transfer.is_external
    with pytest.raises(ValidationError, match="letter number"):
        services.transfer_release(transfer=transfer, by=tree.secretary)
    assert fresh(transfer).state == State.REQUESTED
    assert (
        selectors.members_of_organizations(organizations=[tree.branch])
        .filter(pk=tree.member.pk)
        .exists()
    )

    released = services.transfer_release(
        transfer=transfer, by=tree.secretary, letter_number="党组转[2026]7号"
    )
    assert released.state == State.RELEASED and released.letter_number == "党组转[2026]7号"
    assert not released.is_open
    member = Member.objects.select_related("user").get(pk=tree.member.pk)
    assert member.archived_at is not None and not member.user.is_active
    assert member.branch == tree.branch  # history kept
    assert (
        not selectors.members_of_organizations(organizations=[tree.group])
        .filter(pk=member.pk)
        .exists()
    )
    assert TimelineEntry.objects.filter(
        organization=tree.branch, kind="member_transferred_out", params__to="某市直机关工委"
    ).exists()
    with pytest.raises(ValidationError):
        services.transfer_accept(transfer=transfer, by=tree.admin)
    with pytest.raises(ValidationError, match="archived"):
        services.transfer_request(member=member, by=tree.secretary, to_branch=tree.sibling)


# --- overdue -------------------------------------------------------------------------------------------


def test_overdue_transfers_at_the_edge_and_in_scope(tree, request_transfer, settings):
    settings.NETBRANCH_TRANSFER_OVERDUE_DAYS = 30
    now = timezone.now()
    old = request_transfer()
    Transfer.objects.filter(pk=old.pk).update(requested_at=now - timedelta(days=30, seconds=1))
    recent = request_transfer(member=tree.office, by=tree.secretary, to=tree.joint)
    Transfer.objects.filter(pk=recent.pk).update(requested_at=now - timedelta(days=29))
    assert list(selectors.transfers_overdue(now=now)) == [old]

    for who, sees in [
        ("secretary", True),  # leaving A
        ("secretary2", True),  # entering B
        ("reviewer", True),
        ("admin", True),
        ("member", False),
    ]:
        user = getattr(tree, who)
        user = getattr(user, "user", user)
        assert (old in selectors.transfers_overdue(user=user, now=now)) is sees, who
    outside_secretary = factories.UserFactory(username="outside_sec")
    factories.RoleAssignmentFactory(user=outside_secretary, organization=tree.outside)
    assert not selectors.transfers_overdue(user=outside_secretary, now=now).exists()

    services.transfer_release(transfer=old, by=tree.secretary)  # still waiting for B
    assert list(selectors.transfers_overdue(now=now)) == [old]
    services.transfer_accept(transfer=old, by=tree.secretary2)
    assert not selectors.transfers_overdue(now=now).exists()


# --- concurrency (Postgres) ---------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_acceptances_at_once_give_one(require_postgres, tree, request_transfer):
    transfer = request_transfer()
    services.transfer_release(transfer=transfer, by=tree.secretary)
    reviewer, secretary2 = tree.reviewer, tree.secretary2

    users = iter([reviewer, secretary2, reviewer])

    def accept():
        return services.transfer_accept(transfer=transfer, by=next(users))

    results = race(accept, n=3)
    accepted = [r for r in results if isinstance(r, Transfer)]
    refused = [r for r in results if isinstance(r, ValidationError)]
    assert len(accepted) == 1 and len(refused) == 2, results
    assert TimelineEntry.objects.filter(kind="member_transferred_in").count() == 1
    assert fresh(tree.member).branch == tree.sibling


@pytest.mark.django_db(transaction=True)
def test_accept_and_refuse_at_once_leave_one_outcome(require_postgres, tree, request_transfer):
    transfer = request_transfer()
    services.transfer_release(transfer=transfer, by=tree.secretary)
    steps = iter(
        [
            lambda: services.transfer_accept(transfer=transfer, by=tree.secretary2),
            lambda: services.transfer_refuse(transfer=transfer, by=tree.reviewer, reason="不收"),
        ]
    )
    results = race(lambda: next(steps)(), n=2)
    assert sum(isinstance(r, Transfer) for r in results) == 1, results
    assert sum(isinstance(r, ValidationError) for r in results) == 1, results
    final = fresh(transfer)
    moved = fresh(tree.member).branch == tree.sibling
    assert (final.state == State.ACCEPTED) is moved


@pytest.mark.django_db(transaction=True)
def test_two_requests_at_once_give_one_transfer(require_postgres, tree):
    member = tree.member
    results = race(
        lambda: services.transfer_request(member=member, by=tree.admin, to_branch=tree.sibling),
        n=3,
    )
    assert sum(isinstance(r, Transfer) for r in results) == 1, results
    assert all(isinstance(r, Transfer | ValidationError) for r in results), results
    assert Transfer.objects.count() == 1


# --- admin -------------------------------------------------------------------------------------------


def _changelist_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def _many_transfers(tree, n):
    members = [factories.MemberFactory(branch=tree.branch, real_name=f"调动{i}") for i in range(n)]
    now = timezone.now()
    Transfer.objects.bulk_create(
        Transfer(
            member=m,
            from_branch=tree.branch,
            to_branch=tree.sibling,
            requested_at=now - timedelta(days=i * 3),
            requested_by=m.user,
        )
        for i, m in enumerate(members)
    )


@pytest.mark.parametrize("who", ["secretary", "secretary2", "reviewer"])
def test_admin_list_costs_the_same_for_few_and_many(client, tree, who):
    client.force_login(getattr(tree, who))
    url = reverse("admin:members_transfer_changelist")
    _many_transfers(tree, 2)
    small = _changelist_queries(client, url)
    assert small == 11  # session, user, scope, counts, the page of rows with its joins, ...
    _many_transfers(tree, 30)
    assert _changelist_queries(client, url) == small
    assert _changelist_queries(client, url + "?overdue=yes") == small


def test_admin_list_shows_only_transfers_touching_the_secretarys_branch(client, tree):
    outside_member = tree.outsider
    elsewhere = Transfer.objects.create(
        member=outside_member,
        from_branch=tree.outside,
        to_branch=factories.OrganizationFactory(parent=tree.other_group, name="外部二支部"),
        requested_at=timezone.now(),
    )
    mine = services.transfer_request(member=tree.member, by=tree.secretary, to_branch=tree.joint)
    client.force_login(tree.secretary2)
    response = client.get(reverse("admin:members_transfer_changelist"))
    assert list(response.context["cl"].result_list) == []
    assert client.get(reverse("admin:members_transfer_change", args=[mine.pk])).status_code == 404
    client.force_login(tree.secretary)
    response = client.get(reverse("admin:members_transfer_changelist"))
    assert list(response.context["cl"].result_list) == [mine]
    response = client.get(reverse("admin:members_transfer_change", args=[elsewhere.pk]))
    assert response.status_code == 404


def test_admin_overdue_filter(client, tree, request_transfer, settings):
    settings.NETBRANCH_TRANSFER_OVERDUE_DAYS = 30
    old = request_transfer()
    Transfer.objects.filter(pk=old.pk).update(requested_at=timezone.now() - timedelta(days=40))
    request_transfer(member=tree.office, by=tree.secretary, to=tree.joint)
    client.force_login(tree.reviewer)
    response = client.get(reverse("admin:members_transfer_changelist") + "?overdue=yes")
    assert [t.pk for t in response.context["cl"].result_list] == [old.pk]


def test_admin_actions_release_with_a_form_then_accept(client, tree, request_transfer):
    transfer = request_transfer()
    url = reverse("admin:members_transfer_changelist")
    client.force_login(tree.secretary)
    page = client.post(url, {"action": "release", "_selected_action": [transfer.pk]})
    assert page.status_code == 200
    assert "admin/members/transfer/release.html" in [t.name for t in page.templates]
    assert fresh(transfer).state == State.REQUESTED  # not before "apply"
    done = client.post(
        url,
        {"action": "release", "_selected_action": [transfer.pk], "apply": "1", "letter_number": ""},
    )
    assert done.status_code == 302
    assert fresh(transfer).state == State.RELEASED

    # A's secretary cannot accept for B: a warning, nothing changes.
    client.post(url, {"action": "accept", "_selected_action": [transfer.pk]})
    assert fresh(transfer).state == State.RELEASED
    client.force_login(tree.secretary2)
    client.post(url, {"action": "accept", "_selected_action": [transfer.pk]})
    assert fresh(transfer).state == State.ACCEPTED
    assert fresh(tree.member).branch == tree.sibling


def test_admin_refuse_needs_a_reason(client, tree, request_transfer):
    transfer = request_transfer()
    url = reverse("admin:members_transfer_changelist")
    client.force_login(tree.secretary)
    page = client.post(
        url, {"action": "refuse", "_selected_action": [transfer.pk], "apply": "1", "reason": ""}
    )
    assert page.status_code == 200 and page.context["form"].errors
    client.post(
        url,
        {"action": "refuse", "_selected_action": [transfer.pk], "apply": "1", "reason": "工程未完"},
    )
    assert fresh(transfer).state == State.REFUSED


def test_admin_add_goes_through_the_service(client, tree):
    client.force_login(tree.secretary)
    response = client.post(
        reverse("admin:members_transfer_add"),
        {
            "member": tree.office.pk,
            "to_branch": tree.sibling.pk,
            "external_organization": "",
            "letter_number": "",
            "reason": "调动",
        },
    )
    assert response.status_code == 302, response.context and response.context["errors"]
    transfer = Transfer.objects.get()
    assert transfer.requested_by == tree.secretary and transfer.from_branch == tree.branch
    # A member of another branch is not a choice for this secretary.
    response = client.post(
        reverse("admin:members_transfer_add"),
        {"member": tree.sibling_member.pk, "to_branch": tree.branch.pk},
    )
    assert response.status_code == 200 and Transfer.objects.count() == 1


# --- the daily overdue flag ------------------------------------------------------------------------


def _age(transfer, days):
    Transfer.objects.filter(pk=transfer.pk).update(
        requested_at=timezone.now() - timedelta(days=days)
    )


def test_overdue_transfers_are_flagged_once_to_both_branches_and_the_reviewer(
    tree, request_transfer, committed, settings
):
    settings.NETBRANCH_TRANSFER_OVERDUE_DAYS = 30
    old = request_transfer()
    _age(old, 31)
    young = request_transfer(member=tree.office, by=tree.secretary, to=tree.joint)
    _age(young, 29)
    with committed():
        assert services.transfers_flag_overdue() == 1
    (event,) = events_for(old, "transfer_overdue")
    assert recipients_of(event) == {"secretary", "secretary2", "reviewer"}
    assert "overdue=yes" in event.url
    assert not events_for(young).filter(kind="transfer_overdue").exists()
    assert services.transfers_flag_overdue() == 0  # once per transfer
    assert events_for(old, "transfer_overdue").count() == 1


def test_the_flag_skips_closed_and_external_released_transfers(tree, request_transfer, settings):
    settings.NETBRANCH_TRANSFER_OVERDUE_DAYS = 30
    done = request_transfer()
    services.transfer_withdraw(transfer=done, by=tree.member.user)
    _age(done, 60)
    gone = request_transfer(member=tree.office, by=tree.secretary, external_organization="某市委")
    services.transfer_release(transfer=gone, by=tree.secretary, letter_number="L")
    _age(gone, 60)
    assert services.transfers_flag_overdue() == 0


@pytest.mark.django_db(transaction=True)
def test_two_flag_runs_at_once_tell_once(require_postgres, tree, request_transfer, settings):
    settings.NETBRANCH_TRANSFER_OVERDUE_DAYS = 30
    for member, to in [(tree.member, tree.sibling), (tree.office, tree.joint)]:
        _age(request_transfer(member=member, by=tree.secretary, to=to), 40)
    results = race(services.transfers_flag_overdue, n=3)
    assert sum(r for r in results if isinstance(r, int)) == 2, results
    assert all(isinstance(r, int) for r in results), results
    from notifications.models import Event

    assert Event.objects.filter(kind="transfer_overdue").count() == 2


def test_admin_add_reports_mistakes_next_to_the_fields(client, tree, request_transfer):
    request_transfer(member=tree.office, by=tree.secretary, to=tree.joint)
    client.force_login(tree.secretary)
    url = reverse("admin:members_transfer_add")
    cases = [
        {"member": tree.member.pk, "to_branch": tree.branch.pk},  # where they are
        {"member": tree.member.pk, "to_branch": tree.sibling.pk, "external_organization": "某"},
        {"member": tree.member.pk},  # nowhere
        {"member": tree.office.pk, "to_branch": tree.sibling.pk},  # one in progress already
    ]
    for data in cases:
        response = client.post(url, data)
        assert response.status_code == 200, data
        assert response.context["adminform"].form.errors, data
    assert Transfer.objects.count() == 1


# --- released and accepted nowhere: the pocket member ------------------------------------------


def test_a_released_member_stays_on_the_releasing_branchs_radar(tree, request_transfer):
    from members.selectors import radar_rows

    transfer = request_transfer()
    services.transfer_release(transfer=transfer, by=tree.secretary)
    services.transfer_refuse(transfer=transfer, by=tree.secretary2, reason="编制已满")
    mine = {m.pk for m in radar_rows(user=tree.secretary)}
    assert tree.member.pk in mine  # A released them last: A looks after them
    assert tree.member.pk not in {m.pk for m in radar_rows(user=tree.secretary2)}
    case = services.outreach_case_open(member=fresh(tree.member), by=tree.secretary)
    assert case.pk


def test_joining_another_branch_closes_the_waiting_transfer(tree, request_transfer):
    from members.models import JoinRequest

    transfer = request_transfer()
    services.transfer_release(transfer=transfer, by=tree.secretary)
    join = JoinRequest.objects.create(
        user=tree.member.user, branch=tree.branch, real_name="x", letter_number="组转1号"
    )
    member = services.join_request_approve(join_request=join, by=tree.secretary)
    assert member.branch == tree.branch
    assert fresh(transfer).state == State.WITHDRAWN
    with pytest.raises(ValidationError):
        services.transfer_accept(transfer=transfer, by=tree.secretary2)
