"""The committee dashboard: /review/ (the reviewer's subtree for a period, with drill-down by
?root=), /review/branch/<id>/ (one branch over the last four periods), a refresh of the
rollup (POST) and the Excel export of the table. Reviewers only: anyone else gets a 403 page
that says so and shows no figure; an organisation outside the reviewer's subtree is a 404."""

from datetime import date

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from core.exports import xlsx_response

from .. import charts
from ..models import ActivityReport
from ..periods import Period, PeriodKind, local_today
from ..selectors import dashboard as selectors
from ..selectors.dashboard import DashboardQuery
from ..services.rollup import rollup_periods
from ..tasks import refresh_figures

REFRESH_LOCK_SECONDS = 60
# The table's figure columns (the figures' keys), between the stars and the last activity.
CELL_KEYS = (
    ("members", gettext_lazy("members")),
    ("meetings_missed", gettext_lazy("meetings missed")),
    ("attendance_rate", gettext_lazy("attendance")),
    ("study_completion", gettext_lazy("study completion")),
    ("points", gettext_lazy("points")),
    ("reflections", gettext_lazy("reflections")),
    ("welfare_hours", gettext_lazy("welfare hours")),
    ("decisions_overdue", gettext_lazy("decisions overdue")),
)
RATES = {"attendance_rate", "study_completion"}


def _denied(request, exc: PermissionDenied):
    return render(
        request,
        "reports/review_denied.html",
        {"reason": str(exc) or _("The committee dashboard is for committee reviewers.")},
        status=403,
    )


def period_choices(today: date, chosen: Period) -> list[tuple[str, str]]:
    """The periods one can pick: eight quarters, twelve months, three years (and the chosen)."""
    out: list[Period] = []
    for kind, n in ((PeriodKind.QUARTER, 8), (PeriodKind.MONTH, 12), (PeriodKind.YEAR, 3)):
        p = Period.containing(today, kind)
        for _i in range(n):
            out.append(p)
            p = p.previous()
    if chosen not in out:
        out.insert(0, chosen)
    return [(str(p), p.label()) for p in out]


def _pct(v) -> str:
    return "—" if v is None else f"{round(v * 100)}%"


def _num(v) -> str:
    if v is None:
        return "—"
    return f"{v:,.1f}".rstrip("0").rstrip(".") if v % 1 else f"{int(v):,}"


def _short(p: Period) -> str:
    """Under the chart's axis: "25Q3", "26-07", "2026"."""
    s = str(p)
    return s[2:].replace("-Q", "Q") if p.kind != PeriodKind.YEAR else s


def _charts(data: dict) -> dict:
    root_name = (
        data["structure"].root["short_name"] or data["structure"].root["name"]
        if data["structure"].root
        else ""
    )

    def unit_label(u):
        if u["org"] is None:
            return _("directly under %(name)s") % {"name": root_name} if root_name else _("others")
        return u["org"]["short_name"] or u["org"]["name"]

    units = data["units"]
    period = data["period"]
    return {
        "compliance": charts.share_line(
            [
                charts.Point(
                    _short(s["period"]), s["period"].label(), s["compliance"], _pct(s["compliance"])
                )
                for s in data["series"]
            ],
            chart_id="chart-compliance",
            title=_("Branches holding every required meeting"),
            desc=_("Share of branches that met the meeting cadence, over the last %(n)s periods.")
            % {"n": len(data["series"])},
        ),
        "study": charts.bars(
            [
                charts.Bar(unit_label(u), u["study_completion"], _pct(u["study_completion"]))
                for u in units
            ],
            chart_id="chart-study",
            title=_("Study completion by organisation"),
            desc=_("Average study completion of the branches under each organisation, %(period)s.")
            % {"period": period.label()},
            scale=1,
        ),
        "welfare": charts.bars(
            [
                charts.Bar(unit_label(u), u["welfare_hours"], _num(u["welfare_hours"]))
                for u in units
            ],
            chart_id="chart-welfare",
            title=_("Welfare hours by organisation"),
            desc=_("Hours of welfare activities done under each organisation, %(period)s.")
            % {"period": period.label()},
        ),
    }


def _texts(d: dict) -> None:
    d["compliance_text"] = _pct(d["compliance"])
    d["members_text"] = _num(d["members"])
    d["attendance_text"] = _pct(d["attendance"])
    d["study_text"] = _pct(d["study_completion"])
    d["welfare_text"] = _num(d["welfare_hours"])


def _decorate(data: dict, query: DashboardQuery) -> None:
    """Display texts of the totals, the rows' cells and the sortable column headers."""
    statuses = dict(ActivityReport.Status.choices)
    _texts(data["totals"])
    for u in data["units"]:
        _texts(u)
    for row in data["rows"] + data["behind"]:
        row.report_status_display = statuses.get(row.report_status, "")
    for row in data["rows"]:
        row.cells = [
            {
                "label": label,
                "text": (_pct if key in RATES else _num)(row.figures.get(key)),
                "failing": key in row.failing,
            }
            for key, label in CELL_KEYS
        ]
    columns = [
        ("name", _("organisation")),
        ("province", _("province")),
        ("rating", _("stars")),
        *CELL_KEYS,
        ("last_activity", _("last activity")),
    ]
    data["columns"] = [
        {
            "key": key,
            "label": label,
            "sorted": ("descending" if query.desc else "ascending") if query.sort == key else "",
            "qs": urlencode(
                query.params(
                    page=None,
                    sort="" if key == "name" else key,
                    dir="desc" if query.sort == key and not query.desc else "",
                )
            ),
        }
        for key, label in columns
    ]


@login_required
@require_GET
def review(request):
    query = DashboardQuery.from_querydict(request.GET)
    try:
        data = selectors.dashboard(user=request.user, query=query)
    except PermissionDenied as exc:
        return _denied(request, exc)
    if "branch_id" in data:
        return redirect(
            reverse("reports:review_branch", args=[data["branch_id"]])
            + "?"
            + urlencode({"period": str(query.period)})
        )
    today = local_today()
    _decorate(data, query)
    data.update(
        charts=_charts(data),
        companies=data["structure"].companies(),
        periods=period_choices(today, query.period),
        kinds=[
            (k, label)
            for k, label in selectors.Organization.Kind.choices
            if k in selectors.REPORTING_KINDS
        ],
        sorts=selectors.SORTS,
        stars=("5", "4", "3", "2", "1"),
        base_qs=urlencode(query.params(page=None)),
        filter_qs=urlencode(query.params(page=None, sort=None, dir=None)),
        prev_qs=urlencode(query.params(page=query.page - 1)) if query.page > 1 else "",
        next_qs=urlencode(query.params(page=query.page + 1)) if query.page < data["pages"] else "",
        refresh_hidden=query.params(page=None),
    )
    return render(request, "reports/review.html", data)


@login_required
@require_GET
def review_branch(request, organization_id: int):
    query = DashboardQuery.from_querydict(request.GET)
    try:
        data = selectors.branch_review(
            user=request.user, organization_id=organization_id, period=query.period
        )
    except PermissionDenied as exc:
        return _denied(request, exc)
    org = data["organization"]
    year = local_today().year
    data.update(
        ledger_qs=urlencode(
            {"org": org.pk, "start": f"{year - 1}-01-01", "end": f"{year}-12-31", "sub": "on"}
        ),
        dashboard_qs=urlencode({"period": str(query.period)}),
    )
    return render(request, "reports/review_branch.html", data)


@login_required
@require_POST
def review_refresh(request):
    """Ask for the rollup to be computed again (the chosen period and the clock's periods)."""
    query = DashboardQuery.from_querydict(request.POST)
    if not selectors.is_reviewer(request.user):
        return _denied(request, PermissionDenied())
    back = reverse("reports:review") + "?" + urlencode(query.params(page=None))
    if not cache.add("reports:rollup-refresh", timezone.now().isoformat(), REFRESH_LOCK_SECONDS):
        messages.info(request, _("A refresh was asked for a moment ago; the figures will follow."))
        return redirect(back)
    periods = [str(p) for p in dict.fromkeys([query.period, *rollup_periods()])]
    transaction.on_commit(lambda: refresh_figures.delay(periods=periods))
    if settings.CELERY_TASK_ALWAYS_EAGER:
        messages.success(request, _("The figures are computed again."))
    else:
        messages.success(request, _("The figures are being computed again; reload in a minute."))
    return redirect(back)


@login_required
@require_GET
def review_export(request):
    query = DashboardQuery.from_querydict(request.GET)
    try:
        headers, rows = selectors.export_table(user=request.user, query=query)
    except PermissionDenied as exc:
        return _denied(request, exc)
    return xlsx_response(
        filename=f"review-{query.period}.xlsx",
        headers=headers,
        rows=rows,
        sheet_title=_("Branches"),
    )


urlpatterns = [
    path("review/", review, name="review"),
    path("review/branch/<int:organization_id>/", review_branch, name="review_branch"),
    path("review/refresh/", review_refresh, name="review_refresh"),
    path("review/export.xlsx", review_export, name="review_export"),
]
