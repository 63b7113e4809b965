"""The member's own record page (/me/): what it shows (and nothing of others), the details
they may correct, starting and withdrawing a transfer, and a fixed query count."""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from members import services
from members.models import JoinRequest, Member, Transfer
from tests import factories

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]
ME = "/me/"


@pytest.fixture
def named(tree):
    """Distinct names, so that a name on the page is unambiguous."""
    people = ["member", "office", "sibling_member", "outsider", "participant"]
    names = ["甲本人", "乙同事", "丙邻居", "丁外人", "戊参与"]
    for i, (attr, name) in enumerate(zip(people, names, strict=True)):
        Member.objects.filter(pk=getattr(tree, attr).pk).update(
            real_name=name, phone=f"1390000000{i}"
        )
    return tree


def test_the_page_shows_my_record(client, named):
    tree = named
    factories.ParticipationFactory(member=tree.member, organization=tree.joint)
    transfer = services.transfer_request(
        member=tree.member, by=tree.member.user, to_branch=tree.sibling, letter_number="L-9"
    )
    services.transfer_refuse(transfer=transfer, by=tree.secretary, reason="工程未完")
    client.force_login(tree.member.user)
    html = client.get(ME).content.decode()
    assert reverse("members:me") == ME
    for text in ["甲本人", tree.branch.name, tree.company.name, tree.site.name, tree.joint.name]:
        assert text in html, text
    assert "工程未完" in html and "L-9" in html and "refused" in html
    assert "remote site" in html  # category


def test_the_page_shows_nothing_of_others(client, named):
    tree = named
    # Others' transfers and requests exist in the same branch.
    services.transfer_request(member=tree.office, by=tree.secretary, to_branch=tree.joint)
    services.transfer_request(
        member=tree.sibling_member, by=tree.secretary2, to_branch=tree.branch, letter_number="X-1"
    )
    services.join_request_send(
        user=factories.UserFactory(username="someone"), branch=tree.branch, real_name="己新人"
    )
    client.force_login(tree.member.user)
    html = client.get(ME).content.decode()
    for other in ["乙同事", "丙邻居", "丁外人", "戊参与", "己新人", "X-1", tree.joint.name]:
        assert other not in html, other
    for phone in Member.objects.exclude(pk=tree.member.pk).values_list("phone", flat=True):
        if phone:
            assert phone not in html


def test_a_person_without_a_record_is_sent_to_find_a_branch(client, tree):
    user = factories.UserFactory(username="newcomer")
    client.force_login(user)
    response = client.get(ME)
    assert response.status_code == 200
    assert reverse("members:join") in response.content.decode()
    assert client.post(reverse("members:me_contact"), {"phone": "1"}).status_code == 403
    assert client.get(reverse("members:me_transfer")).status_code == 403


def test_anonymous_is_sent_to_log_in(client, tree):
    assert client.get(ME).status_code == 302


def test_correcting_my_contact_details_only(client, tree):
    client.force_login(tree.member.user)
    response = client.post(
        reverse("members:me_contact"),
        {
            "phone": "13912345678",
            "position": "技术员",
            "real_name": "改名",
            "branch": tree.sibling.pk,
        },
    )
    assert response.status_code == 302
    member = Member.objects.get(pk=tree.member.pk)
    assert (member.phone, member.position) == ("13912345678", "技术员")
    assert member.real_name != "改名" and member.branch == tree.branch
    too_long = client.post(reverse("members:me_contact"), {"phone": "1" * 40, "position": ""})
    assert too_long.status_code == 400
    assert Member.objects.get(pk=tree.member.pk).phone == "13912345678"
    assert client.get(reverse("members:me_contact")).status_code == 405


def test_own_update_service_is_for_the_member_themself(tree):
    with pytest.raises(services.records.PermissionDenied):
        services.member_own_update(member=tree.member, by=tree.secretary, fields={"phone": "1"})
    with pytest.raises(TypeError):
        services.member_own_update(
            member=tree.member, by=tree.member.user, fields={"branch": tree.sibling}
        )


def test_starting_a_transfer_from_my_record(client, tree):
    client.force_login(tree.member.user)
    found = client.get(ME, {"q": "二号"}).content.decode()
    link = f"{reverse('members:me_transfer')}?to={tree.sibling.pk}"
    assert link in found
    assert client.get(link).status_code == 200
    response = client.post(
        reverse("members:me_transfer"),
        {"to_branch": tree.sibling.pk, "letter_number": "L-1", "reason": "调往二号项目"},
    )
    assert response.status_code == 302
    transfer = Transfer.objects.get()
    assert (transfer.member, transfer.to_branch, transfer.requested_by) == (
        tree.member,
        tree.sibling,
        tree.member.user,
    )
    # No second one while this one is open; the page no longer offers it.
    client.post(reverse("members:me_transfer"), {"to_branch": tree.joint.pk})
    assert Transfer.objects.count() == 1
    assert (
        reverse("members:me_transfer") + "?" not in client.get(ME, {"q": "联合"}).content.decode()
    )
    # Withdraw it.
    client.post(reverse("members:me_transfer_withdraw", args=[transfer.pk]))
    assert Transfer.objects.get().state == Transfer.State.WITHDRAWN


def test_transfer_out_of_the_group_from_my_record(client, tree):
    client.force_login(tree.member.user)
    assert client.get(reverse("members:me_transfer")).status_code == 200
    bad = client.post(reverse("members:me_transfer"), {"external_organization": ""})
    assert bad.status_code == 400 and not Transfer.objects.exists()
    client.post(
        reverse("members:me_transfer"),
        {"external_organization": "某市直机关工委", "reason": "回原籍"},
    )
    transfer = Transfer.objects.get()
    assert transfer.is_external and transfer.state == Transfer.State.REQUESTED


def test_transfer_pages_refuse_bad_input(client, tree):
    client.force_login(tree.member.user)
    url = reverse("members:me_transfer")
    assert client.get(url, {"to": tree.party_group.pk}).status_code == 404
    assert client.get(url, {"to": "abc"}).status_code == 404
    assert client.post(url, {"to_branch": 999_999}).status_code == 404
    others = services.transfer_request(member=tree.office, by=tree.secretary, to_branch=tree.joint)
    withdraw = reverse("members:me_transfer_withdraw", args=[others.pk])
    assert client.post(withdraw).status_code == 404
    assert Transfer.objects.get().state == Transfer.State.REQUESTED
    assert not Transfer.objects.filter(member=tree.member).exists()


def _me_queries(client) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(ME).status_code == 200
    return len(ctx.captured_queries)


def test_query_count_is_fixed(client, tree):
    client.force_login(tree.member.user)
    small = _me_queries(client)
    now = timezone.now()
    for i in range(12):
        org = factories.OrganizationFactory(parent=tree.company, name=f"小组{i}", kind="group")
        factories.ParticipationFactory(
            member=tree.member,
            organization=org,
            started_on=date(2025, 1, 1),
            ended_on=date(2025, 6, 1) if i % 2 else None,
        )
        Transfer.objects.create(
            member=tree.member,
            from_branch=tree.branch,
            to_branch=tree.sibling,
            state=Transfer.State.WITHDRAWN,
            requested_at=now - timedelta(days=i),
            closed_at=now,
        )
        JoinRequest.objects.create(
            user=tree.member.user,
            branch=tree.sibling,
            real_name="x",
            state=JoinRequest.State.REFUSED,
            decided_at=now,
        )
    large = _me_queries(client)
    assert large == small
    # session, user, the page's five (member, participations, transfers, path, requests),
    # the header's one.
    assert small == 8


def test_the_home_page_shows_my_transfer_or_join_request_in_progress(client, tree):
    member = tree.member
    client.force_login(member.user)
    assert tree.sibling.name not in client.get("/").content.decode()
    services.transfer_request(member=member, by=member.user, to_branch=tree.sibling, reason="调动")
    page = client.get("/").content.decode()
    assert tree.sibling.name in page and reverse("members:me") in page

    joiner = factories.UserFactory(username="joiner-home")
    client.force_login(joiner)
    assert tree.branch.name not in client.get("/").content.decode()
    services.join_request_send(user=joiner, branch=tree.branch, real_name="新来的")
    page = client.get("/").content.decode()
    assert tree.branch.name in page and reverse("members:join") in page
