"""The meeting cadence (三会一课): which meetings each organisation must hold per calendar month
or quarter (settings.NETBRANCH_MEETING_CADENCE, periods in settings.TIME_ZONE), and, per
organisation, kind and period, how many it held.

Computed in the database: one aggregate query groups the held meetings of the year by
organisation, kind and local month (quarters are summed from months), one query tells which
organisations have a committee. Organisations of a kind not in the setting have no cadence."""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, QuerySet
from django.db.models.functions import TruncMonth
from django.utils import timezone

from branches import scope
from branches.models import Organization, RoleAssignment

from ..models import Meeting

MONTH = "month"
QUARTER = "quarter"
#: Row order of the kinds in a cadence table.
KIND_ORDER = (
    Meeting.Kind.GENERAL_MEETING,
    Meeting.Kind.COMMITTEE_MEETING,
    Meeting.Kind.GROUP_MEETING,
    Meeting.Kind.PARTY_LESSON,
    Meeting.Kind.THEMED_DAY,
)

# States of a period.
MET = "met"
MISSED = "missed"
CURRENT = "current"  # the period of today, nothing held yet
FUTURE = "future"


def local_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def requirements(org_kind: str) -> dict[str, str]:
    """Meeting kind -> "month" or "quarter" for an organisation kind ({} without cadence)."""
    return dict(settings.NETBRANCH_MEETING_CADENCE.get(org_kind, {}))


def cadence_org_kinds() -> list[str]:
    return [kind for kind, required in settings.NETBRANCH_MEETING_CADENCE.items() if required]


def period_bounds(day: date, unit: str) -> tuple[date, date]:
    """The calendar month or quarter containing `day`: (first day, first day of the next)."""
    first_month = day.month if unit == MONTH else 3 * ((day.month - 1) // 3) + 1
    start = date(day.year, first_month, 1)
    months = 1 if unit == MONTH else 3
    year, month = divmod(first_month - 1 + months, 12)
    return start, date(day.year + year, month + 1, 1)


def local_midnight(day: date) -> datetime:
    """The aware datetime of 00:00 on `day` in settings.TIME_ZONE."""
    return datetime(day.year, day.month, day.day, tzinfo=local_zone())


def committee_organization_ids(organization_ids) -> set[int]:
    """Which of these organisations have a committee (a secretary, deputy or committee
    member): one query."""
    return set(
        RoleAssignment.objects.filter(
            organization_id__in=organization_ids,
            role__in=RoleAssignment.BRANCH_COMMITTEE_ROLES,
        )
        .values_list("organization_id", flat=True)
        .distinct()
    )


def held_counts(*, organization_ids, start: date, end: date) -> dict[tuple[int, str, date], int]:
    """(organisation id, kind, first day of the local month) -> meetings held, for the held
    meetings starting in [start, end) local time: one aggregate query. "other" counts for
    nothing."""
    zone = local_zone()
    rows = (
        Meeting.objects.filter(
            organization_id__in=organization_ids,
            status=Meeting.Status.HELD,
            kind__in=KIND_ORDER,
            starts_at__gte=local_midnight(start),
            starts_at__lt=local_midnight(end),
        )
        .annotate(month=TruncMonth("starts_at", tzinfo=zone))
        .order_by()
        .values_list("organization_id", "kind", "month")
        .annotate(n=Count("pk"))
    )
    counts: dict[tuple[int, str, date], int] = {}
    for org_id, kind, month, n in rows:
        local = timezone.localtime(month, zone) if timezone.is_aware(month) else month
        key = (org_id, kind, local.date().replace(day=1))
        counts[key] = counts.get(key, 0) + n
    return counts


@dataclass
class Period:
    start: date
    end: date  # exclusive
    label: str
    held: int
    state: str
    span: int  # months covered (1 or 3): the table's colspan


@dataclass
class KindRow:
    kind: str
    label: str
    unit: str
    periods: list[Period]

    @property
    def missed(self) -> int:
        return sum(1 for p in self.periods if p.state == MISSED)


@dataclass
class OrgCadence:
    organization: Organization
    has_committee: bool
    rows: list[KindRow] = field(default_factory=list)

    @property
    def missed(self) -> int:
        return sum(row.missed for row in self.rows)


def _state(held: int, start: date, end: date, today: date) -> str:
    if held:
        return MET
    if today >= end:
        return MISSED
    if today >= start:
        return CURRENT
    return FUTURE


def _periods(year: int, unit: str) -> list[tuple[date, date, str]]:
    out = []
    step = 1 if unit == MONTH else 3
    for first in range(1, 13, step):
        start, end = period_bounds(date(year, first, 1), unit)
        label = str(first) if unit == MONTH else f"Q{(first - 1) // 3 + 1}"
        out.append((start, end, label))
    return out


def cadence_for(*, organizations, year: int, today: date | None = None) -> list[OrgCadence]:
    """Per organisation (those of a kind with a cadence, in the given order) and required
    meeting kind, the months or quarters of `year` with the meetings held and the state of
    each: met, missed, current (today's period, nothing held yet) or future. A committee
    meeting is required only of an organisation that has a committee.

    Two queries for any number of organisations (three when given a queryset to evaluate)."""
    today = today or timezone.localdate()
    orgs = [o for o in organizations if requirements(o.kind)]
    if not orgs:
        return []
    ids = [o.pk for o in orgs]
    with_committee = committee_organization_ids(ids)
    counts = held_counts(organization_ids=ids, start=date(year, 1, 1), end=date(year + 1, 1, 1))
    labels = dict(Meeting.Kind.choices)
    result = []
    for org in orgs:
        required = requirements(org.kind)
        has_committee = org.pk in with_committee
        entry = OrgCadence(organization=org, has_committee=has_committee)
        for kind in KIND_ORDER:
            unit = required.get(kind)
            if unit is None or (kind == Meeting.Kind.COMMITTEE_MEETING and not has_committee):
                continue
            periods = []
            for start, end, label in _periods(year, unit):
                held = 0
                month = start
                while month < end:
                    held += counts.get((org.pk, kind, month), 0)
                    month = period_bounds(month, MONTH)[1]
                periods.append(
                    Period(
                        start=start,
                        end=end,
                        label=label,
                        held=held,
                        state=_state(held, start, end, today),
                        span=1 if unit == MONTH else 3,
                    )
                )
            entry.rows.append(KindRow(kind=kind, label=labels[kind], unit=unit, periods=periods))
        result.append(entry)
    return result


def cadence_organizations_for(user) -> QuerySet:
    """Organisations with a cadence that the user manages (secretaries their organisations,
    reviewers their subtree), in tree order."""
    return scope.managed_organizations(user).filter(kind__in=cadence_org_kinds()).order_by("path")


def periods_ending_soon(today: date, days: int) -> dict[str, tuple[date, date]]:
    """Unit -> (start, end) of the current month and quarter when they end within `days`
    days (today counted: with 7, from the 25th of a 31-day month on)."""
    out = {}
    for unit in (MONTH, QUARTER):
        start, end = period_bounds(today, unit)
        if end - today <= timedelta(days=days):
            out[unit] = (start, end)
    return out
