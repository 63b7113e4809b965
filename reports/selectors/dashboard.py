"""The committee dashboard (/review/): the reviewer's subtree at a glance for one period.

Everything is read from the rollup (`BranchFigures`, filled by `reports.services.rollup`) in a
fixed number of queries whatever the number of branches:

1. the structure: committees and general branches of the subtree and the drill-down root
   with its ancestors (names for companies, breadcrumb and filters);
2. one page of branch rows (figures, province, rating, report status joined in);
3. one GROUP BY over the period and the seven before it, per organisation under the root
   (the header totals, the per-organisation table and the three charts);
4. the silent branches and 5. the branches behind on reports (each with its total).

A branch's "company" is its nearest committee below the top of the tree, or else its
ancestor at depth 2 (the office branches under the group's general branch).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import (
    Avg,
    Case,
    CharField,
    Count,
    Exists,
    F,
    FloatField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
    Window,
)
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Coalesce, NullIf, Substr
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from branches import scope
from branches.models import Organization, ProjectSite

from ..models import ActivityReport, BranchFigures, BranchRating
from ..periods import Period, PeriodKind, local_today
from .figures import REPORTING_KINDS, failing_keys

Kind = Organization.Kind

# Organisations one can drill down into.
ROOT_KINDS = (Kind.COMMITTEE, Kind.GENERAL_BRANCH)

PAGE_SIZE = 100
LIST_LIMIT = 50
HISTORY = {PeriodKind.MONTH: 8, PeriodKind.QUARTER: 8, PeriodKind.YEAR: 4}

# The sortable columns: name in the query string → expression.
NUMERIC_KEYS = (
    "members",
    "attendance_rate",
    "study_completion",
    "points",
    "meetings_missed",
    "reflections",
    "welfare_hours",
    "welfare_activities",
    "decisions_overdue",
    "outreach_open",
)
SORTS = ("name", "kind", "province", "rating", "last_activity", *NUMERIC_KEYS)
# Summed per organisation under the root (the header and the per-organisation table).
SUMMED = (
    "members",
    "attendance_present",
    "attendance_expected",
    "study_finished",
    "points",
    "meetings_missed",
    "reflections",
    "welfare_activities",
    "welfare_hours",
    "welfare_money",
    "decisions_overdue",
    "outreach_open",
)
DONE_STATUSES = (ActivityReport.Status.SUBMITTED, ActivityReport.Status.APPROVED)


def _num(key: str):
    """A number of the figures' JSON, NULL when missing or null (SQLite reads JSON null as
    the text 'null')."""
    return Cast(NullIf(KT(f"figures__{key}"), Value("null")), FloatField())


@dataclass
class DashboardQuery:
    """What the page was asked for (all from the query string, all optional)."""

    period: Period
    root_id: int | None = None
    kind: str = ""
    company_id: int | None = None
    province: str = ""
    rating: str = ""
    sort: str = "name"
    desc: bool = False
    page: int = 1

    @classmethod
    def from_querydict(cls, data, *, today: date | None = None) -> DashboardQuery:
        today = today or local_today()
        try:
            period = Period.parse(data.get("period", ""))
        except ValueError:
            period = Period.containing(today, PeriodKind.QUARTER)

        def as_int(name):
            try:
                return int(data.get(name, ""))
            except ValueError:
                return None

        sort = data.get("sort", "name")
        kind = data.get("kind", "")
        rating = data.get("rating", "")
        return cls(
            period=period,
            root_id=as_int("root"),
            kind=kind if kind in REPORTING_KINDS else "",
            company_id=as_int("company"),
            province=data.get("province", "").strip()[:40],
            rating=rating if rating in {"1", "2", "3", "4", "5", "none"} else "",
            sort=sort if sort in SORTS else "name",
            desc=data.get("dir") == "desc",
            page=max(1, as_int("page") or 1),
        )

    def params(self, **changes) -> dict:
        """The query-string parameters of this view, with `changes` (None drops one)."""
        out = {
            "period": str(self.period),
            "root": self.root_id,
            "kind": self.kind,
            "company": self.company_id,
            "province": self.province,
            "rating": self.rating,
            "sort": "" if self.sort == "name" else self.sort,
            "dir": "desc" if self.desc else "",
        }
        out.update(changes)
        return {k: v for k, v in out.items() if v not in (None, "")}


@dataclass
class Structure:
    """The committees and general branches the page needs, by path."""

    by_path: dict[str, dict]
    roots: list[str]  # the paths whose subtrees are shown
    root: dict | None = None  # the drill-down root (?root=)
    crumbs: list[dict] = field(default_factory=list)

    def company_of(self, path: str) -> dict | None:
        step = Organization.steplen
        for end in range(len(path) - step, step, -step):  # nearest first, the top excluded
            org = self.by_path.get(path[:end])
            if org and org["kind"] == Kind.COMMITTEE:
                return org
        return self.by_path.get(path[: 2 * step]) if len(path) > 2 * step else None

    def companies(self) -> list[dict]:
        """Companies one can filter by: committees below the top, general branches at depth 2."""
        return [
            o
            for o in self.by_path.values()
            if o["depth"] > 1
            and (o["kind"] == Kind.COMMITTEE or o["depth"] == 2)
            and self.in_view(o["path"])
        ]

    def in_view(self, path: str) -> bool:
        return any(path.startswith(r) for r in self.roots)


def is_reviewer(user) -> bool:
    return scope.has_role(user, scope.REVIEW_ROLES)


def _sees_all(user) -> bool:
    return bool(user.is_superuser and user.is_active)


def structure_for(*, user, root_id: int | None) -> Structure:
    """One query. Raises PermissionDenied for a non-reviewer, Http404 for a root outside the
    reviewer's subtree (or no such organisation)."""
    if not is_reviewer(user):
        raise PermissionDenied(_("The committee dashboard is for committee reviewers."))
    review_paths = None if _sees_all(user) else scope.managed_paths(user, scope.REVIEW_ROLES)
    roots_q = Q(kind__in=ROOT_KINDS)
    if review_paths is not None:
        roots_q &= scope.subtree_q(review_paths) | Q(path__in=scope.ancestor_paths(review_paths))
    if root_id is not None:
        root_path = Organization.objects.filter(pk=root_id).values("path")[:1]
        above_root = Exists(
            Organization.objects.filter(pk=root_id, path__startswith=OuterRef("path"))
        )
        roots_q = Q(pk=root_id) | (roots_q & (Q(path__startswith=Subquery(root_path)) | above_root))
    rows = list(
        Organization.objects.filter(roots_q).values(
            "pk", "path", "depth", "name", "short_name", "kind"
        )
    )
    by_path = {o["path"]: o for o in rows}
    if root_id is None:
        return Structure(by_path=by_path, roots=review_paths or [""])
    root = next((o for o in rows if o["pk"] == root_id), None)
    if root is None or (
        review_paths is not None and not any(root["path"].startswith(p) for p in review_paths)
    ):
        raise Http404
    top = (
        "" if review_paths is None else next(p for p in review_paths if root["path"].startswith(p))
    )
    crumbs = [
        o
        for o in sorted(rows, key=lambda o: o["depth"])
        if root["path"].startswith(o["path"]) and o["path"].startswith(top)
    ]
    return Structure(by_path=by_path, roots=[root["path"]], root=root, crumbs=crumbs)


def _rows_base(struct: Structure, period: Period) -> QuerySet:
    qs = BranchFigures.objects.filter(
        organization__kind__in=REPORTING_KINDS,
        period_kind=period.kind,
        period_start=period.start,
    )
    if struct.roots != [""]:
        qs = qs.filter(scope.subtree_q(struct.roots, prefix="organization__"))
    return qs


def _filters_q(query: DashboardQuery, struct: Structure) -> Q:
    q = Q()
    if query.kind:
        q &= Q(organization__kind=query.kind)
    if query.company_id is not None:
        company = next((o for o in struct.by_path.values() if o["pk"] == query.company_id), None)
        q &= Q(organization__path__startswith=company["path"]) if company else Q(pk__in=[])
    if query.province:
        q &= Exists(
            ProjectSite.objects.filter(
                organization=OuterRef("organization"),
                closed_on__isnull=True,
                province=query.province,
            )
        )
    if query.rating:
        ratings = BranchRating.objects.filter(
            organization=OuterRef("organization"), year=query.period.start.year
        )
        if query.rating == "none":
            q &= ~Exists(ratings)
        else:
            stars = int(query.rating)
            q &= Exists(
                ratings.filter(Q(stars=stars) | Q(stars__isnull=True, computed_stars=stars))
            )
    return q


def _annotated(qs: QuerySet, period: Period) -> QuerySet:
    sites = ProjectSite.objects.filter(
        organization=OuterRef("organization"), closed_on__isnull=True
    ).order_by("province")
    rating = BranchRating.objects.filter(
        organization=OuterRef("organization"), year=period.start.year
    )
    report = ActivityReport.objects.filter(
        organization=OuterRef("organization"),
        period_kind=period.kind,
        period_start=period.start,
    )
    return qs.select_related("organization").annotate(
        province=Subquery(sites.values("province")[:1]),
        stars=Subquery(
            rating.annotate(shown=Coalesce("stars", "computed_stars")).values("shown")[:1]
        ),
        report_id=Subquery(report.values("pk")[:1]),
        report_status=Subquery(report.values("status")[:1]),
    )


def _ordering(query: DashboardQuery):
    if query.sort == "name":
        expr = F("organization__path")
    elif query.sort == "kind":
        expr = F("organization__kind")
    elif query.sort == "province":
        expr = F("province")
    elif query.sort == "rating":
        expr = F("stars")
    elif query.sort == "last_activity":
        expr = F("last_activity_at")
    else:
        expr = _num(query.sort)
    first = expr.desc(nulls_last=True) if query.desc else expr.asc(nulls_last=True)
    return [first, "organization__path"]


def _unit_expression(struct: Structure):
    """The organisation directly under the shown root that each row belongs to (its path)."""
    step = Organization.steplen
    roots = [r for r in struct.roots if r] or [""]
    if len(roots) == 1:
        return Substr("organization__path", 1, len(roots[0]) + step)
    return Case(
        *(
            When(
                organization__path__startswith=r,
                then=Substr("organization__path", 1, len(r) + step),
            )
            for r in roots
        ),
        output_field=CharField(),
    )


def history(period: Period) -> list[Period]:
    out = [period]
    for _i in range(HISTORY[period.kind] - 1):
        out.append(out[-1].previous())
    return list(reversed(out))


def silent_cutoff(now: datetime) -> datetime:
    """Silent: no recorded activity after this instant (strictly older than the setting)."""
    return now - timedelta(days=settings.NETBRANCH_SILENT_DAYS)


def report_due_period(period: Period, today: date) -> Period:
    """The period whose reports are checked for "behind on reports": the chosen one when its
    due date has passed, else the one before it (of the same kind)."""
    return period if period.due_on() < today else period.previous()


def dashboard(*, user, query: DashboardQuery, now: datetime | None = None) -> dict:
    """Everything /review/ shows. See the module docstring for its five queries."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    struct = structure_for(user=user, root_id=query.root_id)
    if struct.root is not None and struct.root["kind"] not in ROOT_KINDS:
        return {"branch_id": struct.root["pk"]}  # a branch: its own page, not a subtree
    period = query.period
    filters = _filters_q(query, struct)

    # 2. One page of rows.
    base = _rows_base(struct, period).filter(filters)
    offset = (query.page - 1) * PAGE_SIZE
    rows = list(_annotated(base, period).order_by(*_ordering(query))[offset : offset + PAGE_SIZE])

    # 3. Totals per period and organisation under the root (header, table, charts).
    periods = history(period)
    grouped = list(
        BranchFigures.objects.filter(
            organization__kind__in=REPORTING_KINDS,
            period_kind=period.kind,
            period_start__in=[p.start for p in periods],
        )
        .filter(
            scope.subtree_q(struct.roots, prefix="organization__") if struct.roots != [""] else Q()
        )
        .filter(filters)
        .annotate(unit=_unit_expression(struct))
        .values("period_start", "unit")
        .annotate(
            branches=Count("pk"),
            compliant=Count("pk", filter=Q(figures__meetings_compliant=True)),
            study_completion=Avg(_num("study_completion")),
            attendance_rate=Avg(_num("attendance_rate")),
            computed=Max("computed_at"),
            **{key: Sum(_num(key)) for key in SUMMED},
        )
        .order_by("period_start", "unit")
    )
    totals, units, series = _fold(grouped, struct, period, periods)

    # 4. Silent branches (their latest rollup row says so) and 5. behind on reports.
    cutoff = silent_cutoff(now)
    current = _rows_base(struct, Period.containing(today, PeriodKind.QUARTER)).filter(filters)
    silent = list(
        current.filter(Q(last_activity_at__lt=cutoff) | Q(last_activity_at__isnull=True))
        .select_related("organization")
        .annotate(total=Window(Count("pk")))
        .order_by(F("last_activity_at").asc(nulls_first=True), "organization__path")[:LIST_LIMIT]
    )
    due = report_due_period(period, today)
    done = ActivityReport.objects.filter(
        organization=OuterRef("organization"),
        period_kind=due.kind,
        period_start=due.start,
        status__in=DONE_STATUSES,
    )
    report = ActivityReport.objects.filter(
        organization=OuterRef("organization"), period_kind=due.kind, period_start=due.start
    )
    behind = (
        list(
            current.filter(~Exists(done))
            .select_related("organization")
            .annotate(
                total=Window(Count("pk")),
                report_id=Subquery(report.values("pk")[:1]),
                report_status=Subquery(report.values("status")[:1]),
            )
            .order_by("organization__path")[:LIST_LIMIT]
        )
        if due.due_on() < today
        else []
    )

    for row in rows + silent + behind:
        row.company = struct.company_of(row.organization.path)
    for row in rows:
        row.failing = failing_keys(row.figures)
        row.silent = row.last_activity_at is None or row.last_activity_at < cutoff
        row.report_overdue = row.report_status not in DONE_STATUSES and period.due_on() < today

    count = totals["branches"]
    pages = max(1, -(-count // PAGE_SIZE))
    return {
        "query": query,
        "period": period,
        "structure": struct,
        "rows": rows,
        "count": count,
        "page": query.page,
        "pages": pages,
        "first_index": offset + 1,
        "totals": totals,
        "units": units,
        "series": series,
        "computed_at": totals["computed"],
        "silent": silent,
        "silent_total": silent[0].total if silent else 0,
        "silent_days": settings.NETBRANCH_SILENT_DAYS,
        "behind": behind,
        "behind_total": behind[0].total if behind else 0,
        "due_period": due,
        "now": now,
    }


def _ratio(a, b):
    return (a / b) if a is not None and b else None


def _fold(grouped: list[dict], struct: Structure, period: Period, periods: list[Period]):
    """Header totals, per-organisation rows for the period, and the series of the charts."""
    blank = {"branches": 0, "compliant": 0, "computed": None, **dict.fromkeys(SUMMED, 0.0)}

    def add(into: dict, g: dict) -> None:
        for key in ("branches", "compliant", *SUMMED):
            into[key] += g[key] or 0
        if g["computed"] and (into["computed"] is None or g["computed"] > into["computed"]):
            into["computed"] = g["computed"]
        # Averages of rates weighted by branches (a rate missing in a branch is skipped).
        for key in ("study_completion", "attendance_rate"):
            if g[key] is not None:
                into[f"_{key}_sum"] = into.get(f"_{key}_sum", 0) + g[key] * g["branches"]
                into[f"_{key}_n"] = into.get(f"_{key}_n", 0) + g["branches"]

    def finish(d: dict) -> dict:
        for key in ("study_completion", "attendance_rate"):
            d[key] = _ratio(d.pop(f"_{key}_sum", None), d.pop(f"_{key}_n", 0))
        d["compliance"] = _ratio(d["compliant"], d["branches"])
        d["attendance"] = _ratio(d["attendance_present"], d["attendance_expected"])
        return d

    totals = dict(blank)
    per_period = {p.start: dict(blank) for p in periods}
    units: dict[str, dict] = {}
    for g in grouped:
        add(per_period[g["period_start"]], g)
        if g["period_start"] != period.start:
            continue
        add(totals, g)
        org = struct.by_path.get(g["unit"])
        key = g["unit"]
        if org is None or key in struct.roots:
            key, org = "", None  # branches directly under the root, or the root itself
        unit = units.setdefault(key, {**blank, "org": org})
        add(unit, g)
    finish(totals)
    unit_rows = sorted(
        (finish(u) for u in units.values()), key=lambda u: u["org"]["path"] if u["org"] else ""
    )
    series = [{"period": p, **finish(per_period[p.start])} for p in periods]
    return totals, unit_rows, series


# --- the Excel export of the table ----------------------------------------------------------------

EXPORT_COLUMNS = (
    ("members", _lazy("members registered")),
    ("meetings_missed", _lazy("required meetings missed")),
    ("attendance_rate", _lazy("attendance rate")),
    ("study_completion", _lazy("study completion")),
    ("points", _lazy("study points")),
    ("reflections", _lazy("reflections")),
    ("welfare_activities", _lazy("welfare activities")),
    ("welfare_hours", _lazy("welfare hours")),
    ("decisions_overdue", _lazy("decisions overdue")),
    ("outreach_open", _lazy("open outreach cases")),
)


def export_table(*, user, query: DashboardQuery) -> tuple[list, object]:
    """Headers and rows (a generator) of the whole filtered table, in the page's order: one
    query for the structure and one streamed query for the rows."""
    struct = structure_for(user=user, root_id=query.root_id)
    period = query.period
    qs = _annotated(_rows_base(struct, period).filter(_filters_q(query, struct)), period).order_by(
        *_ordering(query)
    )
    statuses = dict(ActivityReport.Status.choices)
    headers = [
        _("organisation"),
        _("kind"),
        _("company"),
        _("province"),
        _("stars"),
        _("report"),
        _("meetings compliant"),
        *(label for _key, label in EXPORT_COLUMNS),
        _("last recorded activity"),
    ]

    def rows():
        for row in qs.iterator(chunk_size=2000):
            company = struct.company_of(row.organization.path)
            figures = row.figures or {}
            yield [
                row.organization.name,
                row.organization.get_kind_display(),
                company["name"] if company else "",
                row.province or "",
                row.stars,
                str(statuses.get(row.report_status, _("none"))),
                _("yes") if figures.get("meetings_compliant") else _("no"),
                *(figures.get(key) for key, _label in EXPORT_COLUMNS),
                row.last_activity_at,
            ]

    return headers, rows()


# --- one branch, drilled down to ------------------------------------------------------------------


def access_branch(*, user, organization_id: int) -> Organization:
    """A reporting organisation under the reviewer's assignments (Http404 otherwise)."""
    if not is_reviewer(user):
        raise PermissionDenied(_("The committee dashboard is for committee reviewers."))
    org = Organization.objects.filter(pk=organization_id, kind__in=REPORTING_KINDS).first()
    if org is None or not scope.can_manage(user, org, scope.REVIEW_ROLES):
        raise Http404
    return org


def branch_review(
    *, user, organization_id: int, period: Period, now: datetime | None = None
) -> dict:
    """The branch's figures over the last four periods of the kind, its latest meetings,
    lessons, members by contact status, reports and rating: a fixed number of queries."""
    from lessons.models import Lesson
    from meetings.models import Meeting
    from members.selectors import contact_status_counts

    from .figures import FIGURE_ROWS, RATE_KEYS, figure_value

    now = now or timezone.now()
    today = timezone.localdate(now)
    org = access_branch(user=user, organization_id=organization_id)
    top = (
        ""
        if _sees_all(user)
        else next(
            p for p in scope.managed_paths(user, scope.REVIEW_ROLES) if org.path.startswith(p)
        )
    )
    crumbs = [o for o in scope.path_to_root(org, include_self=False) if o.path.startswith(top)]
    periods = history(period)[-4:]
    current = Period.containing(today, PeriodKind.QUARTER)
    stored = list(
        BranchFigures.objects.filter(organization=org).filter(
            Q(period_kind=period.kind, period_start__in=[p.start for p in periods])
            | Q(period_kind=current.kind, period_start=current.start)
        )
    )
    by_start = {r.period_start: r for r in stored if r.period_kind == period.kind}
    columns = [(p, by_start.get(p.start)) for p in periods]
    failing = {p.start: failing_keys(r.figures) if r else set() for p, r in columns}
    table = [
        {
            "key": key,
            "label": label,
            "rate": key in RATE_KEYS,
            "cells": [
                {
                    "value": figure_value(r.figures, key) if r else None,
                    "failing": key in failing[p.start],
                }
                for p, r in columns
            ],
        }
        for key, label in FIGURE_ROWS
    ]
    latest = max(stored, key=lambda r: r.computed_at, default=None)
    last_activity = latest.last_activity_at if latest else None
    units = Q(organization=org) | Q(
        organization__path__startswith=org.path,
        organization__kind__in=[Kind.GROUP, Kind.MICRO_BRANCH],
    )
    return {
        "organization": org,
        "crumbs": crumbs,
        "period": period,
        "columns": columns,
        "table": table,
        "last_activity_at": last_activity,
        "silent": latest is not None
        and (last_activity is None or last_activity < silent_cutoff(now)),
        "silent_days": settings.NETBRANCH_SILENT_DAYS,
        "meetings": list(
            Meeting.objects.filter(units).select_related("organization").order_by("-starts_at")[:10]
        ),
        "lessons": list(
            Lesson.objects.filter(organization=org, status=Lesson.Status.PUBLISHED).order_by(
                "-published_at"
            )[:10]
        ),
        "people": contact_status_counts(organizations=[org]),
        "reports": list(
            ActivityReport.objects.filter(organization=org).order_by("-period_start")[:12]
        ),
        "rating": BranchRating.objects.filter(organization=org).order_by("-year").first(),
        "year_start": date(today.year, 1, 1),
        "now": now,
    }


# --- the reviewer's card on the home page ---------------------------------------------------------


def home_card(*, user, now: datetime | None = None) -> dict:
    """Silent branches and branches with a report waiting for review under the reviewer's
    assignments: one query."""
    now = now or timezone.now()
    quarter = Period.containing(timezone.localdate(now), PeriodKind.QUARTER)
    orgs = Organization.objects.filter(kind__in=REPORTING_KINDS)
    if not _sees_all(user):
        orgs = orgs.filter(scope.subtree_q(scope.managed_paths(user, scope.REVIEW_ROLES)))
    cutoff = silent_cutoff(now)
    stale = BranchFigures.objects.filter(
        Q(last_activity_at__lt=cutoff) | Q(last_activity_at__isnull=True),
        organization=OuterRef("pk"),
        period_kind=quarter.kind,
        period_start=quarter.start,
    )
    waiting = ActivityReport.objects.filter(
        organization=OuterRef("pk"), status=ActivityReport.Status.SUBMITTED
    )
    return orgs.aggregate(
        silent=Count("pk", filter=Exists(stale)),
        to_review=Count("pk", filter=Exists(waiting)),
    )
