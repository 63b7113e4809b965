"""The figures of an activity report on hand-built data, each figure checked against a count
done by hand, the subtree rule, and a fixed number of queries for 2 and 20 organisations."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from branches.models import Organization, TimelineEntry
from decisions.models import Motion
from discussions.models import BoardPost
from lessons.models import Lesson, LessonShare, PointsEntry, StudyRecord
from meetings.models import Attendance, Meeting, Reflection
from members.models import Member, OutreachCase, Transfer
from notifications.models import Notice
from reports.selectors.figures import (
    FIGURE_ROWS,
    QUERY_COUNT,
    compliance,
    empty_figures,
    failing_keys,
    figure_value,
    figures_for,
)
from tests import factories
from welfare.models import WelfareActivity, WelfareParticipant

from .conftest import local

K = Meeting.Kind


def held(org, kind, at, *, expected=3, **kw):
    return Meeting.objects.create(
        organization=org,
        kind=kind,
        title=f"{kind} {at:%m-%d}",
        starts_at=at,
        ends_at=at + timedelta(hours=2),
        status=Meeting.Status.HELD,
        expected_count=expected,
        **kw,
    )


def sign_in(meeting, *users):
    for user in users:
        Attendance.objects.create(
            meeting=meeting, user=user, signed_in_at=meeting.starts_at, via=Attendance.Via.BUTTON
        )


def lesson(org, at, **kw):
    return Lesson.objects.create(
        organization=org,
        title=f"lesson {at:%m-%d}",
        status=Lesson.Status.PUBLISHED,
        published_at=at,
        reading_minutes=10,
        **kw,
    )


def finished(user, lesson_obj, at):
    return StudyRecord.objects.create(
        user=user, lesson=lesson_obj, started_at=at, marked_at=at, finished_at=at, points=2
    )


def welfare(org, on, *, money=0, goods=0, status=WelfareActivity.Status.DONE):
    done = status == WelfareActivity.Status.DONE
    return WelfareActivity.objects.create(
        organization=org,
        kind=WelfareActivity.Kind.VOLUNTEERING,
        title="植树",
        held_on=on,
        status=status,
        published_at=local(2025, 1, 1, 9) if done else None,
        done_at=local(on.year, on.month, on.day, 18) if done else None,
        money_yuan=Decimal(money),
        goods_value_yuan=Decimal(goods),
    )


def motion(org, closed_at, result, **kw):
    return Motion.objects.create(
        organization=org,
        title="议题",
        opens_at=closed_at.replace(day=1),
        closes_at=closed_at,
        opened_at=closed_at.replace(day=1),
        status=Motion.Status.CLOSED,
        closed_at=closed_at,
        result=result,
        electorate_size=3,
        votes_for=3 if result == Motion.Result.PASSED else 0,
        votes_against=0 if result == Motion.Result.PASSED else 3,
        votes_abstain=0,
        **kw,
    )


@pytest.fixture
def activity(tree, q2, in_q2):
    """Q2 2025 in the tree, counted by hand in the tests below."""
    t = tree
    users = SimpleUsers(t)
    # Members: branch has member (remote), office, secretary; office is at risk.
    Member.objects.filter(pk=t.office.pk).update(contact_status=Member.ContactStatus.AT_RISK)
    Member.objects.filter(pk=t.member.pk).update(last_active_at=local(2025, 6, 25, 8))
    # Participations: office in the branch's party group (same unit: not a participant),
    # sibling_member in it (a participant of the branch); a pocket member in the joint branch.
    factories.ParticipationFactory(member=t.office, organization=t.party_group)
    factories.ParticipationFactory(member=t.sibling_member, organization=t.party_group)
    pocket = factories.MemberFactory(
        user__username="pocket", branch=None, contact_status=Member.ContactStatus.POCKET
    )
    factories.ParticipationFactory(member=pocket, organization=t.joint)
    ended = factories.ParticipationFactory(
        member=t.outsider, organization=t.joint, ended_on=date(2025, 5, 1)
    )
    assert ended.ended_on

    # Meetings of the branch: general meeting (May), Party lesson (April), themed days every
    # month, committee meetings in April and May only (June missed), an "other" activity.
    general = held(t.branch, K.GENERAL_MEETING, in_q2.may, expected=3)
    sign_in(general, users.member, users.office)
    Attendance.objects.create(
        meeting=general, user=users.secretary, rsvp=Attendance.Rsvp.LEAVE, leave_reason="出差"
    )
    party_lesson = held(t.branch, K.PARTY_LESSON, in_q2.april, expected=3)
    sign_in(party_lesson, users.member, users.office, users.secretary)
    for user in (users.member, users.office):
        Reflection.objects.create(meeting=party_lesson, author=user, body="心得")
    for at in (in_q2.april, in_q2.may, in_q2.june):
        held(t.branch, K.THEMED_DAY, at, expected=0)
    for at in (in_q2.april, in_q2.may):
        held(t.branch, K.COMMITTEE_MEETING, at, expected=1)
    held(t.branch, K.OTHER, in_q2.june, expected=0)
    # Not counted: before the quarter, after it, planned, cancelled.
    held(t.branch, K.GENERAL_MEETING, in_q2.before, expected=3)
    held(t.branch, K.GENERAL_MEETING, in_q2.after, expected=3)
    Meeting.objects.create(
        organization=t.branch,
        kind=K.GENERAL_MEETING,
        title="planned",
        starts_at=in_q2.june,
        ends_at=in_q2.june + timedelta(hours=2),
    )
    # The party group: group meetings in April and June (May missed).
    group_meeting = held(t.party_group, K.GROUP_MEETING, in_q2.april, expected=2)
    sign_in(group_meeting, users.office)
    held(t.party_group, K.GROUP_MEETING, in_q2.june, expected=2)

    # Lessons reaching the branch: the group's (all), the company's (remote only), its own, its
    # party group's, the sibling's shared with it. Not counted: committee-only, March, outside.
    l_group = lesson(t.group, in_q2.april)
    l_company = lesson(t.company, in_q2.may, for_office=False, for_front_line=False)
    l_own = lesson(t.branch, in_q2.june)
    lesson(t.party_group, in_q2.may)
    l_sibling = lesson(t.sibling, in_q2.may)
    LessonShare.objects.create(lesson=l_sibling, organization=t.branch)
    lesson(t.group, in_q2.may, committee_only=True)
    l_march = lesson(t.group, in_q2.before)
    lesson(t.outside, in_q2.may)
    finished(users.member, l_group, in_q2.april)
    finished(users.member, l_company, in_q2.may)
    finished(users.office, l_group, in_q2.june)
    finished(users.office, l_march, in_q2.april)
    finished(users.secretary, l_own, local(2025, 7, 2, 9))
    for user, lesson_obj, reason, points, at in (
        (users.member, l_group, PointsEntry.Reason.FINISHED, 2, in_q2.april),
        (users.member, l_group, PointsEntry.Reason.CHECK, 3, in_q2.april),
        (users.office, l_group, PointsEntry.Reason.FINISHED, 2, in_q2.june),
        (users.secretary, l_own, PointsEntry.Reason.FINISHED, 2, local(2025, 7, 2, 9)),
    ):
        PointsEntry.objects.create(
            user=user, lesson=lesson_obj, reason=reason, points=points, earned_at=at
        )

    # Welfare: the branch in May (two members, 4 hours), its party group in June; not counted:
    # planned, March.
    may = welfare(t.branch, date(2025, 5, 10), money=100, goods=50)
    WelfareParticipant.objects.create(activity=may, member=t.member, hours=Decimal("2.5"))
    WelfareParticipant.objects.create(activity=may, member=t.office, hours=Decimal("1.5"))
    welfare(t.party_group, date(2025, 6, 1), money=10)
    welfare(t.branch, date(2025, 6, 2), money=999, status=WelfareActivity.Status.PLANNED)
    welfare(t.branch, date(2025, 3, 2), money=999)

    # Decisions: passed in May, due 1 June and not done (overdue); rejected in April; passed in
    # March and carried out in May.
    motion(
        t.branch, in_q2.may, Motion.Result.PASSED, due_on=date(2025, 6, 1), owner=users.secretary
    )
    motion(t.branch, in_q2.april, Motion.Result.REJECTED)
    motion(
        t.branch,
        in_q2.before,
        Motion.Result.PASSED,
        due_on=date(2025, 5, 30),
        progress=100,
        done_at=in_q2.may,
    )

    # Board: two questions (one answered), a view, a hidden question, one from March.
    def post(kind, at, **kw):
        return BoardPost.objects.create(
            organization=t.branch, author=users.member, kind=kind, body="?", created_at=at, **kw
        )

    post(
        BoardPost.Kind.QUESTION,
        in_q2.april,
        status=BoardPost.Status.ANSWERED,
        answer="答复",
        answered_at=in_q2.may,
    )
    post(BoardPost.Kind.QUESTION, in_q2.june)
    post(BoardPost.Kind.VIEW, in_q2.june)
    post(
        BoardPost.Kind.QUESTION,
        in_q2.june,
        status=BoardPost.Status.HIDDEN,
        hidden_at=in_q2.june,
        hidden_reason="spam",
    )
    post(BoardPost.Kind.QUESTION, in_q2.before)

    # Outreach: one open case for the branch, one closed.
    OutreachCase.objects.create(member=t.office, organization=t.branch, opened_at=in_q2.may)
    OutreachCase.objects.create(
        member=t.member,
        organization=t.branch,
        opened_at=in_q2.april,
        closed_at=in_q2.may,
        result=OutreachCase.Result.FOUND,
    )

    # Transfers: sibling → branch accepted in May; branch → sibling requested in February
    # (pending, overdue on 5 July).
    Transfer.objects.create(
        member=t.sibling_member,
        from_branch=t.sibling,
        to_branch=t.branch,
        state=Transfer.State.ACCEPTED,
        requested_at=in_q2.april,
        released_at=in_q2.may,
        closed_at=in_q2.may,
    )
    Transfer.objects.create(
        member=t.member,
        from_branch=t.branch,
        to_branch=t.sibling,
        requested_at=local(2025, 2, 1, 9),
    )

    # Notices: one published in June, a draft, one from March.
    for status, at in (
        (Notice.Status.PUBLISHED, in_q2.june),
        (Notice.Status.DRAFT, None),
        (Notice.Status.PUBLISHED, in_q2.before),
    ):
        Notice.objects.create(organization=t.branch, title="通知", status=status, published_at=at)

    # Timeline: the sibling's latest entry is in June; one after "now" is ignored.
    TimelineEntry.objects.create(organization=t.sibling, kind="x", occurred_at=in_q2.june)
    TimelineEntry.objects.create(organization=t.sibling, kind="x", occurred_at=local(2025, 8, 1))
    return t


class SimpleUsers:
    def __init__(self, t):
        self.member = t.member.user
        self.office = t.office.user
        self.secretary = t.secretary


def compute(t, q2, *orgs):
    return figures_for(organization_ids=[o.pk for o in orgs], period=q2.period, now=q2.now)


def test_branch_figures_counted_by_hand(activity, q2):
    t = activity
    fig = compute(t, q2, t.branch, t.sibling, t.joint)[t.branch.pk]
    assert fig["members"] == 3
    assert fig["participants"] == 1
    assert fig["meetings_held"] == {
        K.GENERAL_MEETING: 1,
        K.COMMITTEE_MEETING: 2,
        K.GROUP_MEETING: 2,
        K.PARTY_LESSON: 1,
        K.THEMED_DAY: 3,
        K.OTHER: 1,
    }
    assert fig["meetings_required"] == {
        K.GENERAL_MEETING: 1,
        K.COMMITTEE_MEETING: 3,
        K.GROUP_MEETING: 3,
        K.PARTY_LESSON: 1,
        K.THEMED_DAY: 3,
        K.OTHER: 0,
    }
    assert fig["meetings_missed"] == 2  # June's committee meeting, May's group meeting
    assert fig["meetings_compliant"] is False
    # 3 + 3 + 0*3 + 1*2 + 0 expected in the branch, 2 + 2 in the group.
    assert fig["attendance_expected"] == 3 + 3 + 2 + 2 + 2
    assert fig["attendance_present"] == 2 + 3 + 1
    assert fig["attendance_rate"] == round(6 / 12, 4)
    assert fig["reflections"] == 2
    assert fig["lessons_published"] == 5
    assert fig["study_finished"] == 4
    # Expected pairs: group 3 + company (remote only) 1 + own 3 + shared 3 = 10; done by now: 4.
    assert fig["study_completion"] == 0.4
    assert fig["points"] == 7
    assert fig["welfare_activities"] == 2
    assert fig["welfare_hours"] == 4.0
    assert fig["welfare_money"] == 110.0
    assert fig["welfare_goods_value"] == 50.0
    assert fig["welfare_people"] == 2
    assert (fig["motions_closed"], fig["motions_passed"]) == (2, 1)
    assert (fig["decisions_done"], fig["decisions_overdue"]) == (1, 1)
    assert (fig["board_questions"], fig["board_answered"]) == (2, 1)
    assert fig["contact"] == {"active": 2, "at_risk": 1, "invisible": 0, "lost": 0, "pocket": 0}
    assert fig["outreach_open"] == 1
    assert (fig["transfers_in"], fig["transfers_out"]) == (1, 0)
    assert (fig["transfers_pending"], fig["transfers_overdue"]) == (1, 1)
    assert fig["notices_published"] == 1
    assert fig["last_activity_at"] == local(2025, 6, 25, 8).isoformat()


def test_sibling_and_joint_figures(activity, q2):
    t = activity
    figs = compute(t, q2, t.branch, t.sibling, t.joint)
    sibling = figs[t.sibling.pk]
    assert sibling["members"] == 3
    assert sibling["meetings_missed"] == 1 + 1 + 3 + 3
    assert sibling["attendance_rate"] is None
    assert sibling["lessons_published"] == 3  # the group's, the company's, its own
    assert sibling["study_completion"] == 0.0
    assert (sibling["transfers_in"], sibling["transfers_out"]) == (0, 1)
    assert (sibling["transfers_pending"], sibling["transfers_overdue"]) == (1, 1)
    assert sibling["last_activity_at"] == local(2025, 6, 20, 9).isoformat()
    joint = figs[t.joint.pk]
    assert joint["members"] == 0
    assert joint["participants"] == 2  # the participant from the sibling, the pocket member
    assert joint["contact"]["pocket"] == 1
    # No committee in the joint branch: no committee meeting required.
    assert joint["meetings_required"][K.COMMITTEE_MEETING] == 0
    assert joint["meetings_missed"] == 1 + 1 + 3


def test_subtree_rule(activity, q2):
    """A committee counts only its own rows; a party group counts its own and also counts in
    its branch; asking for the group too changes nothing for the branch."""
    t = activity
    alone = compute(t, q2, t.branch)[t.branch.pk]
    figs = compute(t, q2, t.company, t.branch, t.party_group)
    assert figs[t.branch.pk] == alone
    company = figs[t.company.pk]
    assert company["members"] == 0
    assert sum(company["meetings_held"].values()) == 0
    assert company["lessons_published"] == 2  # the group's and its own (remote only)
    assert company["welfare_activities"] == 0
    group = figs[t.party_group.pk]
    assert group["meetings_held"][K.GROUP_MEETING] == 2
    assert group["meetings_required"][K.GROUP_MEETING] == 3
    assert group["meetings_missed"] == 1
    assert group["welfare_money"] == 10.0
    assert group["participants"] == 2  # nobody is registered in a party group


def test_current_period_counts_only_ended_units(activity):
    """During the quarter, months not over yet are required but not missed."""
    from reports.periods import Period

    t = activity
    fig = figures_for(
        organization_ids=[t.sibling.pk], period=Period.parse("2025-Q2"), now=local(2025, 5, 20)
    )[t.sibling.pk]
    assert fig["meetings_required"][K.THEMED_DAY] == 3
    assert fig["meetings_missed"] == 2  # April's committee meeting and themed day


def test_month_and_year_periods(activity):
    from reports.periods import Period

    t = activity
    june = figures_for(
        organization_ids=[t.branch.pk], period=Period.parse("2025-06"), now=local(2025, 7, 5)
    )[t.branch.pk]
    assert june["meetings_required"][K.GENERAL_MEETING] == 0  # quarterly: not judged monthly
    assert june["meetings_required"][K.COMMITTEE_MEETING] == 1
    assert june["meetings_missed"] == 1
    year = figures_for(
        organization_ids=[t.branch.pk], period=Period.parse("2025"), now=local(2025, 7, 5)
    )[t.branch.pk]
    assert year["meetings_required"][K.GENERAL_MEETING] == 4
    assert year["meetings_held"][K.GENERAL_MEETING] == 3  # March, May, July
    assert year["meetings_missed"] >= 3  # Q1 lesson/committees missed before April


def test_unknown_and_empty(db, q2):
    assert figures_for(organization_ids=[], period=q2.period) == {}
    assert figures_for(organization_ids=[999999], period=q2.period) == {}


def test_json_ready_and_every_row_present(activity, q2):
    import json

    t = activity
    fig = compute(t, q2, t.branch)[t.branch.pk]
    assert json.loads(json.dumps(fig)) == fig
    assert set(empty_figures()) == set(fig)
    for key, _label in FIGURE_ROWS:
        assert figure_value(fig, key) is not None or key.endswith("rate") or "completion" in key


def test_compliance(activity, q2):
    t = activity
    fig = compute(t, q2, t.branch)[t.branch.pk]
    assert compliance(fig) == {
        "meetings": False,
        "attendance": False,
        "study": False,
        "decisions": False,
        "board": False,
        "transfers": False,
    }
    assert "meetings_missed" in failing_keys(fig)
    assert all(compliance(empty_figures()).values())


def test_query_count_fixed(tree, q2, in_q2, django_assert_num_queries):
    t = tree
    with django_assert_num_queries(QUERY_COUNT):
        figures_for(organization_ids=[t.branch.pk, t.sibling.pk], period=q2.period, now=q2.now)
    orgs = [t.branch, t.sibling]
    for _i in range(18):
        org = factories.OrganizationFactory(parent=t.company, kind=Organization.Kind.BRANCH)
        factories.MemberFactory(branch=org)
        held(org, K.GENERAL_MEETING, in_q2.may)
        orgs.append(org)
    with django_assert_num_queries(QUERY_COUNT):
        figs = figures_for(organization_ids=[o.pk for o in orgs], period=q2.period, now=q2.now)
    assert len(figs) == 20
    assert all(figs[o.pk]["meetings_held"][K.GENERAL_MEETING] == 1 for o in orgs[2:])


def test_expected_attendance_of_meetings_without_a_frozen_count(tree, q2, in_q2):
    """As the meetings ledger counts them: the members registered in the organisation or its
    subtree plus those taking part there from elsewhere; the committee for a committee meeting."""
    t = tree
    factories.ParticipationFactory(member=t.sibling_member, organization=t.party_group)
    factories.ParticipationFactory(member=t.office, organization=t.party_group)  # registered here
    held(t.branch, K.GENERAL_MEETING, in_q2.may, expected=None)
    held(t.branch, K.COMMITTEE_MEETING, in_q2.may, expected=None)
    held(t.party_group, K.GROUP_MEETING, in_q2.may, expected=None)
    fig = compute(t, q2, t.branch)[t.branch.pk]
    # General meeting: member, office, secretary + sibling_member (4); committee meeting: the
    # secretary (1); group meeting: its two participants (2).
    assert fig["attendance_expected"] == 4 + 1 + 2
