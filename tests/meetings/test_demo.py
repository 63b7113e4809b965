"""The demo's activity sync: a living year of meetings for the demo accounts to try."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Count
from django.utils import timezone

from branches.models import TimelineEntry
from meetings import selectors
from meetings.models import Attendance, Meeting, Reflection
from portal.demo.meetings import at, month_start

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """The small demo, seeded once for this module (it takes a while)."""
    from django.conf import settings

    with django_db_blocker.unblock():
        debug, settings.DEBUG = settings.DEBUG, True
        try:
            call_command("seed_demo", stdout=StringIO(), stderr=StringIO())
        finally:
            settings.DEBUG = debug
        yield
        call_command("flush", "--noinput", stdout=StringIO())


def counts():
    return (Meeting.objects.count(), Attendance.objects.count(), Reflection.objects.count())


def test_a_year_of_every_kind_with_attendance_and_minutes(demo):
    now = timezone.now()
    held = Meeting.objects.filter(status=Meeting.Status.HELD)
    kinds = set(held.values_list("kind", flat=True))
    assert set(Meeting.Kind.values) - {Meeting.Kind.OTHER} <= kinds
    oldest = held.order_by("starts_at").first().starts_at
    assert (now - oldest).days >= 300
    assert held.filter(minutes_confirmed_at__isnull=False).count() > 100
    # Attendance: present, on leave and absent all occur.
    assert Attendance.objects.filter(signed_in_at__isnull=False).exists()
    assert Attendance.objects.filter(rsvp=Attendance.Rsvp.LEAVE).exclude(leave_reason="").exists()
    meeting = held.filter(kind=Meeting.Kind.GENERAL_MEETING).first()
    expected = selectors.expected_attendees(meeting).count()
    assert meeting.attendances.filter(signed_in_at__isnull=False).count() < expected
    assert TimelineEntry.objects.filter(kind="meeting_held").count() == held.count()
    assert Meeting.objects.filter(status=Meeting.Status.CANCELLED).exclude(cancelled_reason="").exists()  # fmt: skip


def test_meetings_at_the_tibet_site_are_held_offline_with_a_photo_of_the_sheet(demo):
    offline = Meeting.objects.filter(held_offline=True)
    assert offline.count() >= 3
    for meeting in offline:
        assert "那曲" in meeting.place
        assert meeting.entered_at > meeting.starts_at
        assert meeting.sign_in_sheet.name.endswith((".jpg", ".jpeg", ".webp", ".png"))
        assert (
            not meeting.attendances.exclude(via=Attendance.Via.RECORDED)
            .filter(signed_in_at__isnull=False)
            .exists()
        )
    # And one at 那曲 waits to be entered.
    waiting = Meeting.objects.get(title="那曲项目部党员学习会")
    assert waiting.status == Meeting.Status.PLANNED and waiting.starts_at < timezone.now()


def test_what_the_demo_accounts_find(demo):
    from django.contrib.auth import get_user_model

    member = get_user_model().objects.get(username="member")
    upcoming = [
        m
        for m in Meeting.objects.filter(
            status=Meeting.Status.PLANNED, published_at__isnull=False, starts_at__gt=timezone.now()
        )
        if selectors.is_expected(m, member)
    ]
    assert len(upcoming) >= 2
    assert not Attendance.objects.filter(meeting__in=upcoming, user=member).exists()
    # Sign-in is open for one of them now.
    assert any((m.starts_at - timezone.now()).total_seconds() < 30 * 60 for m in upcoming)
    asked = Meeting.objects.get(reflections_requested_at__isnull=False)
    assert asked.reflections.count() >= 3
    assert not asked.reflections.filter(author=member).exists()
    assert asked.minutes and asked.minutes_confirmed_at is None
    assert Meeting.objects.filter(published_at__isnull=True, status=Meeting.Status.PLANNED).exists()


def test_one_branch_is_behind_on_its_cadence(demo):
    per_org = dict(
        Meeting.objects.filter(
            status=Meeting.Status.HELD,
            kind=Meeting.Kind.THEMED_DAY,
            starts_at__gte=at(month_start(timezone.localdate(), 1), 0),
        )
        .values_list("organization__short_name")
        .annotate(n=Count("pk"))
    )
    assert per_org.get("禄丰项目支部", 0) == 0
    assert per_org.get("康定隧道支部", 0) >= 1


def test_seeding_again_creates_no_meeting(demo):
    before = counts()
    call_command("seed_demo", "--force", stdout=StringIO(), stderr=StringIO())
    assert counts() == before
