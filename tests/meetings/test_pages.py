"""The member pages of the activity sync (meetings.views.pages): who sees, answers, signs in,
records and shows the QR code (role × organisation), the answer and sign-in through the views
with their refusals as messages, the host's QR page, counts, lists, and fixed query counts for
10 and 1,000 attendees."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from branches.models import RoleAssignment
from discussions.models import Comment
from meetings import selectors, services
from meetings.models import Attendance, Meeting
from meetings.selectors import pages as page_selectors
from members.models import Member
from tests import factories

pytestmark = pytest.mark.django_db

ROLES = ["member", "sibling_member", "outsider", "secretary", "secretary2", "reviewer"]


def user_of(tree, role):
    value = getattr(tree, role)
    return value.user if isinstance(value, Member) else value


def url(name, meeting, **query):
    path = reverse(f"meetings:{name}", args=[getattr(meeting, "pk", meeting)])
    if query:
        path += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    return path


def html(response) -> str:
    return response.content.decode()


def follow_messages(client, response) -> str:
    """The page a PRG redirect leads to (where the messages are shown)."""
    assert response.status_code == 302, response.status_code
    return html(client.get(response["Location"]))


@pytest.fixture
def soon(make_meeting):
    """An announced meeting of tree.branch starting in ten minutes: answers are still open and
    the sign-in window (30 minutes before the start) is open."""

    def make(**fields):
        start = timezone.now() + timedelta(minutes=10)
        fields.setdefault("starts_at", start)
        fields.setdefault("ends_at", start + timedelta(hours=2))
        return make_meeting(publish=True, **fields)

    return make


def make_started(make_meeting, *, minutes_ago=10, publish=True, **fields) -> Meeting:
    """A meeting that began `minutes_ago` minutes ago (created in the future, then moved: the
    service refuses nothing about past times, but this keeps the fixture's defaults)."""
    meeting = make_meeting(publish=publish, **fields)
    start = timezone.now() - timedelta(minutes=minutes_ago)
    Meeting.objects.filter(pk=meeting.pk).update(
        starts_at=start, ends_at=start + timedelta(hours=2)
    )
    meeting.refresh_from_db()
    return meeting


# --- role × action --------------------------------------------------------------------------

#: role: (sees the page, may answer, may sign in, may record, may show the QR code)
TABLE = {
    "member": (True, True, True, False, False),
    "sibling_member": (False, False, False, False, False),
    "outsider": (False, False, False, False, False),
    "secretary": (True, True, True, True, True),
    "secretary2": (False, False, False, False, False),
    "reviewer": (True, False, False, True, True),
}


@pytest.mark.parametrize("role", ROLES)
def test_permission_table(client, tree, soon, role):
    sees, answers, signs_in, records, shows_code = TABLE[role]
    meeting = soon()
    user = user_of(tree, role)
    client.force_login(user)

    response = client.get(url("detail", meeting))
    assert response.status_code == (200 if sees else 404)
    if sees:
        assert meeting.title in html(response)

    response = client.post(url("rsvp", meeting), {"answer": "coming"})
    assert response.status_code == (302 if sees else 404)
    assert Attendance.objects.filter(meeting=meeting, user=user, rsvp="coming").exists() == answers

    response = client.post(url("sign_in", meeting))
    assert response.status_code == (302 if sees else 404)
    signed = Attendance.objects.filter(meeting=meeting, user=user, signed_in_at__isnull=False)
    assert signed.exists() == signs_in
    if signs_in:
        assert signed.get().via == Attendance.Via.BUTTON

    office = tree.office.user
    response = client.post(url("record", meeting), {"user": office.pk})
    assert response.status_code == (302 if sees else 404)
    recorded = Attendance.objects.filter(meeting=meeting, user=office, signed_in_at__isnull=False)
    assert recorded.exists() == records
    if records:
        assert recorded.get().via == Attendance.Via.RECORDED
        assert recorded.get().recorded_by == user

    response = client.get(url("sign_in_code", meeting))
    assert response.status_code == (200 if shows_code else 403 if sees else 404)

    response = client.get(url("ics", meeting))
    assert response.status_code == (200 if sees else 404)


def test_refusals_of_the_services_become_messages(client, tree, soon):
    meeting = soon()
    client.force_login(tree.reviewer)  # sees the meeting, is not expected
    page = follow_messages(client, client.post(url("rsvp", meeting), {"answer": "coming"}))
    assert "You are not expected at this meeting." in page
    client.force_login(tree.member.user)  # expected, not the recorder
    page = follow_messages(
        client, client.post(url("record", meeting), {"user": tree.office.user.pk})
    )
    assert "Only the recorder or the secretary records attendance." in page
    assert not Attendance.objects.filter(meeting=meeting).exclude(user=tree.member.user).exists()


def test_unknown_ids_are_404(client, tree):
    client.force_login(tree.secretary)
    missing = 999_999
    for name in ("detail", "sign_in", "sign_in_code", "ics"):
        assert client.get(url(name, missing)).status_code == 404, name
    for name in ("rsvp", "sign_in", "record", "publish", "cancel"):
        assert client.post(url(name, missing), {"answer": "coming"}).status_code == 404, name


def test_anonymous_visitors_log_in_first_and_come_back_with_the_code(client, tree, soon):
    meeting = soon()
    link = url("sign_in", meeting, code="abc")
    response = client.get(link)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert "code%3Dabc" in response["Location"]  # the code survives the login


def test_a_draft_is_seen_only_by_its_managers(client, tree, make_meeting):
    draft = make_meeting()
    for user, status in (
        (tree.member.user, 404),
        (tree.office.user, 404),
        (tree.secretary, 200),
        (tree.reviewer, 200),
        (tree.secretary2, 404),
    ):
        client.force_login(user)
        response = client.get(url("detail", draft))
        assert response.status_code == status, user
    client.force_login(tree.secretary)
    assert "Not announced" in html(client.get(url("detail", draft)))


def test_host_and_recorder_from_elsewhere_see_the_meeting_and_the_code(client, tree, soon):
    helper = tree.sibling_member.user  # not expected, not a manager
    meeting = soon(host=helper)
    client.force_login(helper)
    assert client.get(url("detail", meeting)).status_code == 200
    assert client.get(url("sign_in_code", meeting)).status_code == 200
    response = client.post(url("record", meeting), {"user": tree.office.user.pk})
    assert not Attendance.objects.filter(meeting=meeting, user=tree.office.user).exists()
    assert response.status_code == 302  # the host is not the recorder: refused with a message


def test_a_recorder_who_is_a_plain_member_records_members_without_a_phone(client, tree, soon):
    meeting = soon(recorder=tree.office.user)
    client.force_login(tree.office.user)
    page = html(client.get(url("detail", meeting)))
    assert "Record present" in page and "Manage this meeting" in page
    assert "Cancel the meeting" not in page  # not a manager
    response = client.post(url("record", meeting), {"user": tree.member.user.pk})
    page = follow_messages(client, response)
    attendance = Attendance.objects.get(meeting=meeting, user=tree.member.user)
    assert attendance.via == Attendance.Via.RECORDED and attendance.recorded_by == tree.office.user
    assert "is recorded present" in page
    again = follow_messages(
        client, client.post(url("record", meeting), {"user": tree.member.user.pk})
    )
    assert "was already signed in" in again
    assert Attendance.objects.filter(meeting=meeting).count() == 1
    # Someone not expected (another branch), a bad id: refused, nothing stored.
    for bad in (tree.sibling_member.user.pk, "x", ""):
        page = follow_messages(client, client.post(url("record", meeting), {"user": bad}))
        assert "This person is not expected at the meeting." in page
    assert Attendance.objects.filter(meeting=meeting).count() == 1


def test_recording_waits_for_the_window(client, tree, make_meeting):
    meeting = make_meeting(publish=True)  # in two days
    client.force_login(tree.secretary)
    page = html(client.get(url("detail", meeting)))
    assert "Record present" not in page and "can be recorded present from" in page
    page = follow_messages(
        client, client.post(url("record", meeting), {"user": tree.office.user.pk})
    )
    assert "The meeting has not started yet." in page
    assert not Attendance.objects.filter(meeting=meeting).exists()


# --- answers --------------------------------------------------------------------------------


def test_leave_without_a_reason_is_refused_and_nothing_is_stored(client, tree, soon):
    meeting = soon()
    client.force_login(tree.member.user)
    for reason in ("", "   "):
        response = client.post(url("rsvp", meeting), {"answer": "leave", "reason": reason})
        assert "Give a reason for your leave." in follow_messages(client, response)
    for bad in ({}, {"answer": "maybe"}):
        follow_messages(client, client.post(url("rsvp", meeting), bad))
    assert not Attendance.objects.filter(meeting=meeting).exists()


def test_answers_change_and_a_double_submit_keeps_one_row(client, tree, soon):
    meeting = soon()
    client.force_login(tree.member.user)
    client.post(url("rsvp", meeting), {"answer": "coming"})
    client.post(url("rsvp", meeting), {"answer": "coming"})
    assert Attendance.objects.filter(meeting=meeting).count() == 1
    page = follow_messages(
        client, client.post(url("rsvp", meeting), {"answer": "leave", "reason": "在那曲值班"})
    )
    assert "You asked for leave." in page
    client.post(url("rsvp", meeting), {"answer": "leave", "reason": "在那曲值班"})
    attendance = Attendance.objects.get(meeting=meeting)
    assert (attendance.rsvp, attendance.leave_reason) == ("leave", "在那曲值班")
    page = html(client.get(url("detail", meeting)))
    assert "在那曲值班" in page and "on leave" in page


def test_an_answer_after_the_start_is_refused(client, tree, make_meeting):
    meeting = make_started(make_meeting)
    client.force_login(tree.member.user)
    page = html(client.get(url("detail", meeting)))
    assert "I will come" not in page
    page = follow_messages(client, client.post(url("rsvp", meeting), {"answer": "coming"}))
    assert "too late to answer" in page
    assert not Attendance.objects.filter(meeting=meeting).exists()


def test_the_answer_returns_to_a_safe_next_only(client, tree, soon):
    meeting = soon()
    client.force_login(tree.member.user)
    response = client.post(url("rsvp", meeting), {"answer": "coming", "next": "/"})
    assert response["Location"] == "/"
    response = client.post(
        url("rsvp", meeting), {"answer": "coming", "next": "https://evil.example/"}
    )
    assert response["Location"].startswith(url("detail", meeting))


# --- sign-in --------------------------------------------------------------------------------


def test_button_sign_in_and_a_double_submit(client, tree, soon):
    meeting = soon()
    client.force_login(tree.member.user)
    page = html(client.get(url("detail", meeting)))
    assert f'action="{url("sign_in", meeting)}"' in page
    page = follow_messages(client, client.post(url("sign_in", meeting)))
    assert "You are signed in." in page
    first = Attendance.objects.get(meeting=meeting).signed_in_at
    page = follow_messages(client, client.post(url("sign_in", meeting)))
    assert "You were already signed in" in page
    attendance = Attendance.objects.get(meeting=meeting)
    assert attendance.signed_in_at == first and attendance.via == Attendance.Via.BUTTON


def test_sign_in_outside_the_window_is_refused(client, tree, make_meeting):
    meeting = make_meeting(publish=True)  # in two days
    client.force_login(tree.member.user)
    page = html(client.get(url("detail", meeting)))
    assert "Sign-in opens at" in page and "sign-in" not in re.findall(
        r'class="primary ([a-z-]+)"', page
    )
    page = follow_messages(client, client.post(url("sign_in", meeting)))
    assert "Sign-in is open from" in page
    code = services.meeting_sign_in_code(meeting)
    page = follow_messages(client, client.post(url("sign_in", meeting), {"code": code}))
    assert "Sign-in is open from" in page
    assert not Attendance.objects.filter(meeting=meeting).exists()


def test_qr_link_shows_a_confirm_page_and_the_post_signs_in(client, tree, soon):
    meeting = soon()
    code = services.meeting_sign_in_code(meeting)
    client.force_login(tree.member.user)
    page = html(client.get(url("sign_in", meeting, code=code)))
    assert f'name="code" value="{code}"' in page
    assert not Attendance.objects.exists()  # GET never writes
    page = follow_messages(client, client.post(url("sign_in", meeting), {"code": code}))
    assert "You are signed in." in page
    assert Attendance.objects.get(meeting=meeting).via == Attendance.Via.QR
    assert "You are signed in since" in html(client.get(url("sign_in", meeting, code=code)))


def test_an_old_or_wrong_code_is_refused_with_the_services_message(client, tree, soon, settings):
    meeting = soon()
    old = services.meeting_sign_in_code(
        meeting, at=timezone.now() - timedelta(seconds=3 * settings.NETBRANCH_SIGN_IN_CODE_SECONDS)
    )
    client.force_login(tree.member.user)
    for code in (old, "0000000000"):
        page = follow_messages(client, client.post(url("sign_in", meeting), {"code": code}))
        assert "This sign-in code has expired or is wrong" in page
    assert not Attendance.objects.exists()


def test_the_qr_page_draws_the_link_with_the_current_code_and_refreshes(client, tree, soon):
    meeting = soon()
    client.force_login(tree.secretary)
    response = client.get(url("sign_in_code", meeting))
    page = html(response)
    code = services.meeting_sign_in_code(meeting)
    link = "http://testserver" + url("sign_in", meeting, code=code)
    assert link in page
    assert re.search(r'<svg [^>]*class="qr"', page) and "<path" in page
    assert 'hx-trigger="every 5s"' in page
    assert re.search(r'<noscript>\s*<meta http-equiv="refresh" content="\d+">', page)
    assert "no-cache" in response["Cache-Control"]
    fragment = html(client.get(url("sign_in_code", meeting), HTTP_HX_REQUEST="true"))
    assert "<html" not in fragment and 'id="sign-in-code"' in fragment
    # The link the QR code carries signs a member in.
    client.force_login(tree.member.user)
    client.post(url("sign_in", meeting), {"code": code})
    assert Attendance.objects.get(meeting=meeting, user=tree.member.user).via == "qr"


def test_the_qr_page_says_when_the_meeting_is_not_open(client, tree, make_meeting):
    meeting = make_meeting(publish=True)
    client.force_login(tree.secretary)
    assert "this code works only then" in html(client.get(url("sign_in_code", meeting)))


# --- management -----------------------------------------------------------------------------


def test_the_secretary_announces_and_cancels_with_a_reason(client, tree, make_meeting, committed):
    meeting = make_meeting()
    client.force_login(tree.member.user)
    assert client.post(url("publish", meeting)).status_code == 404  # a draft: not even seen
    client.force_login(tree.secretary)
    page = html(client.get(url("detail", meeting)))
    assert url("publish", meeting) in page
    assert reverse("admin:meetings_meeting_change", args=[meeting.pk]) in page
    with committed():
        page = follow_messages(client, client.post(url("publish", meeting)))
    assert "The notice is sent" in page
    meeting.refresh_from_db()
    assert meeting.is_published
    assert "already gone out" in follow_messages(client, client.post(url("publish", meeting)))

    client.force_login(tree.member.user)  # now sees it, may not cancel
    page = follow_messages(client, client.post(url("cancel", meeting), {"reason": "暴雪"}))
    assert "You may not manage meetings" in page
    client.force_login(tree.secretary)
    page = follow_messages(client, client.post(url("cancel", meeting), {"reason": "  "}))
    assert "Say why the meeting is cancelled." in page
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.PLANNED
    with committed():
        client.post(url("cancel", meeting), {"reason": "暴雪封路"})
    meeting.refresh_from_db()
    assert (meeting.status, meeting.cancelled_reason) == ("cancelled", "暴雪封路")
    page = html(client.get(url("detail", meeting)))
    assert "暴雪封路" in page and url("cancel", meeting) not in page


def test_counts_expected_coming_leave_present_absent(client, tree, make_meeting):
    meeting = make_started(make_meeting, minutes_ago=10)
    # tree.branch expects member, office, secretary (+ party group members: none).
    Attendance.objects.create(meeting=meeting, user=tree.office.user, rsvp="leave", leave_reason="病假")  # fmt: skip
    services.attendance_sign_in(meeting=meeting, user=tree.member.user, via="button")
    counts = page_selectors.attendance_counts(meeting)
    assert (counts["expected"], counts["leave"], counts["present"], counts["absent"]) == (
        3,
        1,
        1,
        None,
    )
    Meeting.objects.filter(pk=meeting.pk).update(
        starts_at=timezone.now() - timedelta(hours=3), ends_at=timezone.now() - timedelta(hours=1)
    )
    meeting.refresh_from_db()
    counts = page_selectors.attendance_counts(meeting)
    assert counts["absent"] == 1  # the secretary: expected, neither present nor on leave
    # A row of someone no longer expected does not count.
    Attendance.objects.create(meeting=meeting, user=tree.sibling_member.user, rsvp="coming")
    assert page_selectors.attendance_counts(meeting)["coming"] == 0
    client.force_login(tree.secretary)
    page = html(client.get(url("detail", meeting)))
    assert re.search(r'class="n-expected">3<', page) and re.search(r'class="n-absent">1<', page)
    assert "病假" in page  # the reason, in the recorder's table


def test_the_roster_filters_and_paginates(client, tree, soon, settings):
    settings.NETBRANCH_PAGE_SIZE = 2
    meeting = soon()
    Attendance.objects.create(meeting=meeting, user=tree.office.user, rsvp="leave", leave_reason="探亲")  # fmt: skip
    client.force_login(tree.secretary)
    page = html(client.get(url("detail", meeting)))
    assert "Page 1 of 2" in page
    page = html(client.get(url("detail", meeting, show="leave")))
    assert "探亲" in page and tree.member.real_name not in page
    page = html(client.get(url("detail", meeting, show="present")))
    assert "Nobody here." in page


# --- lists ----------------------------------------------------------------------------------


def test_my_meetings_upcoming_past_kinds_and_managed(client, tree, make_meeting, soon):
    coming = soon(title="本月主题党日")
    lesson = make_meeting(publish=True, kind=Meeting.Kind.PARTY_LESSON, title="季度党课")
    draft = make_meeting(title="尚未通知的支委会", kind=Meeting.Kind.COMMITTEE_MEETING)
    other = make_meeting(org=tree.sibling, by=tree.secretary2, publish=True, title="二号支部会")
    past = make_started(make_meeting, minutes_ago=60 * 24, title="上月主题党日")
    cancelled = soon(title="取消的会")
    services.meeting_cancel(meeting=cancelled, by=tree.secretary, reason="台风")
    Attendance.objects.create(meeting=coming, user=tree.member.user, rsvp="leave", leave_reason="出差")  # fmt: skip

    client.force_login(tree.member.user)
    page = html(client.get(reverse("meetings:list")))
    for meeting in (coming, lesson, past, cancelled):
        assert meeting.title in page
    assert other.title not in page and draft.title not in page
    assert "Meetings I manage" not in page
    assert page.index(coming.title) < page.index(lesson.title)  # soonest first
    assert page.index("Past and cancelled") < page.index(cancelled.title)
    assert "on leave" in page
    page = html(client.get(reverse("meetings:list") + "?kind=party_lesson"))
    assert lesson.title in page and coming.title not in page
    page = html(client.get(reverse("meetings:list") + "?kind=nonsense"))
    assert coming.title in page

    client.force_login(tree.secretary)
    page = html(client.get(reverse("meetings:list")))
    managed = page[page.index("Meetings I manage") : page.index("Coming up")]
    assert draft.title in managed and "not announced" in managed and other.title not in managed
    client.force_login(tree.reviewer)
    page = html(client.get(reverse("meetings:list")))
    managed = page[page.index("Meetings I manage") : page.index("Coming up")]
    assert other.title in managed and draft.title in managed


def test_the_past_list_paginates(client, tree, make_meeting, settings):
    settings.NETBRANCH_PAGE_SIZE = 3
    for i in range(5):
        make_started(make_meeting, minutes_ago=60 * 24 * (i + 1), title=f"往期{i}")
    client.force_login(tree.member.user)
    page = html(client.get(reverse("meetings:list")))
    assert "往期0" in page and "往期4" not in page and "Page 1 of 2" in page
    assert "往期4" in html(client.get(reverse("meetings:list") + "?page=2"))


def test_a_meeting_held_offline_is_seen_without_a_notice(client, tree, make_meeting):
    meeting = make_started(make_meeting, minutes_ago=60 * 24, publish=False, title="那曲离线党课")
    services.meeting_record_offline(
        meeting=meeting, by=tree.secretary, present_user_ids=[tree.member.user.pk]
    )
    client.force_login(tree.member.user)
    assert "那曲离线党课" in html(client.get(reverse("meetings:list")))
    page = html(client.get(url("detail", meeting)))
    assert "held offline" in page and re.search(r'class="n-present">1<', page)


def test_header_links_to_meetings(client, tree):
    client.force_login(tree.member.user)
    assert f'href="{reverse("meetings:list")}"' in html(client.get("/"))


# --- expected, as the pages decide it -------------------------------------------------------


def test_expected_from_paths_agrees_with_the_attendee_selector(tree, make_meeting):
    factories.RoleAssignmentFactory(
        user=tree.office.user, organization=tree.branch, role=RoleAssignment.Role.COMMITTEE_MEMBER
    )
    factories.MemberFactory(user__username="grouped", branch=tree.party_group)
    meetings = [
        make_meeting(org=org, by=tree.reviewer, kind=kind, publish=True)
        for org in (
            tree.group,
            tree.company,
            tree.branch,
            tree.sibling,
            tree.party_group,
            tree.joint,
        )
        for kind in (Meeting.Kind.THEMED_DAY, Meeting.Kind.COMMITTEE_MEETING)
    ]
    users = list(get_user_model().objects.all())
    for user in users:
        listed = set(
            Meeting.objects.filter(page_selectors.expected_q(user)).values_list("pk", flat=True)
        )
        for meeting in meetings:
            fresh = get_user_model().objects.get(pk=user.pk)  # no cached scope
            truth = selectors.is_expected(meeting, fresh)
            assert page_selectors.is_expected(meeting, fresh) == truth, (user, meeting)
            assert (meeting.pk in listed) == truth, (user, meeting)


# --- comments -------------------------------------------------------------------------------


def test_members_comment_on_a_meeting_others_cannot(client, tree, soon):
    meeting = soon()
    content_type = ContentType.objects.get_for_model(Meeting)
    data = {"content_type": content_type.pk, "object_id": meeting.pk, "body": "准时参加"}
    client.force_login(tree.member.user)
    page = html(client.get(url("detail", meeting)))
    assert 'name="body"' in page
    client.post(reverse("discussions:comment_create"), data)
    assert Comment.objects.filter(object_id=meeting.pk, content_type=content_type).count() == 1
    assert "准时参加" in html(client.get(url("detail", meeting)))
    client.force_login(tree.sibling_member.user)
    assert client.post(reverse("discussions:comment_create"), data).status_code == 404
    assert Comment.objects.count() == 1


# --- query counts ---------------------------------------------------------------------------


def add_members(organization, n: int) -> list:
    """n members registered in `organization`, bulk-created."""
    User = get_user_model()
    start = User.objects.count()
    users = User.objects.bulk_create(
        User(username=f"bulk{start + i}", email=f"bulk{start + i}@example.com") for i in range(n)
    )
    users = list(User.objects.filter(username__in=[u.username for u in users]))
    Member.objects.bulk_create(
        Member(user=u, real_name=f"成员{u.pk}", branch=organization) for u in users
    )
    return users


def answer_all(meeting, users) -> None:
    """A third coming, a third on leave, a third signed in."""
    now = timezone.now()
    rows = []
    for i, user in enumerate(users):
        if i % 3 == 0:
            rows.append(Attendance(meeting=meeting, user=user, rsvp="coming", answered_at=now))
        elif i % 3 == 1:
            rows.append(Attendance(meeting=meeting, user=user, rsvp="leave", leave_reason="值班", answered_at=now))  # fmt: skip
        else:
            rows.append(Attendance(meeting=meeting, user=user, signed_in_at=now, via="qr"))
    Attendance.objects.bulk_create(rows)


def bulk_meetings(organization, n: int) -> None:
    """n announced meetings of `organization`, half past, half coming (no notices sent)."""
    now = timezone.now()
    Meeting.objects.bulk_create(
        Meeting(
            organization=organization,
            kind=Meeting.Kind.THEMED_DAY,
            title=f"批量{i}",
            starts_at=now + timedelta(days=i - n // 2, hours=1),
            ends_at=now + timedelta(days=i - n // 2, hours=3),
            published_at=now - timedelta(days=n),
        )
        for i in range(n)
    )


def count_queries(client, path) -> list:
    client.get(path)  # warm up: session, content types
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
    assert response.status_code == 200
    return [q["sql"] for q in ctx.captured_queries]


@pytest.mark.parametrize("username", ["member", "secretary"])
@pytest.mark.parametrize("page", ["detail", "list", "code"])
def test_query_counts_are_the_same_for_10_and_1000_attendees(
    client, tree, soon, make_meeting, username, page
):
    if page == "code" and username == "member":
        pytest.skip("members do not open the QR page")
    user = tree.member.user if username == "member" else tree.secretary
    meeting = soon(recorder=tree.office.user)
    make_started(make_meeting, minutes_ago=60 * 24)
    answer_all(meeting, add_members(tree.branch, 7))
    client.force_login(user)
    path = {"detail": url("detail", meeting), "list": reverse("meetings:list"),
            "code": url("sign_in_code", meeting)}[page]  # fmt: skip
    small = count_queries(client, path)
    print(f"{page} as {username}: {len(small)} queries")

    answer_all(meeting, add_members(tree.branch, 990))
    bulk_meetings(tree.branch, 60)  # and many meetings, past and coming
    large = count_queries(client, path)
    assert len(large) == len(small), "\n".join(large)
    assert len(small) <= {"detail": 30, "list": 12, "code": 10}[page], "\n".join(small)
