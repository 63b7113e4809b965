"""The welfare admin: scope (another branch's rows do not exist), saving through the services
("Save and publish", "Save and record as done", participants checked), the totals per
organisation and period, the pairing case screens (handover with the upload checks, read-only
afterwards, closing) and the reviewer's feature action."""

import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from branches.models import TimelineEntry
from tests.core.media_helpers import MINIMAL_PDF
from welfare import services
from welfare.models import PairingCase, WelfareActivity, WelfareFeature, WelfareParticipant

from .conftest import days, exe_as

pytestmark = pytest.mark.django_db
ACTIVITIES = reverse("admin:welfare_welfareactivity_changelist")
CASES = reverse("admin:welfare_pairingcase_changelist")
TOTALS = reverse("admin:welfare_welfareactivity_totals")


def management(prefix: str, total: int = 0, initial: int = 0) -> dict:
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def activity_post(tree, **extra) -> dict:
    data = {
        "organization": tree.branch.pk,
        "kind": "education",
        "title": "给三村小学送书包",
        "description": "<p>每个孩子一个书包。</p>",
        "held_on": timezone.localdate().isoformat(),
        "place": "三村小学",
        "money_yuan": "0",
        "goods": "",
        "goods_value_yuan": "0",
        "beneficiaries": "0",
        **management("photos"),
        **management("participants"),
        **management("sign_ups"),
        **management("features"),
    }
    data.update(extra)
    return data


def test_a_secretary_sees_only_their_branch(client, tree, make_activity):
    own = make_activity(title="本支部活动")
    other = make_activity(org=tree.sibling, by=tree.secretary2, title="兄弟支部活动")
    client.force_login(tree.secretary)
    html = client.get(ACTIVITIES).content.decode()
    assert "本支部活动" in html and "兄弟支部活动" not in html
    assert (
        client.get(reverse("admin:welfare_welfareactivity_change", args=[own.pk])).status_code
        == 200
    )
    assert (
        client.get(reverse("admin:welfare_welfareactivity_change", args=[other.pk])).status_code
        == 404
    )


def test_add_publish_then_record_as_done_through_the_services(client, tree, committed):
    client.force_login(tree.secretary)
    with committed():
        response = client.post(
            reverse("admin:welfare_welfareactivity_add"), activity_post(tree, _publish="1")
        )
    assert response.status_code == 302, response.content.decode()[:3000]
    activity = WelfareActivity.objects.get()
    assert activity.created_by == tree.secretary and activity.is_published
    change = reverse("admin:welfare_welfareactivity_change", args=[activity.pk])
    data = activity_post(
        tree, _done="1", money_yuan="800", beneficiaries="35", goods="书包35个",
        **management("participants", total=2),
        **{"participants-0-member": tree.member.pk, "participants-0-hours": "3",
           "participants-1-member": tree.office.pk, "participants-1-hours": "2.5"},
    )  # fmt: skip
    response = client.post(change, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    activity.refresh_from_db()
    assert activity.status == "done" and activity.beneficiaries == 35
    assert activity.money_yuan == Decimal("800.00")
    assert sorted(WelfareParticipant.objects.values_list("hours", flat=True)) == [
        Decimal("2.5"),
        Decimal("3.0"),
    ]
    assert TimelineEntry.objects.filter(kind="welfare_activity_done").count() == 1


def test_a_participant_from_another_branch_is_a_form_error(client, tree, make_activity):
    activity = make_activity(held_on=timezone.localdate())
    client.force_login(tree.secretary)
    data = activity_post(
        tree, **management("participants", total=1),
        **{"participants-0-member": tree.participant.pk, "participants-0-hours": "1"},
    )  # fmt: skip
    response = client.post(
        reverse("admin:welfare_welfareactivity_change", args=[activity.pk]), data
    )
    assert response.status_code == 200  # the form again, with the error
    assert not WelfareParticipant.objects.exists()


def test_a_themed_day_of_another_branch_is_a_form_error(client, tree):
    from meetings.services import meeting_create

    day = meeting_create(
        by=tree.secretary2, organization=tree.sibling, kind="themed_day", title="主题党日",
        starts_at=timezone.now(), ends_at=timezone.now() + timezone.timedelta(hours=2),
    )  # fmt: skip
    client.force_login(tree.admin)
    response = client.post(
        reverse("admin:welfare_welfareactivity_add"), activity_post(tree, meeting=day.pk)
    )
    assert response.status_code == 200 and not WelfareActivity.objects.exists()


def test_totals_per_organisation_and_period(client, tree, make_activity):
    for org, by, money in (
        (tree.branch, tree.secretary, "100"),
        (tree.sibling, tree.secretary2, "50"),
    ):
        activity = make_activity(org=org, by=by, held_on=timezone.localdate())
        member = tree.member if org == tree.branch else tree.sibling_member
        services.activity_record_done(activity=activity, by=by, participants=[(member, 2)],
                                      money_yuan=Decimal(money), beneficiaries=10)  # fmt: skip
    client.force_login(tree.reviewer)
    response = client.get(TOTALS, {"year": timezone.localdate().year})
    totals = response.context["totals"]
    assert [t.name for t in totals["rows"]] == [tree.branch.name, tree.sibling.name]
    assert totals["total"].money == Decimal("150") and totals["total"].hours == Decimal("4")
    assert totals["total"].beneficiaries == 20
    client.force_login(tree.secretary)
    totals = client.get(TOTALS).context["totals"]
    assert [t.name for t in totals["rows"]] == [tree.branch.name]
    response = client.get(TOTALS, {"year": timezone.localdate().year, "format": "xlsx"})
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][0] == tree.branch.name and rows[1][5] == 100
    last_year = client.get(TOTALS, {"year": timezone.localdate().year - 1}).context["totals"]
    assert last_year["rows"] == []


def test_the_totals_of_a_month_and_a_quarter(tree, make_activity):
    from welfare.forms import PeriodForm

    form = PeriodForm({"year": 2025, "month": 12})
    assert form.is_valid() and form.bounds() == (timezone.datetime(2025, 12, 1).date(), timezone.datetime(2025, 12, 31).date())  # fmt: skip
    form = PeriodForm({"year": 2025, "quarter": 2})
    assert form.is_valid() and [d.isoformat() for d in form.bounds()] == [
        "2025-04-01",
        "2025-06-30",
    ]


def test_a_member_has_no_admin(client, tree):
    client.force_login(tree.member.user)
    assert client.get(ACTIVITIES).status_code in (302, 403)
    assert client.get(TOTALS).status_code in (302, 403)


def test_the_reviewer_features_activities(client, tree, make_activity):
    activity = make_activity()
    client.force_login(tree.reviewer)
    data = {
        "action": "feature",
        "_selected_action": [activity.pk],
        "apply": "1",
        "organization": tree.company.pk,
    }
    assert client.post(ACTIVITIES, data).status_code == 302
    assert WelfareFeature.objects.filter(activity=activity, organization=tree.company).exists()
    client.force_login(tree.secretary)
    html = client.get(ACTIVITIES).content.decode()
    assert 'value="feature"' not in html  # not a reviewer: no such action


def test_a_feature_is_removed_in_the_admin_only_by_a_reviewer_of_where_it_shows(client, tree, make_activity):  # fmt: skip
    """The features inline deletes through `activity_unfeature`: a reviewer of the company may
    edit the branch's activity but not take back what the group's reviewer featured to the
    whole group."""
    from branches.models import RoleAssignment
    from tests import factories

    activity = make_activity(held_on=timezone.localdate())
    feature = services.activity_feature(activity=activity, organization=tree.group, by=tree.reviewer)  # fmt: skip
    company_reviewer = factories.UserFactory(username="company_reviewer")
    factories.RoleAssignmentFactory(
        user=company_reviewer, organization=tree.company, role=RoleAssignment.Role.REVIEWER
    )
    change = reverse("admin:welfare_welfareactivity_change", args=[activity.pk])
    data = activity_post(
        tree, title=activity.title, **management("features", total=1, initial=1),
        **{"features-0-id": feature.pk, "features-0-activity": activity.pk, "features-0-DELETE": "on"},
    )  # fmt: skip
    client.force_login(company_reviewer)
    response = client.post(change, data, follow=True)
    assert response.status_code == 200
    assert WelfareFeature.objects.filter(pk=feature.pk).exists()
    assert any("may not" in str(m) for m in response.context["messages"])
    client.force_login(tree.reviewer)
    assert client.post(change, data).status_code == 302
    assert not WelfareFeature.objects.filter(pk=feature.pk).exists()


# --- cases ------------------------------------------------------------------------------------


def case_post(tree, **extra) -> dict:
    data = {
        "organization": tree.branch.pk,
        "beneficiary_kind": "household",
        "help_kind": "education",
        "village": "那曲镇三村",
        "name": "卓玛",
        "surname": "",
        "address": "",
        "phone": "",
        "situation": "",
        "plan": "每两个月走访一次",
        "paired_members": [tree.member.pk],
        "started_on": timezone.localdate().isoformat(),
        **management("follow_ups"),
    }
    data.update(extra)
    return data


def test_a_case_through_the_admin(client, tree):
    client.force_login(tree.secretary)
    response = client.post(reverse("admin:welfare_pairingcase_add"), case_post(tree))
    assert response.status_code == 302, response.content.decode()[:3000]
    case = PairingCase.objects.get()
    assert list(case.paired_members.all()) == [tree.member] and case.created_by == tree.secretary
    assert "卓玛 · 那曲镇三村" in client.get(CASES).content.decode()
    response = client.post(reverse("admin:welfare_pairingcase_add"), case_post(tree, paired_members=[tree.sibling_member.pk]))  # fmt: skip
    assert response.status_code == 200 and PairingCase.objects.count() == 1  # not a choice here


def test_handover_screen_checks_the_upload_and_leaves_the_case_read_only(client, tree, make_case):
    case = make_case(started_on=timezone.localdate() - days(100))
    client.force_login(tree.secretary)
    url = reverse("admin:welfare_pairingcase_handover", args=[case.pk])
    data = {"to_kind": "village_committee", "to": "那曲镇三村村委会", "contact": "次仁 13908960002",
            "on": timezone.localdate().isoformat(), "note": "项目部撤场"}  # fmt: skip
    response = client.post(url, {**data, "document": exe_as("移交协议.pdf")})
    assert response.status_code == 200
    assert "not a PDF" in response.content.decode() or "errorlist" in response.content.decode()
    case.refresh_from_db()
    assert case.status == "open"
    document = SimpleUploadedFile("移交协议.pdf", MINIMAL_PDF, content_type="application/pdf")
    assert client.post(url, {**data, "document": document}).status_code == 302
    case.refresh_from_db()
    assert case.status == "handed_over" and case.handover_to == "那曲镇三村村委会"
    change = reverse("admin:welfare_pairingcase_change", args=[case.pk])
    page = client.get(change)
    assert page.status_code == 200 and not page.context["has_change_permission"]
    assert client.post(change, case_post(tree, name="改名")).status_code == 403
    case.refresh_from_db()
    assert case.name == "卓玛"
    assert client.get(url).status_code == 403  # no second handover


def test_handover_of_another_branch_is_not_found(client, tree, make_case):
    case = make_case()
    client.force_login(tree.secretary2)
    assert (
        client.get(reverse("admin:welfare_pairingcase_handover", args=[case.pk])).status_code == 404
    )


def test_closing_cases_from_the_list(client, tree, make_case):
    case = make_case()
    client.force_login(tree.secretary)
    data = {"action": "close", "_selected_action": [case.pk], "apply": "1",
            "on": timezone.localdate().isoformat(), "reason": "已搬迁到县城"}  # fmt: skip
    client.post(CASES, data)
    case.refresh_from_db()
    assert case.status == "closed" and case.closed_reason == "已搬迁到县城"
