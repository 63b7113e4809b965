import uuid

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from discussions import services
from discussions.models import BoardPost, Comment, Like
from notifications.models import Event
from tests.discussions.conftest import bulk_comments, bulk_posts

pytestmark = pytest.mark.django_db

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'
BOARD = reverse("discussions:board")
COMMENT = reverse("discussions:comment_create")
LIKE = reverse("discussions:like_toggle")
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def english(client):
    client.cookies["django_language"] = "en"
    return client


def login(client, user):
    client.force_login(getattr(user, "user", user))
    return client


def target_fields(obj):
    return {"content_type": ContentType.objects.get_for_model(obj).pk, "object_id": obj.pk}


# --- comments -----------------------------------------------------------------------------------


def test_plain_post_redirects_back_with_a_message(client, tree, notice):
    login(client, tree.member)
    next_url = f"/notices/{notice.pk}/?cpage=2"
    response = client.post(
        COMMENT,
        {**target_fields(notice), "body": "收到", "client_token": uuid.uuid4(), "next": next_url},
    )
    c = Comment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/notices/{notice.pk}/#comment-{c.pk}"  # back to page 1
    assert c.author == tree.member.user


def test_htmx_post_returns_the_thread_fragment(client, tree, notice):
    login(client, tree.member)
    response = client.post(
        COMMENT, {**target_fields(notice), "body": "收到", "next": "/notices/1/"}, **HTMX
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<section class="thread"')
    assert "<html" not in html
    assert "收到" in html


def test_hostile_html_in_a_comment_shows_as_text(client, tree, notice):
    login(client, tree.member)
    response = client.post(
        COMMENT, {**target_fields(notice), "body": HOSTILE + "\n第二行", "next": "/"}, **HTMX
    )
    html = response.content.decode()
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert "<img src=x" not in html
    assert "<br>第二行" in html  # line breaks kept


def test_errors_come_back_in_the_fragment_or_as_a_message(client, tree, notice, english):
    login(client, tree.member)
    response = client.post(COMMENT, {**target_fields(notice), "body": "  ", "next": "/x/"}, **HTMX)
    assert response.status_code == 200
    assert "Write something first." in response.content.decode()
    response = client.post(
        COMMENT, {**target_fields(notice), "body": "", "next": "/x/"}, follow=False
    )
    assert response.status_code == 302 and response["Location"] == "/x/"
    assert not Comment.objects.exists()


def test_next_must_stay_on_the_site(client, tree, notice):
    login(client, tree.member)
    response = client.post(
        COMMENT, {**target_fields(notice), "body": "好", "next": "https://evil.example/"}
    )
    assert response["Location"].startswith(notice.get_absolute_url())


@pytest.mark.parametrize(
    "fields",
    [
        {"content_type": "x", "object_id": 1},
        {"object_id": 1},
    ],
)
def test_malformed_targets_are_bad_requests(client, tree, fields):
    login(client, tree.member)
    assert client.post(COMMENT, {**fields, "body": "好"}).status_code == 400


def test_targets_outside_the_scope_or_unregistered_are_404(client, tree, notice):
    login(client, tree.sibling_member)
    assert client.post(COMMENT, {**target_fields(notice), "body": "好"}).status_code == 404
    assert client.post(LIKE, target_fields(notice)).status_code == 404
    login(client, tree.member)
    assert client.post(COMMENT, {**target_fields(tree.branch), "body": "好"}).status_code == 404
    user_type = ContentType.objects.get_for_model(tree.member.user)
    fields = {"content_type": user_type.pk, "object_id": tree.member.user.pk}
    assert client.post(COMMENT, {**fields, "body": "好"}).status_code == 404
    assert (
        client.post(
            COMMENT, {**target_fields(notice), "object_id": 999999, "body": "好"}
        ).status_code
        == 404
    )
    assert not Comment.objects.exists()


def test_double_submit_through_the_form_is_one_comment(client, tree, notice):
    login(client, tree.member)
    data = {**target_fields(notice), "body": "网络不好点了两次", "client_token": str(uuid.uuid4())}
    client.post(COMMENT, data)
    client.post(COMMENT, data)
    assert Comment.objects.count() == 1


def test_replies_through_the_form(client, tree, notice):
    top = services.comment_create(target=notice, author=tree.office.user, body="一楼")
    login(client, tree.member)
    client.post(COMMENT, {**target_fields(notice), "body": "回复一楼", "parent": top.pk})
    assert Comment.objects.get(body="回复一楼").parent == top


def test_delete_and_hide_views(client, tree, notice, english):
    mine = services.comment_create(target=notice, author=tree.member.user, body="我的")
    theirs = services.comment_create(target=notice, author=tree.office.user, body="别人的")
    login(client, tree.member)
    url = reverse("discussions:comment_delete", args=[theirs.pk])
    response = client.post(url, {"next": "/n/"}, **HTMX)
    assert "You may only delete your own comments." in response.content.decode()
    assert Comment.objects.filter(pk=theirs.pk).exists()
    hide = reverse("discussions:comment_hide", args=[theirs.pk])
    client.post(hide, {"reason": "不喜欢", "next": "/n/"})
    assert not Comment.objects.get(pk=theirs.pk).is_hidden
    response = client.post(reverse("discussions:comment_delete", args=[mine.pk]), {"next": "/n/"})
    assert response.status_code == 302
    assert not Comment.objects.filter(pk=mine.pk).exists()

    login(client, tree.secretary)
    response = client.post(hide, {"reason": "广告", "next": "/n/"}, **HTMX)
    assert response.status_code == 200
    assert Comment.objects.get(pk=theirs.pk).hidden_reason == "广告"
    assert "Hidden by the branch: 广告" in response.content.decode()


def test_a_secretary_of_another_branch_cannot_hide(client, tree, make_notice):
    # A company notice: both branches see it, only the company's managers moderate it.
    notice = make_notice(org=tree.company)
    c = services.comment_create(target=notice, author=tree.sibling_member.user, body="好")
    login(client, tree.secretary2)
    client.post(reverse("discussions:comment_hide", args=[c.pk]), {"reason": "广告"})
    assert not Comment.objects.get(pk=c.pk).is_hidden
    login(client, tree.reviewer)
    client.post(reverse("discussions:comment_hide", args=[c.pk]), {"reason": "广告"})
    assert Comment.objects.get(pk=c.pk).is_hidden


def test_hidden_comments_are_404_to_other_members(client, tree, notice):
    c = services.comment_create(target=notice, author=tree.office.user, body="好")
    services.comment_hide(comment=c, by=tree.secretary, reason="广告")
    login(client, tree.member)
    assert client.post(reverse("discussions:comment_delete", args=[c.pk])).status_code == 404
    assert client.post(LIKE, target_fields(c)).status_code == 404


def test_thread_pages(client, tree, notice, settings):
    settings.NETBRANCH_PAGE_SIZE = 2
    for i in range(5):
        Comment.objects.create(
            content_type=ContentType.objects.get_for_model(notice),
            object_id=notice.pk,
            organization=tree.branch,
            author=tree.office.user,
            body=f"第{i}条",
        )
    login(client, tree.member)
    url = reverse("discussions:thread")
    response = client.get(
        url, {**target_fields(notice), "cpage": 3, "next": "/notices/9/?a=1"}, **HTMX
    )
    html = response.content.decode()
    assert "第0条" in html and "第4条" not in html
    assert 'href="/notices/9/?a=1&amp;cpage=2#thread-' in html


# --- likes ----------------------------------------------------------------------------------------


def test_like_fragment_and_redirect(client, tree, notice):
    login(client, tree.member)
    response = client.post(LIKE, {**target_fields(notice), "want": "1", "next": "/n/"}, **HTMX)
    html = response.content.decode()
    assert 'aria-pressed="true"' in html
    assert '<span class="like-count">1</span>' in html
    assert 'name="want" value="0"' in html
    response = client.post(LIKE, {**target_fields(notice), "want": "1", "next": "/n/"})
    assert response.status_code == 302 and response["Location"] == "/n/"
    assert Like.objects.count() == 1  # the repeated "like" changed nothing
    client.post(LIKE, {**target_fields(notice), "want": "0"})
    assert Like.objects.count() == 0


def test_liking_a_comment(client, tree, notice):
    c = services.comment_create(target=notice, author=tree.office.user, body="好")
    login(client, tree.member)
    response = client.post(LIKE, {**target_fields(c), "next": "/n/"})
    assert response["Location"] == f"/n/#comment-{c.pk}"
    assert Like.objects.get().target == c


# --- the board ---------------------------------------------------------------------------------------


def test_board_shows_the_registered_branch(client, tree, make_post, english):
    make_post(body="第一条留言")
    login(client, tree.member)
    response = client.get(BOARD)
    assert response.status_code == 200
    html = response.content.decode()
    assert tree.branch.name in html
    assert "第一条留言" in html
    assert "Write on the board" in html


def test_another_branch_board_is_404(client, tree, make_post):
    p = make_post(org=tree.sibling, author=tree.sibling_member.user)
    login(client, tree.member)
    assert client.get(BOARD, {"org": tree.sibling.pk}).status_code == 404
    assert client.get(reverse("discussions:board_post", args=[p.pk])).status_code == 404
    assert client.get(BOARD, {"org": "x"}).status_code == 400
    login(client, tree.secretary)
    assert client.get(BOARD, {"org": tree.sibling.pk}).status_code == 404


def test_a_member_of_several_organisations_switches(client, tree):
    login(client, tree.participant)
    html = client.get(BOARD).content.decode()
    assert f'href="?org={tree.joint.pk}"' in html
    response = client.get(BOARD, {"org": tree.joint.pk})
    assert response.context["organization"] == tree.joint


def test_posting_on_the_board(client, tree):
    login(client, tree.member)
    token = str(uuid.uuid4())
    data = {"kind": "suggestion", "body": HOSTILE, "anonymous": "on", "client_token": token}
    response = client.post(f"{BOARD}?org={tree.branch.pk}", data)
    assert response.status_code == 302
    client.post(f"{BOARD}?org={tree.branch.pk}", data)  # a double submit
    post = BoardPost.objects.get()
    assert (post.kind, post.anonymous, post.organization) == ("suggestion", True, tree.branch)
    html = client.get(response["Location"]).content.decode()
    assert "<script>alert" not in html
    assert "&lt;script&gt;" in html


def test_posting_errors_keep_the_text(client, tree, settings, english):
    settings.NETBRANCH_BOARD_POST_MAX_LENGTH = 5
    login(client, tree.member)
    response = client.post(BOARD, {"kind": "view", "body": "太长太长太长了"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Keep it to 5 characters" in html
    assert "太长太长太长了" in html
    assert not BoardPost.objects.exists()


def test_moderators_do_not_get_a_post_form_for_boards_they_only_manage(client, tree):
    login(client, tree.reviewer)
    response = client.get(BOARD, {"org": tree.branch.pk})
    assert response.status_code == 200
    assert response.context["form"] is None
    response = client.post(f"{BOARD}?org={tree.branch.pk}", {"kind": "view", "body": "我来写"})
    assert response.status_code == 403
    assert not BoardPost.objects.exists()


def test_anonymous_to_members_not_to_the_secretary(client, tree, make_post, english):
    p = make_post(author=tree.office.user, anonymous=True, body="匿名的建议")
    services.comment_create(target=p, author=tree.office.user, body="楼主补充")
    name = tree.office.real_name
    login(client, tree.member)
    html = client.get(BOARD).content.decode()
    assert "匿名的建议" in html
    assert name not in html
    assert "a member" in html
    html = client.get(p.get_absolute_url()).content.decode()
    assert "楼主补充" in html and "the author (anonymous)" in html
    assert name not in html
    login(client, tree.secretary)
    assert name in client.get(p.get_absolute_url()).content.decode()
    login(client, tree.secretary)
    html = client.get(BOARD).content.decode()
    assert name in html
    assert "anonymous to members" in html
    login(client, tree.office)  # the author sees it is theirs
    assert name in client.get(BOARD).content.decode()


def test_hidden_posts_on_the_board(client, tree, make_post, english):
    p = make_post(author=tree.office.user, body="被隐藏的留言")
    services.board_post_hide(post=p, by=tree.secretary, reason="涉及隐私")
    login(client, tree.member)
    assert "被隐藏的留言" not in client.get(BOARD).content.decode()
    login(client, tree.office)
    html = client.get(BOARD).content.decode()
    assert "被隐藏的留言" in html and "涉及隐私" in html
    login(client, tree.secretary)
    assert "被隐藏的留言" in client.get(BOARD).content.decode()


def test_answering_from_the_board(client, tree, make_post, django_capture_on_commit_callbacks):
    p = make_post()
    url = reverse("discussions:board_post_answer", args=[p.pk])
    login(client, tree.office)  # a member cannot answer
    client.post(url, {"answer": "我来答"})
    assert BoardPost.objects.get(pk=p.pk).answer == ""
    login(client, tree.secretary)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"answer": "<b>已解决</b>", "detail": "1"}, **HTMX)
    html = response.content.decode()
    assert html.lstrip().startswith('<article class="card post post-answered"')
    assert "&lt;b&gt;已解决&lt;/b&gt;" in html
    assert Event.objects.filter(kind="board_answered", target_id=p.pk).exists()
    assert tree.member.user.notifications.count() == 1


def test_resolve_and_hide_views(client, tree, make_post):
    p = make_post()
    login(client, tree.secretary)
    response = client.post(
        reverse("discussions:board_post_hide", args=[p.pk]), {"reason": "", "next": BOARD}
    )
    assert response.status_code == 302
    assert BoardPost.objects.get(pk=p.pk).status == "open"  # a reason is required
    client.post(reverse("discussions:board_post_resolve", args=[p.pk]))
    assert BoardPost.objects.get(pk=p.pk).status == "resolved"
    client.post(reverse("discussions:board_post_hide", args=[p.pk]), {"reason": "重复"})
    assert BoardPost.objects.get(pk=p.pk).status == "hidden"


def test_a_secretary_cannot_moderate_another_branch(client, tree, make_post):
    p = make_post(org=tree.sibling, author=tree.sibling_member.user)
    login(client, tree.secretary)
    for name, data in (
        ("board_post_answer", {"answer": "越界"}),
        ("board_post_resolve", {}),
        ("board_post_hide", {"reason": "越界"}),
    ):
        assert client.post(reverse(f"discussions:{name}", args=[p.pk]), data).status_code == 404
    assert BoardPost.objects.get(pk=p.pk).status == "open"


def test_post_detail_with_comments(client, tree, make_post):
    p = make_post(body="详情页")
    services.comment_create(target=p, author=tree.office.user, body="我也想知道")
    login(client, tree.member)
    response = client.get(p.get_absolute_url())
    html = response.content.decode()
    assert response.status_code == 200
    assert "详情页" in html and "我也想知道" in html
    response = client.post(COMMENT, {**target_fields(p), "body": "补充一句"})
    assert response.status_code == 302
    assert Comment.objects.filter(object_id=p.pk, body="补充一句").exists()


def test_no_board_for_a_user_without_one(client, tree):
    from tests.factories import UserFactory

    login(client, UserFactory(username="nobody"))
    response = client.get(BOARD)
    assert response.status_code == 200
    assert response.context["organization"] is None


def test_board_needs_a_login(client):
    assert client.get(BOARD).status_code == 302


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_every_discussion_page_renders(client, tree, make_post, notice, language):
    client.cookies["django_language"] = language
    p = make_post(anonymous=True, status="answered", answer="好", answered_at=timezone.now())
    top = services.comment_create(target=p, author=tree.office.user, body="评论")
    services.comment_create(target=p, author=tree.member.user, body="回复", parent=top)
    hidden = services.comment_create(target=notice, author=tree.office.user, body="隐藏")
    services.comment_hide(comment=hidden, by=tree.secretary, reason="广告")
    for user in (tree.member.user, tree.office.user, tree.secretary, tree.reviewer, tree.admin):
        client.force_login(user)
        for url in (BOARD, f"{BOARD}?org={tree.branch.pk}&status=answered", p.get_absolute_url()):
            assert client.get(url).status_code == 200, (user, url)
        response = client.get(
            reverse("discussions:thread"), {**target_fields(notice), "next": "/"}, **HTMX
        )
        assert response.status_code == 200, user


def test_migrations_are_complete():
    from io import StringIO

    from django.core.management import call_command

    call_command("makemigrations", "discussions", "--check", "--dry-run", stdout=StringIO())


# --- query counts --------------------------------------------------------------------------------------


def _count(client, url):
    client.get(url)  # warm per-process caches
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries), "\n".join(q["sql"] for q in ctx.captured_queries)


@pytest.mark.parametrize("who", ["member", "secretary"])
def test_board_page_costs_the_same_for_5_or_500_posts(client, tree, who):
    authors = [tree.member.user, tree.office.user, tree.secretary]
    login(client, getattr(tree, who))
    bulk_posts(tree.branch, authors, 5)
    small, _ = _count(client, BOARD)
    bulk_posts(tree.branch, authors, 495)
    large, sql = _count(client, BOARD)
    assert small == large, sql


def test_post_page_costs_the_same_for_5_or_500_comments(client, tree, make_post):
    authors = [tree.member.user, tree.office.user, tree.secretary]
    small_post, large_post = make_post(), make_post()
    bulk_comments(small_post, tree.branch, authors, 5, likers=authors)
    bulk_comments(large_post, tree.branch, authors, 500, likers=authors)
    login(client, tree.member)
    small, _ = _count(client, small_post.get_absolute_url())
    large, sql = _count(client, large_post.get_absolute_url())
    assert small == large, sql
