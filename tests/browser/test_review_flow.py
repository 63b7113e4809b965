"""On a phone: `reviewer` finds the submitted report of 一号项目党支部 in /reports/, reads the
frozen figures and returns it with comments; `secretary` sees on the home page that a report
came back, opens it, reads the comments, completes the narrative in the editor and submits it
again, and the report is submitted with its history. No console error, no CSP violation,
nothing wider than 360 px."""

import pytest
from django.utils import translation
from django.utils.translation import gettext

from reports.models import ActivityReport
from reports.periods import Period
from reports.services import reports as services
from tests.browser.test_login_flow import assert_fits_phone, log_in

pytestmark = pytest.mark.browser

COMMENT = "请补充本季度党课的主题和参加人数"
ADDED = "党课主题：学习贯彻党的二十大精神，参加18人"


def zh(message: str) -> str:
    with translation.override("zh-hans"):
        return gettext(message)


def test_reviewer_returns_secretary_resubmits(phone, tree, browser, live_server):
    page, log = phone
    report = services.report_open(
        organization=tree.branch, period=Period.parse("2025-Q2"), by=tree.secretary
    )
    services.report_update(report=report, by=tree.secretary, narrative="<p>本季度工作总结。</p>")
    services.report_submit(report=report, by=tree.secretary)

    page.goto("/reports/?status=submitted")
    log_in(page, "reviewer")
    assert page.url.endswith("/reports/?status=submitted"), page.url
    assert_fits_phone(page)
    page.locator(f"a[href='{report.get_absolute_url()}']").click()
    page.wait_for_url(f"**{report.get_absolute_url()}")
    assert page.locator(".report-figures").count() == 1
    assert_fits_phone(page)
    page.fill("textarea[name=comment] >> nth=1", COMMENT)
    page.locator(f"form[action='/reports/{report.pk}/return/'] button[type=submit]").click()
    page.wait_for_load_state()
    assert COMMENT in page.locator(".report-history").inner_text()
    report.refresh_from_db()
    assert report.status == ActivityReport.Status.RETURNED
    log.assert_clean()

    context = browser.new_context(
        viewport={"width": 360, "height": 740}, base_url=live_server.url, locale="zh-CN"
    )
    context.set_default_timeout(15_000)
    page2 = context.new_page()
    from tests.browser.conftest import BrowserLog

    log2 = BrowserLog()
    log2.attach(page2)
    try:
        page2.goto("/")
        log_in(page2, "secretary")
        returned = page2.locator(".report-work a", has_text="1")
        assert returned.count() >= 1
        page2.goto(report.get_absolute_url())
        assert COMMENT in page2.locator(".review-returned").inner_text()
        assert_fits_phone(page2)
        editor = page2.locator(".ck-editor__editable")
        editor.click()
        page2.keyboard.press("Control+End")
        page2.keyboard.press("Enter")
        page2.keyboard.type(ADDED)
        page2.locator(".narrative-form button[type=submit]").click()
        page2.wait_for_load_state()
        report.refresh_from_db()
        assert ADDED in report.narrative
        page2.locator(f"form[action='/reports/{report.pk}/submit/'] button").click()
        page2.wait_for_load_state()
        report.refresh_from_db()
        assert report.status == ActivityReport.Status.SUBMITTED
        history = page2.locator(".report-history li")
        assert history.count() == 3
        assert zh("Live figures, computed now; they are frozen into the report when it is submitted.") not in page2.content()  # fmt: skip
        assert_fits_phone(page2)
        log2.assert_clean()
    finally:
        context.close()
