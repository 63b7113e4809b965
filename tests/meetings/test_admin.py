"""Meetings in the secretaries' admin: scoped changelist and raw ids, saving through the
services (a form error for an end before the start), "Save and publish" notifying once, the
publish action, a change of time notifying again, and held meetings kept read-only."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from meetings import services
from meetings.models import Meeting
from notifications.models import Event
from tests.lessons.conftest import recipients_of

pytestmark = pytest.mark.django_db

MEETINGS = reverse("admin:meetings_meeting_changelist")
ADD = reverse("admin:meetings_meeting_add")
ORGS = ["group", "company", "branch", "party_group", "sibling", "joint", "outside"]
SEES = {
    "secretary": {"branch", "party_group"},
    "secretary2": {"sibling"},
    "reviewer": {"group", "company", "branch", "party_group", "sibling", "joint"},
    "admin": set(ORGS),
}


def change_url(meeting):
    return reverse("admin:meetings_meeting_change", args=[meeting.pk])


def meeting_data(organization, start=None, **overrides):
    start = timezone.localtime(start or timezone.now() + timedelta(days=3)).replace(
        second=0, microsecond=0
    )
    end = start + timedelta(hours=2)
    data = {
        "organization": organization.pk,
        "kind": Meeting.Kind.GENERAL_MEETING,
        "title": "第四季度支部党员大会",
        "agenda": "<p>一、学习文件</p>",
        "starts_at_0": start.date().isoformat(),
        "starts_at_1": start.strftime("%H:%M:%S"),
        "ends_at_0": end.date().isoformat(),
        "ends_at_1": end.strftime("%H:%M:%S"),
        "place": "项目部会议室",
        "format": Meeting.Format.BOTH,
        "video_link": "",
        "host": "",
        "recorder": "",
        "attendances-TOTAL_FORMS": "0",
        "attendances-INITIAL_FORMS": "0",
        "attendances-MIN_NUM_FORMS": "0",
        "attendances-MAX_NUM_FORMS": "1000",
    }
    data.update(overrides)
    return data


@pytest.fixture
def meeting_per_org(tree, make_meeting):
    return {
        org: make_meeting(org=getattr(tree, org), by=tree.admin, title=f"{org}的会") for org in ORGS
    }


@pytest.mark.parametrize("who", list(SEES))
def test_changelist_and_raw_ids_are_scoped(client, tree, meeting_per_org, who):
    client.force_login(getattr(tree, who))
    response = client.get(MEETINGS)
    assert response.status_code == 200
    assert {m.title for m in response.context["cl"].result_list} == {
        f"{org}的会" for org in SEES[who]
    }
    for org, meeting in meeting_per_org.items():
        expected = 200 if org in SEES[who] else 404
        assert client.get(change_url(meeting)).status_code == expected, (who, org)


def test_a_secretary_cannot_plan_for_another_branch(client, tree):
    client.force_login(tree.secretary)
    response = client.post(ADD, meeting_data(tree.sibling))
    assert response.status_code == 200
    assert "organization" in response.context["adminform"].form.errors
    assert not Meeting.objects.exists()


def test_an_end_before_the_start_is_a_form_error(client, tree):
    client.force_login(tree.secretary)
    start = timezone.now() + timedelta(days=3)
    data = meeting_data(tree.branch, start)
    data["ends_at_0"] = (timezone.localtime(start) - timedelta(days=1)).date().isoformat()
    response = client.post(ADD, data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    assert not Meeting.objects.exists()


def test_save_and_publish_notifies_once(client, tree, make_lesson, committed):
    lesson = make_lesson(publish=True)
    client.force_login(tree.secretary)
    page = client.get(ADD).content.decode()
    assert 'name="_publish"' in page
    with committed():
        response = client.post(ADD, meeting_data(tree.branch, lessons=[lesson.pk], _publish="1"))
    assert response.status_code == 302, response.context["adminform"].form.errors
    meeting = Meeting.objects.get()
    assert meeting.is_published and meeting.created_by == tree.secretary
    assert list(meeting.lessons.all()) == [lesson]
    event = Event.objects.get(kind="meeting_published")
    assert (event.target_id, event.actor) == (meeting.pk, tree.secretary)
    assert recipients_of(event) == {"member", "office", "secretary"}

    page = client.get(change_url(meeting)).content.decode()
    assert 'name="_publish"' not in page
    # A stale page pressing it again tells nobody twice; the new time is announced.
    with committed():
        response = client.post(
            change_url(meeting),
            meeting_data(
                tree.branch,
                meeting.starts_at + timedelta(days=1),
                lessons=[lesson.pk],
                _publish="1",
            ),
        )
    assert response.status_code == 302
    assert Event.objects.filter(kind="meeting_published").count() == 1
    assert Event.objects.filter(kind="meeting_changed").count() == 1


def test_the_publish_action(client, tree, make_meeting, committed):
    mine, theirs = make_meeting(), make_meeting(org=tree.sibling, by=tree.secretary2)
    client.force_login(tree.secretary)
    with committed():
        client.post(
            MEETINGS,
            {"action": "publish", "_selected_action": [mine.pk, theirs.pk]},
        )
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.is_published and not theirs.is_published
    assert Event.objects.filter(kind="meeting_published").count() == 1


def test_a_held_meeting_is_read_only(client, tree, make_meeting):
    meeting = make_meeting(starts_at=timezone.now() - timedelta(days=2))
    services.meeting_record_offline(
        meeting=meeting, by=tree.secretary, present_user_ids=[tree.member.user.pk]
    )
    client.force_login(tree.secretary)
    page = client.get(change_url(meeting))
    assert page.status_code == 200
    content = page.content.decode()
    assert 'name="_publish"' not in content and 'name="_save"' not in content
    response = client.post(change_url(meeting), meeting_data(tree.branch, title="改"))
    assert response.status_code == 403
    meeting.refresh_from_db()
    assert meeting.title != "改"


def test_the_admin_renders_in_english(client, tree, make_meeting):
    meeting = make_meeting(publish=True)
    services.meeting_rsvp(meeting=meeting, user=tree.office.user, coming=False, reason="出差")
    client.cookies["django_language"] = "en"
    client.force_login(tree.secretary)
    page = client.get(change_url(meeting)).content.decode()
    assert "themed Party day" in page and "出差" in page
    assert client.get(MEETINGS + "?status__exact=planned").status_code == 200


def test_the_cancel_action_asks_for_a_reason_and_notifies(client, tree, make_meeting, committed):
    mine, theirs = make_meeting(publish=True), make_meeting(org=tree.sibling, by=tree.secretary2)
    client.force_login(tree.secretary)
    selected = {"action": "cancel", "_selected_action": [mine.pk, theirs.pk]}
    page = client.post(MEETINGS, selected)
    assert page.status_code == 200 and mine.title in page.content.decode()
    assert theirs.title not in page.content.decode()
    assert client.post(MEETINGS, {**selected, "apply": "1", "reason": ""}).status_code == 200
    with committed():
        response = client.post(MEETINGS, {**selected, "apply": "1", "reason": "暴雪封路"})
    assert response.status_code == 302
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert (mine.status, mine.cancelled_reason) == (Meeting.Status.CANCELLED, "暴雪封路")
    assert theirs.status == Meeting.Status.PLANNED
    (event,) = Event.objects.filter(kind="meeting_cancelled")
    assert "暴雪封路" in event.subject
