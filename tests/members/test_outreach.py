"""Outreach cases: who may open, log attempts and close them (the member's branch managers
and the member assigned), double submits, and the pages by raw id."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from members import services
from members.models import ContactAttempt, Member, OutreachCase


@pytest.fixture
def case(tree):
    Member.objects.filter(pk=tree.member.pk).update(contact_status=Member.ContactStatus.LOST)
    return services.outreach_case_open(member=tree.member, by=tree.secretary)


def test_secretary_opens_logs_and_closes(tree, case):
    assert case.organization == tree.branch and case.is_open
    services.outreach_attempt_log(case=case, by=tree.secretary, channel="phone", result="无人接听")
    services.outreach_attempt_log(case=case, by=tree.secretary, channel="visit", result="见到了")
    closed = services.outreach_case_close(case=case, by=tree.secretary, result="found")
    assert closed.closed_at and closed.result == "found" and closed.closed_by == tree.secretary
    assert ContactAttempt.objects.filter(case=case).count() == 2


def test_one_open_case_per_member(tree, case):
    with pytest.raises(ValidationError):
        services.outreach_case_open(member=tree.member, by=tree.secretary)
    services.outreach_case_close(case=case, by=tree.secretary, result="found")
    services.outreach_case_open(member=tree.member, by=tree.secretary)  # a new one after closing
    assert OutreachCase.objects.filter(member=tree.member).count() == 2


def test_closing_twice_and_logging_on_a_closed_case_are_refused(tree, case):
    services.outreach_case_close(case=case, by=tree.secretary, result="found")
    with pytest.raises(ValidationError):
        services.outreach_case_close(case=case, by=tree.secretary, result="found")
    with pytest.raises(ValidationError):
        services.outreach_attempt_log(case=case, by=tree.secretary, channel="phone", result="x")


def test_bad_channel_or_result_is_refused(tree, case):
    with pytest.raises(ValidationError):
        services.outreach_attempt_log(case=case, by=tree.secretary, channel="fax", result="x")
    with pytest.raises(ValidationError):
        services.outreach_attempt_log(case=case, by=tree.secretary, channel="phone", result=" ")
    with pytest.raises(ValidationError):
        services.outreach_case_close(case=case, by=tree.secretary, result="gone")


@pytest.mark.parametrize("who", ["secretary2", "member", "office"])
def test_others_may_not_act(tree, case, who):
    user = tree.secretary2 if who == "secretary2" else getattr(tree, who).user
    with pytest.raises(PermissionDenied):
        services.outreach_case_open(member=tree.office, by=user)
    with pytest.raises(PermissionDenied):
        services.outreach_attempt_log(case=case, by=user, channel="phone", result="x")
    with pytest.raises(PermissionDenied):
        services.outreach_case_close(case=case, by=user, result="found")


def test_the_assigned_member_may_log_and_close(tree):
    case = services.outreach_case_open(
        member=tree.member, by=tree.secretary, assigned_to=tree.office.user
    )
    services.outreach_attempt_log(case=case, by=tree.office.user, channel="message", result="回了")
    services.outreach_case_close(case=case, by=tree.office.user, result="found")
    # ...but not open a case themself.
    with pytest.raises(PermissionDenied):
        services.outreach_case_open(member=tree.member, by=tree.office.user)


def test_pages_by_raw_id_for_another_branch_are_404(client, tree, case):
    client.force_login(tree.secretary2)
    assert client.get(reverse("members:case", args=[case.pk])).status_code == 404
    post = {"channel": "phone", "result": "x"}
    assert client.post(reverse("members:case_attempt", args=[case.pk]), post).status_code == 404
    close = {"result": "found"}
    assert client.post(reverse("members:case_close", args=[case.pk]), close).status_code == 404
    response = client.post(reverse("members:case_open", args=[tree.office.pk]))
    assert response.status_code == 404
    assert not OutreachCase.objects.filter(member=tree.office).exists()
    assert not ContactAttempt.objects.exists()
    assert OutreachCase.objects.get(pk=case.pk).is_open


def test_pages_for_the_secretary(client, tree, english):
    client.force_login(tree.secretary)
    response = client.post(reverse("members:case_open", args=[tree.office.pk]))
    case = OutreachCase.objects.get(member=tree.office)
    assert response.url == reverse("members:case", args=[case.pk])
    # A double submit opens nothing more and says why.
    response = client.post(reverse("members:case_open", args=[tree.office.pk]), follow=True)
    assert "already has an open outreach case" in response.content.decode()
    assert OutreachCase.objects.filter(member=tree.office).count() == 1
    url = reverse("members:case_attempt", args=[case.pk])
    assert client.post(url, {"channel": "fax", "result": "x"}).status_code == 400
    client.post(url, {"channel": "visit", "result": "在工地见到"})
    page = client.get(reverse("members:case", args=[case.pk])).content.decode()
    assert "在工地见到" in page
    # Who logged the attempt is shown by name, not by login.
    assert tree.secretary.member.real_name in page
    client.post(reverse("members:case_close", args=[case.pk]), {"result": "found"})
    assert OutreachCase.objects.get(pk=case.pk).result == "found"


def test_reviewer_sees_open_cases_across_the_subtree_with_their_age(client, tree, english):
    services.outreach_case_open(
        member=tree.member, by=tree.secretary, now=timezone.now() - timedelta(days=12)
    )
    services.outreach_case_open(member=tree.sibling_member, by=tree.secretary2)
    client.force_login(tree.reviewer)
    page = client.get(reverse("members:radar")).content.decode()
    assert tree.member.real_name in page and tree.sibling_member.real_name in page
    assert "open for 1\xa0week" in page
    # The secretary of the sibling sees only their own case.
    client.force_login(tree.secretary2)
    page = client.get(reverse("members:radar")).content.decode()
    assert tree.sibling_member.real_name in page and tree.member.real_name not in page
    # The admin list, scoped too.
    page = client.get(reverse("admin:members_outreachcase_changelist")).content.decode()
    assert tree.sibling_member.real_name in page and tree.member.real_name not in page
