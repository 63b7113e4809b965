"""The privacy matrix: member of the branch, paired member, member of another branch, reviewer
(and the two secretaries) over case pages, case photos and documents, activity pages and
photos, exports and notification texts. Personal data of the household: 卓玛, her phone
13908960001, her address 二组15号 and what the visits found."""

import io

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from discussions.registry import is_commentable
from notifications import kinds
from notifications.models import Event
from welfare import privacy, services
from welfare.models import FollowUpPhoto, PairingCase, WelfareActivity

from .conftest import days, pdf, png

pytestmark = pytest.mark.django_db
SECRETS = ("卓玛", "13908960001", "二组15号", "孩子的学费")
PUBLIC = "a household in 那曲镇三村"


def user_of(tree, who):
    return {
        "member of the branch": tree.office.user,
        "paired member": tree.member.user,
        "member of another branch": tree.sibling_member.user,
        "reviewer": tree.reviewer,
        "secretary": tree.secretary,
        "other secretary": tree.secretary2,
    }[who]


# who: (sees the case page, sees personal data)
MATRIX = {
    "member of the branch": (True, False),
    "paired member": (True, True),
    "member of another branch": (False, False),
    "reviewer": (True, True),
    "secretary": (True, True),
    "other secretary": (False, False),
}


@pytest.fixture
def case(tree, make_case):
    case = make_case()
    services.follow_up_add(
        case=case, by=tree.member.user, visited_on=timezone.localdate(),
        notes="交了孩子的学费", photos=[png("private.png")],
    )  # fmt: skip
    services.follow_up_add(
        case=case, by=tree.secretary, visited_on=timezone.localdate() - days(1),
        notes="送米面油", photos=[png("cleared.png")], cleared=True,
    )  # fmt: skip
    return case


def photo(cleared: bool) -> FollowUpPhoto:
    return FollowUpPhoto.objects.get(cleared=cleared)


@pytest.mark.parametrize("who", list(MATRIX))
def test_case_page(client, tree, case, who):
    sees, personal = MATRIX[who]
    client.force_login(user_of(tree, who))
    response = client.get(case.get_absolute_url())
    if not sees:
        assert response.status_code == 404
        return
    html = response.content.decode()
    assert response.status_code == 200
    for secret in SECRETS:
        assert (secret in html) is personal, secret
    assert (PUBLIC in html) is not personal
    private_url = reverse("welfare:case_photo", args=[case.pk, photo(False).pk])
    assert (private_url in html) is personal
    assert photo(True).image.url in html  # a cleared photo: to everyone who sees the case


@pytest.mark.parametrize("who", list(MATRIX))
def test_case_photos(client, tree, case, who):
    sees, personal = MATRIX[who]
    client.force_login(user_of(tree, who))
    private = client.get(reverse("welfare:case_photo", args=[case.pk, photo(False).pk]))
    cleared = client.get(reverse("welfare:case_photo", args=[case.pk, photo(True).pk]))
    assert private.status_code == (200 if personal else 404)
    assert cleared.status_code == (200 if sees else 404)
    if personal:
        assert private["Cache-Control"].startswith("private")


@pytest.mark.parametrize("who", list(MATRIX))
def test_handover_document(client, tree, case, who):
    services.case_hand_over(case=case, by=tree.secretary, to_kind="village_committee",
                            to="那曲镇三村村委会", contact="次仁 13908960002",
                            on=timezone.localdate(), document=pdf())  # fmt: skip
    sees, personal = MATRIX[who]
    client.force_login(user_of(tree, who))
    page = client.get(case.get_absolute_url())
    assert page.status_code == (200 if sees else 404)
    if sees:
        html = page.content.decode()
        assert "那曲镇三村村委会" in html  # to whom: for the record, readable by all who see it
        assert ("13908960002" in html) is personal
    document = client.get(reverse("welfare:handover_document", args=[case.pk]))
    assert document.status_code == (200 if personal else 404)


@pytest.mark.parametrize("who", list(MATRIX))
def test_case_list_labels(client, tree, case, who):
    sees, personal = MATRIX[who]
    client.force_login(user_of(tree, who))
    html = client.get(reverse("welfare:cases")).content.decode()
    assert ("卓玛" in html) is personal
    assert (PUBLIC in html) is (sees and not personal)


@pytest.fixture
def activity(tree, make_activity):
    activity = make_activity(title="给三村小学送书包")
    services.photo_add(activity=activity, by=tree.secretary, image=png(), caption="孩子们的合影")
    services.photo_add(
        activity=activity, by=tree.secretary, image=png(), caption="书包", cleared=True
    )
    return activity


# who: (sees the activity page, sees photos not cleared for showing)
ACTIVITY_MATRIX = {
    "member of the branch": (True, False),
    "paired member": (True, False),
    "member of another branch": (False, False),
    "reviewer": (True, True),
    "secretary": (True, True),
    "other secretary": (False, False),
}


@pytest.mark.parametrize("who", list(ACTIVITY_MATRIX))
def test_activity_page(client, tree, activity, who):
    sees, uncleared = ACTIVITY_MATRIX[who]
    client.force_login(user_of(tree, who))
    response = client.get(activity.get_absolute_url())
    assert response.status_code == (200 if sees else 404)
    if sees:
        html = response.content.decode()
        assert "书包" in html
        assert ("孩子们的合影" in html) is uncleared


def test_a_featured_activity_shows_beyond_the_branch_with_cleared_photos_only(
    client, tree, activity
):
    services.activity_feature(activity=activity, organization=tree.company, by=tree.reviewer)
    client.force_login(tree.sibling_member.user)
    html = client.get(activity.get_absolute_url()).content.decode()
    assert "书包" in html and "孩子们的合影" not in html
    assert activity.title in client.get(reverse("welfare:index")).content.decode()
    client.force_login(tree.outsider.user)
    assert client.get(activity.get_absolute_url()).status_code == 404


def read_xlsx(response) -> str:
    data = b"".join(response.streaming_content)
    sheet = load_workbook(io.BytesIO(data)).active
    return "\n".join(
        " ".join(str(c) for c in row if c is not None) for row in sheet.iter_rows(values_only=True)
    )


@pytest.mark.parametrize("who", ["member of the branch", "paired member", "secretary", "reviewer"])
def test_the_member_export_never_carries_personal_data(client, tree, case, who):
    client.force_login(user_of(tree, who))
    text = read_xlsx(client.get(reverse("welfare:export_cases")))
    assert PUBLIC in text
    for secret in SECRETS:
        assert secret not in text


def test_the_admin_export_has_personal_data_for_those_allowed_only(client, tree, case):
    client.force_login(tree.reviewer)
    url = reverse("admin:welfare_pairingcase_changelist")
    response = client.post(url, {"action": "export", "_selected_action": [case.pk]})
    text = read_xlsx(response)
    assert "卓玛" in text and "13908960001" in text
    client.force_login(tree.secretary2)  # another branch: the case is not in their admin
    response = client.post(url, {"action": "export", "_selected_action": [case.pk]})
    assert "卓玛" not in read_xlsx(response)  # an empty sheet: the raw id is out of scope
    client.force_login(tree.member.user)  # paired, but no admin
    assert client.post(url, {"action": "export", "_selected_action": [case.pk]}).status_code in (
        302,
        403,
    )


def test_the_export_helper_follows_the_privacy_decision(tree, case):
    from welfare.exports import cases_sheet

    case = PairingCase.objects.select_related("organization").get(pk=case.pk)
    _headers, rows = cases_sheet([case], user=tree.office.user, wider=False)
    assert "卓玛" not in str(list(rows))
    _headers, rows = cases_sheet([case], user=tree.member.user, wider=False)
    assert "卓玛" in str(list(rows))


def test_notifications_carry_no_personal_data(tree, case, committed, make_activity):
    with committed():
        services.cases_send_follow_up_reminders(today=timezone.localdate() + days(200))
        make_activity(title="走访三村困难户")
    for event in Event.objects.all():
        text = f"{kinds.render(event)} {event.subject} {event.url}"
        for secret in SECRETS:
            assert secret not in text


def test_cases_take_no_comments_and_activities_do(tree):
    assert not is_commentable(PairingCase)
    assert is_commentable(WelfareActivity)


def test_the_privacy_helper(tree, case):
    case = PairingCase.objects.select_related("organization").get(pk=case.pk)
    assert privacy.personal_data_allowed(tree.member.user, case)
    assert privacy.personal_data_allowed(tree.reviewer, case)
    assert privacy.personal_data_allowed(tree.admin, case)
    assert not privacy.personal_data_allowed(tree.office.user, case)
    assert not privacy.personal_data_allowed(tree.secretary2, case)
    tree.member.user.is_active = False
    assert not privacy.personal_data_allowed(tree.member.user, case)


# --- the committee above the branch reads the public label only ------------------------------


@pytest.fixture
def company_secretary(tree):
    from branches.models import RoleAssignment
    from tests import factories

    user = factories.UserFactory(username="company_secretary")
    factories.RoleAssignmentFactory(
        user=user, organization=tree.company, role=RoleAssignment.Role.SECRETARY
    )
    return user


def test_the_committee_above_the_branch_sees_no_personal_data(client, tree, case, company_secretary):  # fmt: skip
    """Personal data is for the branch's secretary and committee, the paired members and the
    reviewers: the company committee's secretary manages the branch but reads the label."""
    client.force_login(company_secretary)
    page = client.get(case.get_absolute_url()).content.decode()
    assert PUBLIC in page
    assert client.get(reverse("welfare:case_photo", args=[case.pk, photo(False).pk])).status_code == 404  # fmt: skip
    admin_page = client.get(reverse("admin:welfare_pairingcase_change", args=[case.pk]))
    assert admin_page.status_code == 200
    listing = client.get(reverse("admin:welfare_pairingcase_changelist"))
    assert PUBLIC in listing.content.decode()
    for text in (page, admin_page.content.decode(), listing.content.decode()):
        for secret in SECRETS:
            assert secret not in text
    response = client.post(
        reverse("admin:welfare_pairingcase_changelist"),
        {"action": "export", "_selected_action": [case.pk]},
    )
    sheet = read_xlsx(response)
    assert "卓玛" not in sheet and "那曲镇三村" in sheet


def test_the_admin_search_by_name_finds_only_readable_cases(client, tree, case, company_secretary):  # fmt: skip
    url = reverse("admin:welfare_pairingcase_changelist")
    client.force_login(company_secretary)
    assert client.get(url, {"q": "卓玛"}).context["cl"].result_count == 0  # no probing by name
    assert client.get(url, {"q": "三村"}).context["cl"].result_count == 1
    client.force_login(tree.secretary)
    assert client.get(url, {"q": "卓玛"}).context["cl"].result_count == 1


def test_the_branch_committee_reads_its_party_groups_cases(tree, make_case, company_secretary):
    """The rule as a filter (the admin's search) and per case agree, for a party group's case
    too."""
    from welfare.models import PairingCase

    branch_case = make_case()
    group_case = make_case(org=tree.party_group, paired=[])
    sibling_case = make_case(org=tree.sibling, by=tree.secretary2, paired=[])
    cases = list(PairingCase.objects.select_related("organization"))
    for user in (tree.secretary, tree.secretary2, company_secretary, tree.reviewer, tree.member.user, tree.office.user, tree.admin):  # fmt: skip
        by_filter = set(PairingCase.objects.filter(privacy.personal_q(user)).values_list("pk", flat=True))  # fmt: skip
        by_case = {c.pk for c in cases if privacy.personal_data_allowed(user, c)}
        assert by_filter == by_case, user
    allowed = {c.pk for c in cases if privacy.personal_data_allowed(tree.secretary, c)}
    assert allowed == {branch_case.pk, group_case.pk}
    assert not [c for c in cases if privacy.personal_data_allowed(company_secretary, c)]
    assert {c.pk for c in cases if privacy.personal_data_allowed(tree.reviewer, c)} == {
        branch_case.pk, group_case.pk, sibling_case.pk
    }  # fmt: skip


def test_the_admin_list_costs_the_same_queries_for_one_case_and_many(client, tree, make_case, company_secretary):  # fmt: skip
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    make_case()
    url = reverse("admin:welfare_pairingcase_changelist")
    client.force_login(company_secretary)
    client.get(url)
    with CaptureQueriesContext(connection) as one:
        assert client.get(url).status_code == 200
    for _ in range(8):
        make_case(paired=[])
    with CaptureQueriesContext(connection) as many:
        html = client.get(url).content.decode()
    assert len(many) == len(one), [q["sql"] for q in many.captured_queries]
    assert "卓玛" not in html
