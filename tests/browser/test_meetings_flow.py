"""On phones: `member` opens the announced themed day and asks for leave with a reason; the
host (`secretary`) shows the sign-in QR code; `office` opens the link the QR code carries
(logging in on the way), confirms and is signed in; the host's QR page, refreshed by htmx,
then counts 1 present and 1 on leave, and so does the meeting page. No console error, no CSP
violation, nothing wider than 360 px."""

from datetime import timedelta

import pytest
from django.utils import timezone

from meetings import services
from meetings.models import Attendance, Meeting
from tests.browser.conftest import PHONE, BrowserLog
from tests.browser.test_interaction_flow import log_out
from tests.browser.test_login_flow import assert_fits_phone, log_in

pytestmark = pytest.mark.browser

REASON = "在那曲项目部值守，无法离开"


def themed_day(tree) -> Meeting:
    """Announced, starting in ten minutes: answers still open, the sign-in window open."""
    start = timezone.now() + timedelta(minutes=10)
    meeting = services.meeting_create(
        by=tree.secretary,
        organization=tree.branch,
        kind=Meeting.Kind.THEMED_DAY,
        title="七月主题党日：重温入党誓词",
        agenda="<p>一、重温入党誓词；二、交流学习体会。</p>",
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        place="一号项目部会议室",
        host=tree.secretary,
        recorder=tree.secretary,
    )
    return services.meeting_publish(meeting=meeting, by=tree.secretary)


def counts(page) -> tuple[str, str]:
    return (
        page.locator(".n-present").first.inner_text().strip(),
        page.locator(".n-leave").first.inner_text().strip(),
    )


def test_one_asks_for_leave_another_signs_in_by_the_qr_link(phone, tree, browser, live_server, tmp_path):  # fmt: skip
    from playwright.sync_api import expect

    page, log = phone
    meeting = themed_day(tree)
    detail = f"/meetings/{meeting.pk}/"

    # The member asks for leave with a reason.
    page.goto(detail)
    log_in(page, "member")
    page.wait_for_url(f"**{detail}")
    assert page.locator("h1").inner_text().strip() == meeting.title
    assert_fits_phone(page)
    page.locator("details.rsvp-leave summary").click()
    page.fill("details.rsvp-leave input[name=reason]", REASON)
    page.locator("button.rsvp-leave-submit").click()
    page.wait_for_selector(".msg-success")
    page.wait_for_selector("#answer .answer-leave")
    assert REASON in page.locator("#answer").inner_text()
    attendance = Attendance.objects.get(meeting=meeting, user=tree.member.user)
    assert (attendance.rsvp, attendance.leave_reason) == ("leave", REASON)
    assert_fits_phone(page)
    page.screenshot(path=str(tmp_path / "meeting-leave-360.png"), full_page=True)
    log_out(page)

    # The host shows the QR code on another phone.
    host_context = browser.new_context(viewport=PHONE, base_url=live_server.url, locale="zh-CN")
    host_log = BrowserLog()
    try:
        host = host_context.new_page()
        host_log.attach(host)
        host.goto(f"/meetings/{meeting.pk}/sign-in-code/")
        log_in(host, "secretary")
        host.wait_for_selector("svg.qr")
        link = host.locator("a.sign-in-link").get_attribute("href")
        assert f"/meetings/{meeting.pk}/sign-in/?code=" in link
        assert counts(host) == ("0", "1")
        assert_fits_phone(host)
        host.screenshot(path=str(tmp_path / "meeting-qr-360.png"), full_page=True)

        # Another member opens the link the QR code carries, logs in on the way, confirms.
        page.goto(link)
        log_in(page, "office")
        page.wait_for_url("**/sign-in/?code=*")
        assert_fits_phone(page)
        page.locator("button.sign-in-confirm-button").click()
        page.wait_for_url(f"**{detail}*")
        page.wait_for_selector(".msg-success")
        signed = Attendance.objects.get(meeting=meeting, user=tree.office.user)
        assert signed.via == Attendance.Via.QR and signed.signed_in_at is not None
        assert page.locator("#answer .state.done").count() == 1
        assert_fits_phone(page)

        # The host's QR page catches up by itself (htmx polling), then the meeting page.
        expect(host.locator(".n-present")).to_have_text("1", timeout=20_000)
        assert counts(host) == ("1", "1")
        host.goto(detail)
        assert counts(host) == ("1", "1")
        roster = host.locator("#attendance").inner_text()
        assert REASON in roster
        assert_fits_phone(host)
        host.screenshot(path=str(tmp_path / "meeting-host-360.png"), full_page=True)
    finally:
        host_context.close()

    log.assert_clean()
    host_log.assert_clean()
