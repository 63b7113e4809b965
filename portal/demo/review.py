"""Demo of the committee dashboard (/review/): the rollup computed for the last four quarters,
the months of this year and the year, so that `reviewer` sees the group at a glance.

Small demo: one branch is made silent — 路桥公司机关党支部 (`SILENT`), which no demo account
belongs to: nothing of it is dated in the last `SILENT_DAYS` days (its timeline, and the
activity of its members that is counted as activity: facts, meetings, study, welfare, board
posts, are moved back). It has no report for the last quarter either, so it is also behind on
reports (the reports demo, which runs before, leaves it alone; see `portal.demo.reports`).

Bulk (`--members N`): the meetings demo holds three meetings this quarter for each bulk
branch; this module adds the three quarters before at the cadence (most branches hold every
required meeting, about one in eight misses one; the members signed in to the general meetings
and Party lessons), set-based, so that the year on the dashboard has a history, then computes
the rollup over every organisation.
"""

from __future__ import annotations

from datetime import timedelta

from django.core.management.base import CommandError
from django.db import connection
from django.db.models import Exists, F, OuterRef, Q, Subquery

from branches.models import Organization
from meetings.models import Attendance, Meeting
from reports.periods import Period, PeriodKind
from reports.services.rollup import figures_refresh

from . import BATCH, DemoContext, batched
from .branches import bulk_branches
from .reports import at_hour

SILENT = "c3_office"
SILENT_DAYS = 45
PAST_TITLE = "季度组织生活（批量演示）"
PAST_QUARTERS = 3


def bulk_periods(today) -> list[Period]:
    """The bulk rollup: the last four quarters, this and last month, this year (the hourly
    refresh adds the rest; a month costs as much as a quarter over 100,000 members)."""
    quarter = Period.containing(today, PeriodKind.QUARTER)
    month = Period.containing(today, PeriodKind.MONTH)
    quarters = [quarter]
    for _i in range(3):
        quarters.append(quarters[-1].previous())
    return [*reversed(quarters), month.previous(), month, Period.containing(today, PeriodKind.YEAR)]


def demo_periods(today) -> list[Period]:
    """The last four quarters, every month of this year so far, this year and the last."""
    quarter = Period.containing(today, PeriodKind.QUARTER)
    quarters = [quarter]
    for _i in range(3):
        quarters.append(quarters[-1].previous())
    months = [
        Period.containing(today.replace(month=m, day=1), PeriodKind.MONTH)
        for m in range(1, today.month + 1)
    ]
    year = Period.containing(today, PeriodKind.YEAR)
    return [*reversed(quarters), *months, year, year.previous()]


def seed(ctx: DemoContext) -> None:
    _silence(ctx, ctx.orgs[SILENT])
    _refresh(ctx)


def _refresh(ctx: DemoContext, periods: list[Period] | None = None) -> None:
    """The rollup, computed again on every run; only new rows are counted as created."""
    from reports.models import BranchFigures

    before = BranchFigures.objects.count()
    counts = figures_refresh(periods=periods or demo_periods(ctx.today), now=ctx.now)
    if BranchFigures.objects.count() > before:
        ctx.count("dashboard figures", BranchFigures.objects.count() - before)
    ctx.log(f"rollup: {counts}")


def _silence(ctx: DemoContext, org) -> None:
    """Move back, by a few weeks, whatever of the organisation and its members happened
    lately: the figures' "last recorded activity" (its timeline, its members' last activity)
    and what it is made of (activity facts, study, sign-ins, board posts, meetings, welfare)."""
    from branches.models import TimelineEntry
    from discussions.models import BoardPost
    from lessons.models import StudyRecord
    from members.models import ActivityFact, Member
    from welfare.models import WelfareActivity

    cutoff = ctx.now - timedelta(days=SILENT_DAYS)
    shift = timedelta(days=SILENT_DAYS + 5)
    units = list(
        Organization.objects.filter(path__startswith=org.path).values_list("pk", flat=True)
    )
    members = Member.objects.filter(branch_id__in=units)
    users = members.values("user_id")

    def back(qs, *fields: str) -> None:
        recent = Q()
        for f in fields:
            recent |= Q(**{f"{f}__gt": cutoff})
        qs.filter(recent).update(**{f: F(f) - shift for f in fields})

    back(TimelineEntry.objects.filter(organization_id__in=units), "occurred_at")
    back(ActivityFact.objects.filter(member__in=members), "occurred_at")
    # A member's last activity is their latest fact (the radar's rule), else moved back too.
    latest = (
        ActivityFact.objects.filter(member=OuterRef("pk"))
        .order_by("-occurred_at")
        .values("occurred_at")[:1]
    )
    members.filter(Exists(latest)).update(last_active_at=Subquery(latest))
    back(members.filter(~Exists(latest)), "last_active_at")
    back(
        StudyRecord.objects.filter(user_id__in=users),
        "started_at",
        "marked_at",
        "check_passed_at",
        "finished_at",
    )
    back(
        Attendance.objects.filter(meeting__organization_id__in=units), "signed_in_at", "answered_at"
    )
    back(BoardPost.objects.filter(organization_id__in=units), "created_at")
    # What lies ahead (a meeting or activity planned) stays where it is.
    back(
        Meeting.objects.filter(organization_id__in=units, starts_at__lte=ctx.now),
        "starts_at",
        "ends_at",
    )
    done = WelfareActivity.objects.filter(organization_id__in=units, held_on__lte=ctx.today)
    back(done, "published_at", "done_at")
    done.filter(held_on__gt=cutoff.date()).update(held_on=F("held_on") - shift)


# --------------------------------------------------------------------------------------------
# Bulk
# --------------------------------------------------------------------------------------------


def bulk(ctx: DemoContext, *, members: int) -> None:
    branches = bulk_branches(ctx)
    if not branches:
        return
    held = Meeting.objects.filter(title=PAST_TITLE)
    if held.exists():
        if held.values("organization").distinct().count() != _units(branches):
            raise CommandError(
                "The database already holds past bulk meetings of another size than "
                f"--members {members}. Run `manage.py flush` to seed a different size."
            )
        ctx.log("past bulk meetings: already there")
    else:
        _past_meetings(ctx, branches)
    _refresh(ctx, bulk_periods(ctx.today))


def _units(branches) -> int:
    return len(branches) + sum(len(b.group_ids) for b in branches)


def _past_meetings(ctx: DemoContext, branches) -> None:
    """The quarters before this one at the cadence: a branch committee meeting, a themed day
    and a party group meeting in each group each month, a general meeting and a Party lesson
    each quarter; about one branch in eight misses one of them. The members sign in."""
    rng = ctx.rng(f"review-bulk-{len(branches)}")
    codes = _short_codes()
    quarter = Period.containing(ctx.today, PeriodKind.QUARTER)
    meetings: list[Meeting] = []
    monthly = (Meeting.Kind.COMMITTEE_MEETING, Meeting.Kind.THEMED_DAY)
    quarterly = (Meeting.Kind.GENERAL_MEETING, Meeting.Kind.PARTY_LESSON)
    for _q in range(PAST_QUARTERS):
        quarter = quarter.previous()
        for branch in branches:
            plan = [(branch.id, m, kind) for m in range(3) for kind in monthly]
            plan += [(branch.id, rng.randrange(3), kind) for kind in quarterly]
            plan += [(g, m, Meeting.Kind.GROUP_MEETING) for g in branch.group_ids for m in range(3)]
            if rng.random() < 0.125:
                plan.pop(rng.randrange(len(plan)))
            for org_id, month, kind in plan:
                day = quarter.start.replace(month=quarter.start.month + month)
                starts = at_hour(day + timedelta(days=rng.randrange(3, 26)), 15)
                meeting = Meeting(
                    organization_id=org_id,
                    kind=kind,
                    title=PAST_TITLE,
                    starts_at=starts,
                    ends_at=starts + timedelta(hours=2),
                    place="项目部会议室",
                    status=Meeting.Status.HELD,
                    published_at=starts - timedelta(days=5),
                )
                if codes is not None:
                    meeting.short_code = codes()
                meetings.append(meeting)
    bar = ctx.progress(total=len(meetings), desc="past meetings")
    for chunk in batched(meetings):
        Meeting.objects.bulk_create(chunk, batch_size=BATCH)
        bar.update(len(chunk))
    bar.close()
    ctx.count("meetings", len(meetings))
    ctx.count("attendance", _sign_in())


def _short_codes():
    """A generator of short codes unused so far (when meetings have them), or None."""
    names = {f.name for f in Meeting._meta.concrete_fields}
    if "short_code" not in names:
        return None
    from meetings.models import random_short_code

    taken = set(Meeting.objects.exclude(short_code=None).values_list("short_code", flat=True))

    def next_code() -> str:
        code = random_short_code()
        while code in taken:
            code = random_short_code()
        taken.add(code)
        return code

    return next_code


def _sign_in() -> int:
    """Sign-ins to the past bulk meetings, about seven in ten of those expected, set-based:
    registered members at the branch's meetings, its committee at committee meetings, the
    members taking part in a party group at the group's meetings."""
    kinds = Meeting.Kind
    sources = (
        (
            "JOIN members_member mem ON mem.branch_id = m.organization_id "
            "AND mem.archived_at IS NULL",
            "mem.user_id",
            "mem.id",
            [kinds.GENERAL_MEETING, kinds.PARTY_LESSON, kinds.THEMED_DAY],
        ),
        (
            "JOIN branches_roleassignment ra ON ra.organization_id = m.organization_id "
            "AND ra.role IN ('secretary', 'deputy_secretary', 'committee_member')",
            "ra.user_id",
            "ra.id",
            [kinds.COMMITTEE_MEETING],
        ),
        (
            "JOIN members_participation p ON p.organization_id = m.organization_id "
            "AND p.ended_on IS NULL JOIN members_member mem ON mem.id = p.member_id",
            "mem.user_id",
            "mem.id",
            [kinds.GROUP_MEETING],
        ),
    )
    a = Attendance._meta
    fixed = {"rsvp": Attendance.Rsvp.COMING, "via": Attendance.Via.QR}
    total = 0
    for join, user, salt, meeting_kinds in sources:
        joined = {"meeting_id": "m.id", "user_id": user, "signed_in_at": "m.starts_at"}
        columns, exprs, params = [], [], []
        for f in a.concrete_fields:
            if f.primary_key:
                continue
            columns.append(connection.ops.quote_name(f.column))
            if f.column in joined:
                exprs.append(joined[f.column])
            elif f.column in fixed or f.has_default() or not f.null:
                exprs.append("%s")  # a blank text field without a default gets ""
                params.append(fixed[f.column] if f.column in fixed else f.get_default())
            else:
                exprs.append("NULL")
        marks = ", ".join(["%s"] * len(meeting_kinds))
        # Table and column names come from the models; values go as parameters.
        sql = (
            f"INSERT INTO {a.db_table} ({', '.join(columns)}) "  # noqa: S608
            f"SELECT {', '.join(exprs)} FROM {Meeting._meta.db_table} m {join} "
            f"WHERE m.title = %s AND m.kind IN ({marks}) AND (m.id + {salt}) %% 10 < 7 "
            "ON CONFLICT DO NOTHING"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [*params, PAST_TITLE, *meeting_kinds])
            total += cursor.rowcount
    return total
