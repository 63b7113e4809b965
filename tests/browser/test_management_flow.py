"""Issue 8, done when: `member` opens /me/ on a phone and starts a transfer to a sibling branch
found by name; the branch's secretary releases it in the admin (a laptop) and finds the member
as a pocket member on the radar, "released on …"; the receiving branch's secretary accepts it
in the admin; the member's /me/ shows the new branch. Then the secretary of a closed site with
two members re-homes both on a phone as participants in a joint branch and sees them under
"Re-homed". No console error, no CSP violation, nothing wider than 360 px on the phone pages."""

import datetime

import pytest
from django.utils import timezone, translation
from django.utils.translation import gettext

from members.models import Member, Participation, Transfer
from tests import factories
from tests.browser.conftest import PHONE, BrowserLog
from tests.browser.test_login_flow import assert_fits_phone, log_in

pytestmark = pytest.mark.browser

LAPTOP = {"width": 1280, "height": 800}
LETTER = "藏建转字〔2025〕18号"
REASON = "调往二号项目部工作"


def zh(text: str, **params) -> str:
    with translation.override("zh-hans"):
        return gettext(text) % params if params else gettext(text)


def new_page(browser, live_server, viewport, logs: list):
    context = browser.new_context(viewport=viewport, base_url=live_server.url, locale="zh-CN")
    context.set_default_timeout(15_000)
    page = context.new_page()
    log = BrowserLog()
    log.attach(page)
    logs.append(log)
    return context, page


def admin_action(page, transfer: Transfer, action: str) -> None:
    """On the transfers' admin list: tick the transfer, choose the action, run it."""
    page.goto("/admin/members/transfer/")
    page.check(f"input[name=_selected_action][value='{transfer.pk}']")
    page.select_option("select[name=action]", action)
    page.locator("button[name=index]").click()
    page.wait_for_load_state()


def test_member_transfers_to_a_sibling_branch_and_a_closed_site_is_rehomed(
    phone, tree, browser, live_server, tmp_path
):
    page, log = phone
    logs = [log]
    contexts = []
    member = tree.member

    # The member finds the sibling branch by name on /me/ and asks for the transfer.
    page.goto("/me/")
    log_in(page, "member")
    page.wait_for_url("**/me/")
    page.fill("input[name=q]", "二号")
    page.locator("form:has(input[name=q]) button[type=submit]").click()
    page.wait_for_url("**/me/?q=*")
    page.locator(f"a[href='/me/transfer/?to={tree.sibling.pk}']").click()
    page.wait_for_url(f"**/me/transfer/?to={tree.sibling.pk}")
    assert tree.sibling.name in page.locator("main").inner_text()
    assert page.locator("input[name=external_organization]").count() == 0
    assert_fits_phone(page)
    page.fill("textarea[name=reason]", REASON)
    page.locator("form.form button[type=submit]").click()
    page.wait_for_url("**/me/")
    assert (
        zh("Your transfer is requested; your branch's secretary is told.")
        in page.locator(".messages").inner_text()
    )
    transfer = Transfer.objects.get(member=member)
    assert (transfer.state, transfer.to_branch, transfer.from_branch) == (
        Transfer.State.REQUESTED,
        tree.sibling,
        tree.branch,
    )
    assert transfer.reason == REASON
    assert page.locator("ul.transfers .transfer-requested").count() == 1
    assert_fits_phone(page)
    page.screenshot(path=str(tmp_path / "me-transfer-360.png"), full_page=True)

    try:
        # The branch's secretary releases it in the admin, on a laptop.
        context, desk = new_page(browser, live_server, LAPTOP, logs)
        contexts.append(context)
        desk.goto("/admin/members/transfer/")
        log_in(desk, "secretary")
        desk.wait_for_url("**/admin/members/transfer/")
        admin_action(desk, transfer, "release")
        assert member.real_name in desk.locator("#content").inner_text()
        assert Transfer.objects.get(pk=transfer.pk).state == Transfer.State.REQUESTED
        desk.fill("input[name=letter_number]", LETTER)
        desk.locator("input[name=apply]").click()
        desk.wait_for_url("**/admin/members/transfer/")
        transfer.refresh_from_db()
        assert transfer.state == Transfer.State.RELEASED
        assert (transfer.letter_number, transfer.released_by) == (LETTER, tree.secretary)
        member.refresh_from_db()
        assert member.branch is None
        assert member.contact_status == Member.ContactStatus.POCKET
        assert desk.locator("ul.messagelist li.success").count() == 1

        # ... and finds the member on the radar (a phone), pocket, released on that day.
        context, radar = new_page(browser, live_server, PHONE, logs)
        contexts.append(context)
        radar.goto("/members/radar/?status=pocket")
        log_in(radar, "secretary")
        radar.wait_for_url("**/members/radar/?status=pocket")
        row = radar.locator(".radar-row", has_text=member.real_name)
        assert row.count() == 1
        assert row.locator(".badge.contact-pocket").count() == 1
        day = timezone.localtime(transfer.released_at).strftime("%Y-%m-%d")
        assert zh("released on %(day)s, not accepted yet", day=day) in row.inner_text()
        assert radar.locator(".radar-row").count() == 1  # only pocket members
        assert_fits_phone(radar)
        radar.screenshot(path=str(tmp_path / "radar-pocket-360.png"), full_page=True)

        # The receiving branch's secretary accepts it.
        context, other_desk = new_page(browser, live_server, LAPTOP, logs)
        contexts.append(context)
        other_desk.goto("/admin/members/transfer/")
        log_in(other_desk, "secretary2")
        other_desk.wait_for_url("**/admin/members/transfer/")
        admin_action(other_desk, transfer, "accept")
        assert other_desk.locator("ul.messagelist li.success").count() == 1
        transfer.refresh_from_db()
        assert transfer.state == Transfer.State.ACCEPTED
        member.refresh_from_db()
        assert member.branch == tree.sibling

        # The member's record shows the new branch.
        page.goto("/me/")
        registered = page.locator(".record-facts dd").first
        assert registered.locator(f"a[href='{tree.sibling.get_absolute_url()}']").count() == 1
        assert tree.sibling.name in registered.inner_text()
        assert tree.branch.name not in registered.inner_text()
        assert page.locator("ul.transfers .transfer-accepted").count() == 1
        assert_fits_phone(page)

        # A closed site with two members: its secretary re-homes both into the joint branch.
        today = timezone.localdate()
        closed = factories.ProjectSiteFactory(
            organization=tree.branch,
            name="羊八井项目部",
            opened_on=today - datetime.timedelta(days=400),
            closed_on=today - datetime.timedelta(days=3),
        )
        workers = [
            factories.MemberFactory(
                user__username=f"worker{i}", real_name=name, branch=tree.branch, project_site=closed
            )
            for i, name in enumerate(["次仁", "央金"])
        ]
        radar.goto("/")
        radar.locator(".worklist a[href='/members/sites/']").click()
        radar.wait_for_url("**/members/sites/")
        radar.locator(f"a[href='/members/sites/{closed.pk}/rehome/']").click()
        radar.wait_for_url(f"**/members/sites/{closed.pk}/rehome/")
        assert radar.locator("input[name=members]").count() == 2
        assert radar.locator("h2", has_text=zh("Re-homed")).count() == 0
        assert_fits_phone(radar)
        for worker in workers:
            radar.check(f"input[name=members][value='{worker.pk}']")
        radar.check("input[name=action][value=participate]")
        radar.select_option("select[name=target]", str(tree.joint.pk))
        radar.locator("form.form button[type=submit]").click()
        radar.wait_for_url(f"**/members/sites/{closed.pk}/rehome/")
        assert zh("%(n)s members now take part in %(to)s.", n=2, to=tree.joint.name) in (
            radar.locator(".messages").inner_text()
        )
        done = radar.locator("section.card", has=radar.locator("h2", has_text=zh("Re-homed")))
        assert done.count() == 1
        text = done.inner_text()
        since = zh(
            "takes part in %(org)s since %(day)s",
            org=tree.joint.name,
            day=today.strftime("%Y-%m-%d"),
        )
        assert text.count(since) == 2
        assert all(w.real_name in text for w in workers)
        assert radar.locator("input[name=members]").count() == 0
        assert_fits_phone(radar)
        radar.screenshot(path=str(tmp_path / "site-rehome-360.png"), full_page=True)

        made = Participation.objects.filter(organization=tree.joint, member__in=workers)
        assert made.count() == 2
        assert all(p.started_on == today and p.ended_on is None for p in made)
        assert set(Member.objects.filter(pk__in=[w.pk for w in workers]).values_list("branch", flat=True)) == {tree.branch.pk}  # fmt: skip
        assert not Transfer.objects.filter(member__in=workers).exists()
    finally:
        for context in contexts:
            context.close()

    for each in logs:
        each.assert_clean()
