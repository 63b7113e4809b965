"""On phones: `member` opens /welfare/, opens a coming activity with two places and signs up
(the panel says how many places are taken); `office` takes the last place; a third member of
the branch, whose page still offered the button, is refused with a clear message. The
secretary then records the activity as done in the administration ("Save and record as done"),
and `member` sees it done in the branch's welfare record. Finally `office`, not paired in the
branch's pairing case, opens the case page: the household is "a household in X village", no
name, address, phone nor situation. No console error, no CSP violation, nothing wider than
360 px on the member pages."""

import pytest
from django.utils import timezone, translation
from django.utils.translation import gettext

from tests import factories
from tests.browser.conftest import PHONE, BrowserLog
from tests.browser.test_login_flow import assert_fits_phone, log_in
from welfare import privacy, services
from welfare.models import WelfareActivity, WelfareParticipant, WelfareSignUp

pytestmark = pytest.mark.browser

TITLE = "为那曲镇中心小学捐赠冬衣"
NAME, ADDRESS, PHONE_NO = "卓玛", "那曲镇三村二组15号", "13908960001"
SITUATION = "丈夫因病去世，两个孩子上学"


def zh(message: str) -> str:
    with translation.override("zh-hans"):
        return gettext(message)


def taken(page) -> str:
    return page.locator("#sign-up .stats").inner_text().strip()


def places_taken(n: int, total: int) -> str:
    return zh("%(n)s of %(total)s places taken") % {"n": n, "total": total}


def test_sign_up_within_places_record_done_and_a_case_without_names(phone, tree, browser, live_server, tmp_path):  # fmt: skip
    page, log = phone
    today = timezone.localdate()
    third = factories.MemberFactory(user__username="member3", branch=tree.branch)
    activity = services.activity_create(
        by=tree.secretary,
        organization=tree.branch,
        kind=WelfareActivity.Kind.DONATION,
        title=TITLE,
        description="<p>每人带一件冬衣。</p>",
        held_on=today,
        place="那曲镇中心小学",
        places=2,
    )
    activity = services.activity_publish(activity=activity, by=tree.secretary)
    case = services.case_create(
        by=tree.secretary,
        organization=tree.branch,
        paired_members=[tree.member],
        beneficiary_kind="household",
        help_kind="education",
        village="那曲镇三村",
        name=NAME,
        address=ADDRESS,
        phone=PHONE_NO,
        situation=SITUATION,
        started_on=today,
    )
    detail = activity.get_absolute_url()
    contexts, logs = [], [log]

    def other_phone(username: str):
        context = browser.new_context(viewport=PHONE, base_url=live_server.url, locale="zh-CN")
        context.set_default_timeout(15_000)
        contexts.append(context)
        other = context.new_page()
        other_log = BrowserLog()
        other_log.attach(other)
        logs.append(other_log)
        other.goto(detail)
        log_in(other, username)
        other.wait_for_url(f"**{detail}")
        return other

    try:
        # The member finds the activity on /welfare/ and signs up (htmx swaps the panel).
        page.goto("/welfare/")
        log_in(page, "member")
        page.wait_for_url("**/welfare/")
        assert_fits_phone(page)
        page.locator(f"a.row-title[href='{detail}']").click()
        page.wait_for_url(f"**{detail}")
        assert page.locator("h1").inner_text().strip() == TITLE
        assert taken(page) == places_taken(0, 2)
        page.locator("#sign-up button.primary").click()
        page.wait_for_selector("#sign-up .msg-success")
        assert taken(page) == places_taken(1, 2)
        assert page.locator("#sign-up .ok").count() == 1
        assert_fits_phone(page)
        page.screenshot(path=str(tmp_path / "welfare-signed-up-360.png"), full_page=True)

        # The third member's page still offers a place; office takes the last one meanwhile.
        late = other_phone("member3")
        assert late.locator("#sign-up button.primary").count() == 1
        office = other_phone("office")
        office.locator("#sign-up button.primary").click()
        office.wait_for_selector("#sign-up .msg-success")
        assert taken(office) == places_taken(2, 2)
        late.locator("#sign-up button.primary").click()
        refusal = late.locator("#sign-up .msg-error[role=alert]")
        refusal.wait_for()
        assert refusal.inner_text().strip() == zh("All places are taken.")
        assert taken(late) == places_taken(2, 2)
        assert late.locator("#sign-up button.primary").count() == 0
        late.reload()  # without JavaScript's help, the page says so too
        assert late.locator("#sign-up .warn").inner_text().strip() == zh("All places are taken.")
        assert_fits_phone(late)
        late.screenshot(path=str(tmp_path / "welfare-full-360.png"), full_page=True)
        activity.refresh_from_db()
        assert activity.signed_up == 2
        assert set(WelfareSignUp.objects.filter(activity=activity).values_list("member", flat=True)) == {tree.member.pk, tree.office.pk}  # fmt: skip
        assert not WelfareSignUp.objects.filter(member=third).exists()

        # The secretary records it as done in the administration.
        admin = other_phone("secretary")
        admin.goto(f"/admin/welfare/welfareactivity/{activity.pk}/change/")
        admin.locator("input[name=beneficiaries]").fill("45")
        admin.locator("input[name=goods]").fill("冬衣45件")
        admin.locator("input[name=_done]").click()
        admin.wait_for_url("**/admin/welfare/welfareactivity/**")
        admin.wait_for_selector(".messagelist .success")
        activity.refresh_from_db()
        assert activity.status == WelfareActivity.Status.DONE
        assert activity.beneficiaries == 45
        assert set(WelfareParticipant.objects.filter(activity=activity).values_list("member", flat=True)) == {tree.member.pk, tree.office.pk}  # fmt: skip

        # The member sees it done, in the branch's record.
        page.goto("/welfare/?status=done")
        assert page.locator(f"a.row-title[href='{detail}']").count() == 1
        record = page.locator(".welfare-record").inner_text()
        assert "45" in record and "1" in record
        page.goto(detail)
        assert page.locator(".welfare-outcome").count() == 1
        assert page.locator("#sign-up").count() == 0
        assert_fits_phone(page)

        # A member who is not paired sees the case without personal data.
        office.goto(case.get_absolute_url())
        with translation.override("zh-hans"):
            label = privacy.public_label(case)
        assert office.locator("h1").inner_text().strip() == label
        html = office.content()
        for personal in (NAME, ADDRESS, PHONE_NO, SITUATION):
            assert personal not in html
        assert office.locator(".welfare-facts").count() == 0
        assert office.locator("form[action$='/visits/']").count() == 0
        assert_fits_phone(office)
        office.screenshot(path=str(tmp_path / "welfare-case-360.png"), full_page=True)

        # The paired member reads the name.
        page.goto(case.get_absolute_url())
        assert NAME in page.locator(".welfare-facts").inner_text()
    finally:
        for context in contexts:
            context.close()

    for each in logs:
        each.assert_clean()
