"""A member on a phone: log in, find their branch, switch to English, log out. A secretary
reaches the administration; a plain member does not. No console error, no CSP violation."""

import re

import pytest

from tests.browser.conftest import PHONE

pytestmark = pytest.mark.browser

PASSWORD = "netbranch-demo"


def log_in(page, username: str) -> None:
    page.fill("input[name=login]", username)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form:has(input[name=password]) button[type=submit]").click()
    page.wait_for_load_state()


def assert_fits_phone(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], (
        f"{page.url} overflows horizontally: {width}px > {PHONE['width']}px"
    )


def test_member_logs_in_visits_branch_switches_language_logs_out(phone, tree, tmp_path):
    page, log = phone

    page.goto("/")
    assert re.search(r"/accounts/login/\?next=/$", page.url), page.url
    assert_fits_phone(page)

    log_in(page, "member")
    assert page.url.endswith("/"), page.url
    assert not re.search(r"/accounts/login/", page.url)
    branch_link = page.locator(f"main a[href='{tree.branch.get_absolute_url()}']").first
    assert branch_link.inner_text().strip() == tree.branch.name
    assert_fits_phone(page)

    branch_link.click()
    page.wait_for_url(f"**{tree.branch.get_absolute_url()}")
    assert page.locator("h1").inner_text().strip() == tree.branch.name
    assert_fits_phone(page)
    assert page.get_attribute("html", "lang") == "zh-hans"

    page.select_option("select[name=language]", "en")
    page.locator("form:has(select[name=language]) button").click()
    page.wait_for_load_state()
    page.wait_for_function("document.documentElement.lang === 'en'")
    assert page.url.endswith(tree.branch.get_absolute_url()), page.url
    logout = page.locator("header form button[type=submit]")
    assert logout.inner_text().strip() == "Log out"
    assert page.locator("footer label[for=lang-select]").inner_text().strip() == "Language"
    assert_fits_phone(page)
    page.screenshot(path=str(tmp_path / "branch-en-360.png"), full_page=True)

    logout.click()
    page.wait_for_url(re.compile(r".*/accounts/login/.*"))
    assert page.locator("input[name=login]").is_visible()
    page.goto("/")
    assert "/accounts/login/" in page.url, "still logged in after logging out"

    log.assert_clean()


def test_secretary_reaches_admin_member_does_not(phone, tree, browser, live_server):
    page, log = phone

    page.goto("/admin/")
    assert "/accounts/login/" in page.url, page.url
    log_in(page, "secretary")
    page.wait_for_url(re.compile(r".*/admin/$"))
    assert page.locator("body.dashboard").count() == 1, "the admin index is not shown"
    assert page.locator("#site-name").is_visible()
    log.assert_clean()

    context = browser.new_context(viewport=PHONE, base_url=live_server.url)
    try:
        member_page = context.new_page()
        member_page.goto("/accounts/login/")
        log_in(member_page, "member")
        response = member_page.goto("/admin/")
        shown = member_page.locator("body.dashboard").count()
        assert shown == 0, "a plain member was shown the admin index"
        assert response.status == 403 or "/accounts/login/" in member_page.url, (
            response.status,
            member_page.url,
        )
    finally:
        context.close()
