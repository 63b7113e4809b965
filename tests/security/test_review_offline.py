"""Security review of the offline app (portal.offline) and the ways out of a session: a
malformed action is a 400 whatever its shape (never a server error), and every logout — the
site's and the administration's — tells the browser to forget what it kept offline."""

import json
import uuid

import pytest
from django.utils import translation

pytestmark = pytest.mark.django_db
URL = "/offline/actions/"


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


def test_deeply_nested_json_is_400_not_a_server_error(client, tree):
    client.force_login(tree.member.user)
    depth = 20_000  # well under the 64 KiB limit
    head = {"client_id": str(uuid.uuid4()), "kind": "study_mark"}
    head["happened_at"] = "2025-01-01T00:00Z"
    body = json.dumps(head)[:-1] + ', "payload": {"x": ' + "[" * depth + "]" * depth + "}}"
    response = client.post(URL, data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["status"] == "invalid"


def test_a_huge_id_is_a_refusal_not_a_server_error(client, tree):
    client.force_login(tree.member.user)
    body = {
        "client_id": str(uuid.uuid4()),
        "kind": "study_mark",
        "happened_at": "2025-01-01T00:00Z",
        "payload": {"lesson": str(10**40)},
    }
    response = client.post(URL, data=json.dumps(body), content_type="application/json")
    assert response.status_code in (400, 404)


def test_the_site_logout_clears_the_offline_data(client, tree):
    client.force_login(tree.member.user)
    response = client.post("/accounts/logout/")
    assert response["Clear-Site-Data"] == '"cache", "storage"'


def test_the_admin_logout_clears_the_offline_data_too(client, tree):
    """Secretaries work in the administration: logging out there must not leave the pages
    their browser kept offline (member lists, worklists) to the next person at the desk."""
    client.force_login(tree.secretary)
    assert client.get("/admin/").status_code == 200
    response = client.post("/admin/logout/")
    assert response.status_code < 400
    assert response["Clear-Site-Data"] == '"cache", "storage"'
    assert "_auth_user_id" not in client.session


def test_the_admin_logout_by_get_changes_nothing(client, tree):
    client.force_login(tree.secretary)
    response = client.get("/admin/logout/")
    assert response.status_code == 405
    assert "_auth_user_id" in client.session


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/", "https:/\\evil.example/"]
)
def test_the_admin_login_does_not_redirect_off_site(client, tree, target):
    client.force_login(tree.secretary)
    response = client.get("/admin/login/", {"next": target})
    assert response.status_code == 302
    assert "evil.example" not in response["Location"]


def test_the_admin_login_still_follows_a_local_next(client, tree):
    client.force_login(tree.secretary)
    response = client.get("/admin/login/", {"next": "/admin/members/member/"})
    assert response.status_code == 302 and response["Location"] == "/admin/members/member/"
