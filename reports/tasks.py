"""Thin Celery tasks of the committee review (periodic ones are in portal/celery.py)."""

from celery import shared_task

from .services import reports as report_services


@shared_task
def remind_reports() -> dict:
    """Daily: "due soon" and "overdue" reminders of activity reports, once each per branch,
    period and kind (claimed rows), overdue reports flagged for the reviewers. Idempotent."""
    return report_services.reports_remind()


@shared_task
def refresh_figures(periods: list[str] | None = None) -> dict:
    """Hourly (and on a reviewer's demand): the dashboard's rollup for the given periods
    ("2026-Q3", "2026"…; by default the current and previous month, quarter and year).
    Idempotent: an upsert per organisation and period."""
    from .periods import Period
    from .services.rollup import figures_refresh, rollup_periods

    chosen = [Period.parse(p) for p in periods] if periods else rollup_periods()
    return figures_refresh(periods=chosen)


@shared_task
def compute_ratings(year: int | None = None, organization_ids: list[int] | None = None) -> dict:
    """Nightly for the current year (and on a reviewer's demand): the five-star ratings from
    the year's figures, set-based; the committee's decisions are kept. Idempotent (upsert)."""
    from .services.rating import current_year, ratings_compute

    return ratings_compute(year=year or current_year(), organization_ids=organization_ids)
