"""On phones, the issue's "done when": `secretary` opens a motion with a secret ballot from its
page, `member` votes on the phone-sized page (htmx swaps the vote panel), the secretary
closes it, the result is announced (in `member`'s inbox) and the decision's follow-up,
reported by its owner, is visible to members. No console error, no CSP violation, nothing
wider than 360 px."""

from datetime import timedelta

import pytest
from django.utils import timezone

from decisions import services
from decisions.models import Ballot, Motion, ProgressUpdate, VoterRecord
from notifications.models import Notification
from tests.browser.conftest import _allow_async_unsafe, browser, phone  # noqa: F401 - fixtures
from tests.browser.test_interaction_flow import log_out
from tests.browser.test_login_flow import assert_fits_phone, log_in

pytestmark = pytest.mark.browser

TITLE = "关于推荐优秀共产党员人选的无记名投票"


def test_a_secret_ballot_from_opening_to_its_follow_up(phone, tree, tmp_path):  # noqa: F811
    page, log = phone
    now = timezone.now()
    motion = services.motion_create(
        by=tree.secretary, organization=tree.branch, title=TITLE, secret=True,
        body="<p>是否同意推荐扎西次仁同志。</p>", opens_at=now - timedelta(minutes=1),
        closes_at=now + timedelta(days=2),
    )  # fmt: skip
    detail = f"/decisions/{motion.pk}/"

    # The secretary opens the vote from the motion's page.
    page.goto(detail)
    log_in(page, "secretary")
    page.wait_for_url(f"**{detail}")
    page.locator(f"form[action='{detail}open/'] button").click()
    page.wait_for_selector(".msg-success")
    assert Motion.objects.get(pk=motion.pk).status == Motion.Status.OPEN
    log_out(page)

    # The member votes on the phone: the panel is swapped in place, the choice is not shown.
    page.goto(detail)
    log_in(page, "member")
    page.wait_for_url(f"**{detail}")
    assert page.locator("h1").inner_text().strip() == TITLE
    assert_fits_phone(page)
    page.locator(".vote-choice.vote-for").click()
    page.locator(".vote-form button[type=submit]").click()
    page.wait_for_selector("#vote .msg-success")
    assert page.locator(".vote-form").count() == 0
    assert VoterRecord.objects.filter(motion=motion, user=tree.member.user).count() == 1
    assert list(Ballot.objects.values_list("choice", flat=True)) == ["for"]
    assert_fits_phone(page)
    page.screenshot(path=str(tmp_path / "decision-voted-360.png"), full_page=True)
    log_out(page)

    # Two more vote; the secretary closes and counts.
    for user in (tree.office.user, tree.secretary):
        services.vote_cast(motion=motion, user=user, choice="for")
    page.goto(detail)
    log_in(page, "secretary")
    page.wait_for_url(f"**{detail}")
    page.locator(f"form[action='{detail}close/'] button").click()
    page.wait_for_selector(".msg-success")
    page.wait_for_selector(".results .result-passed")
    closed = Motion.objects.get(pk=motion.pk)
    assert (closed.result, closed.votes_for, closed.electorate_size) == ("passed", 3, 3)
    log_out(page)
    assert Notification.objects.filter(
        recipient=tree.member.user, event__kind="motion_passed", event__target_id=motion.pk
    ).exists()

    # Its owner reports progress on the page; every member sees it.
    services.decision_assign(
        motion=closed, by=tree.secretary, owner=tree.office.user,
        due_on=timezone.localdate() + timedelta(days=30),
    )  # fmt: skip
    page.goto(detail)
    log_in(page, "office")
    page.wait_for_url(f"**{detail}")
    page.locator("details.progress-report summary").click()
    page.fill("textarea[name=body]", "推荐材料已报送公司党委。")
    page.fill("input[name=percent]", "50")
    page.locator("details.progress-report button[type=submit]").click()
    page.wait_for_selector(".msg-success")
    assert ProgressUpdate.objects.get().percent == 50
    log_out(page)
    page.goto("/decisions/?show=in_progress")
    log_in(page, "member")
    page.wait_for_url("**/decisions/**")
    assert TITLE in page.locator("main").inner_text()
    assert page.locator(".decision-progress progress").first.get_attribute("value") == "50"
    assert_fits_phone(page)
    page.goto(detail)
    assert "推荐材料已报送公司党委。" in page.locator("#follow-up").inner_text()
    assert_fits_phone(page)
    page.screenshot(path=str(tmp_path / "decision-follow-up-360.png"), full_page=True)
    # A request the next navigation cut short (the icon) is not a failure of the page.
    log.failed_loads = [f for f in log.failed_loads if not f.startswith("net::ERR_ABORTED")]
    log.assert_clean()
