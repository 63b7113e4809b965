"""The figures of an activity report, computed by the portal for many organisations at once.

`figures_for(organization_ids=…, period=…)` returns, per organisation, a JSON-ready dict of
what it did in the period (meetings against the cadence, attendance, study, reflections,
welfare, decisions, board questions, contact status, transfers) and when anything last
happened in it. Set-based: each source is one GROUP BY query over all the organisations, so
the cost is a fixed number of queries (see `QUERY_COUNT`) whether there are 2 or 2,000.

The subtree rule: an organisation's figures count what belongs to the organisation itself and
to its descendants that are not themselves reporting units (party groups, micro-branches). A
committee or general branch counts only its own rows; the dashboard sums its branches.

Definitions (local time, Asia/Shanghai; a period's days from `period.start` to `period.end`):
- members: registered there (or in a group/micro-branch under it), not archived;
  participants: taking part there (open participation) while registered in another unit.
- meetings_held: held meetings starting in the period, per kind (other activities included);
  meetings_required: per kind, the cadence units (month or quarter, `NETBRANCH_MEETING_CADENCE`)
  that lie inside the period, for the organisation and each group under it with a cadence (a
  committee meeting only where there is a committee); meetings_missed: required units that
  have ended by `now` with nothing held; meetings_compliant: none missed.
- attendance: over the held meetings, expected (frozen at the minutes' confirmation, else the
  members today, as in the meetings ledger) and present (signed in); rate = present/expected.
- lessons_published: published lessons (not committee-only training) whose publication reaches
  the organisation (published by it, an ancestor, a group under it, or shared with it or an
  ancestor) in the period. study_finished: lessons finished in the period by its members;
  study_completion: of the (member, lesson) pairs expected (each lesson published to the
  organisation or above it × its members in the lesson's audience), the share finished by `now`
  (capped at 1); points: points earned in the period.
- reflections: written on its meetings held in the period.
- welfare: activities done in the period with hours, money, goods value, members taking part.
- decisions: motions closed in the period, passed among them; follow-ups carried out in the
  period; decisions_overdue: passed and not carried out with the due date before today.
- board questions: asked in the period (hidden ones left out), answered by `now`.
- contact: members by contact status (pocket members counted where they take part);
  outreach_open: outreach cases open now.
- transfers: accepted into it / released out of it in the period; pending (in progress now,
  either side) and overdue (pending longer than `NETBRANCH_TRANSFER_OVERDUE_DAYS`).
- notices_published: notices it published in the period.
- last_activity_at: latest entry of its timeline or latest activity of its members, up to now.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db.models import Count, IntegerField, Max, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from branches.models import Organization, RoleAssignment, TimelineEntry
from branches.scope import ancestor_paths, subtree_q
from decisions.models import Motion
from discussions.models import BoardPost
from lessons.models import Lesson, LessonShare, PointsEntry, StudyRecord
from meetings.models import Attendance, Meeting, Reflection
from meetings.selectors.cadence import MONTH, period_bounds, requirements
from members.models import TRANSFER_OPEN_Q, Member, OutreachCase, Participation, Transfer
from members.selectors import transfer_overdue_cutoff
from notifications.models import Notice
from welfare.models import WelfareActivity, WelfareParticipant

from ..periods import Period, local_zone

Kind = Organization.Kind

#: Organisations that write activity reports (and get a row of their own on the dashboard).
REPORTING_KINDS = (Kind.BRANCH, Kind.JOINT_BRANCH, Kind.MOBILE_BRANCH, Kind.GENERAL_BRANCH)
#: Organisations whose figures stop the roll-up: a reporting unit or a committee. Party groups
#: and micro-branches count in the nearest of these above them (and in themselves).
UNIT_KINDS = (*REPORTING_KINDS, Kind.COMMITTEE)
#: More given roots than this and the tree is read under their common ancestor instead.
_MAX_ROOTS = 64
#: Queries `figures_for` runs for any number of organisations (none for an empty list).
QUERY_COUNT = 18

CONTACT_KEYS = ("active", "at_risk", "invisible", "lost", "pocket")
MEETING_KINDS = tuple(Meeting.Kind.values)

#: Display order and labels. A dotted key reads a nested value (see `figure_value`).
FIGURE_ROWS = (
    ("members", _("members registered")),
    ("participants", _("members taking part, registered elsewhere")),
    *((f"meetings_held.{k}", label) for k, label in Meeting.Kind.choices),
    ("meetings_missed", _("required meetings missed")),
    ("attendance_expected", _("attendance expected")),
    ("attendance_present", _("attendance present")),
    ("attendance_rate", _("attendance rate")),
    ("lessons_published", _("lessons published")),
    ("study_finished", _("lessons finished")),
    ("study_completion", _("study completion")),
    ("points", _("study points")),
    ("reflections", _("reflections")),
    ("welfare_activities", _("welfare activities")),
    ("welfare_hours", _("welfare hours")),
    ("welfare_money", _("money given (yuan)")),
    ("welfare_goods_value", _("value of the goods (yuan)")),
    ("welfare_people", _("members taking part in welfare")),
    ("motions_closed", _("motions voted")),
    ("motions_passed", _("motions passed")),
    ("decisions_done", _("decisions carried out")),
    ("decisions_overdue", _("decisions overdue")),
    ("board_questions", _("board questions")),
    ("board_answered", _("board questions answered")),
    ("contact.active", _("members in contact")),
    ("contact.at_risk", _("members at risk")),
    ("contact.invisible", _("invisible members")),
    ("contact.lost", _("members lost contact")),
    ("contact.pocket", _("pocket members")),
    ("outreach_open", _("open outreach cases")),
    ("transfers_in", _("transfers in")),
    ("transfers_out", _("transfers out")),
    ("transfers_pending", _("transfers in progress")),
    ("transfers_overdue", _("transfers overdue")),
    ("notices_published", _("notices published")),
)
#: Figures shown as a percentage.
RATE_KEYS = ("attendance_rate", "study_completion")

#: Targets behind `compliance` (override with settings.NETBRANCH_COMPLIANCE_TARGETS).
DEFAULT_TARGETS = {"attendance_rate": 0.8, "study_completion": 0.8}


def empty_figures() -> dict:
    return {
        "members": 0,
        "participants": 0,
        "meetings_held": dict.fromkeys(MEETING_KINDS, 0),
        "meetings_required": dict.fromkeys(MEETING_KINDS, 0),
        "meetings_missed": 0,
        "meetings_compliant": True,
        "attendance_expected": 0,
        "attendance_present": 0,
        "attendance_rate": None,
        "lessons_published": 0,
        "study_finished": 0,
        "study_completion": None,
        "points": 0,
        "reflections": 0,
        "welfare_activities": 0,
        "welfare_hours": 0.0,
        "welfare_money": 0.0,
        "welfare_goods_value": 0.0,
        "welfare_people": 0,
        "motions_closed": 0,
        "motions_passed": 0,
        "decisions_done": 0,
        "decisions_overdue": 0,
        "board_questions": 0,
        "board_answered": 0,
        "contact": dict.fromkeys(CONTACT_KEYS, 0),
        "outreach_open": 0,
        "transfers_in": 0,
        "transfers_out": 0,
        "transfers_pending": 0,
        "transfers_overdue": 0,
        "notices_published": 0,
        "last_activity_at": None,
    }


def figure_value(figures: dict, key: str):
    """The value of a (possibly dotted) key of FIGURE_ROWS; 0 when missing (older reports)."""
    value = figures
    for part in key.split("."):
        if not isinstance(value, dict):
            return 0
        value = value.get(part, 0)
    return value


def compliance(figures: dict) -> dict[str, bool]:
    """Which requirements the figures meet: the meeting cadence, attendance and study targets,
    decisions and transfers on time, every board question answered. A rate with nothing to
    measure (None) is not held against the organisation."""
    targets = {**DEFAULT_TARGETS, **getattr(settings, "NETBRANCH_COMPLIANCE_TARGETS", {})}

    def at_least(key: str) -> bool:
        value = figures.get(key)
        return value is None or value >= targets[key]

    return {
        "meetings": bool(figures.get("meetings_compliant", True)),
        "attendance": at_least("attendance_rate"),
        "study": at_least("study_completion"),
        "decisions": not figures.get("decisions_overdue"),
        "board": figures.get("board_answered", 0) >= figures.get("board_questions", 0),
        "transfers": not figures.get("transfers_overdue"),
    }


#: Which figure rows each compliance check highlights.
COMPLIANCE_KEYS = {
    "meetings": ("meetings_missed",),
    "attendance": ("attendance_rate",),
    "study": ("study_completion",),
    "decisions": ("decisions_overdue",),
    "board": ("board_answered",),
    "transfers": ("transfers_overdue",),
}


def failing_keys(figures: dict) -> set[str]:
    """Figure keys to highlight because a requirement is not met."""
    out: set[str] = set()
    for check, ok in compliance(figures).items():
        if not ok:
            out.update(COMPLIANCE_KEYS[check])
    return out


# --- the tree -----------------------------------------------------------------------------------


class _Tree:
    """The given organisations and everything under them, with, for each organisation in it,
    the given organisations its rows count for (itself and its ancestors up to the first unit)."""

    def __init__(self, organization_ids) -> None:
        given = list(
            Organization.objects.filter(pk__in=list(organization_ids)).values_list(
                "pk", "path", "kind"
            )
        )
        self.given = {pk: (path, kind) for pk, path, kind in given}
        paths = [path for _pk, path, _kind in given]
        roots = _roots(paths)
        rows = Organization.objects.filter(subtree_q(roots)) if roots else Organization.objects
        by_path = {path: (pk, kind) for pk, path, kind in rows.values_list("pk", "path", "kind")}
        self.by_path = {path: pk for path, (pk, _kind) in by_path.items()}
        step = Organization.steplen
        self.targets: dict[int, list[int]] = {}
        self.kind: dict[int, str] = {}
        self.path: dict[int, str] = {}
        for path, (pk, kind) in by_path.items():
            self.kind[pk] = kind
            self.path[pk] = path
            out = []
            cur_path, cur = path, (pk, kind)
            while cur is not None:
                if cur[0] in self.given:
                    out.append(cur[0])
                if cur[1] in UNIT_KINDS or len(cur_path) <= step:
                    break
                cur_path = cur_path[:-step]
                cur = by_path.get(cur_path)
            if out:
                self.targets[pk] = out
        self.sources = list(self.targets)
        # Paths on the way up from each given organisation (itself included), for content
        # published above it.
        self.up_paths = ancestor_paths(paths)
        self.path_of = {pk: path for pk, (path, _kind) in self.given.items()}


def _roots(paths: list[str]) -> list[str]:
    roots: list[str] = []
    for p in sorted(set(paths)):
        if not any(p.startswith(r) for r in roots):
            roots.append(p)
    if len(roots) <= _MAX_ROOTS:
        return roots
    prefix = roots[0]
    for p in roots[1:]:
        while not p.startswith(prefix):
            prefix = prefix[:-1]
    prefix = prefix[: len(prefix) - len(prefix) % Organization.steplen]
    return [prefix] if prefix else []


# --- the figures --------------------------------------------------------------------------------


def figures_for(
    *, organization_ids, period: Period, now: datetime | None = None
) -> dict[int, dict]:
    """Organisation id -> figures (see the module's docstring) for each of `organization_ids`
    that exists. A fixed number of queries (`QUERY_COUNT`) whatever their number."""
    ids = list(dict.fromkeys(organization_ids))
    if not ids:
        return {}
    now = now or timezone.now()
    today = timezone.localdate(now, local_zone())
    tree = _Tree(ids)
    out = {pk: empty_figures() for pk in tree.given}
    if not tree.sources:
        return out
    ctx = _Context(tree=tree, period=period, now=now, today=today, out=out)
    _members(ctx)
    _participants(ctx)
    _meetings(ctx)
    _lessons(ctx)
    _study(ctx)
    _welfare(ctx)
    _decisions(ctx)
    _board(ctx)
    _outreach(ctx)
    _transfers(ctx)
    _notices(ctx)
    _timeline(ctx)
    _finish(ctx)
    return out


class _Context:
    def __init__(self, *, tree: _Tree, period: Period, now: datetime, today: date, out: dict):
        self.tree = tree
        self.period = period
        self.now = now
        self.today = today
        self.out = out
        self.start = period.starts_at()
        self.end = period.ends_before()
        # (target, category, status) -> members, for study audiences.
        self.audience: dict[tuple[int, str, str], int] = defaultdict(int)
        self.last: dict[int, datetime] = {}
        # Members registered under / taking part in each organisation of the tree (for the
        # attendance expected at meetings whose count was not frozen).
        self.registered_under: dict[int, int] = defaultdict(int)
        self.taking_part_under: dict[int, int] = defaultdict(int)
        for fig in out.values():
            fig["_study_done"] = 0
            fig["_study_expected"] = 0

    def each(self, source_id: int | None):
        """The figures dicts the rows of `source_id` count in."""
        for target in self.tree.targets.get(source_id, ()):
            yield self.out[target]

    def add(self, source_id: int | None, key: str, value) -> None:
        for fig in self.each(source_id):
            fig[key] += value or 0

    def seen(self, source_id: int | None, at: datetime | None) -> None:
        if at is None:
            return
        for target in self.tree.targets.get(source_id, ()):
            if target not in self.last or at > self.last[target]:
                self.last[target] = at

    def in_period(self, field: str) -> Q:
        return Q(**{f"{field}__gte": self.start, f"{field}__lt": self.end})


def _members(ctx: _Context) -> None:
    rows = (
        Member.objects.filter(branch_id__in=ctx.tree.sources, archived_at__isnull=True)
        .order_by()
        .values_list("branch_id", "category", "status", "contact_status")
        .annotate(n=Count("pk"), last=Max("last_active_at", filter=Q(last_active_at__lte=ctx.now)))
    )
    for branch_id, category, status, contact, n, last in rows:
        ctx.add(branch_id, "members", n)
        for pk in _up(ctx.tree, branch_id):
            ctx.registered_under[pk] += n
        for target in ctx.tree.targets.get(branch_id, ()):
            contacts = ctx.out[target]["contact"]
            contacts[contact] = contacts.get(contact, 0) + n
            ctx.audience[(target, category, status)] += n
        ctx.seen(branch_id, last)


def _participants(ctx: _Context) -> None:
    rows = (
        Participation.objects.filter(
            organization_id__in=ctx.tree.sources,
            ended_on__isnull=True,
            member__archived_at__isnull=True,
        )
        .order_by()
        .values_list("organization_id", "member__branch_id", "member__contact_status")
        .annotate(n=Count("member", distinct=True))
    )
    for org_id, branch_id, contact, n in rows:
        home_path = ctx.tree.path.get(branch_id, "-")
        for pk in _up(ctx.tree, org_id):
            if not home_path.startswith(ctx.tree.path[pk]):
                ctx.taking_part_under[pk] += n
        home = set(ctx.tree.targets.get(branch_id, ()))
        for target in ctx.tree.targets.get(org_id, ()):
            if target in home:
                continue  # registered in the same unit: already a member there
            fig = ctx.out[target]
            fig["participants"] += n
            if contact == Member.ContactStatus.POCKET:
                fig["contact"]["pocket"] += n


def _up(tree: _Tree, pk: int | None):
    """The organisation and its ancestors within the tree."""
    path = tree.path.get(pk)
    step = Organization.steplen
    while path:
        found = tree.by_path.get(path)
        if found is None:
            return
        yield found
        path = path[:-step]


def _count_of(model, q: Q) -> Subquery:
    rows = model.objects.filter(q, meeting=OuterRef("pk")).order_by().values("meeting")
    return Coalesce(
        Subquery(rows.annotate(n=Count("pk")).values("n"), output_field=IntegerField()), 0
    )


def _meetings(ctx: _Context) -> None:
    zone = local_zone()
    held = (
        Meeting.objects.filter(
            ctx.in_period("starts_at"),
            organization_id__in=ctx.tree.sources,
            status=Meeting.Status.HELD,
        )
        .annotate(
            month=TruncMonth("starts_at", tzinfo=zone),
            present=_count_of(Attendance, Q(signed_in_at__isnull=False)),
            reflected=_count_of(Reflection, Q()),
        )
        .order_by()
        .values_list("organization_id", "kind", "month")
        .annotate(
            n=Count("pk"),
            frozen=Sum("expected_count"),
            open_n=Count("pk", filter=Q(expected_count__isnull=True)),
            present_sum=Sum("present"),
            reflections=Sum("reflected"),
        )
    )
    # The committee (secretary, deputy, committee members) of each organisation: who must hold
    # committee meetings, and who is expected at them (one query).
    committee = dict(
        RoleAssignment.objects.filter(
            organization_id__in=ctx.tree.sources,
            role__in=RoleAssignment.BRANCH_COMMITTEE_ROLES,
            user__is_active=True,
        )
        .order_by()
        .values_list("organization_id")
        .annotate(n=Count("user", distinct=True))
    )
    cadenced = [pk for pk in ctx.tree.sources if requirements(ctx.tree.kind[pk])]
    counts: dict[tuple[int, str, date], int] = defaultdict(int)
    for org_id, kind, month, n, frozen, open_n, present, reflections in held:
        # Expected: frozen when the minutes were confirmed; for the others, as the meetings
        # ledger counts them, the members of the organisation and its subtree today (its
        # committee for a committee meeting).
        if kind == Meeting.Kind.COMMITTEE_MEETING:
            now_size = committee.get(org_id, 0)
        else:
            now_size = ctx.registered_under[org_id] + ctx.taking_part_under[org_id]
        expected = (frozen or 0) + open_n * now_size
        for fig in ctx.each(org_id):
            fig["meetings_held"][kind] = fig["meetings_held"].get(kind, 0) + n
            fig["attendance_expected"] += expected or 0
            fig["attendance_present"] += present or 0
            fig["reflections"] += reflections or 0
        local = timezone.localtime(month, zone) if timezone.is_aware(month) else month
        first = local.date().replace(day=1) if isinstance(local, datetime) else local.replace(day=1)
        counts[(org_id, kind, first)] += n
    for org_id in cadenced:
        for kind, unit in requirements(ctx.tree.kind[org_id]).items():
            if kind == Meeting.Kind.COMMITTEE_MEETING and not committee.get(org_id):
                continue
            for start, end in _units(ctx.period, unit):
                held_n = 0
                month = start
                while month < end:
                    held_n += counts.get((org_id, kind, month), 0)
                    month = period_bounds(month, MONTH)[1]
                missed = held_n == 0 and ctx.today >= end
                for fig in ctx.each(org_id):
                    fig["meetings_required"][kind] = fig["meetings_required"].get(kind, 0) + 1
                    fig["meetings_missed"] += int(missed)


def _units(period: Period, unit: str) -> list[tuple[date, date]]:
    """The cadence units (months or quarters) inside the period: (first day, next first day)."""
    out = []
    day = period.start
    while day <= period.end:
        start, end = period_bounds(day, unit)
        if start >= period.start and end - timedelta(days=1) <= period.end:
            out.append((start, end))
        day = end
    return out


_AUDIENCE = ("for_office", "for_front_line", "for_remote", "for_full", "for_probationary")


def _lessons(ctx: _Context) -> None:
    """Two queries: lessons published in the period on the way up from the organisations or
    by what is under them, and shares of such lessons with them or above them."""
    tree = ctx.tree
    published = Lesson.objects.filter(
        ctx.in_period("published_at"), status=Lesson.Status.PUBLISHED, committee_only=False
    )
    lessons = published.filter(
        Q(organization_id__in=tree.sources) | Q(organization__path__in=tree.up_paths)
    ).values_list("pk", "organization_id", "organization__path", *_AUDIENCE)
    shares = (
        LessonShare.objects.filter(
            lesson__in=published.values("pk"), organization__path__in=tree.up_paths
        )
        .order_by()
        .values_list("lesson_id", "organization__path", *(f"lesson__{a}" for a in _AUDIENCE))
    )
    # target -> lesson id -> audience flags (None for a lesson of a group under it: counted,
    # not expected of every member).
    reach: dict[int, dict[int, tuple | None]] = defaultdict(dict)
    by_up_path: dict[str, list[tuple[int, tuple]]] = defaultdict(list)
    for pk, org_id, org_path, *flags in lessons:
        if org_path in tree.up_paths:
            by_up_path[org_path].append((pk, tuple(flags)))
        for target in tree.targets.get(org_id, ()):
            reach[target].setdefault(pk, None)
    for lesson_id, org_path, *flags in shares:
        by_up_path[org_path].append((lesson_id, tuple(flags)))
    for target, path in tree.path_of.items():
        mine = reach[target]
        for up in ancestor_paths([path]):
            for pk, flags in by_up_path.get(up, ()):
                mine[pk] = flags
        fig = ctx.out[target]
        fig["lessons_published"] = len(mine)
        expected = 0
        for flags in mine.values():
            if flags is None:
                continue
            office, front, remote, full, probationary = flags
            categories = [
                c for c, on in (("office", office), ("front_line", front), ("remote", remote)) if on
            ]
            statuses = [s for s, on in (("full", full), ("probationary", probationary)) if on]
            expected += sum(
                ctx.audience.get((target, c, s), 0) for c in categories for s in statuses
            )
        fig["_study_expected"] = expected


def _study(ctx: _Context) -> None:
    finished_in = ctx.in_period("finished_at")
    lesson_in = Q(
        lesson__status=Lesson.Status.PUBLISHED,
        lesson__committee_only=False,
        lesson__published_at__gte=ctx.start,
        lesson__published_at__lt=ctx.end,
        finished_at__lte=ctx.now,
    )
    rows = (
        StudyRecord.objects.filter(
            finished_in | lesson_in,
            finished_at__isnull=False,
            user__member__branch_id__in=ctx.tree.sources,
            user__member__archived_at__isnull=True,
        )
        .order_by()
        .values_list("user__member__branch_id")
        .annotate(finished=Count("pk", filter=finished_in), done=Count("pk", filter=lesson_in))
    )
    for branch_id, finished, done in rows:
        ctx.add(branch_id, "study_finished", finished)
        ctx.add(branch_id, "_study_done", done)
    points = (
        PointsEntry.objects.filter(
            ctx.in_period("earned_at"),
            user__member__branch_id__in=ctx.tree.sources,
            user__member__archived_at__isnull=True,
        )
        .order_by()
        .values_list("user__member__branch_id")
        .annotate(n=Sum("points"))
    )
    for branch_id, n in points:
        ctx.add(branch_id, "points", n)


def _welfare(ctx: _Context) -> None:
    done = WelfareActivity.objects.filter(
        organization_id__in=ctx.tree.sources,
        status=WelfareActivity.Status.DONE,
        held_on__range=(ctx.period.start, ctx.period.end),
    )
    for org_id, n, money, goods in (
        done.order_by()
        .values_list("organization_id")
        .annotate(n=Count("pk"), money=Sum("money_yuan"), goods=Sum("goods_value_yuan"))
    ):
        ctx.add(org_id, "welfare_activities", n)
        ctx.add(org_id, "welfare_money", float(money or 0))
        ctx.add(org_id, "welfare_goods_value", float(goods or 0))
    for org_id, hours, people in (
        WelfareParticipant.objects.filter(activity__in=done.values("pk"))
        .order_by()
        .values_list("activity__organization_id")
        .annotate(hours=Sum("hours"), people=Count("member", distinct=True))
    ):
        ctx.add(org_id, "welfare_hours", float(hours or 0))
        ctx.add(org_id, "welfare_people", people)


def _decisions(ctx: _Context) -> None:
    closed_in = ctx.in_period("closed_at") & Q(status=Motion.Status.CLOSED)
    done_in = ctx.in_period("done_at") & Q(result=Motion.Result.PASSED)
    overdue = Q(result=Motion.Result.PASSED, done_at__isnull=True, due_on__lt=ctx.today)
    rows = (
        Motion.objects.filter(closed_in | done_in | overdue, organization_id__in=ctx.tree.sources)
        .order_by()
        .values_list("organization_id")
        .annotate(
            closed=Count("pk", filter=closed_in),
            passed=Count("pk", filter=closed_in & Q(result=Motion.Result.PASSED)),
            done=Count("pk", filter=done_in),
            overdue=Count("pk", filter=overdue),
        )
    )
    for org_id, closed, passed, done, late in rows:
        ctx.add(org_id, "motions_closed", closed)
        ctx.add(org_id, "motions_passed", passed)
        ctx.add(org_id, "decisions_done", done)
        ctx.add(org_id, "decisions_overdue", late)


def _board(ctx: _Context) -> None:
    rows = (
        BoardPost.objects.filter(
            ctx.in_period("created_at"),
            organization_id__in=ctx.tree.sources,
            kind=BoardPost.Kind.QUESTION,
        )
        .exclude(status=BoardPost.Status.HIDDEN)
        .order_by()
        .values_list("organization_id")
        .annotate(
            n=Count("pk"),
            answered=Count("pk", filter=Q(answered_at__isnull=False, answered_at__lte=ctx.now)),
        )
    )
    for org_id, n, answered in rows:
        ctx.add(org_id, "board_questions", n)
        ctx.add(org_id, "board_answered", answered)


def _outreach(ctx: _Context) -> None:
    rows = (
        OutreachCase.objects.filter(
            organization_id__in=ctx.tree.sources, closed_at__isnull=True, opened_at__lte=ctx.now
        )
        .order_by()
        .values_list("organization_id")
        .annotate(n=Count("pk"))
    )
    for org_id, n in rows:
        ctx.add(org_id, "outreach_open", n)


def _transfers(ctx: _Context) -> None:
    sources = ctx.tree.sources
    accepted_in = ctx.in_period("closed_at") & Q(state=Transfer.State.ACCEPTED)
    released_in = ctx.in_period("released_at") & Q(
        state__in=[Transfer.State.RELEASED, Transfer.State.ACCEPTED]
    )
    late = TRANSFER_OPEN_Q & Q(requested_at__lt=transfer_overdue_cutoff(ctx.now))
    rows = (
        Transfer.objects.filter(Q(from_branch_id__in=sources) | Q(to_branch_id__in=sources))
        .filter(accepted_in | released_in | TRANSFER_OPEN_Q)
        .order_by()
        .values_list("from_branch_id", "to_branch_id")
        .annotate(
            n_in=Count("pk", filter=accepted_in),
            n_out=Count("pk", filter=released_in),
            pending=Count("pk", filter=TRANSFER_OPEN_Q),
            overdue=Count("pk", filter=late),
        )
    )
    for from_id, to_id, n_in, n_out, pending, overdue in rows:
        ctx.add(from_id, "transfers_out", n_out)
        ctx.add(to_id, "transfers_in", n_in)
        involved = set(ctx.tree.targets.get(from_id, ())) | set(ctx.tree.targets.get(to_id, ()))
        for target in involved:
            ctx.out[target]["transfers_pending"] += pending
            ctx.out[target]["transfers_overdue"] += overdue


def _notices(ctx: _Context) -> None:
    rows = (
        Notice.objects.filter(
            ctx.in_period("published_at"),
            organization_id__in=ctx.tree.sources,
            status=Notice.Status.PUBLISHED,
        )
        .order_by()
        .values_list("organization_id")
        .annotate(n=Count("pk"))
    )
    for org_id, n in rows:
        ctx.add(org_id, "notices_published", n)


def _timeline(ctx: _Context) -> None:
    rows = (
        TimelineEntry.objects.filter(organization_id__in=ctx.tree.sources, occurred_at__lte=ctx.now)
        .order_by()
        .values_list("organization_id")
        .annotate(last=Max("occurred_at"))
    )
    for org_id, last in rows:
        ctx.seen(org_id, last)


def _finish(ctx: _Context) -> None:
    for pk, fig in ctx.out.items():
        expected, present = fig["attendance_expected"], fig["attendance_present"]
        fig["attendance_rate"] = round(min(present / expected, 1.0), 4) if expected else None
        done = fig.pop("_study_done", 0)
        wanted = fig.pop("_study_expected", 0)
        fig["study_completion"] = round(min(done / wanted, 1.0), 4) if wanted else None
        fig["meetings_compliant"] = fig["meetings_missed"] == 0
        for key in ("welfare_hours", "welfare_money", "welfare_goods_value"):
            fig[key] = round(float(fig[key]), 2)
        last = ctx.last.get(pk)
        fig["last_activity_at"] = (
            timezone.localtime(last, local_zone()).isoformat() if last else None
        )
