"""Writes of the activity sync (meetings.services): notices to the expected attendees (once,
again on a change of time or place saying what changed, on cancelling), RSVPs, sign-in with
its window and rotating code, the recorder, meetings held offline, and reminders sent exactly
once."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from branches.models import RoleAssignment, TimelineEntry
from meetings import selectors, services, tasks
from meetings.models import Attendance, Meeting, MeetingReminder
from meetings.services import meetings as meeting_services
from members.models import ActivityFact
from notifications.models import Event
from portal.celery import app
from tests import factories
from tests.lessons.conftest import events_for, recipients_of

pytestmark = pytest.mark.django_db

BRANCH = {"member", "office", "secretary"}


def at_start(meeting, minutes=0):
    return meeting.starts_at + timedelta(minutes=minutes)


# --- notices --------------------------------------------------------------------------------


def test_publish_notifies_the_expected_attendees_once(tree, make_meeting, committed):
    meeting = make_meeting(publish=True)
    (event,) = events_for(meeting, "meeting_published")
    assert recipients_of(event) == BRANCH  # not sibling_member, not outsider
    with committed():
        services.meeting_publish(meeting=meeting, by=tree.secretary)
    assert events_for(meeting, "meeting_published").count() == 1
    assert meeting.place in event.subject


def test_a_committee_meeting_expects_the_committee(tree, make_meeting):
    deputy = tree.office.user
    factories.RoleAssignmentFactory(
        user=deputy, organization=tree.branch, role=RoleAssignment.Role.DEPUTY_SECRETARY
    )
    meeting = make_meeting(kind=Meeting.Kind.COMMITTEE_MEETING, publish=True)
    (event,) = events_for(meeting, "meeting_published")
    assert recipients_of(event) == {"secretary", "office"}
    assert not selectors.is_expected(meeting, tree.member.user)


def test_only_a_manager_of_the_organisation_plans_or_publishes(tree, make_meeting):
    with pytest.raises(PermissionDenied):
        make_meeting(by=tree.secretary2)
    meeting = make_meeting()
    with pytest.raises(PermissionDenied):
        services.meeting_publish(meeting=meeting, by=tree.secretary2)
    with pytest.raises(PermissionDenied):
        services.meeting_publish(meeting=meeting, by=tree.member.user)
    services.meeting_publish(meeting=meeting, by=tree.reviewer)


def test_the_end_comes_after_the_start(tree, make_meeting):
    start = timezone.now() + timedelta(days=1)
    with pytest.raises(ValidationError):
        make_meeting(starts_at=start, ends_at=start - timedelta(hours=1))


def test_a_change_of_time_on_a_published_meeting_notifies_again_saying_what(
    tree, make_meeting, committed
):
    meeting = make_meeting(publish=True)
    new_start = meeting.starts_at + timedelta(days=1)
    with committed():
        services.meeting_update(
            meeting=meeting,
            by=tree.secretary,
            fields={"starts_at": new_start, "ends_at": new_start + timedelta(hours=2)},
        )
    (event,) = events_for(meeting, "meeting_changed")
    assert recipients_of(event) == BRANCH
    assert timezone.localtime(new_start).strftime("%Y-%m-%d %H:%M") in event.subject
    assert "time changed" in event.subject
    with committed():
        services.meeting_update(meeting=meeting, by=tree.secretary, fields={"place": "线上"})
    assert "place changed to 线上" in events_for(meeting, "meeting_changed").first().subject
    # A change of the agenda says nothing; nor does a change before publishing.
    with committed():
        services.meeting_update(meeting=meeting, by=tree.secretary, fields={"agenda": "<p>议程</p>"})  # fmt: skip
        draft = make_meeting()
        services.meeting_update(meeting=draft, by=tree.secretary, fields={"place": "别处"})
    assert events_for(meeting, "meeting_changed").count() == 2
    assert not events_for(draft).exists()


def test_cancel_notifies_with_the_reason(tree, make_meeting, committed):
    meeting = make_meeting(publish=True)
    with pytest.raises(ValidationError):
        services.meeting_cancel(meeting=meeting, by=tree.secretary, reason=" ")
    with pytest.raises(PermissionDenied):
        services.meeting_cancel(meeting=meeting, by=tree.secretary2, reason="下雨")
    with committed():
        services.meeting_cancel(meeting=meeting, by=tree.secretary, reason="暴雪封路")
    (event,) = events_for(meeting, "meeting_cancelled")
    assert recipients_of(event) == BRANCH
    assert "暴雪封路" in event.subject
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.CANCELLED
    with pytest.raises(ValidationError):
        services.meeting_update(meeting=meeting, by=tree.secretary, fields={"place": "x"})


# --- RSVP -----------------------------------------------------------------------------------


def test_rsvp_only_for_expected_attendees_before_the_start(tree, make_meeting):
    meeting = make_meeting(publish=True)
    services.meeting_rsvp(meeting=meeting, user=tree.member.user, coming=True)
    with pytest.raises(ValidationError):
        services.meeting_rsvp(meeting=meeting, user=tree.office.user, coming=False)
    answer = services.meeting_rsvp(
        meeting=meeting, user=tree.office.user, coming=False, reason="在外地出差"
    )
    assert (answer.rsvp, answer.leave_reason) == (Attendance.Rsvp.LEAVE, "在外地出差")
    # Changing one's mind keeps one row.
    services.meeting_rsvp(meeting=meeting, user=tree.office.user, coming=True)
    assert Attendance.objects.get(meeting=meeting, user=tree.office.user).rsvp == "coming"
    assert Attendance.objects.filter(meeting=meeting).count() == 2
    for other in (tree.sibling_member.user, tree.outsider.user):
        with pytest.raises(PermissionDenied):
            services.meeting_rsvp(meeting=meeting, user=other, coming=True)
    started = make_meeting(publish=True, starts_at=timezone.now() - timedelta(minutes=5))
    with pytest.raises(ValidationError):
        services.meeting_rsvp(meeting=started, user=tree.member.user, coming=True)


def test_no_rsvp_before_the_notice(tree, make_meeting):
    with pytest.raises(ValidationError):
        services.meeting_rsvp(meeting=make_meeting(), user=tree.member.user, coming=True)


# --- sign-in --------------------------------------------------------------------------------


@pytest.mark.parametrize("minutes", [-31, 121])
def test_sign_in_outside_the_window_is_refused(tree, make_meeting, minutes):
    meeting = make_meeting(publish=True)
    with pytest.raises(ValidationError, match="Sign-in is open"):
        services.attendance_sign_in(
            meeting=meeting, user=tree.member.user, via="button", at=at_start(meeting, minutes)
        )
    assert not Attendance.objects.filter(meeting=meeting).exists()


@pytest.mark.parametrize("minutes", [-30, 0, 120])
def test_sign_in_inside_the_window(tree, make_meeting, minutes):
    meeting = make_meeting(publish=True)
    row = services.attendance_sign_in(
        meeting=meeting, user=tree.member.user, via="button", at=at_start(meeting, minutes)
    )
    assert row.signed_in_at == at_start(meeting, minutes)
    assert row.via == Attendance.Via.BUTTON


def test_qr_code_current_and_previous_step_accepted_older_refused(tree, make_meeting, settings):
    settings.NETBRANCH_SIGN_IN_CODE_SECONDS = 30
    meeting = make_meeting(publish=True)
    now = at_start(meeting, 5)
    step = settings.NETBRANCH_SIGN_IN_CODE_SECONDS
    current = services.meeting_sign_in_code(meeting, now)
    previous = services.meeting_sign_in_code(meeting, now - timedelta(seconds=step))
    older = services.meeting_sign_in_code(meeting, now - timedelta(seconds=2 * step))
    assert len({current, previous, older}) == 3
    other = make_meeting(publish=True, starts_at=meeting.starts_at)
    assert services.meeting_sign_in_code(other, now) != current

    def sign(user, code):
        return services.attendance_sign_in(meeting=meeting, user=user, via="qr", code=code, at=now)

    with pytest.raises(ValidationError, match="expired or is wrong"):
        sign(tree.member.user, older)
    for bad in (None, "", services.meeting_sign_in_code(other, now)):
        with pytest.raises(ValidationError):
            sign(tree.member.user, bad)
    assert sign(tree.member.user, current).via == Attendance.Via.QR
    assert sign(tree.office.user, previous).signed_in_at == now


def test_signing_in_twice_changes_nothing_and_tells_members_once(tree, make_meeting):
    meeting = make_meeting(publish=True)
    user = tree.member.user
    first = services.attendance_sign_in(meeting=meeting, user=user, via="button", at=at_start(meeting))  # fmt: skip
    again = services.attendance_sign_in(
        meeting=meeting,
        user=user,
        via="qr",
        code=services.meeting_sign_in_code(meeting, at_start(meeting, 3)),
        at=at_start(meeting, 3),
    )
    assert Attendance.objects.filter(meeting=meeting, user=user).count() == 1
    assert (again.signed_in_at, again.via) == (first.signed_in_at, Attendance.Via.BUTTON)
    facts = ActivityFact.objects.filter(member=tree.member, kind=ActivityFact.Kind.ATTENDED)
    assert facts.count() == 1
    tree.member.refresh_from_db()
    assert tree.member.last_active_at == at_start(meeting)


def test_a_member_of_another_branch_cannot_sign_in(tree, make_meeting):
    meeting = make_meeting(publish=True)
    code = services.meeting_sign_in_code(meeting, at_start(meeting))
    for other in (tree.sibling_member.user, tree.outsider.user):
        with pytest.raises(PermissionDenied):
            services.attendance_sign_in(
                meeting=meeting, user=other, via="qr", code=code, at=at_start(meeting)
            )


def test_no_sign_in_at_a_cancelled_meeting(tree, make_meeting):
    meeting = make_meeting(publish=True)
    services.meeting_cancel(meeting=meeting, by=tree.secretary, reason="暴雪")
    meeting.refresh_from_db()
    with pytest.raises(ValidationError):
        services.attendance_sign_in(
            meeting=meeting, user=tree.member.user, via="button", at=at_start(meeting)
        )


def test_the_recorder_records_a_member_without_a_phone(tree, make_meeting):
    recorder = tree.office.user
    meeting = make_meeting(publish=True, recorder=recorder)
    with pytest.raises(PermissionDenied):
        services.attendance_record(
            meeting=meeting, user=tree.member.user, by=tree.member.user, at=at_start(meeting)
        )
    with pytest.raises(ValidationError):
        services.attendance_record(
            meeting=meeting, user=tree.member.user, by=recorder, at=at_start(meeting, -60)
        )
    row = services.attendance_record(
        meeting=meeting, user=tree.member.user, by=recorder, at=at_start(meeting, 10)
    )
    assert (row.via, row.recorded_by) == (Attendance.Via.RECORDED, recorder)
    with pytest.raises(PermissionDenied):
        services.attendance_record(
            meeting=meeting, user=tree.sibling_member.user, by=recorder, at=at_start(meeting)
        )
    assert ActivityFact.objects.filter(member=tree.member, kind="attended").count() == 1


def test_held_offline_counts_as_held(tree, make_meeting):
    start = timezone.now() - timedelta(days=3)
    meeting = make_meeting(starts_at=start, kind=Meeting.Kind.PARTY_LESSON)
    present = [tree.member.user.pk, tree.office.user.pk]
    with pytest.raises(ValidationError):
        services.meeting_record_offline(
            meeting=meeting, by=tree.secretary, present_user_ids=[tree.sibling_member.user.pk]
        )
    with pytest.raises(PermissionDenied):
        services.meeting_record_offline(
            meeting=meeting, by=tree.secretary2, present_user_ids=present
        )
    services.meeting_record_offline(meeting=meeting, by=tree.secretary, present_user_ids=present)
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.HELD
    assert meeting.held_offline and meeting.entered_at is not None
    rows = Attendance.objects.filter(meeting=meeting)
    assert {r.user_id for r in rows} == set(present)
    assert {(r.via, r.recorded_by_id, r.signed_in_at) for r in rows} == {
        (Attendance.Via.RECORDED, tree.secretary.pk, start)
    }
    assert TimelineEntry.objects.filter(organization=tree.branch, kind="meeting_held").count() == 1
    assert ActivityFact.objects.filter(kind="attended").count() == 2
    future = make_meeting()
    with pytest.raises(ValidationError):
        services.meeting_record_offline(meeting=future, by=tree.secretary, present_user_ids=[])


# --- reminders ------------------------------------------------------------------------------


def test_reminders_are_sent_exactly_once(tree, make_meeting, committed):
    meeting = make_meeting(publish=True, starts_at=timezone.now() + timedelta(days=3))
    start = meeting.starts_at
    with committed():
        assert services.meetings_send_reminders(now=start - timedelta(hours=30)) == 0
        # The 24-hour reminder; the beat ticks twice.
        assert services.meetings_send_reminders(now=start - timedelta(hours=23)) == 1
        assert services.meetings_send_reminders(now=start - timedelta(hours=23)) == 0
        assert services.meetings_send_reminders(now=start - timedelta(hours=2)) == 0
        # The 1-hour reminder, twice too.
        assert services.meetings_send_reminders(now=start - timedelta(minutes=55)) == 1
        assert services.meetings_send_reminders(now=start - timedelta(minutes=50)) == 0
    events = events_for(meeting, "meeting_reminder")
    assert events.count() == 2
    assert all(recipients_of(e) == BRANCH for e in events)
    assert set(MeetingReminder.objects.filter(meeting=meeting).values_list("kind", flat=True)) == {
        "24h",
        "1h",
    }


def test_no_reminder_for_a_draft_a_cancelled_or_a_late_announced_meeting(
    tree, make_meeting, committed
):
    soon = timezone.now() + timedelta(minutes=50)
    draft = make_meeting(starts_at=soon)
    cancelled = make_meeting(publish=True, starts_at=soon)
    services.meeting_cancel(meeting=cancelled, by=tree.secretary, reason="改期")
    late = make_meeting(publish=True, starts_at=soon)  # announced inside both windows
    with committed():
        assert services.meetings_send_reminders() == 0
    assert not Event.objects.filter(kind="meeting_reminder").exists()
    assert not MeetingReminder.objects.filter(meeting__in=[draft, cancelled, late]).exists()


def test_the_reminder_task_is_on_the_beat(tree, make_meeting):
    schedule = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert "meetings.tasks.send_reminders" in schedule
    meeting = make_meeting(publish=True)
    Meeting.objects.filter(pk=meeting.pk).update(
        published_at=timezone.now() - timedelta(days=5),
        starts_at=timezone.now() + timedelta(hours=20),
        ends_at=timezone.now() + timedelta(hours=22),
    )
    assert tasks.send_reminders.delay().get() == 1
    assert tasks.send_reminders.delay().get() == 0


def test_a_claimed_reminder_that_rolled_back_is_sent_by_the_next_tick(
    tree, make_meeting, committed, monkeypatch
):
    """A worker that dies between the claim and the commit leaves nothing behind."""
    meeting = make_meeting(publish=True, starts_at=timezone.now() + timedelta(days=3))
    now = meeting.starts_at - timedelta(hours=23)

    def boom(**kwargs):
        raise RuntimeError("worker killed")

    monkeypatch.setattr(meeting_services, "notify", boom)
    with pytest.raises(RuntimeError):
        services.meetings_send_reminders(now=now)
    assert not MeetingReminder.objects.exists()
    monkeypatch.undo()
    with committed():
        assert services.meetings_send_reminders(now=now) == 1


def test_the_audience_is_registered():
    from notifications import audiences

    assert "meetings.attendees" in audiences.registered()


def test_an_announced_meeting_keeps_its_organisation_and_kind(tree, make_meeting):
    """Who is expected follows from them; the attendees were told already."""
    meeting = make_meeting(publish=True)
    with pytest.raises(ValidationError):
        services.meeting_update(
            meeting=meeting, by=tree.reviewer, fields={"organization": tree.company}
        )
    with pytest.raises(ValidationError):
        services.meeting_update(
            meeting=meeting, by=tree.secretary, fields={"kind": Meeting.Kind.GENERAL_MEETING}
        )
    meeting.refresh_from_db()
    assert (meeting.organization, meeting.kind) == (tree.branch, Meeting.Kind.THEMED_DAY)
    draft = make_meeting()
    services.meeting_update(
        meeting=draft, by=tree.secretary, fields={"kind": Meeting.Kind.GENERAL_MEETING}
    )
