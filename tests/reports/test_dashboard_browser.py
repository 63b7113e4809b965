"""On a 360 px phone: `reviewer` opens /review/ from the nav, filters, sorts, drills down to a
company and to a silent branch; nothing is wider than the screen, no console error, no CSP
violation, and the charts are drawn (inline SVG, no script)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from reports.periods import Period, PeriodKind, local_today
from reports.selectors.figures import empty_figures
from tests.browser import conftest as browser_fixtures
from tests.browser.test_login_flow import assert_fits_phone, log_in

pytestmark = pytest.mark.browser
# The browser fixtures live in tests/browser/conftest.py; this module borrows them.
_allow_async_unsafe = browser_fixtures._allow_async_unsafe
browser = browser_fixtures.browser
phone = browser_fixtures.phone


def test_reviewer_finds_a_silent_branch_on_a_phone(phone, tree):
    from reports.models import BranchFigures

    page, log = phone
    now = timezone.now()
    quarter = Period.containing(local_today(), PeriodKind.QUARTER)
    for period in (quarter, quarter.previous()):
        for org, rate, last in (
            (tree.branch, 0.9, now - timedelta(days=2)),
            (tree.sibling, 0.4, now - timedelta(days=60)),
            (tree.joint, None, None),
        ):
            data = {**empty_figures(), "members": 12, "attendance_rate": rate}
            data["meetings_compliant"] = rate is not None and rate > 0.5
            BranchFigures.objects.create(
                organization=org,
                period_kind=period.kind,
                period_start=period.start,
                figures=data,
                last_activity_at=last,
                computed_at=now,
            )

    page.goto("/")
    log_in(page, "reviewer")
    page.locator("header a[href='/review/']").click()
    page.wait_for_url("**/review/")
    assert page.locator("svg.chart").count() == 3
    assert_fits_phone(page)
    page.select_option("select[name=kind]", "branch")
    page.locator(".review-filters button[type=submit]").click()
    page.wait_for_load_state()
    assert "kind=branch" in page.url
    assert page.locator("table.branches tbody tr").count() == 2
    assert_fits_phone(page)
    page.select_option("select[name=sort]", "attendance_rate")
    page.select_option("select[name=dir]", "desc")
    page.locator(".review-filters button[type=submit]").click()
    page.wait_for_load_state()
    assert "sort=attendance_rate" in page.url and "dir=desc" in page.url
    first = page.locator("table.branches tbody tr th a").first.inner_text()
    assert first == tree.branch.name
    page.goto(f"/review/?root={tree.company.pk}")
    assert page.locator(".crumbs li").count() == 3
    silent = page.locator("#silent-h + p + ul a", has_text=tree.sibling.name)
    silent.click()
    page.wait_for_url(f"**/review/branch/{tree.sibling.pk}/**")
    assert page.locator(".warn").count() >= 1
    assert_fits_phone(page)
    log.assert_clean()
