"""Every page and every admin screen renders for the roles that may open it, in both
languages: a template error anywhere fails here."""

import pytest
from django.contrib import admin
from django.urls import reverse

pytestmark = pytest.mark.django_db


def admin_urls(obj_by_model):
    for model, model_admin in admin.site._registry.items():
        info = model._meta.app_label, model._meta.model_name
        yield reverse("admin:{}_{}_changelist".format(*info))
        if model_admin.has_add_permission.__func__ is not None:
            yield reverse("admin:{}_{}_add".format(*info))
        obj = obj_by_model(model)
        if obj is not None:
            yield reverse("admin:{}_{}_change".format(*info), args=[obj.pk])


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_every_admin_screen_renders_for_the_superuser(client, tree, language):
    client.force_login(tree.admin)
    client.cookies["django_language"] = language
    failures = []
    for url in admin_urls(lambda model: model._default_manager.order_by("pk").first()):
        response = client.get(url)
        if response.status_code not in (200, 403):
            failures.append((url, response.status_code))
    assert client.get(reverse("admin:index")).status_code == 200
    assert not failures


def test_every_admin_screen_a_secretary_may_open_renders(client, tree):
    client.force_login(tree.secretary)
    for url in admin_urls(lambda model: None):
        assert client.get(url).status_code in (200, 403), url


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_every_portal_page_renders(client, tree, language):
    client.cookies["django_language"] = language
    for url in ("/accounts/login/", "/accounts/password/reset/", "/healthz/"):
        assert client.get(url).status_code == 200, url
    for user in (tree.member.user, tree.secretary, tree.reviewer, tree.admin):
        client.force_login(user)
        for url in (
            "/",
            reverse("branches:detail", args=[tree.branch.pk]),
            "/accounts/password/change/",
            "/accounts/2fa/",
        ):
            assert client.get(url).status_code == 200, (user, url)
