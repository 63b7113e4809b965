"""The demo's radar slice: open and closed outreach cases with attempts in `secretary`'s
branch, shown on the radar page; the radar run over the demo keeps pocket members pocket."""

import pytest
from django.urls import reverse

from members import services
from members.models import Member, OutreachCase
from tests.members.test_demo import demo, user  # noqa: F401 - the module-scoped fixture

pytestmark = pytest.mark.django_db


def test_outreach_cases_in_the_secretarys_branch(demo, client):  # noqa: F811
    secretary = user("secretary")
    cases = OutreachCase.objects.filter(organization=secretary.member.branch)
    assert cases.filter(closed_at__isnull=True).exists()
    assert cases.filter(result=OutreachCase.Result.FOUND).exists()
    assert all(c.attempts.exists() for c in cases)
    client.force_login(secretary)
    page = client.get(reverse("members:radar")).content.decode()
    open_case = cases.filter(closed_at__isnull=True).select_related("member").first()
    assert open_case.member.real_name in page
    client.force_login(user("reviewer"))
    assert open_case.member.real_name in client.get(reverse("members:radar")).content.decode()


def test_the_radar_over_the_demo(demo):  # noqa: F811
    pocket = set(Member.objects.filter(contact_status="pocket").values_list("pk", flat=True))
    services.members_update_contact_status()
    assert (
        set(Member.objects.filter(contact_status="pocket").values_list("pk", flat=True)) == pocket
    )
    statuses = set(Member.objects.values_list("contact_status", flat=True))
    assert {"active", "at_risk", "lost", "pocket"} <= statuses
