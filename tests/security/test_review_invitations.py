"""Security review of the invitations: the branch a new account lands in is the one of the
link it was posted to, whatever other link the same browser opened since; allauth's own
sign-up page stays closed without a pending invitation, and a link used meanwhile opens
nothing."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import translation

from members import services
from members.models import Member
from members.services import INVITATION_SESSION_KEY

pytestmark = pytest.mark.django_db
User = get_user_model()
PASSWORD = "Plateau-4600-road"


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


def signup_data(**kw) -> dict:
    return {
        "real_name": "卓玛",
        "email": "zhuoma@example.com",
        "username": "zhuoma",
        "password1": PASSWORD,
        "password2": PASSWORD,
        **kw,
    }


def accept_url(raw: str) -> str:
    return reverse("members:invitation_accept", args=[raw])


def test_a_form_of_branch_a_registers_into_a_even_after_opening_bs_link(client, tree):
    _, raw_a = services.invitation_create(by=tree.secretary, branch=tree.branch)
    _, raw_b = services.invitation_create(by=tree.secretary2, branch=tree.sibling)
    client.get(accept_url(raw_a))
    client.get(accept_url(raw_b))  # another tab: the session now holds B's token
    assert client.session[INVITATION_SESSION_KEY] == raw_b
    response = client.post(accept_url(raw_a), signup_data())
    assert response.status_code == 302
    assert Member.objects.get(user__username="zhuoma").branch == tree.branch


def test_allauths_signup_with_a_used_token_in_the_session_creates_no_account(client, tree):
    _, raw = services.invitation_create(by=tree.secretary, branch=tree.branch)
    client.get(accept_url(raw))
    other = User.objects.create_user("first", password=PASSWORD)
    services.invitation_accept(raw_token=raw, user=other, real_name="先来")
    client.post(reverse("account_signup"), signup_data(username="second"))
    assert not User.objects.filter(username="second").exists()
