"""Meetings in the secretaries' admin: scoped changelist and raw ids, saving through the
services (a form error for an end before the start), "Save and publish" notifying once, the
publish action, a change of time notifying again, held meetings keeping their plan; the
minutes (sanitised, read-only once confirmed), their attachments checked by `core`, the mark
held / confirm actions in scope, the offline entry page and the link to the ledger."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from meetings import services
from meetings.models import Attendance, Meeting, MeetingAttachment
from meetings.services import minutes as minutes_services
from notifications.models import Event
from tests.core.media_helpers import EXE, MINIMAL_PDF, image_bytes, stored_files
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


def held_data(**overrides):
    """The change form of a held meeting: the minutes, and the two inlines' management forms."""
    data = {"minutes": "", **INLINES, **overrides}
    return data


INLINES = {
    "attachments-TOTAL_FORMS": "0",
    "attachments-INITIAL_FORMS": "0",
    "attachments-MIN_NUM_FORMS": "0",
    "attachments-MAX_NUM_FORMS": "1000",
    "attendances-TOTAL_FORMS": "0",
    "attendances-INITIAL_FORMS": "0",
    "attendances-MIN_NUM_FORMS": "0",
    "attendances-MAX_NUM_FORMS": "1000",
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


def test_a_held_meeting_keeps_its_plan(client, tree, make_meeting):
    """Held: the plan is read-only (a posted title is ignored); only the minutes can change."""
    meeting = make_meeting(starts_at=timezone.now() - timedelta(days=2))
    services.meeting_record_offline(
        meeting=meeting, by=tree.secretary, present_user_ids=[tree.member.user.pk]
    )
    client.force_login(tree.secretary)
    page = client.get(change_url(meeting))
    assert page.status_code == 200
    content = page.content.decode()
    assert 'name="_publish"' not in content and 'name="title"' not in content
    assert 'name="minutes"' in content and 'name="_save"' in content
    response = client.post(
        change_url(meeting), held_data(title="改", minutes="<p>纪要</p><script>x()</script>")
    )
    assert response.status_code == 302
    meeting.refresh_from_db()
    assert meeting.title != "改"
    assert meeting.minutes == "<p>纪要</p>" and meeting.minutes_written_by == tree.secretary


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


# --- minutes, held offline, the ledger ------------------------------------------------------


@pytest.fixture
def held_meeting(tree, make_meeting):
    def make(org=None, by=None, minutes="<p>纪要</p>", **fields):
        by = by or tree.secretary
        meeting = make_meeting(
            org=org, by=by, publish=True, starts_at=timezone.now() - timedelta(hours=3), **fields
        )
        minutes_services.meeting_mark_held(meeting=meeting, by=by)
        if minutes:
            minutes_services.minutes_save(meeting=meeting, by=by, minutes=minutes)
        return Meeting.objects.get(pk=meeting.pk)

    return make


def test_confirmed_minutes_are_read_only_in_the_admin(client, tree, held_meeting):
    meeting = held_meeting()
    minutes_services.minutes_confirm(meeting=meeting, by=tree.secretary)
    client.force_login(tree.secretary)
    page = client.get(change_url(meeting))
    assert page.status_code == 200
    content = page.content.decode()
    assert 'name="_save"' not in content and 'name="minutes"' not in content
    assert "<p>纪要</p>" in content  # shown as rich text, read-only
    response = client.post(change_url(meeting), held_data(minutes="<p>改</p>"))
    assert response.status_code == 403
    meeting.refresh_from_db()
    assert meeting.minutes == "<p>纪要</p>"


def test_a_stale_admin_form_cannot_change_confirmed_minutes(client, tree, held_meeting):
    meeting = held_meeting()
    client.force_login(tree.secretary)
    assert 'name="minutes"' in client.get(change_url(meeting)).content.decode()
    minutes_services.minutes_confirm(meeting=meeting, by=tree.reviewer)  # meanwhile
    response = client.post(change_url(meeting), held_data(minutes="<p>改</p>"))
    assert response.status_code == 403
    meeting.refresh_from_db()
    assert meeting.minutes == "<p>纪要</p>"


def test_the_mark_held_and_confirm_actions_are_scoped(client, tree, make_meeting, held_meeting):
    past = timezone.now() - timedelta(hours=2)
    mine = make_meeting(publish=True, starts_at=past)
    theirs = make_meeting(org=tree.sibling, by=tree.secretary2, publish=True, starts_at=past)
    future = make_meeting(publish=True)
    client.force_login(tree.secretary)
    response = client.post(
        MEETINGS,
        {"action": "mark_held", "_selected_action": [mine.pk, theirs.pk, future.pk]},
        follow=True,
    )
    assert "1 meeting marked as held." in response.content.decode()
    assert "not started" in response.content.decode()
    statuses = dict(Meeting.objects.values_list("pk", "status"))
    assert statuses == {mine.pk: "held", theirs.pk: "planned", future.pk: "planned"}

    written = held_meeting()
    empty = held_meeting(minutes="")
    other = held_meeting(org=tree.sibling, by=tree.secretary2)
    response = client.post(
        MEETINGS,
        {"action": "confirm_minutes", "_selected_action": [written.pk, empty.pk, other.pk]},
        follow=True,
    )
    assert "The minutes of 1 meeting are confirmed." in response.content.decode()
    assert "Write the minutes before confirming them." in response.content.decode()
    confirmed = set(
        Meeting.objects.filter(minutes_confirmed_at__isnull=False).values_list("pk", flat=True)
    )
    assert confirmed == {written.pk}


def test_attachments_in_the_admin_are_checked(client, tree, held_meeting):
    meeting = held_meeting()
    client.force_login(tree.secretary)
    data = held_data(
        minutes=meeting.minutes,
        **{
            "attachments-TOTAL_FORMS": "1",
            "attachments-0-title": "假文件",
            "attachments-0-file": SimpleUploadedFile("a.pdf", EXE),
        },
    )
    response = client.post(change_url(meeting), data)
    assert response.status_code == 200  # the inline's error, nothing saved
    assert "not accepted" in response.content.decode()
    assert not MeetingAttachment.objects.exists() and stored_files() == []
    data["attachments-0-file"] = SimpleUploadedFile("纪要.pdf", MINIMAL_PDF)
    response = client.post(change_url(meeting), data)
    assert response.status_code == 302
    attachment = MeetingAttachment.objects.get()
    assert attachment.title == "假文件" and attachment.meeting == meeting
    # Removing it through the inline.
    data = held_data(
        minutes=meeting.minutes,
        **{
            "attachments-TOTAL_FORMS": "1",
            "attachments-INITIAL_FORMS": "1",
            "attachments-0-id": str(attachment.pk),
            "attachments-0-meeting": str(meeting.pk),
            "attachments-0-DELETE": "on",
        },
    )
    assert client.post(change_url(meeting), data).status_code == 302
    assert not MeetingAttachment.objects.exists()


def test_the_admin_offline_entry(client, tree, make_meeting):
    meeting = make_meeting(starts_at=timezone.now() - timedelta(days=2))
    url = reverse("admin:meetings_meeting_offline", args=[meeting.pk])
    client.force_login(tree.secretary2)
    assert client.get(url).status_code == 404
    client.force_login(tree.secretary)
    page = client.get(url).content.decode()
    assert page.count('name="present"') == 3 and 'name="sign_in_sheet"' in page
    assert 'name="minutes"' in page
    # From the changelist: the action leads to the page for one meeting.
    response = client.post(MEETINGS, {"action": "record_offline", "_selected_action": [meeting.pk]})
    assert response.status_code == 302 and response.url == url
    response = client.post(
        url,
        {
            "present": [tree.member.user.pk, tree.office.user.pk],
            "minutes": "<p>在项目部会议室召开</p><img src=x onerror=alert(1)>",
            "sign_in_sheet": SimpleUploadedFile("签到.jpg", image_bytes("JPEG"), "image/jpeg"),
        },
    )
    assert response.status_code == 302 and response.url == change_url(meeting)
    meeting.refresh_from_db()
    assert meeting.held_offline and meeting.status == Meeting.Status.HELD
    assert "onerror" not in meeting.minutes and meeting.sign_in_sheet.name.endswith(".jpg")
    assert set(
        Attendance.objects.filter(meeting=meeting, via="recorded").values_list("user", flat=True)
    ) == {tree.member.user.pk, tree.office.user.pk}
    # Confirmed: the page says so and a POST changes nothing.
    minutes_services.minutes_confirm(meeting=meeting, by=tree.secretary)
    page = client.get(url).content.decode()
    assert "can no longer be changed" in page and 'name="present"' not in page
    response = client.post(url, {"present": [tree.member.user.pk], "minutes": "<p>改</p>"})
    assert response.status_code == 200
    meeting.refresh_from_db()
    assert meeting.minutes.startswith("<p>在项目部会议室召开</p>")


def test_a_future_meeting_cannot_be_entered_offline(client, tree, make_meeting):
    meeting = make_meeting()
    client.force_login(tree.secretary)
    url = reverse("admin:meetings_meeting_offline", args=[meeting.pk])
    assert "only after it took place" in client.get(url).content.decode()
    response = client.post(url, {"present": [tree.member.user.pk]})
    assert response.status_code == 200
    assert Meeting.objects.get(pk=meeting.pk).status == Meeting.Status.PLANNED


def test_the_changelist_links_to_the_ledger(client, tree):
    client.force_login(tree.secretary)
    assert reverse("meetings:ledger") in client.get(MEETINGS).content.decode()
