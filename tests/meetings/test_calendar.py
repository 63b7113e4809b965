"""Calendar files (meetings.views.calendar): one meeting's .ics under the meeting's own access
rule, the personal feed behind a secret, revocable token, and the page that makes, renews and
revokes it. The files are parsed back with icalendar."""

from datetime import UTC, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from meetings import services
from meetings.models import CalendarFeed, Meeting
from meetings.selectors import calendar as calendar_selectors
from meetings.services import calendar as calendar_services

pytestmark = pytest.mark.django_db

CALENDAR = reverse("meetings:calendar")


def ics_url(meeting) -> str:
    return reverse("meetings:ics", args=[meeting.pk])


def feed_url(token: str) -> str:
    return reverse("meetings:feed", args=[token])


def events_of(response) -> dict:
    assert response["Content-Type"].startswith("text/calendar")
    calendar = Calendar.from_ical(response.content)
    return {str(e["UID"]): e for e in calendar.walk("VEVENT")}


def test_a_meeting_ics_has_the_right_fields_in_utc(client, tree, make_meeting):
    start = timezone.now().replace(microsecond=0, second=0) + timedelta(days=3)
    meeting = make_meeting(
        publish=True,
        title="七月主题党日",
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        place="那曲项目部会议室",
        format=Meeting.Format.BOTH,
        video_link="https://meeting.example.com/123",
        agenda="<p>重温入党誓词&amp;学习</p><ul><li>交流<b>心得</b></li></ul>",
    )
    client.force_login(tree.member.user)
    response = client.get(ics_url(meeting))
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="meeting-{meeting.pk}.ics"'
    raw = response.content.decode()
    assert f"DTSTART:{start.astimezone(UTC):%Y%m%dT%H%M%S}Z" in raw  # UTC, not floating
    (event,) = events_of(response).values()
    assert str(event["UID"]) == f"meeting-{meeting.pk}@127.0.0.1"
    assert event.start == start and event.end == start + timedelta(hours=2)
    assert event.start.tzinfo is not None and event.start.utcoffset() == timedelta(0)
    assert str(event["SUMMARY"]) == "七月主题党日"
    assert str(event["LOCATION"]) == "那曲项目部会议室"
    assert str(event["URL"]) == f"http://testserver/meetings/{meeting.pk}/"
    assert str(event["STATUS"]) == "CONFIRMED"
    description = str(event["DESCRIPTION"])
    assert "重温入党誓词&学习" in description and "交流心得" in description
    assert "<" not in description  # plain text
    assert "https://meeting.example.com/123" in description


def test_the_uid_stays_when_the_meeting_changes(client, tree, make_meeting, committed):
    meeting = make_meeting(publish=True)
    client.force_login(tree.member.user)
    (uid,) = events_of(client.get(ics_url(meeting)))
    with committed():
        services.meeting_update(
            meeting=meeting, by=tree.secretary, fields={"place": "新会议室", "title": "改名"}
        )
    events = events_of(client.get(ics_url(meeting)))
    assert list(events) == [uid]
    assert str(events[uid]["LOCATION"]) == "新会议室"


def test_the_ics_follows_the_meetings_access_rule(client, tree, make_meeting):
    meeting = make_meeting(publish=True)
    draft = make_meeting()
    response = client.get(ics_url(meeting))
    assert response.status_code == 302  # log in first
    for user in (tree.outsider.user, tree.sibling_member.user, tree.secretary2):
        client.force_login(user)
        assert client.get(ics_url(meeting)).status_code == 404
    client.force_login(tree.member.user)
    assert client.get(ics_url(draft)).status_code == 404
    assert client.get(reverse("meetings:ics", args=[999_999])).status_code == 404
    client.force_login(tree.secretary)
    assert client.get(ics_url(draft)).status_code == 200


def test_the_feed_page_makes_renews_and_revokes_the_link(client, tree):
    client.force_login(tree.member.user)
    page = client.get(CALENDAR).content.decode()
    assert "Make my calendar link" in page
    assert client.get(reverse("meetings:calendar_create")).status_code == 405  # POST only
    client.post(reverse("meetings:calendar_create"))
    feed = CalendarFeed.objects.get(user=tree.member.user)
    assert len(feed.token) >= 40
    page = client.get(CALENDAR).content.decode()
    assert f"http://testserver{feed_url(feed.token)}" in page
    assert f"webcal://testserver{feed_url(feed.token)}" in page
    assert client.get(feed_url(feed.token)).status_code == 200

    client.post(reverse("meetings:calendar_create"))  # a new link: the old one stops working
    new = CalendarFeed.objects.get(user=tree.member.user)
    assert new.token != feed.token
    assert client.get(feed_url(feed.token)).status_code == 404
    assert client.get(feed_url(new.token)).status_code == 200

    response = client.post(reverse("meetings:calendar_revoke"))
    assert "no longer works" in client.get(response["Location"]).content.decode()
    assert not CalendarFeed.objects.filter(user=tree.member.user).exists()
    client.logout()
    assert client.get(feed_url(new.token)).status_code == 404  # refused after revocation
    client.force_login(tree.member.user)
    response = client.post(reverse("meetings:calendar_revoke"))  # twice: harmless
    assert "You have no calendar link." in client.get(response["Location"]).content.decode()


def test_the_feed_needs_no_login_and_lists_my_meetings(client, tree, make_meeting):
    mine = make_meeting(publish=True, title="我的会")
    cancelled = make_meeting(publish=True, title="取消的会")
    services.meeting_cancel(meeting=cancelled, by=tree.secretary, reason="暴雪")
    old = make_meeting(publish=True, title="很早的会")
    long_ago = timezone.now() - timedelta(days=120)
    Meeting.objects.filter(pk=old.pk).update(
        starts_at=long_ago, ends_at=long_ago + timedelta(hours=1)
    )
    draft = make_meeting(title="草稿")
    elsewhere = make_meeting(org=tree.sibling, by=tree.secretary2, publish=True, title="别的支部")
    committee = make_meeting(publish=True, kind=Meeting.Kind.COMMITTEE_MEETING, title="支委会")
    feed = calendar_services.calendar_feed_create(user=tree.member.user)

    response = client.get(feed_url(feed.token))  # no session
    assert response.status_code == 200
    events = events_of(response)
    uids = {calendar_selectors.meeting_uid(m): m for m in (mine, cancelled, old, draft, elsewhere, committee)}  # fmt: skip
    listed = {uids[uid].title for uid in events}
    assert listed == {"我的会", "取消的会"}
    cancelled_event = events[calendar_selectors.meeting_uid(cancelled)]
    assert str(cancelled_event["STATUS"]) == "CANCELLED"
    assert "暴雪" in str(cancelled_event["DESCRIPTION"])
    feed.refresh_from_db()
    assert feed.last_used_at is not None

    secretary_feed = calendar_services.calendar_feed_create(user=tree.secretary)
    titles = {uids[uid].title for uid in events_of(client.get(feed_url(secretary_feed.token)))}
    assert "支委会" in titles  # the committee's own meeting


@pytest.mark.parametrize("token", ["nope", "x" * 43, "a" * 65])
def test_a_wrong_token_is_404(client, tree, token):
    calendar_services.calendar_feed_create(user=tree.member.user)
    assert client.get(feed_url(token)).status_code == 404


def test_an_inactive_members_feed_stops(client, tree):
    feed = calendar_services.calendar_feed_create(user=tree.member.user)
    tree.member.user.is_active = False
    tree.member.user.save(update_fields=["is_active"])
    assert client.get(feed_url(feed.token)).status_code == 404


def test_the_feed_costs_the_same_for_few_and_many_meetings(client, tree, make_meeting):
    feed = calendar_services.calendar_feed_create(user=tree.member.user)
    make_meeting(publish=True)

    def queries():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(feed_url(feed.token)).status_code == 200
        return len(ctx.captured_queries)

    queries()  # the first read notes last_used_at
    few = queries()
    now = timezone.now()
    Meeting.objects.bulk_create(
        Meeting(
            organization=tree.branch,
            kind=Meeting.Kind.THEMED_DAY,
            title=f"批量{i}",
            starts_at=now + timedelta(days=i),
            ends_at=now + timedelta(days=i, hours=2),
            published_at=now,
        )
        for i in range(50)
    )
    assert queries() == few
    assert few <= 4
