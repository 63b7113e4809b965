import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from branches.models import Organization, TimelineEntry
from tests.factories import (
    MemberFactory,
    OrganizationFactory,
    ParticipationFactory,
    ProjectSiteFactory,
)

pytestmark = pytest.mark.django_db


def test_anonymous_visitors_go_to_the_login_page(client, tree):
    for url in ("/", reverse("branches:detail", args=[tree.branch.pk])):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))


def test_member_home_shows_branch_path_secretary_and_site(client, tree):
    client.force_login(tree.member.user)
    response = client.get("/")
    body = response.content.decode()
    assert response.status_code == 200
    for text in (
        tree.branch.name,
        tree.company.display_name,
        tree.group.display_name,
        tree.site.name,
    ):
        assert text in body
    assert tree.secretary.member.real_name in body
    assert "My work" not in body and "我的工作" not in body  # no worklist for a plain member


def test_secretary_home_has_the_worklist_on_top(client, tree):
    client.force_login(tree.secretary)
    client.cookies["django_language"] = "en"
    body = client.get("/").content.decode()
    assert body.index("My work") < body.index(tree.secretary.member.real_name)
    assert reverse("admin:index") in body
    # The cadence page is otherwise reached only from a warning notice.
    assert f'href="{reverse("meetings:cadence")}"' in body
    assert f'href="{reverse("meetings:ledger")}"' in body


def test_secretary_home_with_no_report_due_links_the_reports_without_a_zero(
    client, tree, monkeypatch
):
    from reports.selectors import reports as report_selectors

    counts = {"prepares": True, "reviews": False, "due": 0, "returned": 0, "to_review": 0}
    monkeypatch.setattr(report_selectors, "worklist", lambda **kw: counts)
    client.force_login(tree.secretary)
    body = client.get("/").content.decode()
    assert f'<a href="{reverse("reports:list")}">活动报告</a>' in body
    assert "0 份活动报告待提交" not in body


def test_participant_home_lists_the_joint_branch(client, tree):
    client.force_login(tree.participant.user)
    assert tree.joint.name in client.get("/").content.decode()


def grow(tree, n):
    """Add n members, sites, participations and sub-organisations around the member."""
    for i in range(n):
        child = OrganizationFactory(
            parent=tree.company, kind=Organization.Kind.BRANCH, name=f"扩展支部{i}"
        )
        ProjectSiteFactory(organization=child)
        m = MemberFactory(branch=tree.branch)
        ParticipationFactory(member=m, organization=tree.joint)
        ParticipationFactory(
            member=tree.member, organization=OrganizationFactory(parent=child, kind="group")
        )


@pytest.mark.parametrize("username", ["member", "secretary", "reviewer"])
def test_home_query_count_is_fixed_as_the_tree_grows(
    client, tree, django_assert_max_num_queries, username
):
    user = getattr(tree, username) if username != "member" else tree.member.user
    client.force_login(user)
    client.get("/")  # warm up: session, content types
    # The cards: +2 meetings, +2 votes, +5 service, +1 a request in progress; for a manager,
    # +1 the paper packs of the sites without network, +1 the activity reports due and to review.
    with django_assert_max_num_queries(25) as small:
        client.get("/")
    grow(tree, 25)
    with django_assert_max_num_queries(len(small.captured_queries)) as large:
        assert client.get("/").status_code == 200
    assert len(large.captured_queries) == len(small.captured_queries)


def test_branch_page_access(client, tree):
    client.force_login(tree.member.user)
    for org in (tree.branch, tree.company, tree.group):
        assert client.get(reverse("branches:detail", args=[org.pk])).status_code == 200
    for org in (tree.sibling, tree.party_group, tree.outside):
        assert client.get(reverse("branches:detail", args=[org.pk])).status_code == 404
    assert client.get(reverse("branches:detail", args=[999999])).status_code == 404
    client.force_login(tree.secretary2)
    assert client.get(reverse("branches:detail", args=[tree.branch.pk])).status_code == 404
    client.force_login(tree.reviewer)
    assert client.get(reverse("branches:detail", args=[tree.party_group.pk])).status_code == 200


def test_branch_page_shows_people_sites_children_and_a_paginated_timeline(
    client, tree, django_assert_max_num_queries
):
    client.force_login(tree.member.user)
    url = reverse("branches:detail", args=[tree.branch.pk])
    TimelineEntry.objects.create(
        organization=tree.branch,
        kind="site_opened",
        params={"site": "<b>坏</b>"},
        occurred_at=timezone.now(),
    )
    with django_assert_max_num_queries(14) as small:
        body = client.get(url).content.decode()
    assert tree.secretary.member.real_name in body and tree.site.name in body
    assert "&lt;b&gt;坏&lt;/b&gt;" in body  # parameters are escaped
    base = timezone.now() - datetime.timedelta(days=400)
    TimelineEntry.objects.bulk_create(
        TimelineEntry(
            organization=tree.branch,
            kind="site_opened",
            params={"site": f"S{i}"},
            occurred_at=base + datetime.timedelta(days=i),
        )
        for i in range(60)
    )
    for _i in range(10):
        ProjectSiteFactory(organization=tree.branch)
    with django_assert_max_num_queries(len(small.captured_queries)):
        body = client.get(url).content.decode()
    assert "S59" in body and "S0<" not in body  # newest first, first page only
    fragment = client.get(url + "?page=3", HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in fragment and "<li" in fragment


def test_healthz_ok(client, db, settings):
    settings.REDIS_URL = ""  # not configured: not checked
    response = client.get("/healthz/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_healthz_reports_a_down_database(client, db, monkeypatch):
    from portal import views

    monkeypatch.setattr(views, "_check_database", lambda: False)
    response = client.get("/healthz/")
    assert response.status_code == 503
    assert response.json()["database"] == "down"


def test_healthz_reports_an_unreachable_redis(client, db, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get("/healthz/")
    assert response.status_code == 503
    assert response.json()["redis"] == "down"


def test_healthz_with_a_real_redis(client, db, settings, require_redis):
    settings.REDIS_URL = require_redis
    response = client.get("/healthz/")
    assert response.status_code == 200
    assert response.json()["redis"] == "ok"


def test_favicon_points_at_the_app_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"].endswith(".png")
    assert "icons/icon-192" in response["Location"]
