"""On a phone: an invitee opens the link a secretary mailed, finds the e-mail and name already
filled in, chooses a user name and a password, and lands logged in on the home page with a
welcome naming the branch; the branch page is one tap away. The same link opened again says it
was used. No console error, no CSP violation, nothing wider than 360 px."""

import re

import pytest
from django.contrib.auth import get_user_model

from members import services
from members.models import Invitation, Member
from tests.browser.test_login_flow import assert_fits_phone, log_in

pytestmark = pytest.mark.browser

PASSWORD = "Plateau-4600-road"


def test_invitee_sets_a_password_and_lands_in_the_branch(phone, tree, tmp_path):
    page, log = phone
    invitation, raw = services.invitation_create(
        by=tree.secretary, branch=tree.branch, email="zhuoma@example.com", real_name="卓玛"
    )
    link = services.invitation_path(raw)

    page.goto(link)
    assert tree.branch.name in page.locator("h1").inner_text()
    assert page.input_value("input[name=email]") == "zhuoma@example.com"
    assert page.input_value("input[name=real_name]") == "卓玛"
    assert_fits_phone(page)
    page.screenshot(path=str(tmp_path / "invitation-signup-360.png"), full_page=True)

    page.fill("input[name=username]", "zhuoma")
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    page.fill("input[name=phone]", "13800000001")
    page.locator("form.form button[type=submit]").click()
    page.wait_for_url(re.compile(r"^https?://[^/]+/$"))
    page.wait_for_load_state()

    messages = page.locator(".messages").inner_text()
    assert tree.branch.name in messages and "卓玛" in messages
    assert page.locator("header form button[type=submit]").count() == 1  # logged in
    assert_fits_phone(page)
    page.screenshot(path=str(tmp_path / "invitation-home-360.png"), full_page=True)

    user = get_user_model().objects.get(username="zhuoma")
    assert user.check_password(PASSWORD)
    assert Member.objects.get(user=user).branch == tree.branch
    assert Invitation.objects.get(pk=invitation.pk).used_by == user

    branch_link = page.locator(f"main a[href='{tree.branch.get_absolute_url()}']").first
    branch_link.click()
    page.wait_for_url(f"**{tree.branch.get_absolute_url()}")
    assert page.locator("h1").inner_text().strip() == tree.branch.name
    assert_fits_phone(page)
    log.assert_clean()

    # The link is spent: opened again it says so (410), and still fits the phone.
    response = page.goto(link)
    assert response.status == 410
    assert page.locator(".msg-error").count() == 1
    assert_fits_phone(page)


def test_secretary_makes_a_link_on_a_phone_and_withdraws_it(phone, tree, tmp_path):
    page, log = phone
    page.goto("/")
    log_in(page, "secretary")
    page.locator("main a[href='/members/invitations/']").click()
    page.wait_for_url(f"**/members/invitations/{tree.branch.pk}/")
    page.fill("input[name=real_name]", "多吉")
    page.locator("form.form button[type=submit]").click()
    page.wait_for_load_state()
    link = page.input_value("#invitation-link")
    assert "/members/invite/" in link
    assert services.invitation_pending(link.rstrip("/").rsplit("/", 1)[-1]).real_name == "多吉"
    assert_fits_phone(page)
    page.screenshot(path=str(tmp_path / "invitations-360.png"), full_page=True)

    page.locator(".invitations form button[type=submit]").first.click()
    page.wait_for_load_state()
    assert page.locator("#invitation-link").count() == 0  # shown once
    assert Invitation.objects.get().revoked_at is not None
    assert page.locator(".invitations form").count() == 0
    assert_fits_phone(page)
    log.assert_clean()
