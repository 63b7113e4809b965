"""The inbox, the unread badge, e-mail settings, the notice pages and the home card: access,
behaviour, both languages, and a number of queries that does not grow with the data."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from notifications import services
from notifications.models import EmailPreference, Event, Notice, NoticeRead, Notification
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

INBOX = reverse("notifications:inbox")
READ_ALL = reverse("notifications:read_all")
SETTINGS = reverse("notifications:settings")
NOTICES = reverse("notifications:notice_list")


def give(user, n, *, read=False, url="/notices/", start=None):
    """n inbox rows for `user`, newest first by subject number (消息0 is the newest)."""
    start = start or timezone.now()
    events = Event.objects.bulk_create(
        Event(
            kind="message",
            subject=f"消息{i}",
            url=url,
            audience="users",
            audience_params={"users": [user.pk]},
            created_at=start - timedelta(minutes=i),
            fanned_out_at=start,
            recipients=1,
        )
        for i in range(n)
    )
    return Notification.objects.bulk_create(
        Notification(
            event=e, recipient=user, created_at=e.created_at, read_at=start if read else None
        )
        for e in events
    )


def sql_of(queries) -> str:
    return "\n".join(q["sql"] for q in queries)


def assert_same_queries(client, url, grow, budget, django_assert_max_num_queries):
    """The page costs at most `budget` queries with small data, and exactly as many after
    `grow()`. Prints the SQL on failure."""
    client.get(url)  # warm up: session, content types, caches
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    few = list(context.captured_queries)  # the next request clears the connection's log
    assert response.status_code == 200
    assert len(few) <= budget, sql_of(few)
    grow()
    with django_assert_max_num_queries(len(few)) as context:
        response = client.get(url)
    many = list(context.captured_queries)
    assert response.status_code == 200
    assert len(many) == len(few), sql_of(many)
    return response, len(few)


# --- inbox ----------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [INBOX, SETTINGS, NOTICES, reverse("notifications:open", args=[1])])
def test_login_required(client, db, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_inbox_newest_first_and_paginated(client, tree, settings):
    settings.NETBRANCH_PAGE_SIZE = 10
    user = tree.member.user
    give(user, 25)
    give(tree.office.user, 3)  # someone else's
    client.force_login(user)
    page = client.get(INBOX).context["page_obj"]
    assert [row.event.subject for row in page] == [f"消息{i}" for i in range(10)]
    assert page.paginator.count == 25
    last = client.get(INBOX, {"page": 3}).context["page_obj"]
    assert [row.event.subject for row in last] == [f"消息{i}" for i in range(20, 25)]
    beyond = client.get(INBOX, {"page": 99}).context["page_obj"]
    assert beyond.number == 3


def test_inbox_ties_are_ordered_by_id(client, tree):
    now = timezone.now()
    rows = give(tree.member.user, 3, start=now)
    Notification.objects.filter(pk__in=[r.pk for r in rows]).update(created_at=now)
    client.force_login(tree.member.user)
    page = client.get(INBOX).context["page_obj"]
    assert [row.pk for row in page] == sorted((r.pk for r in rows), reverse=True)


def test_inbox_query_count_is_fixed(client, tree, django_assert_max_num_queries):
    user = tree.member.user
    give(user, 5)
    client.force_login(user)
    response, _count = assert_same_queries(
        client, INBOX, lambda: give(user, 495, start=timezone.now() - timedelta(days=1)), 8,
        django_assert_max_num_queries,
    )  # fmt: skip
    assert len(response.context["page_obj"]) == 20


def test_open_marks_read_and_goes_to_the_event(client, tree, make_notice):
    notice = make_notice(publish=True)
    row = Notification.objects.get(recipient=tree.member.user)
    client.force_login(tree.member.user)
    response = client.get(reverse("notifications:open", args=[row.pk]))
    assert response.status_code == 302
    assert response["Location"] == notice.get_absolute_url()
    row.refresh_from_db()
    assert row.read_at is not None


def test_open_someone_elses_notification_is_404(client, tree):
    [row] = give(tree.office.user, 1)
    client.force_login(tree.member.user)
    assert client.get(reverse("notifications:open", args=[row.pk])).status_code == 404
    assert client.get(reverse("notifications:open", args=[999_999])).status_code == 404
    row.refresh_from_db()
    assert row.read_at is None


@pytest.mark.parametrize("url", ["https://evil.example/phish", "//evil.example/", ""])
def test_open_never_leaves_the_site(client, tree, url):
    [row] = give(tree.member.user, 1, url=url)
    client.force_login(tree.member.user)
    response = client.get(reverse("notifications:open", args=[row.pk]))
    assert response.status_code == 302
    assert response["Location"] == INBOX


def test_read_all_is_a_post_and_touches_only_mine(client, tree):
    give(tree.member.user, 4)
    give(tree.office.user, 2)
    client.force_login(tree.member.user)
    assert client.get(READ_ALL).status_code == 405
    assert Notification.objects.filter(read_at__isnull=True).count() == 6
    response = client.post(READ_ALL)
    assert response.status_code == 302 and response["Location"] == INBOX
    assert not Notification.objects.filter(
        recipient=tree.member.user, read_at__isnull=True
    ).exists()
    assert (
        Notification.objects.filter(recipient=tree.office.user, read_at__isnull=True).count() == 2
    )


def test_unread_rows_are_marked_and_the_button_shows_only_with_unread(client, tree):
    client.cookies["django_language"] = "en"
    give(tree.member.user, 2)
    client.force_login(tree.member.user)
    page = client.get(INBOX).content.decode()
    assert page.count('class="unread"') == 2
    assert "Mark all as read" in page
    client.post(READ_ALL)
    page = client.get(INBOX).content.decode()
    assert 'class="unread"' not in page
    assert "Mark all as read" not in page


# --- the unread badge ---------------------------------------------------------------------


def badge_count(html: str) -> str | None:
    marker = 'class="count"'
    if marker not in html:
        return None
    return html.split(marker, 1)[1].split(">", 1)[1].split("<", 1)[0]


def test_badge_shows_the_count_in_one_query_whatever_the_number(
    client, tree, django_assert_max_num_queries
):
    quiet, busy = tree.office.user, tree.member.user
    give(busy, 300)
    give(busy, 7, read=True)
    give(quiet, 4, read=True)

    client.force_login(quiet)
    client.get(SETTINGS)
    with CaptureQueriesContext(connection) as context:
        page = client.get(SETTINGS).content.decode()
    none_unread = len(context.captured_queries)
    assert badge_count(page) is None

    client.force_login(busy)
    client.get(SETTINGS)
    with django_assert_max_num_queries(none_unread) as context:
        page = client.get(SETTINGS).content.decode()
        many_unread = list(context.captured_queries)
    assert badge_count(page) == "300"
    assert len(many_unread) == none_unread
    counts = [
        q["sql"]
        for q in many_unread
        if "notifications_notification" in q["sql"] and "COUNT(" in q["sql"].upper()
    ]
    assert len(counts) == 1, counts


def test_no_badge_for_anonymous_visitors(client, db):
    page = client.get(reverse("account_login")).content.decode()
    assert badge_count(page) is None


# --- e-mail settings ----------------------------------------------------------------------


def test_settings_show_the_default_and_save_a_choice(client, tree):
    user = tree.member.user
    client.force_login(user)
    response = client.get(SETTINGS)
    assert response.context["form"]["mode"].value() == "immediate"
    response = client.post(SETTINGS, {"mode": "digest"})
    assert response.status_code == 302 and response["Location"] == SETTINGS
    assert EmailPreference.objects.get(user=user).mode == "digest"
    assert client.get(SETTINGS).context["form"]["mode"].value() == "digest"
    client.post(SETTINGS, {"mode": "off"})
    assert EmailPreference.objects.get(user=user).mode == "off"
    assert EmailPreference.objects.count() == 1


@pytest.mark.parametrize("data", [{"mode": "hourly"}, {"mode": ""}, {}])
def test_settings_refuse_a_bad_value(client, tree, data):
    user = tree.member.user
    EmailPreference.objects.create(user=user, mode="digest")
    client.force_login(user)
    response = client.post(SETTINGS, data)
    assert response.status_code == 200
    assert response.context["form"].errors["mode"]
    assert EmailPreference.objects.get(user=user).mode == "digest"


def test_settings_warn_without_an_address(client, db):
    client.cookies["django_language"] = "en"
    user = UserFactory(username="noaddress", email="")
    client.force_login(user)
    assert "has no e-mail address" in client.get(SETTINGS).content.decode()
    client.force_login(UserFactory(username="withaddress"))
    assert "has no e-mail address" not in client.get(SETTINGS).content.decode()


# --- notice pages ---------------------------------------------------------------------------


def test_notice_list_query_count_is_fixed(client, tree, make_notice, django_assert_max_num_queries):
    for i in range(5):
        make_notice(
            org=[tree.branch, tree.company, tree.group][i % 3], title=f"通知{i}", publish=True
        )
    services.notice_mark_read(notice=Notice.objects.first(), user=tree.member.user)
    client.force_login(tree.member.user)

    def grow():
        orgs = [tree.branch, tree.company, tree.group, tree.sibling]
        now = timezone.now()
        created = Notice.objects.bulk_create(
            Notice(
                organization=orgs[i % 4],
                kind=Notice.Kind.values[i % 4],
                title=f"批量{i}",
                body="<p>x</p>",
                status=Notice.Status.PUBLISHED,
                published_at=now - timedelta(minutes=i),
                pinned=i % 17 == 0,
                author=tree.secretary,
            )
            for i in range(195)
        )
        NoticeRead.objects.bulk_create(
            NoticeRead(notice=n, user=tree.member.user) for n in created[::3]
        )

    response, count = assert_same_queries(client, NOTICES, grow, 8, django_assert_max_num_queries)
    page = response.context["page_obj"]
    assert len(page) == 20
    not_for_member = sum(1 for i in range(195) if i % 4 == 3)  # the sibling branch's
    assert page.paginator.count == 5 + 195 - not_for_member
    # The kind filter costs the same.
    with django_assert_max_num_queries(count):
        assert client.get(NOTICES, {"kind": "news"}).status_code == 200


def test_notice_detail_query_count_does_not_grow_with_attachments(
    client, tree, make_notice, django_assert_max_num_queries
):
    from django.core.files.base import ContentFile

    from notifications.models import NoticeAttachment

    notice = make_notice(publish=True)
    client.force_login(tree.member.user)

    def attach(n):
        for _ in range(n):
            i = NoticeAttachment.objects.count()
            a = NoticeAttachment(notice=notice, title=f"附件{i}")
            a.file.save(f"a{i}.pdf", ContentFile(b"%PDF-1.4\n%%EOF\n"), save=True)

    attach(1)
    url = notice.get_absolute_url()
    response, _count = assert_same_queries(
        client, url, lambda: attach(9), 14, django_assert_max_num_queries
    )
    assert len(response.context["attachments"]) == 10
    assert "附件9" in response.content.decode()


def test_notice_detail_marks_read_and_the_list_shows_it(client, tree, make_notice):
    client.cookies["django_language"] = "en"
    notice = make_notice(title="关于换届选举的通知", publish=True)
    client.force_login(tree.member.user)
    row = client.get(NOTICES).context["page_obj"][0]
    assert row.is_read is False
    assert "unread" in client.get(NOTICES).content.decode()
    client.get(notice.get_absolute_url())
    assert NoticeRead.objects.filter(notice=notice, user=tree.member.user).exists()
    assert client.get(NOTICES).context["page_obj"][0].is_read is True
    # Another member's reading is theirs.
    client.force_login(tree.office.user)
    assert client.get(NOTICES).context["page_obj"][0].is_read is False


# --- the home card ------------------------------------------------------------------------


def test_home_card_lists_unread_notices_and_disappears_when_all_are_read(client, tree, make_notice):
    client.cookies["django_language"] = "en"
    client.force_login(tree.member.user)
    assert "Unread notices" not in client.get("/").content.decode()  # nothing: no card

    notices = [make_notice(title=f"未读通知{i}", publish=True) for i in range(4)]
    make_notice(org=tree.sibling, title="兄弟支部的通知", publish=True)
    page = client.get("/").content.decode()
    assert "Unread notices" in page
    assert "兄弟支部的通知" not in page
    shown = [n for n in notices if n.title in page]
    assert len(shown) == 3  # the newest three, and a link to the rest
    assert notices[0].title not in page
    assert "More notices" in page

    services.notice_mark_read(notice=notices[3], user=tree.member.user)
    page = client.get("/").content.decode()
    assert notices[3].title not in page
    assert notices[0].title in page
    assert "All notices" in page and "More notices" not in page

    for notice in notices:
        client.get(notice.get_absolute_url())
    page = client.get("/").content.decode()
    assert "Unread notices" not in page
    assert "未读通知" not in page


def test_home_card_leaves_out_expired_and_draft_notices(client, tree, make_notice):
    client.cookies["django_language"] = "en"
    make_notice(title="草稿")
    expired = make_notice(title="过期", publish=True)
    Notice.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(hours=1))
    client.force_login(tree.member.user)
    assert "Unread notices" not in client.get("/").content.decode()


# --- both languages -------------------------------------------------------------------------


@pytest.fixture
def pages(tree, make_notice):
    notice = make_notice(title="学习通知", publish=True)
    give(tree.member.user, 2)
    return {
        "/": "Unread notices",
        INBOX: "Notifications",
        SETTINGS: "E-mail settings",
        NOTICES: "Notices",
        notice.get_absolute_url(): "学习通知",
    }


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_pages_render_in_both_languages(client, tree, pages, language):
    if language == "en":
        client.cookies["django_language"] = "en"
    client.force_login(tree.member.user)
    for url, text in pages.items():
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert f'<html lang="{language}">' in html, url
        with translation.override(language):
            assert gettext(text) in html, (url, gettext(text))
            assert gettext("Inbox") in html
        if language == "zh-hans":
            assert "网络党支部" in html  # the site name, always translated
            assert "首页" in html  # the header's "Home"
        else:
            assert "NetBranch" in html and "网络党支部" not in html
