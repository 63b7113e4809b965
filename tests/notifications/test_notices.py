"""Notices (通知公告, 企务公开, 决议公告, 党建动态): who may write them, who sees them, who is
told, who has read them (notifications.services / selectors, and the notice pages)."""

import threading
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from branches.models import TimelineEntry
from notifications import selectors, services
from notifications.models import Event, Notice, NoticeRead, NoticeReminder, Notification
from tests.notifications.conftest import inbox_of, recipients_of

pytestmark = pytest.mark.django_db

BRANCH = {"member", "office", "secretary"}

# Who is who in the `tree` fixture, by the name the tables below use.
PEOPLE = {
    "member": lambda t: t.member.user,
    "office": lambda t: t.office.user,
    "participant": lambda t: t.participant.user,
    "sibling_member": lambda t: t.sibling_member.user,
    "outsider": lambda t: t.outsider.user,
    "secretary": lambda t: t.secretary,
    "secretary2": lambda t: t.secretary2,
    "reviewer": lambda t: t.reviewer,
    "admin": lambda t: t.admin,
}
ORGS = ["group", "company", "branch", "party_group", "sibling", "joint", "other_group", "outside"]


def person(tree, who):
    return PEOPLE[who](tree)


def detail(client, notice):
    return client.get(reverse("notifications:notice_detail", args=[notice.pk]))


def listed(client, **params):
    response = client.get(reverse("notifications:notice_list"), params)
    assert response.status_code == 200
    return {n.title for n in response.context["page_obj"]}


# --- publishing ----------------------------------------------------------------------------


def test_publishing_notifies_the_audience_once(tree, make_notice, committed):
    notice = make_notice(org=tree.branch, by=tree.secretary, title="关于缴纳党费的通知")
    assert not Event.objects.exists()  # a draft tells no one
    with committed():
        published = services.notice_publish(notice=notice, by=tree.secretary)
        again = services.notice_publish(notice=notice, by=tree.secretary)  # a double click
    with committed():
        services.notice_publish(notice=notice, by=tree.secretary)
    event = Event.objects.get()
    assert published.is_published and published.published_at is not None
    assert again.published_at == published.published_at
    assert (event.kind, event.subject, event.url) == (
        "notice_published",
        "关于缴纳党费的通知",
        reverse("notifications:notice_detail", args=[notice.pk]),
    )
    assert event.target == published
    assert event.actor == tree.secretary
    assert recipients_of(event) == BRANCH
    assert Notification.objects.count() == len(BRANCH)
    assert TimelineEntry.objects.filter(kind="notice_published").count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_double_click_on_postgres_publishes_once(require_postgres, tree, make_notice):
    """Two requests at once, each in its own transaction: the row lock makes one wait, and
    then it finds the notice published."""
    notice = make_notice(org=tree.branch, by=tree.secretary)
    barrier = threading.Barrier(2)
    errors = []

    def click():
        try:
            barrier.wait(timeout=10)
            services.notice_publish(notice=Notice.objects.get(pk=notice.pk), by=tree.secretary)
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=click) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not errors, errors
    assert Event.objects.count() == 1
    assert TimelineEntry.objects.filter(kind="notice_published").count() == 1
    assert recipients_of(Event.objects.get()) == BRANCH


@pytest.mark.parametrize(
    ("kind", "event_kind"),
    [
        (Notice.Kind.NOTICE, "notice_published"),
        (Notice.Kind.DISCLOSURE, "disclosure_published"),
        (Notice.Kind.DECISION, "decision_published"),
        (Notice.Kind.NEWS, "news_published"),
    ],
)
def test_each_kind_has_its_event(tree, make_notice, kind, event_kind):
    make_notice(kind=kind, publish=True)
    assert Event.objects.get().kind == event_kind


def test_a_notice_goes_to_the_members_of_the_whole_subtree_in_its_categories(tree, make_notice):
    everyone = make_notice(org=tree.company, by=tree.reviewer, publish=True)
    remote = make_notice(
        org=tree.company, by=tree.reviewer, publish=True, for_office=False, for_front_line=False
    )
    office = make_notice(org=tree.group, by=tree.reviewer, publish=True, for_remote=False)
    company = BRANCH | {"sibling_member", "participant", "secretary2"}
    assert recipients_of(Event.objects.get(target_id=everyone.pk)) == company
    assert recipients_of(Event.objects.get(target_id=remote.pk)) == {"member"}
    assert recipients_of(Event.objects.get(target_id=office.pk)) == company - {"member"}


def test_a_notice_needs_at_least_one_category_and_known_fields(tree, make_notice):
    with pytest.raises(ValidationError):
        make_notice(for_office=False, for_front_line=False, for_remote=False)
    with pytest.raises(TypeError):
        make_notice(status=Notice.Status.PUBLISHED)
    assert not Notice.objects.exists()


def test_publishing_news_adds_a_line_to_the_branch_timeline(client, tree, make_notice):
    news = make_notice(
        org=tree.branch, kind=Notice.Kind.NEWS, title="高原党员突击队完成首段铺轨", publish=True
    )
    entry = TimelineEntry.objects.get(organization=tree.branch)
    assert entry.kind == "news_published"
    assert entry.params == {"title": news.title}
    assert entry.url == news.get_absolute_url()
    assert entry.occurred_at == news.published_at
    client.force_login(tree.member.user)
    page = client.get(reverse("branches:detail", args=[tree.branch.pk])).content.decode()
    assert news.title in page
    assert news.get_absolute_url() in page


def test_updating_a_published_notice_tells_no_one_again(tree, make_notice):
    notice = make_notice(by=tree.secretary, publish=True)
    stored = services.notice_update(
        notice=notice, by=tree.secretary, fields={"title": "更正：时间改为周五"}
    )
    assert stored.title == "更正：时间改为周五"
    assert Notice.objects.get(pk=notice.pk).title == "更正：时间改为周五"
    assert Event.objects.count() == 1


# --- who may write -------------------------------------------------------------------------

WRITE_MATRIX = [
    # role, organisation, allowed
    ("secretary", "branch", True),  # own
    ("secretary", "party_group", True),  # child
    ("secretary", "sibling", False),
    ("secretary", "company", False),  # parent
    ("secretary", "outside", False),
    ("secretary2", "sibling", True),
    ("secretary2", "branch", False),
    ("reviewer", "group", True),
    ("reviewer", "company", True),
    ("reviewer", "branch", True),
    ("reviewer", "joint", True),
    ("reviewer", "other_group", False),
    ("reviewer", "outside", False),
    ("member", "branch", False),
    ("admin", "outside", True),
]


@pytest.mark.parametrize(("who", "org", "allowed"), WRITE_MATRIX)
def test_create_publish_update_are_scoped(tree, committed, who, org, allowed):
    user, organization = person(tree, who), getattr(tree, org)
    if not allowed:
        with pytest.raises(PermissionDenied):
            services.notice_create(
                by=user, organization=organization, title="越权", body="<p>x</p>"
            )
        # A notice written there by someone who may: neither publish nor change it.
        notice = services.notice_create(
            by=tree.admin, organization=organization, title="他人", body="<p>x</p>"
        )
        with pytest.raises(PermissionDenied):
            services.notice_publish(notice=notice, by=user)
        with pytest.raises(PermissionDenied):
            services.notice_update(notice=notice, by=user, fields={"title": "改"})
        notice.refresh_from_db()
        assert (notice.status, notice.title) == (Notice.Status.DRAFT, "他人")
        assert not Event.objects.exists()
        return
    notice = services.notice_create(
        by=user, organization=organization, title="本级", body="<p>x</p>"
    )
    assert notice.author == user and notice.status == Notice.Status.DRAFT
    services.notice_update(notice=notice, by=user, fields={"title": "本级（修订）"})
    with committed():
        services.notice_publish(notice=notice, by=user)
    notice.refresh_from_db()
    assert (notice.status, notice.title) == (Notice.Status.PUBLISHED, "本级（修订）")
    assert Event.objects.count() == 1


def test_a_secretary_cannot_move_a_notice_to_another_branch(tree, make_notice):
    notice = make_notice(org=tree.branch, by=tree.secretary)
    with pytest.raises(PermissionDenied):
        services.notice_update(
            notice=notice, by=tree.secretary, fields={"organization": tree.sibling}
        )
    notice.refresh_from_db()
    assert notice.organization == tree.branch
    # Nor can a stale object in memory fool the check: the stored organisation counts.
    sibling_notice = make_notice(org=tree.sibling, by=tree.secretary2)
    sibling_notice.organization = tree.branch
    with pytest.raises(PermissionDenied):
        services.notice_update(notice=sibling_notice, by=tree.secretary, fields={"title": "改"})
    with pytest.raises(PermissionDenied):
        services.notice_publish(notice=sibling_notice, by=tree.secretary)


# --- who sees what -------------------------------------------------------------------------

SEES = {
    # A member: the path from their branch (and participations) up to the root.
    "member": {"group", "company", "branch"},
    "office": {"group", "company", "branch"},
    "participant": {"group", "company", "sibling", "joint"},
    "sibling_member": {"group", "company", "sibling"},
    "outsider": {"other_group", "outside"},
    # Those who manage: their path as members, and their whole subtree.
    "secretary": {"group", "company", "branch", "party_group"},
    "secretary2": {"group", "company", "sibling"},
    "reviewer": {"group", "company", "branch", "party_group", "sibling", "joint"},
    "admin": set(ORGS),
}


@pytest.fixture
def notice_per_org(tree, make_notice):
    return {
        org: make_notice(org=getattr(tree, org), title=f"{org}的通知", publish=True) for org in ORGS
    }


@pytest.mark.parametrize("who", sorted(SEES))
def test_notice_scope_in_the_list_and_by_link(client, tree, notice_per_org, who):
    client.force_login(person(tree, who))
    assert listed(client) == {f"{org}的通知" for org in SEES[who]}
    for org, notice in notice_per_org.items():
        expected = 200 if org in SEES[who] else 404
        assert detail(client, notice).status_code == expected, (who, org)


def test_drafts_are_seen_only_by_those_who_manage_them(client, tree, make_notice):
    draft = make_notice(org=tree.branch, by=tree.secretary, title="草稿通知")
    for who in ("member", "office", "secretary2", "sibling_member"):
        user = person(tree, who)
        client.force_login(user)
        assert "草稿通知" not in listed(client)
        assert detail(client, draft).status_code == 404, who
        with pytest.raises(Http404):
            selectors.access_notice_by_id(notice_id=draft.pk, user=user)
    for who in ("secretary", "reviewer", "admin"):
        client.force_login(person(tree, who))
        response = detail(client, draft)
        assert response.status_code == 200, who
        assert "草稿通知" in response.content.decode()
    assert not NoticeRead.objects.exists()  # opening a draft is not reading a notice
    assert client.get(reverse("notifications:notice_detail", args=[999_999])).status_code == 404


def test_category_flags_decide_the_list(client, tree, make_notice):
    make_notice(
        org=tree.company,
        by=tree.reviewer,
        title="边远项目部专项通知",
        publish=True,
        for_office=False,
        for_front_line=False,
    )
    client.force_login(tree.office.user)
    assert "边远项目部专项通知" not in listed(client)
    client.force_login(tree.member.user)  # remote-site member
    assert "边远项目部专项通知" in listed(client)
    assert not selectors.notice_visible_to(tree.office.user, Notice.objects.get())
    assert selectors.notice_visible_to(tree.member.user, Notice.objects.get())


def test_expired_notices_leave_the_list_but_stay_readable_by_link(client, tree, make_notice):
    gone = make_notice(title="已过期", expires_at=timezone.now() + timedelta(hours=1), publish=True)
    current = make_notice(
        title="长期有效", expires_at=timezone.now() + timedelta(days=7), publish=True
    )
    Notice.objects.filter(pk=gone.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    client.force_login(tree.member.user)
    assert listed(client) == {current.title}
    assert detail(client, gone).status_code == 200


def test_list_kind_filter_and_order(client, tree, make_notice):
    old = make_notice(title="旧通知", publish=True)
    news = make_notice(title="新动态", kind=Notice.Kind.NEWS, publish=True)
    pinned = make_notice(title="置顶公开", kind=Notice.Kind.DISCLOSURE, pinned=True, publish=True)
    Notice.objects.filter(pk=old.pk).update(published_at=timezone.now() - timedelta(days=3))
    client.force_login(tree.member.user)
    page = client.get(reverse("notifications:notice_list")).context["page_obj"]
    assert [n.title for n in page] == [pinned.title, news.title, old.title]
    assert listed(client, kind="news") == {news.title}
    assert listed(client, kind="disclosure") == {pinned.title}
    assert listed(client, kind="nonsense") == {pinned.title, news.title, old.title}


# --- reading and reminding -----------------------------------------------------------------


def test_mark_read_twice_records_one_reading(tree, make_notice):
    notice = make_notice(publish=True)
    services.notice_mark_read(notice=notice, user=tree.member.user)
    first = NoticeRead.objects.get().read_at
    services.notice_mark_read(notice=notice, user=tree.member.user)
    assert NoticeRead.objects.count() == 1
    assert NoticeRead.objects.get().read_at == first


def test_remind_tells_only_those_who_have_not_read_it_once_a_day(tree, make_notice, committed):
    notice = make_notice(
        org=tree.branch, by=tree.secretary, title="请学习二十届四中全会精神", publish=True
    )
    services.notice_mark_read(notice=notice, user=tree.member.user)
    with committed():
        assert services.notice_remind(notice=notice, by=tree.secretary) == 2
    reminder = Event.objects.get(kind="notice_reminder")
    assert recipients_of(reminder) == {"office", "secretary"}
    assert reminder.url == notice.get_absolute_url()

    with committed():
        assert services.notice_remind(notice=notice, by=tree.secretary) == 0
        assert services.notice_remind(notice=notice, by=tree.reviewer) == 0
    assert Event.objects.filter(kind="notice_reminder").count() == 1
    row = NoticeReminder.objects.get()
    assert (row.day, row.recipients, row.sent_by) == (timezone.localdate(), 2, tree.secretary)


def test_a_reminder_the_day_before_does_not_block_today(tree, make_notice, committed):
    notice = make_notice(publish=True)
    NoticeReminder.objects.create(
        notice=notice, day=timezone.localdate() - timedelta(days=1), recipients=3
    )
    with committed():
        assert services.notice_remind(notice=notice, by=tree.secretary) == 3
    assert NoticeReminder.objects.count() == 2


def test_a_reminder_for_a_notice_deleted_before_its_fan_out_is_finished(tree, make_notice):
    notice = make_notice(publish=True)
    assert services.notice_remind(notice=notice, by=tree.admin) == 3  # not committed yet
    reminder = Event.objects.get(kind="notice_reminder")
    Notice.objects.filter(pk=notice.pk).delete()  # an administrator removes it meanwhile
    assert services.event_fan_out(event_id=reminder.pk) == 0
    reminder.refresh_from_db()
    assert reminder.fanned_out_at is not None  # done: the sweep will not retry it forever
    assert not Notification.objects.filter(event=reminder).exists()


def test_nobody_to_remind_sends_nothing(tree, make_notice, committed):
    notice = make_notice(publish=True)
    for who in ("member", "office", "secretary"):
        services.notice_mark_read(notice=notice, user=person(tree, who))
    with committed():
        assert services.notice_remind(notice=notice, by=tree.secretary) == 0
    assert not Event.objects.filter(kind="notice_reminder").exists()


def test_reminding_a_draft_or_outside_ones_scope_is_refused(tree, make_notice):
    draft = make_notice(by=tree.secretary)
    with pytest.raises(ValidationError):
        services.notice_remind(notice=draft, by=tree.secretary)
    published = make_notice(publish=True)
    with pytest.raises(PermissionDenied):
        services.notice_remind(notice=published, by=tree.secretary2)
    with pytest.raises(PermissionDenied):
        services.notice_remind(notice=published, by=tree.member.user)
    assert not NoticeReminder.objects.exists()


def test_read_stats_count_the_audience(tree, make_notice):
    notice = make_notice(publish=True)
    services.notice_mark_read(notice=notice, user=tree.member.user)
    services.notice_mark_read(notice=notice, user=tree.reviewer)  # not in the audience
    stats = selectors.notice_read_stats(notice=notice)
    assert (stats["read_count"], stats["unread_count"]) == (1, 2)
    assert stats["read"] == [tree.member.real_name]
    assert sorted(stats["unread"]) == sorted(
        [tree.office.real_name, tree.secretary.member.real_name]
    )


def test_opening_a_notice_marks_it_read_once(client, tree, make_notice):
    notice = make_notice(publish=True)
    client.force_login(tree.member.user)
    assert detail(client, notice).status_code == 200
    assert detail(client, notice).status_code == 200
    assert NoticeRead.objects.filter(notice=notice, user=tree.member.user).count() == 1


# --- rich text -----------------------------------------------------------------------------


def test_hostile_html_is_stripped_on_save_and_not_shown(client, tree, make_notice):
    hostile = (
        "<p>请按时参加<strong>主题党日</strong></p>"
        "<script>alert('xss-script')</script>"
        '<img src="https://img.example.cn/a.png" onerror="alert(\'xss-onerror\')">'
        "<a href=\"javascript:alert('xss-href')\">点击</a>"
        '<p style="position:fixed" onclick="alert(\'xss-click\')">样式</p>'
        '<iframe src="https://evil.example/"></iframe>'
    )
    notice = make_notice(body=hostile, title="含有危险代码的通知", publish=True)
    stored = Notice.objects.get(pk=notice.pk).body
    for bad in ("<script", "onerror", "javascript:", "onclick", "style=", "<iframe", "xss-"):
        assert bad not in stored
    assert "<strong>主题党日</strong>" in stored
    assert 'src="https://img.example.cn/a.png"' in stored

    client.force_login(tree.member.user)
    page = detail(client, notice).content.decode()
    for bad in ("xss-", "onerror", "javascript:alert", "onclick", "<iframe"):
        assert bad not in page
    assert "<strong>主题党日</strong>" in page
    # The inbox shows the title, escaped.
    assert "含有危险代码的通知" in inbox_of(tree.member.user)


def test_titles_are_escaped(client, tree, make_notice):
    notice = make_notice(title="<b onmouseover=alert(1)>标题</b>", publish=True)
    client.force_login(tree.member.user)
    for url in (  # the home card first: opening the notice marks it read
        "/",
        reverse("notifications:notice_list"),
        reverse("notifications:inbox"),
        notice.get_absolute_url(),
    ):
        page = client.get(url).content.decode()
        assert "<b onmouseover" not in page, url
        assert "&lt;b onmouseover=alert(1)&gt;标题&lt;/b&gt;" in page, url
