"""The decision services: who raises, opens and closes; who may vote and how often; the
result counted once at the close and frozen; the follow-up of decisions and its reminders."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from branches import scope
from branches.models import TimelineEntry
from decisions import selectors, services
from decisions.models import Ballot, DecisionReminder, Motion, Vote, VoterRecord
from meetings.models import Meeting
from members.models import Member
from notifications.models import Event
from tests import factories
from tests.decisions.conftest import close_at_end
from tests.lessons.conftest import events_for, recipients_of

pytestmark = pytest.mark.django_db

E = Motion.Electorate
R = Motion.Result


# --- raising ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "org", "allowed"),
    [
        ("secretary", "branch", True),
        ("committee_member", "branch", True),
        ("secretary", "party_group", True),  # the subtree of the branch
        ("admin", "outside", True),
        ("secretary2", "branch", False),  # a sibling branch
        ("secretary", "company", False),  # above the branch
        ("reviewer", "branch", False),  # reviewers look, the committee raises
        ("member", "branch", False),
    ],
)
def test_who_raises_a_motion(tree, make_motion, committee_member, who, org, allowed):
    by = committee_member if who == "committee_member" else getattr(tree, who)
    by = by.user if hasattr(by, "user") else by
    if allowed:
        motion = make_motion(org=getattr(tree, org), by=by)
        assert motion.status == Motion.Status.DRAFT and motion.raised_by == by
    else:
        with pytest.raises(PermissionDenied):
            make_motion(org=getattr(tree, org), by=by)


def test_a_secret_ballot_cannot_be_changeable_nor_show_a_live_count(tree, make_motion):
    with pytest.raises(ValidationError, match="cannot be changed once cast"):
        make_motion(secret=True, changeable=True)
    with pytest.raises(ValidationError, match="stay hidden until the close"):
        make_motion(secret=True, results_hidden=False)
    motion = make_motion(secret=True)
    # The database refuses them too, whatever writes the row.
    for fields in ({"changeable": True}, {"results_hidden": False}):
        with pytest.raises(IntegrityError), transaction.atomic():
            Motion.objects.filter(pk=motion.pk).update(**fields)


def test_the_window_and_the_meeting_are_checked(tree, make_motion, make_meeting):
    now = timezone.now()
    with pytest.raises(ValidationError, match="closes after it opens"):
        make_motion(opens_at=now, closes_at=now)
    with pytest.raises(ValidationError, match="Choose the meeting"):
        make_motion(electorate=E.ATTENDEES)
    sibling_meeting = make_meeting(org=tree.sibling, by=tree.admin)
    with pytest.raises(ValidationError, match="own organisation"):
        make_motion(by=tree.admin, meeting=sibling_meeting)


def test_a_draft_changes_an_open_motion_does_not(tree, make_motion):
    motion = make_motion()
    services.motion_update(motion=motion, by=tree.secretary, fields={"title": "改过的标题"})
    assert Motion.objects.get(pk=motion.pk).title == "改过的标题"
    services.motion_open(motion=motion, by=tree.secretary)
    with pytest.raises(ValidationError, match="can no longer change"):
        services.motion_update(motion=motion, by=tree.secretary, fields={"secret": True})
    with pytest.raises(PermissionDenied):
        services.motion_update(motion=motion, by=tree.secretary2, fields={"title": "x"})


def test_opening_tells_the_electorate_once(tree, make_motion, committed, probationary):
    motion = make_motion()
    with committed():
        services.motion_open(motion=motion, by=tree.secretary)
        services.motion_open(motion=motion, by=tree.secretary)  # a double click
    event = events_for(motion, "motion_opened").get()
    # The full members of the branch; not the probationary member, not the sibling branch.
    assert recipients_of(event) == {"member", "office", "secretary"}


def test_a_window_that_has_ended_cannot_be_opened(tree, make_motion):
    now = timezone.now()
    motion = make_motion(opens_at=now - timedelta(days=2), closes_at=now - timedelta(days=1))
    with pytest.raises(ValidationError, match="already ended"):
        services.motion_open(motion=motion, by=tree.secretary)


# --- the electorate --------------------------------------------------------------------------


def test_who_may_vote_by_electorate(
    tree, make_motion, make_meeting, committee_member, probationary
):
    def electorate(motion):
        return set(selectors.electorate_users(motion).values_list("username", flat=True))

    full = make_motion()
    assert electorate(full) == {"member", "office", "secretary", "committee"}
    committee = make_motion(electorate=E.COMMITTEE)
    assert electorate(committee) == {"secretary", "committee"}
    meeting = make_meeting(kind=Meeting.Kind.COMMITTEE_MEETING)
    attendees = make_motion(electorate=E.ATTENDEES, meeting=meeting)
    assert electorate(attendees) == {"secretary", "committee"}
    joint = make_motion(org=tree.joint, by=tree.admin)
    assert electorate(joint) == {"participant"}  # takes part there, registered elsewhere
    company = make_motion(org=tree.company, by=tree.admin)  # the subtree's full members
    assert "probationary" not in electorate(company) and "sibling_member" in electorate(company)


def test_the_electorate_read_from_both_sides_agrees(
    tree, make_motion, make_meeting, committee_member, probationary
):
    """`electorate_users` (the motion's voters, for the service and the notice) and
    `entitled_q` / `is_entitled` (a user's motions, for the pages) are one rule."""
    meeting = make_meeting(publish=True)
    motions = [
        make_motion(open=True),
        make_motion(open=True, electorate=E.COMMITTEE),
        make_motion(open=True, electorate=E.ATTENDEES, meeting=meeting),
        make_motion(open=True, org=tree.joint, by=tree.admin),
        make_motion(open=True, org=tree.company, by=tree.admin),
        make_motion(open=True, org=tree.sibling, by=tree.secretary2),
    ]
    users = [*[m.user for m in Member.objects.select_related("user")], tree.reviewer, tree.admin]
    for motion in motions:
        motion = Motion.objects.select_related("organization", "meeting__organization").get(pk=motion.pk)  # fmt: skip
        voters = set(selectors.electorate_users(motion).values_list("pk", flat=True))
        for user in users:
            from django.contrib.auth import get_user_model

            user = get_user_model().objects.get(pk=user.pk)  # fresh caches
            status = selectors.voter_status(user)
            q = selectors.entitled_q(user, status=status)
            by_q = q is not None and Motion.objects.filter(q, pk=motion.pk).exists()
            by_python = selectors.is_entitled(motion, user, status=status)
            assert by_q == by_python == (user.pk in voters), (motion.title, user.username)


# --- votes -----------------------------------------------------------------------------------


def test_an_entitled_member_votes_once(tree, make_motion):
    motion = make_motion(open=True)
    user = tree.member.user
    assert services.vote_cast(motion=motion, user=user, choice="for") == services.CAST
    assert services.vote_cast(motion=motion, user=user, choice="for") == services.UNCHANGED
    with pytest.raises(ValidationError, match="cannot be changed"):
        services.vote_cast(motion=motion, user=user, choice="against")
    assert list(Vote.objects.values_list("choice", flat=True)) == ["for"]


def test_a_changeable_public_vote_changes_in_place(tree, make_motion):
    motion = make_motion(open=True, changeable=True)
    user = tree.member.user
    services.vote_cast(motion=motion, user=user, choice="for")
    assert services.vote_cast(motion=motion, user=user, choice="against") == services.CHANGED
    vote = Vote.objects.get()
    assert vote.choice == "against" and vote.changed_at is not None


def test_a_secret_ballot_is_cast_once_in_two_unlinked_rows(tree, make_motion):
    motion = make_motion(open=True, secret=True)
    user = tree.member.user
    assert services.vote_cast(motion=motion, user=user, choice="against") == services.CAST
    with pytest.raises(ValidationError, match="already voted"):
        services.vote_cast(motion=motion, user=user, choice="against")
    assert VoterRecord.objects.filter(motion=motion, user=user).count() == 1
    assert list(Ballot.objects.filter(motion=motion).values_list("choice", flat=True)) == ["against"]  # fmt: skip
    assert not Vote.objects.exists()


@pytest.mark.parametrize("who", ["probationary", "sibling_member", "outsider", "reviewer", "participant"])  # fmt: skip
def test_who_may_not_vote(tree, make_motion, probationary, who):
    motion = make_motion(open=True, secret=True)
    user = probationary if who == "probationary" else getattr(tree, who)
    user = getattr(user, "user", user)
    with pytest.raises(PermissionDenied, match="not entitled"):
        services.vote_cast(motion=motion, user=user, choice="for")
    assert not VoterRecord.objects.exists() and not Ballot.objects.exists()


def test_votes_only_inside_the_window_of_an_open_motion(tree, make_motion):
    user = tree.member.user
    now = timezone.now()
    draft = make_motion()
    later = make_motion(open=True, opens_at=now + timedelta(hours=1), closes_at=now + timedelta(days=1))  # fmt: skip
    for motion in (draft, later):
        with pytest.raises(ValidationError, match="not open"):
            services.vote_cast(motion=motion, user=user, choice="for")
    motion = make_motion(open=True)
    with pytest.raises(ValidationError, match="not open"):
        services.vote_cast(motion=motion, user=user, choice="for", now=motion.closes_at)
    with pytest.raises(ValidationError, match="Choose"):
        services.vote_cast(motion=motion, user=user, choice="maybe")
    close_at_end(motion)
    with pytest.raises(ValidationError, match="not open"):
        services.vote_cast(motion=motion, user=user, choice="for")


# --- the close -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("electorate", "f", "a", "s", "quorum", "threshold", "of", "expected"),
    [
        # quorum: the votes cast (abstentions too) are at least the share of the electorate
        (10, 5, 0, 0, 50, "simple", "cast", R.PASSED),
        (10, 4, 0, 0, 50, "simple", "cast", R.NO_QUORUM),
        (10, 0, 0, 5, 50, "simple", "cast", R.REJECTED),  # abstentions make the quorum
        (3, 2, 0, 0, 67, "simple", "cast", R.NO_QUORUM),  # 2/3 = 66.7 % < 67 %
        (3, 2, 0, 0, 66, "simple", "cast", R.PASSED),
        (3, 0, 0, 0, 0, "simple", "cast", R.REJECTED),  # no quorum asked, nobody for
        (0, 0, 0, 0, 0, "simple", "electorate", R.NO_QUORUM),  # nobody entitled
        # simple majority: more than half of the base
        (10, 5, 5, 0, 50, "simple", "cast", R.REJECTED),  # exactly half is not enough
        (10, 6, 4, 0, 50, "simple", "cast", R.PASSED),
        (10, 5, 0, 0, 50, "simple", "electorate", R.REJECTED),  # 5 of 10 entitled
        (10, 6, 0, 0, 50, "simple", "electorate", R.PASSED),
        (10, 3, 1, 2, 50, "simple", "cast", R.REJECTED),  # abstentions count against
        # two-thirds: at least two thirds of the base
        (9, 6, 3, 0, 50, "two_thirds", "cast", R.PASSED),  # exactly two thirds
        (9, 5, 3, 0, 50, "two_thirds", "cast", R.REJECTED),
        (10, 6, 3, 0, 50, "two_thirds", "cast", R.PASSED),  # 6 of 9 cast
        (10, 6, 3, 0, 50, "two_thirds", "electorate", R.REJECTED),  # 6 of 10 entitled
        (10, 7, 0, 0, 50, "two_thirds", "electorate", R.PASSED),
    ],
)
def test_quorum_and_thresholds_at_their_edges(electorate, f, a, s, quorum, threshold, of, expected):  # fmt: skip
    assert (
        services.tally(
            electorate=electorate,
            votes_for=f,
            votes_against=a,
            votes_abstain=s,
            quorum_percent=quorum,
            threshold=threshold,
            majority_of=of,
        )
        == expected
    )


def _vote_all(motion, votes: dict) -> None:
    from django.contrib.auth import get_user_model

    for username, choice in votes.items():
        user = get_user_model().objects.get(username=username)
        services.vote_cast(motion=motion, user=user, choice=choice)


@pytest.mark.parametrize("secret", [False, True])
def test_the_close_counts_once_and_announces(tree, make_motion, committed, secret):
    motion = make_motion(open=True, secret=secret, quorum_percent=60)
    _vote_all(motion, {"member": "for", "office": "for", "secretary": "against"})
    assert not services.motions_close_due()  # the window has not ended
    with committed():
        assert services.motions_close_due(now=motion.closes_at) == 1
        assert services.motions_close_due(now=motion.closes_at) == 0  # beat ticks twice
        services.motion_close(motion=motion, by=tree.secretary)  # and a click: nothing
    motion.refresh_from_db()
    assert (motion.status, motion.result) == (Motion.Status.CLOSED, R.PASSED)
    assert (motion.votes_for, motion.votes_against, motion.votes_abstain) == (2, 1, 0)
    assert motion.electorate_size == 3 and motion.closed_by is None
    event = events_for(motion).exclude(kind="motion_opened").get()
    assert event.kind == "motion_passed"
    assert recipients_of(event) == {"member", "office", "secretary"}
    assert (
        TimelineEntry.objects.filter(
            organization=tree.branch, kind="decision_passed", url=motion.get_absolute_url()
        ).count()
        == 1
    )


def test_no_quorum_and_rejected_are_announced_too(tree, make_motion, committed):
    lonely = make_motion(open=True)
    _vote_all(lonely, {"member": "for"})  # 1 of 3 < 50 %
    rejected = make_motion(open=True)
    _vote_all(rejected, {"member": "for", "office": "against", "secretary": "abstain"})
    with committed():
        close_at_end(lonely)
        close_at_end(rejected)
    assert Motion.objects.get(pk=lonely.pk).result == R.NO_QUORUM
    assert Motion.objects.get(pk=rejected.pk).result == R.REJECTED
    assert events_for(lonely).exclude(kind="motion_opened").get().kind == "motion_no_quorum"
    assert events_for(rejected).exclude(kind="motion_opened").get().kind == "motion_rejected"
    assert not TimelineEntry.objects.filter(kind="decision_passed").exists()


def test_the_committee_may_close_early_others_may_not(tree, make_motion, committee_member):
    motion = make_motion(open=True)
    for user in (tree.secretary2, tree.reviewer, tree.member.user):
        with pytest.raises(PermissionDenied):
            services.motion_close(motion=motion, by=user)
    closed = services.motion_close(motion=motion, by=committee_member)
    assert closed.closed_by == committee_member and closed.result == R.NO_QUORUM
    with pytest.raises(ValidationError, match="Only an open vote"):
        services.motion_close(motion=make_motion(), by=tree.secretary)


def test_the_frozen_result_does_not_change_when_memberships_change(tree, make_motion):
    motion = make_motion(open=True)
    _vote_all(motion, {"member": "for", "office": "for"})
    close_at_end(motion)
    before = Motion.objects.values().get(pk=motion.pk)
    # Later: a voter becomes probationary, another leaves for the sibling branch, new full
    # members join; closing again (a late beat) recounts nothing.
    Member.objects.filter(pk=tree.member.pk).update(status=Member.Status.PROBATIONARY)
    Member.objects.filter(pk=tree.office.pk).update(branch=tree.sibling)
    for i in range(5):
        factories.MemberFactory(user__username=f"new{i}", branch=tree.branch)
    close_at_end(motion)
    after = Motion.objects.values().get(pk=motion.pk)
    assert after == before
    assert (after["result"], after["electorate_size"], after["votes_for"]) == (R.PASSED, 3, 2)


def test_voters_who_left_before_the_close_still_count(tree, make_motion):
    """The electorate at the close is those entitled then plus those who voted while they
    were: a voter who left meanwhile neither vanishes from the count nor inflates turnout."""
    motion = make_motion(open=True, secret=True)
    _vote_all(motion, {"member": "for", "office": "for"})
    Member.objects.filter(pk=tree.office.pk).update(branch=tree.sibling)
    closed = close_at_end(motion)
    assert (closed.electorate_size, closed.votes_for) == (3, 2)


def test_the_close_rewrites_the_ballot_box(tree, make_motion):
    motion = make_motion(open=True, secret=True)
    _vote_all(motion, {"member": "for", "office": "against", "secretary": "for"})
    before = set(Ballot.objects.values_list("pk", flat=True))
    close_at_end(motion)
    after = list(Ballot.objects.values_list("pk", "choice"))
    assert not before & {pk for pk, _choice in after}  # fresh random keys
    assert sorted(c for _pk, c in after) == ["against", "for", "for"]


# --- follow-up -------------------------------------------------------------------------------


@pytest.fixture
def decision(tree, make_motion):
    motion = make_motion(open=True)
    _vote_all(motion, {"member": "for", "office": "for", "secretary": "for"})
    return services.motion_close(motion=motion, by=tree.secretary)


def test_the_secretary_assigns_the_follow_up(tree, decision, committee_member, committed):
    due = timezone.localdate() + timedelta(days=30)
    for user in (committee_member, tree.member.user, tree.secretary2, tree.reviewer):
        with pytest.raises(PermissionDenied):
            services.decision_assign(motion=decision, by=user, owner=tree.office.user, due_on=due)
    with pytest.raises(ValidationError, match="member of the organisation"):
        services.decision_assign(
            motion=decision, by=tree.secretary, owner=tree.sibling_member.user, due_on=due
        )
    with committed():
        services.decision_assign(motion=decision, by=tree.secretary, owner=tree.office.user, due_on=due)  # fmt: skip
        services.decision_assign(motion=decision, by=tree.secretary, owner=tree.office.user, due_on=due)  # fmt: skip
    assert recipients_of(events_for(decision, "decision_assigned").get()) == {"office"}


def test_only_a_passed_motion_is_followed_up(tree, make_motion):
    motion = close_at_end(make_motion(open=True))  # no quorum
    with pytest.raises(ValidationError, match="Only a passed motion"):
        services.decision_assign(motion=motion, by=tree.secretary, owner=None, due_on=None)
    with pytest.raises(ValidationError, match="Only a passed motion"):
        services.progress_add(motion=motion, by=tree.secretary, body="x", percent=10)


def test_progress_by_the_owner_and_the_secretary_only(tree, decision, committee_member):
    services.decision_assign(motion=decision, by=tree.secretary, owner=tree.office.user, due_on=None)  # fmt: skip
    decision.refresh_from_db()
    for user in (committee_member, tree.member.user, tree.secretary2, tree.reviewer):
        with pytest.raises(PermissionDenied):
            services.progress_add(motion=decision, by=user, body="做了", percent=10)
    with pytest.raises(ValidationError):
        services.progress_add(motion=decision, by=tree.office.user, body="  ", percent=10)
    with pytest.raises(ValidationError):
        services.progress_add(motion=decision, by=tree.office.user, body="做了", percent=101)
    services.progress_add(motion=decision, by=tree.office.user, body="选好了岗位", percent=40)
    services.progress_add(motion=decision, by=tree.secretary, body="挂牌完成", percent=100)
    decision.refresh_from_db()
    assert decision.progress == 100 and decision.done_at is not None
    kinds = list(
        TimelineEntry.objects.filter(url=decision.get_absolute_url())
        .order_by("occurred_at", "id")
        .values_list("kind", flat=True)
    )
    assert kinds == ["decision_passed", "decision_progress", "decision_done"]
    with pytest.raises(ValidationError, match="carried out"):
        services.progress_add(motion=decision, by=tree.secretary, body="再补一句", percent=100)


def test_overdue_decisions_remind_their_owner_once_a_day(tree, decision, make_motion, committed):
    today = timezone.localdate()
    services.decision_assign(
        motion=decision, by=tree.secretary, owner=tree.office.user, due_on=today
    )
    Motion.objects.filter(pk=decision.pk).update(due_on=today - timedelta(days=1))
    morning = timezone.make_aware(timezone.datetime.combine(today, timezone.datetime.min.time()))
    with committed():
        early = services.decisions_tick(now=morning.replace(hour=6))
        nine = services.decisions_tick(now=morning.replace(hour=9))
        ten = services.decisions_tick(now=morning.replace(hour=10))
    assert (early["reminded"], nine["reminded"], ten["reminded"]) == (0, 1, 0)
    assert DecisionReminder.objects.filter(motion=decision, day=today).count() == 1
    assert recipients_of(events_for(decision, "decision_overdue").get()) == {"office"}
    # Carried out: no more reminders.
    services.progress_add(motion=decision, by=tree.office.user, body="完成", percent=100)
    DecisionReminder.objects.all().delete()
    assert services.decisions_remind_overdue() == 0


def test_the_vote_card_lists_my_open_votes_and_overdue_decisions(
    tree, make_motion, decision, django_assert_num_queries
):
    from members.selectors import member_for_user

    waiting = make_motion(open=True, secret=True)
    make_motion(open=True, org=tree.sibling, by=tree.secretary2)  # not mine
    voted = make_motion(open=True)
    services.vote_cast(motion=voted, user=tree.member.user, choice="for")
    user = tree.member.user
    member = member_for_user(user)
    scope.assignments(user)  # the home page has read them already (portal.selectors)
    with django_assert_num_queries(2):
        card = selectors.vote_card(user=user, member=member)
    assert [m.pk for m in card["votes"]] == [waiting.pk]
    assert card["overdue"] == []
    # The secretary's worklist: overdue decisions of the branch.
    services.decision_assign(
        motion=decision, by=tree.secretary, owner=tree.office.user, due_on=timezone.localdate()
    )
    Motion.objects.filter(pk=decision.pk).update(due_on=timezone.localdate() - timedelta(days=2))
    secretary = tree.secretary
    card = selectors.vote_card(user=secretary, member=member_for_user(secretary))
    assert [m.pk for m in card["overdue"]] == [decision.pk]
    sibling = selectors.vote_card(user=tree.secretary2, member=member_for_user(tree.secretary2))
    assert [m.title for m in sibling["votes"]] != [] and sibling["overdue"] == []
    outsider = tree.outsider.user
    assert selectors.vote_card(user=outsider, member=member_for_user(outsider)) is None
    assert Event.objects.exists()
