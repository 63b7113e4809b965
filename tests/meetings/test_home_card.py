"""The meeting card on the member home page (portal.selectors.home_for_user): the next meeting
I am expected at with my answer and the answer buttons, and the reflections asked of me; left
out when there is nothing to show; two queries whatever the number of meetings."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from meetings.models import Attendance, Meeting, Reflection
from meetings.selectors import pages as page_selectors

pytestmark = pytest.mark.django_db


def home(client) -> str:
    return client.get("/").content.decode()


def held(meeting, *, days_ago=3, asked=True) -> Meeting:
    """Mark a meeting held `days_ago` days ago, reflections asked for (or not)."""
    start = timezone.now() - timedelta(days=days_ago)
    Meeting.objects.filter(pk=meeting.pk).update(
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        status=Meeting.Status.HELD,
        reflections_requested_at=timezone.now() if asked else None,
    )
    meeting.refresh_from_db()
    return meeting


def test_the_card_shows_the_next_meeting_and_answers_from_home(
    client, tree, make_meeting, make_lesson
):
    make_lesson(publish=True)  # the study card, which the meeting card follows
    later = make_meeting(publish=True, title="月底支部党员大会", kind=Meeting.Kind.GENERAL_MEETING,
                         starts_at=timezone.now() + timedelta(days=9))  # fmt: skip
    nxt = make_meeting(publish=True, title="本周主题党日", place="那曲项目部")
    make_meeting(title="草稿会议", starts_at=timezone.now() + timedelta(hours=5))  # not announced
    client.force_login(tree.member.user)
    page = home(client)
    card = page[page.index('class="card meeting-card"') :]
    assert "本周主题党日" in card and "那曲项目部" in card and "not answered" in card
    assert later.title not in card and "草稿会议" not in card
    assert page.index("study-card") < page.index("meeting-card")
    rsvp = reverse("meetings:rsvp", args=[nxt.pk])
    assert f'action="{rsvp}"' in card and 'name="next" value="/"' in card

    response = client.post(rsvp, {"answer": "leave", "reason": "在拉萨体检", "next": "/"})
    assert response["Location"] == "/"
    page = home(client)
    assert "You asked for leave." in page and "on leave" in page
    assert Attendance.objects.get(meeting=nxt, user=tree.member.user).leave_reason == "在拉萨体检"


def test_no_card_without_meetings_or_for_others(client, tree, make_meeting):
    client.force_login(tree.member.user)
    assert "meeting-card" not in home(client)
    make_meeting(publish=True, title="一号支部的会")
    client.force_login(tree.sibling_member.user)
    assert "meeting-card" not in home(client)
    client.force_login(tree.reviewer)  # manages it, is not expected
    assert "meeting-card" not in home(client)


def test_reflections_asked_of_me(client, tree, make_meeting):
    asked = held(make_meeting(publish=True, title="七一党课", kind=Meeting.Kind.PARTY_LESSON))
    held(make_meeting(publish=True, title="没要求心得的会"), asked=False)
    held(make_meeting(publish=True, title="很久以前的党课"), days_ago=40)
    held(make_meeting(org=tree.sibling, by=tree.secretary2, publish=True, title="二号支部党课"))
    client.force_login(tree.member.user)
    page = home(client)
    assert "Reflections asked of me" in page
    assert "七一党课" in page and reverse("meetings:detail", args=[asked.pk]) in page
    for title in ("没要求心得的会", "很久以前的党课", "二号支部党课"):
        assert title not in page
    Reflection.objects.create(meeting=asked, author=tree.member.user, body="收获很大")
    assert "meeting-card" not in home(client)  # nothing left to show
    client.force_login(tree.office.user)  # the others of the branch are still asked
    assert "七一党课" in home(client)


def test_the_card_costs_two_queries_whatever_the_number_of_meetings(tree, make_meeting):
    user = tree.member.user
    page_selectors.home_card(user=user)  # the scope caches
    make_meeting(publish=True)
    held(make_meeting(publish=True))
    with CaptureQueriesContext(connection) as few:
        card = page_selectors.home_card(user=user)
    assert card["meeting"] is not None and len(card["reflections"]) == 1
    now = timezone.now()
    Meeting.objects.bulk_create(
        Meeting(
            organization=tree.branch,
            kind=Meeting.Kind.PARTY_LESSON,
            title=f"批量{i}",
            starts_at=now + timedelta(days=i - 20, hours=1),
            ends_at=now + timedelta(days=i - 20, hours=3),
            published_at=now - timedelta(days=40),
            status=Meeting.Status.HELD if i < 20 else Meeting.Status.PLANNED,
            reflections_requested_at=now if i < 20 else None,
        )
        for i in range(40)
    )
    with CaptureQueriesContext(connection) as many:
        card = page_selectors.home_card(user=user)
    assert len(few.captured_queries) == len(many.captured_queries) == 2
    assert len(card["reflections"]) == page_selectors.REFLECTIONS_SHOWN
