"""The dashboard's rollup: every reporting organisation's figures for a few periods, computed
set-based by `reports.selectors.figures.figures_for` and upserted into `BranchFigures`.

The committee dashboard over thousands of branches reads these rows instead of aggregating a
year of activity on every request. A Celery beat entry refreshes the current and previous
month, quarter and year every hour (`reports.tasks.refresh_figures`); a reviewer can ask for
a refresh from the dashboard.

Cost: one query for the organisations, then per period and per chunk of
`ROLLUP_CHUNK` organisations the figures' own queries (a fixed dozen or so) and one
`INSERT … ON CONFLICT DO UPDATE`, plus one `DELETE` of rows whose organisation stopped
reporting. The count does not grow with the number of organisations below a chunk.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from branches.models import Organization

from ..models import BranchFigures
from ..periods import Period, PeriodKind, local_today
from ..selectors.figures import REPORTING_KINDS, figures_for

# Organisations per call of figures_for and per INSERT: big enough that 2,000 branches are one
# chunk, small enough to stay under SQLite's limit on query parameters.
ROLLUP_CHUNK = 2000
UPSERT_BATCH = 1000


def rollup_periods(today: date | None = None) -> list[Period]:
    """What the clock refreshes: the current and previous month, quarter and year."""
    today = today or local_today()
    out: list[Period] = []
    for kind in (PeriodKind.MONTH, PeriodKind.QUARTER, PeriodKind.YEAR):
        current = Period.containing(today, kind)
        out += [current, current.previous()]
    return out


def _as_datetime(value) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return parse_datetime(str(value))


def figures_refresh(*, periods: Iterable[Period], now: datetime | None = None) -> dict:
    """Compute the figures of every reporting organisation for each of `periods` and upsert
    one `BranchFigures` row per organisation and period (idempotent: running it twice leaves
    the same rows). Returns {"organizations": n, "periods": p, "rows": rows written,
    "removed": stale rows deleted}."""
    now = now or timezone.now()
    periods = list(dict.fromkeys(periods))
    org_ids = list(
        Organization.objects.filter(kind__in=REPORTING_KINDS)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    written = removed = 0
    for period in periods:
        with transaction.atomic():
            for start in range(0, len(org_ids), ROLLUP_CHUNK):
                chunk = org_ids[start : start + ROLLUP_CHUNK]
                figures = figures_for(organization_ids=chunk, period=period, now=now)
                rows = [
                    BranchFigures(
                        organization_id=org_id,
                        period_kind=period.kind,
                        period_start=period.start,
                        figures=data,
                        last_activity_at=_as_datetime(data.get("last_activity_at")),
                        computed_at=now,
                    )
                    for org_id, data in figures.items()
                ]
                BranchFigures.objects.bulk_create(
                    rows,
                    batch_size=UPSERT_BATCH,
                    update_conflicts=True,
                    unique_fields=["organization", "period_kind", "period_start"],
                    update_fields=["figures", "last_activity_at", "computed_at"],
                )
                written += len(rows)
            # Rows of organisations that are no longer a reporting kind (their kind changed).
            removed += (
                BranchFigures.objects.filter(period_kind=period.kind, period_start=period.start)
                .exclude(organization__kind__in=REPORTING_KINDS)
                .delete()[0]
            )
    return {
        "organizations": len(org_ids),
        "periods": len(periods),
        "rows": written,
        "removed": removed,
    }
