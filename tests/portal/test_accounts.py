import pytest
from django.core import mail
from django.urls import reverse

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
PASSWORD = "netbranch-demo"


def test_login_by_username_or_email(client, tree):
    response = client.post(LOGIN, {"login": "member", "password": PASSWORD})
    assert response.status_code == 302
    client.logout()
    response = client.post(LOGIN, {"login": tree.member.user.email, "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/").status_code == 200


def test_logout_only_by_post(client, tree):
    client.force_login(tree.member.user)
    client.get("/accounts/logout/")  # shows a confirmation, does not log out
    assert client.get("/").status_code == 200
    client.post("/accounts/logout/")
    assert client.get("/").status_code == 302


def test_no_open_sign_up(client, db):
    response = client.post(
        "/accounts/signup/",
        {
            "username": "intruder",
            "email": "i@example.com",
            "password1": "x-Strong-9981",
            "password2": "x-Strong-9981",
        },
    )
    from django.contrib.auth import get_user_model

    assert not get_user_model().objects.filter(username="intruder").exists()
    assert response.status_code in (200, 403)


def test_repeated_bad_passwords_are_throttled(client, tree):
    for _ in range(5):
        response = client.post(LOGIN, {"login": "member", "password": "wrong"})
        assert response.status_code == 200
    # Now even the right password is refused for a while.
    response = client.post(LOGIN, {"login": "member", "password": PASSWORD})
    assert response.status_code in (200, 429)
    assert client.get("/").status_code == 302


def test_admin_login_is_the_throttled_allauth_login(client, tree):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302 and response["Location"].startswith(LOGIN)
    for _ in range(5):
        client.post(LOGIN + "?next=/admin/", {"login": "secretary", "password": "wrong"})
    client.post(LOGIN + "?next=/admin/", {"login": "secretary", "password": PASSWORD})
    response = client.get("/admin/")
    assert response.status_code == 302  # still not logged in
    # A POST to the admin's own login URL cannot bypass it either.
    response = client.post("/admin/login/", {"username": "secretary", "password": PASSWORD})
    assert client.get("/admin/").status_code == 302


def test_secretary_reaches_the_admin_after_login(client, tree):
    client.post(LOGIN, {"login": "secretary", "password": PASSWORD})
    assert client.get("/admin/").status_code == 200


def test_password_reset_sends_a_mail(client, tree):
    response = client.post("/accounts/password/reset/", {"email": tree.member.user.email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert tree.member.user.email in mail.outbox[0].to


def test_staff_must_set_up_totp_when_required(client, tree, settings):
    settings.STAFF_REQUIRE_MFA = True
    client.force_login(tree.secretary)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("mfa_activate_totp"))
    settings.STAFF_REQUIRE_MFA = False
    assert client.get("/admin/").status_code == 200


def test_staff_with_totp_reaches_the_admin_when_required(client, tree, settings):
    from allauth.mfa.models import Authenticator

    settings.STAFF_REQUIRE_MFA = True
    Authenticator.objects.create(
        user=tree.secretary, type=Authenticator.Type.TOTP, data={"secret": "x"}
    )
    client.force_login(tree.secretary)
    assert client.get("/admin/").status_code == 200


def test_allauth_pages_use_the_portal_layout(client, db):
    body = client.get(LOGIN).content.decode()
    assert "netbranch.css" in body and 'name="language"' in body
    body = client.get("/accounts/password/reset/").content.decode()
    assert "netbranch.css" in body
