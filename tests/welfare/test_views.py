"""The welfare pages: sign-up with and without htmx, recording a visit (uploads refused as
`core` says), the home card, and a fixed number of queries for the activity list, an activity,
the case list and a case with 100 follow-up visits."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from discussions import services as discussion_services
from members.selectors import member_for_user
from tests import factories
from welfare import selectors, services
from welfare.models import FollowUp, FollowUpPhoto, WelfareSignUp

from .conftest import days, exe_as, png

pytestmark = pytest.mark.django_db
INDEX = reverse("welfare:index")


def sql_of(queries) -> str:
    return "\n".join(q["sql"] for q in queries)


# --- sign-up ----------------------------------------------------------------------------------


def test_sign_up_without_javascript_redirects_with_a_message(client, tree, make_activity):
    activity = make_activity(places=1)
    client.force_login(tree.member.user)
    response = client.post(reverse("welfare:sign_up", args=[activity.pk]), follow=True)
    assert response.redirect_chain[-1][0].endswith(f"{activity.get_absolute_url()}#sign-up")
    assert "You are signed up" in response.content.decode()
    client.force_login(tree.office.user)
    response = client.post(reverse("welfare:sign_up", args=[activity.pk]), follow=True)
    assert "All places are taken" in response.content.decode()
    assert WelfareSignUp.objects.count() == 1


def test_sign_up_with_htmx_answers_the_panel(client, tree, make_activity):
    activity = make_activity(places=3)
    client.force_login(tree.member.user)
    url = reverse("welfare:sign_up", args=[activity.pk])
    for _ in range(2):  # a double tap
        response = client.post(url, headers={"HX-Request": "true"})
        html = response.content.decode()
        assert response.status_code == 200 and 'id="sign-up"' in html and "<html" not in html
    assert "1 of 3 places taken" in html
    response = client.post(
        reverse("welfare:withdraw", args=[activity.pk]), headers={"HX-Request": "true"}
    )
    assert "0 of 3 places taken" in response.content.decode()


def test_sign_up_needs_a_post_and_a_visible_activity(client, tree, make_activity):
    activity = make_activity()
    client.force_login(tree.sibling_member.user)
    assert client.post(reverse("welfare:sign_up", args=[activity.pk])).status_code == 404
    client.force_login(tree.member.user)
    assert client.get(reverse("welfare:sign_up", args=[activity.pk])).status_code == 405


# --- visits -----------------------------------------------------------------------------------


def test_a_paired_member_records_a_visit_with_photos(client, tree, make_case):
    case = make_case()
    client.force_login(tree.member.user)
    response = client.post(
        reverse("welfare:follow_up", args=[case.pk]),
        {"visited_on": timezone.localdate().isoformat(), "notes": "送去过冬的棉衣", "photo_1": png(), "photo_2": png()},
    )  # fmt: skip
    assert response.status_code == 302
    assert FollowUpPhoto.objects.filter(follow_up__case=case).count() == 2


def test_a_refused_upload_saves_nothing_and_says_why(client, tree, make_case):
    case = make_case()
    client.force_login(tree.member.user)
    response = client.post(
        reverse("welfare:follow_up", args=[case.pk]),
        {"visited_on": timezone.localdate().isoformat(), "notes": "走访", "photo_1": exe_as("photo.jpg")},
    )  # fmt: skip
    assert response.status_code == 400
    assert "not a JPEG, PNG, WebP or GIF image" in response.content.decode()
    assert not FollowUp.objects.exists()


def test_a_double_submitted_visit_is_recorded_once(client, tree, make_case):
    """A double tap on "Record the visit" (the same form posted twice) keeps one visit, one
    set of photos and one "served" fact; a second visit of the same day with other notes is
    a visit of its own."""
    from members.models import ActivityFact

    case = make_case()
    client.force_login(tree.member.user)
    url = reverse("welfare:follow_up", args=[case.pk])
    today = timezone.localdate().isoformat()
    for _ in range(2):
        response = client.post(url, {"visited_on": today, "notes": " 送去过冬的棉衣 ", "photo_1": png()})  # fmt: skip
        assert response.status_code == 302
    assert FollowUp.objects.filter(case=case).count() == 1
    assert FollowUpPhoto.objects.filter(follow_up__case=case).count() == 1
    assert ActivityFact.objects.filter(member=tree.member, kind=ActivityFact.Kind.SERVED).count() == 1  # fmt: skip
    client.post(url, {"visited_on": today, "notes": "下午又送去药品"})
    assert FollowUp.objects.filter(case=case).count() == 2


def test_members_who_are_not_paired_cannot_record_visits(client, tree, make_case):
    case = make_case()
    client.force_login(tree.office.user)
    assert "Record a visit" not in client.get(case.get_absolute_url()).content.decode()
    response = client.post(
        reverse("welfare:follow_up", args=[case.pk]),
        {"visited_on": timezone.localdate().isoformat(), "notes": "x"},
    )
    assert response.status_code == 403


# --- the home card ----------------------------------------------------------------------------


def test_the_service_card(tree, make_activity, make_case):
    user = tree.member.user
    member = member_for_user(user)
    assert selectors.service_card(user=user, member=member) is None  # nothing: no card
    activity = make_activity()
    services.activity_sign_up(activity=activity, user=user)
    done = make_activity(held_on=timezone.localdate())
    services.activity_record_done(activity=done, by=tree.secretary, participants=[(tree.member, 2)], beneficiaries=9)  # fmt: skip
    make_case(started_on=timezone.localdate() - days(90))
    card = selectors.service_card(user=user, member=member_for_user(user))
    assert card["next"] == activity and card["next"].signed_up_by_me
    assert card["record"]["activities"] == 1 and card["record"]["hours"] == Decimal(2)
    assert card["record"]["beneficiaries"] == 9
    assert card["my_cases"] == {"open": 1, "overdue": 1}
    assert (
        selectors.service_card(user=tree.outsider.user, member=member_for_user(tree.outsider.user))
        is None
    )


def test_the_service_card_costs_a_fixed_number_of_queries(tree, make_activity, make_case):
    user = tree.member.user
    make_activity()
    member = member_for_user(user)
    with CaptureQueriesContext(connection) as small:
        selectors.service_card(user=user, member=member)
    for _ in range(10):
        make_activity()
        done = make_activity(held_on=timezone.localdate())
        services.activity_record_done(
            activity=done, by=tree.secretary, participants=[(tree.member, 1)]
        )
        make_case()
    member = member_for_user(user)
    with CaptureQueriesContext(connection) as large:
        card = selectors.service_card(user=user, member=member)
    assert card["record"]["activities"] == 10
    print(f"service card: {len(small)} queries")
    assert len(small) <= 5 and len(large) == len(small), sql_of(large.captured_queries)


def test_the_card_partial_renders(tree, make_activity, rf):
    from django.template.loader import render_to_string

    make_activity()
    user = tree.member.user
    card = selectors.service_card(user=user, member=member_for_user(user))
    html = render_to_string("welfare/includes/_service_card.html", {"service": card})
    assert "Next welfare activity" in html


# --- query counts -----------------------------------------------------------------------------


def grow_activities(tree, make_activity, n: int):
    others = [factories.MemberFactory(branch=tree.branch) for _ in range(3)]
    for i in range(n):
        activity = make_activity(places=10)
        for person in others:
            services.activity_sign_up(activity=activity, user=person.user)
        services.photo_add(activity=activity, by=tree.secretary, image=png(), cleared=True)
        services.photo_add(activity=activity, by=tree.secretary, image=png())
        discussion_services.like_toggle(target=activity, user=others[i % 3].user)
        discussion_services.comment_create(target=activity, author=others[0].user, body=f"好{i}")


@pytest.mark.parametrize("page", ["index", "detail", "cases"])
def test_pages_cost_the_same_queries_for_few_and_many_rows(
    client, tree, make_activity, make_case, page, settings
):
    settings.NETBRANCH_POST_RATE = "1000/60"
    target = make_activity()
    discussion_services.comment_create(target=target, author=tree.office.user, body="一起去")
    make_case()
    client.force_login(tree.member.user)
    url = {"index": INDEX, "detail": target.get_absolute_url(), "cases": reverse("welfare:cases")}[
        page
    ]
    client.get(url)  # warm up: the session, content types
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    print(f"{page}: {len(small)} queries")
    assert len(small) <= {"index": 14, "detail": 18, "cases": 9}[page], sql_of(
        small.captured_queries
    )
    grow_activities(tree, make_activity, 25)
    for person in (factories.MemberFactory(branch=tree.branch) for _ in range(5)):
        discussion_services.comment_create(target=target, author=person.user, body="支持")
        services.activity_sign_up(activity=target, user=person.user)
    for _ in range(25):
        make_case()
    with CaptureQueriesContext(connection) as large:
        assert client.get(url).status_code == 200
    assert len(large) == len(small), sql_of(large.captured_queries)


@pytest.mark.parametrize("who", ["paired member", "member of the branch"])
def test_a_case_with_100_visits_costs_what_a_case_with_one_does(client, tree, make_case, who):
    case = make_case(started_on=timezone.localdate() - days(400))
    add = services.follow_up_add
    add(case=case, by=tree.member.user, visited_on=timezone.localdate(), notes="走访", photos=[png()], cleared=True)  # fmt: skip
    client.force_login(tree.member.user if who == "paired member" else tree.office.user)
    url = case.get_absolute_url()
    client.get(url)
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    print(f"case page ({who}): {len(small)} queries")
    assert len(small) <= 12, sql_of(small.captured_queries)
    for i in range(99):
        add(case=case, by=tree.secretary if i % 2 else tree.member.user,
            visited_on=timezone.localdate() - days(i + 1), notes=f"第{i}次走访",
            photos=[png(), png()], cleared=bool(i % 3))  # fmt: skip
    assert FollowUp.objects.filter(case=case).count() == 100
    with CaptureQueriesContext(connection) as large:
        response = client.get(url)
    assert response.status_code == 200
    assert len(large) == len(small), sql_of(large.captured_queries)
    html = response.content.decode()
    assert "Page 1 of 5" in html


def test_an_activity_of_a_themed_day_links_to_the_meeting(client, tree, make_activity):
    from meetings.services import meeting_create

    starts = timezone.now() + days(7)
    day = meeting_create(
        by=tree.secretary, organization=tree.branch, kind="themed_day", title="主题党日：走进村小",
        starts_at=starts, ends_at=starts + days(1),
    )  # fmt: skip
    activity = make_activity(meeting=day)
    client.force_login(tree.member.user)
    html = client.get(activity.get_absolute_url()).content.decode()
    assert reverse("meetings:detail", args=[day.pk]) in html and "主题党日：走进村小" in html
