"""Reads of deliberation and decisions: who may vote (one rule, read from both sides: the
electorate of a motion as a set of users, and the motions a user may vote on as a Q), who may
see and manage a motion, and what the pages, the home card and the exports show. Each page
costs a fixed number of queries whatever the number of votes, members or updates."""

from datetime import date, datetime

from django.contrib.auth import get_user_model
from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    OuterRef,
    Q,
    QuerySet,
    Value,
)
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from branches import scope
from branches.models import RoleAssignment
from meetings.selectors import expected_attendees
from meetings.selectors import pages as meeting_pages
from members.models import Member
from members.selectors import members_of_organizations

from .models import Ballot, Choice, Motion, Vote, VoterRecord

Role = RoleAssignment.Role
#: Who raises, opens and closes motions: the committee of the organisation (or above it).
RAISE_ROLES = RoleAssignment.BRANCH_COMMITTEE_ROLES
#: Who follows a decision up besides its owner: the secretaries.
FOLLOW_UP_ROLES = (Role.SECRETARY, Role.DEPUTY_SECRETARY)
OPEN_SHOWN = 20
CARD_SHOWN = 5
_STATUS_ATTR = "_netbranch_member_status"
_MISSING = object()


# --- who may do what --------------------------------------------------------------------------


def can_raise(user, organization) -> bool:
    return scope.can_manage(user, organization, RAISE_ROLES)


def can_manage(user, motion: Motion) -> bool:
    """Edit a draft, open and close the vote, export the results."""
    return can_raise(user, motion.organization)


def can_assign(user, motion: Motion) -> bool:
    """Give a decision its owner and due date."""
    return motion.is_decision and scope.can_manage(user, motion.organization, FOLLOW_UP_ROLES)


def can_follow_up(user, motion: Motion) -> bool:
    """Report progress: the owner and the secretaries, on a decision not yet carried out."""
    if not motion.is_decision or motion.is_done or not getattr(user, "is_active", False):
        return False
    return (motion.owner_id is not None and motion.owner_id == user.pk) or scope.can_manage(
        user, motion.organization, FOLLOW_UP_ROLES
    )


def motion_visible_to(user, motion: Motion) -> bool:
    """Managers see every motion of their organisations, drafts included; members see the
    motions (once opened) of every organisation on the path from theirs up to the root."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if scope.can_manage(user, motion.organization):
        return True
    return motion.status != Motion.Status.DRAFT and scope.can_see(user, motion.organization)


def visible_q(user) -> Q:
    """The same rule as `motion_visible_to`, over motions (no query beyond the scope caches)."""
    if getattr(user, "is_superuser", False) and user.is_active:
        return Q()
    q = Q(organization__path__in=sorted(scope.ancestor_paths(scope.home_paths(user)))) & ~Q(
        status=Motion.Status.DRAFT
    )
    managed = scope.managed_paths(user)
    if managed:
        q |= scope.subtree_q(managed, prefix="organization__")
    return q


def access_motion_by_id(*, motion_id: int, user) -> Motion:
    """The motion with what its page shows, when the user may see it; 404 otherwise (an
    unknown id and a motion of someone else look the same)."""
    motion = (
        Motion.objects.select_related(
            "organization", "meeting__organization", "owner__member", "raised_by__member"
        )
        .filter(pk=motion_id)
        .first()
    )
    if motion is None or not motion_visible_to(user, motion):
        raise Http404
    return motion


# --- the electorate ---------------------------------------------------------------------------


def voter_status(user) -> str | None:
    """The user's membership status (full / probationary), None without a member record;
    cached on the user (one query)."""
    cached = getattr(user, _STATUS_ATTR, _MISSING)
    if cached is _MISSING:
        cached = None
        if getattr(user, "is_authenticated", False):
            cached = Member.objects.filter(user=user).values_list("status", flat=True).first()
        setattr(user, _STATUS_ATTR, cached)
    return cached


def remember_status(user, member: Member | None) -> None:
    setattr(user, _STATUS_ATTR, member.status if member is not None else None)


def electorate_users(motion: Motion) -> QuerySet:
    """Active users entitled to vote on the motion now, as one queryset: full members only
    (probationary members have no vote), and among them the organisation's members as
    `members` defines them (its subtree included), its committee (secretary, deputies,
    committee members), or the meeting's expected attendees."""
    users = get_user_model().objects.filter(is_active=True, member__status=Member.Status.FULL)
    if motion.electorate == Motion.Electorate.COMMITTEE:
        committee = RoleAssignment.objects.filter(
            organization_id=motion.organization_id, role__in=RAISE_ROLES
        )
        return users.filter(pk__in=committee.values("user_id"))
    if motion.electorate == Motion.Electorate.ATTENDEES:
        if motion.meeting_id is None:
            return users.none()
        return users.filter(pk__in=expected_attendees(motion.meeting).values("pk"))
    members = members_of_organizations(organizations=[motion.organization])
    return users.filter(pk__in=members.values("user_id"))


def audience_electorate(*, motion: int) -> QuerySet:
    """The audience "decisions.electorate" (registered with notifications)."""
    stored = Motion.objects.select_related("organization", "meeting__organization").get(pk=motion)
    return electorate_users(stored)


def _committee_paths(user) -> set[str]:
    roles = {r.value for r in RAISE_ROLES}
    return {path for role, path in scope.assignments(user) if role in roles}


def entitled_q(user, *, status: str | None) -> Q | None:
    """Q over motions where the user is in the electorate: `electorate_users` read from the
    other side, without a query beyond the scope caches. None when the user may vote on
    nothing (not a full member)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    if status != Member.Status.FULL:
        return None
    E = Motion.Electorate
    home = scope.ancestor_paths(scope.home_paths(user))
    committee = _committee_paths(user)
    parts = []
    if home:
        parts.append(Q(electorate=E.FULL_MEMBERS, organization__path__in=sorted(home)))
    if committee:
        parts.append(Q(electorate=E.COMMITTEE, organization__path__in=sorted(committee)))
    expected = meeting_pages.expected_q(user, prefix="meeting__")
    if home or committee:
        parts.append(Q(electorate=E.ATTENDEES) & expected)
    if not parts:
        return None
    q = parts[0]
    for part in parts[1:]:
        q |= part
    return q


def is_entitled(motion: Motion, user, *, status: str | None) -> bool:
    """`entitled_q` for one motion (its organisation and meeting loaded), without a query."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if status != Member.Status.FULL:
        return False
    path = motion.organization.path
    if motion.electorate == Motion.Electorate.COMMITTEE:
        return path in _committee_paths(user)
    if motion.electorate == Motion.Electorate.ATTENDEES:
        return motion.meeting is not None and meeting_pages.is_expected(motion.meeting, user)
    return path in scope.ancestor_paths(scope.home_paths(user))


def _voted(user) -> Q:
    """Q over motions on which the user has voted (public or secret)."""
    return Q(Exists(Vote.objects.filter(motion=OuterRef("pk"), user=user.pk))) | Q(
        Exists(VoterRecord.objects.filter(motion=OuterRef("pk"), user=user.pk))
    )


def has_voted(motion: Motion, user) -> bool:
    model = VoterRecord if motion.secret else Vote
    return model.objects.filter(motion=motion, user=user.pk).exists()


# --- counts -----------------------------------------------------------------------------------


def _count_rows(motion: Motion) -> dict:
    model = Ballot if motion.secret else Vote
    row = model.objects.filter(motion=motion).aggregate(
        **{c: Count("pk", filter=Q(choice=c)) for c in Choice.values}
    )
    return {"for": row["for"], "against": row["against"], "abstain": row["abstain"]}


def count_votes(motion: Motion) -> dict:
    """{"for", "against", "abstain"} counted from the ballot box (one query). Used at the
    close, and live for a public vote whose results are not hidden."""
    return _count_rows(motion)


def turnout(motion: Motion) -> int:
    """How many have voted so far (one query): shown while the vote is open, results hidden
    or not; it says nothing of how anyone voted."""
    model = VoterRecord if motion.secret else Vote
    return model.objects.filter(motion=motion).count()


def results(motion: Motion) -> dict | None:
    """What the page shows of the count: the frozen result after the close, the live count of
    a public vote whose results are not hidden, None otherwise. `rows`: (choice, label, n)."""
    if motion.status == Motion.Status.CLOSED:
        counts = {
            "for": motion.votes_for,
            "against": motion.votes_against,
            "abstain": motion.votes_abstain,
        }
        extra = {"electorate": motion.electorate_size, "final": True}
    elif motion.results_visible:
        counts = count_votes(motion)
        extra = {"final": False}
    else:
        return None
    rows = [(value, label, counts[value]) for value, label in Choice.choices]
    return {**counts, **extra, "rows": rows, "cast": sum(counts.values())}


# --- pages ------------------------------------------------------------------------------------


def _with_entitlement(qs: QuerySet, user, status) -> QuerySet:
    q = entitled_q(user, status=status)
    if q is None:
        return qs.annotate(entitled=Value(False, output_field=BooleanField()))
    return qs.annotate(entitled=ExpressionWrapper(q, output_field=BooleanField()))


def open_motions_for_user(*, user, now: datetime | None = None) -> list[Motion]:
    """Open motions the user may see, whose window has not ended, closing soonest first, each
    with `entitled` and `voted` (one query)."""
    now = now or timezone.now()
    qs = Motion.objects.filter(visible_q(user), status=Motion.Status.OPEN, closes_at__gt=now)
    qs = _with_entitlement(qs, user, voter_status(user)).annotate(
        voted=ExpressionWrapper(_voted(user), output_field=BooleanField())
    )
    return list(qs.select_related("organization").order_by("closes_at", "pk")[:OPEN_SHOWN])


def closed_motions_for_user(*, user, show: str = "all") -> QuerySet:
    """Closed motions the user may see, newest first; `show`: "decisions" (passed only) or
    "in_progress" (passed, not carried out yet). The view paginates."""
    qs = Motion.objects.filter(visible_q(user), status=Motion.Status.CLOSED)
    if show in ("decisions", "in_progress"):
        qs = qs.filter(result=Motion.Result.PASSED)
    if show == "in_progress":
        qs = qs.filter(done_at__isnull=True)
    return qs.select_related("organization", "owner__member").order_by("-closed_at", "-pk")


def drafts_for_user(*, user) -> list[Motion] | None:
    """For those who raise motions: drafts and motions waiting to be closed in their
    organisations. None for everyone else."""
    if not scope.has_role(user, RAISE_ROLES):
        return None
    qs = Motion.objects.filter(status=Motion.Status.DRAFT)
    if not (user.is_superuser and user.is_active):
        qs = qs.filter(scope.subtree_q(scope.managed_paths(user, RAISE_ROLES), prefix="organization__"))  # fmt: skip
    return list(qs.select_related("organization").order_by("opens_at", "pk")[:OPEN_SHOWN])


def meeting_section(*, meeting, user) -> dict | None:
    """The motions put to a meeting's vote that the user may see, for the meeting page
    (`meetings.registry`): one query; None when there are none."""
    motions = list(
        Motion.objects.filter(visible_q(user), meeting=meeting)
        .select_related("organization", "owner__member")
        .order_by("opens_at", "pk")
    )
    return {"motions": motions} if motions else None


def motion_detail(*, motion: Motion, user, now: datetime | None = None) -> dict:
    """A motion's page: attachments (one query), my vote (one), the turnout and the size of
    the electorate while open (two), the count when it may be shown (one), the follow-up
    updates with their photos (two), and what I may do now."""
    now = now or timezone.now()
    status = voter_status(user)
    attachments = list(motion.attachments.all())
    mine = None
    voted = False
    if motion.status != Motion.Status.DRAFT:
        if motion.secret:
            voted = VoterRecord.objects.filter(motion=motion, user=user.pk).exists()
        else:
            mine = Vote.objects.filter(motion=motion, user=user.pk).first()
            voted = mine is not None
    entitled = is_entitled(motion, user, status=status)
    open_now = motion.voting_open_at(now)
    context = {
        "motion": motion,
        "attachments": attachments,
        "mine": mine,
        "voted": voted,
        "entitled": entitled,
        "probationary": status == Member.Status.PROBATIONARY,
        "open_now": open_now,
        "not_yet": motion.status == Motion.Status.OPEN and now < motion.opens_at,
        "counting": motion.status == Motion.Status.OPEN and now >= motion.closes_at,
        "can_vote": open_now
        and entitled
        and (not voted or (motion.changeable and not motion.secret)),
        "can_manage": can_manage(user, motion),
        "can_assign": can_assign(user, motion),
        "can_follow_up": can_follow_up(user, motion),
        "results": results(motion),
        "turnout": None,
        "electorate_now": None,
        "updates": [],
        "today": timezone.localdate(now),
    }
    if motion.status == Motion.Status.OPEN:
        context["turnout"] = turnout(motion)
        context["electorate_now"] = electorate_users(motion).count()
    if motion.is_decision:
        context["updates"] = list(
            motion.updates.select_related("author__member").prefetch_related("photos")
        )
    return context


# --- the home card and the worklist -----------------------------------------------------------


def overdue_q(*, today: date) -> Q:
    return Q(result=Motion.Result.PASSED, done_at__isnull=True, due_on__lt=today)


def vote_card(*, user, member: Member | None, now: datetime | None = None) -> dict | None:
    """The home page's card in two queries: the open votes I may cast and have not cast yet
    (closing soonest first), and the overdue decisions I follow up (as their owner, or as a
    secretary over their organisation). None when there is neither."""
    if not getattr(user, "is_authenticated", False):
        return None
    now = now or timezone.now()
    remember_status(user, member)
    votes: list[Motion] = []
    entitled = entitled_q(user, status=member.status if member else None)
    if entitled is not None:
        votes = list(
            Motion.objects.filter(
                entitled, status=Motion.Status.OPEN, opens_at__lte=now, closes_at__gt=now
            )
            .exclude(_voted(user))
            .select_related("organization")
            .order_by("closes_at", "pk")[:CARD_SHOWN]
        )
    mine = Q(owner=user.pk)
    if user.is_superuser and user.is_active:
        mine = Q()
    else:
        paths = scope.managed_paths(user, FOLLOW_UP_ROLES)
        if paths:
            mine |= scope.subtree_q(paths, prefix="organization__")
    overdue = list(
        Motion.objects.filter(overdue_q(today=timezone.localdate(now)))
        .filter(mine)
        .select_related("organization", "owner__member")
        .order_by("due_on", "pk")[:CARD_SHOWN]
    )
    if not votes and not overdue:
        return None
    return {"votes": votes, "overdue": overdue}


# --- exports ----------------------------------------------------------------------------------


def export_rows(motion: Motion) -> tuple[list, list]:
    """The results sheet: the frozen counts, then the voters. A public vote lists each voter
    with their vote; a secret ballot lists who voted and nothing about how (one query)."""
    labels = dict(Choice.choices)
    rows: list[list] = [
        [_("Motion"), motion.title],
        [_("Organisation"), motion.organization.name],
        [_("Result"), motion.get_result_display()],
        [_("Entitled to vote"), motion.electorate_size],
        [labels["for"], motion.votes_for],
        [labels["against"], motion.votes_against],
        [labels["abstain"], motion.votes_abstain],
        [_("Secret ballot") if motion.secret else _("Public vote"), ""],
        [],
    ]
    if motion.secret:
        rows.append([_("Voted (secret ballot: how is not recorded)"), ""])
        voters = (
            VoterRecord.objects.filter(motion=motion)
            .select_related("user__member")
            .order_by("user__member__real_name", "user__username")
        )
        rows += [[_name(v.user), ""] for v in voters]
    else:
        rows.append([_("Voter"), _("Vote")])
        votes = (
            Vote.objects.filter(motion=motion)
            .select_related("user__member")
            .order_by("user__member__real_name", "user__username")
        )
        rows += [[_name(v.user), labels[v.choice]] for v in votes]
    return [_("Item"), _("Value")], rows


def _name(user) -> str:
    member = getattr(user, "member", None)
    return (member.real_name if member else "") or user.get_username()
