"""core.views.ckeditor_upload: staff only, CSRF-protected, images checked before storing."""

import re

import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.middleware.csrf import _get_new_csrf_string
from django.test import Client
from django.urls import reverse
from PIL import Image

from core.images import rendition_name
from tests.core.media_helpers import EXE, SVG, image_bytes, stored_files

URL = reverse("core:ckeditor_upload")


def post_image(client, name="photo.png", content=None, **extra):
    content = image_bytes("PNG", size=(600, 300)) if content is None else content
    return client.post(URL, {"upload": SimpleUploadedFile(name, content)}, **extra)


def error_message(response) -> str:
    assert response["Content-Type"] == "application/json"
    return response.json()["error"]["message"]


@pytest.mark.django_db
def test_anonymous_is_refused(client):
    response = post_image(client)
    assert response.status_code == 403
    assert error_message(response)
    assert stored_files() == []


def test_plain_member_is_refused(client, tree):
    client.force_login(tree.member.user)
    response = post_image(client)
    assert response.status_code == 403
    assert "staff" in error_message(response)
    assert stored_files() == []


def test_inactive_staff_is_refused(client, tree):
    tree.secretary.is_active = False
    tree.secretary.save(update_fields=["is_active"])
    client.force_login(tree.secretary)
    assert post_image(client).status_code in {302, 403}
    assert stored_files() == []


def test_staff_upload_is_stored_cleaned_with_renditions(
    client, tree, django_capture_on_commit_callbacks
):
    assert tree.secretary.is_staff
    client.force_login(tree.secretary)
    with django_capture_on_commit_callbacks(execute=True):
        response = post_image(client, name="现场照片.png")
    assert response.status_code == 200, response.content
    url = response.json()["url"]
    assert re.fullmatch(r"/media/editor/\d{4}/\d{2}/[0-9a-f]{32}\.png", url)
    name = url.removeprefix(settings.MEDIA_URL)
    assert default_storage.exists(name)
    with default_storage.open(name, "rb") as fh:
        assert Image.open(fh).size == (600, 300)
    assert default_storage.exists(rendition_name(name, 480))


@pytest.mark.parametrize(
    ("name", "content", "says"),
    [
        ("photo.jpg", EXE, "JPEG, PNG, WebP or GIF"),
        ("logo.svg", SVG, "SVG"),
        ("cut.jpg", image_bytes("JPEG", size=(200, 100))[:300], "damaged"),
    ],
)
def test_bad_image_is_refused_with_a_message(client, tree, name, content, says):
    client.force_login(tree.secretary)
    response = post_image(client, name=name, content=content)
    assert response.status_code == 400
    assert says in error_message(response)
    assert stored_files() == []


def test_oversized_image_is_refused(client, tree, settings):
    settings.NETBRANCH_MAX_IMAGE_BYTES = 500
    client.force_login(tree.secretary)
    response = post_image(client)
    assert response.status_code == 400
    assert "too large" in error_message(response)
    assert stored_files() == []


def test_missing_file_is_refused(client, tree):
    client.force_login(tree.secretary)
    response = client.post(URL, {})
    assert response.status_code == 400
    assert "No image" in error_message(response)


def test_get_is_not_allowed(client, tree):
    client.force_login(tree.secretary)
    assert client.get(URL).status_code == 405


def test_csrf_token_is_required(tree):
    client = Client(enforce_csrf_checks=True)
    client.force_login(tree.secretary)
    assert post_image(client).status_code == 403
    assert stored_files() == []

    token = _get_new_csrf_string()
    client.cookies[settings.CSRF_COOKIE_NAME] = token
    response = post_image(client, headers={"X-CSRFToken": token})
    assert response.status_code == 200, response.content
