"""The moderation admin is scoped like every admin: role × organisation × action."""

import pytest
from django.contrib.admin import helpers
from django.urls import reverse

from discussions import services
from discussions.models import BoardPost, Comment
from notifications.models import Event

pytestmark = pytest.mark.django_db

COMMENTS = reverse("admin:discussions_comment_changelist")
POSTS = reverse("admin:discussions_boardpost_changelist")


@pytest.fixture
def rows(tree, make_notice, make_post):
    """A post and a comment in the first branch and in its sibling."""
    own_notice = make_notice(org=tree.branch)
    sibling_notice = make_notice(org=tree.sibling)
    return {
        "own_post": make_post(org=tree.branch, author=tree.member.user, body="本支部留言"),
        "sibling_post": make_post(org=tree.sibling, author=tree.sibling_member.user, body="兄弟支部留言"),
        "own_comment": services.comment_create(target=own_notice, author=tree.member.user, body="本支部评论"),
        "sibling_comment": services.comment_create(
            target=sibling_notice, author=tree.sibling_member.user, body="兄弟支部评论"
        ),
    }  # fmt: skip


def listed(client, url):
    response = client.get(url)
    assert response.status_code == 200
    return {obj.pk for obj in response.context["cl"].result_list}


@pytest.mark.parametrize(
    ("who", "sees", "does_not_see"),
    [
        ("secretary", {"own"}, {"sibling"}),
        ("secretary2", {"sibling"}, {"own"}),
        ("reviewer", {"own", "sibling"}, set()),
        ("admin", {"own", "sibling"}, set()),
    ],
)
def test_changelists_are_scoped(client, tree, rows, who, sees, does_not_see):
    client.force_login(getattr(tree, who))
    posts = listed(client, POSTS)
    comments = listed(client, COMMENTS)
    for side in sees:
        assert rows[f"{side}_post"].pk in posts
        assert rows[f"{side}_comment"].pk in comments
    for side in does_not_see:
        assert rows[f"{side}_post"].pk not in posts
        assert rows[f"{side}_comment"].pk not in comments


def test_members_cannot_open_the_moderation_admin(client, tree, rows):
    client.force_login(tree.member.user)
    assert client.get(POSTS).status_code == 403


@pytest.mark.parametrize(
    ("who", "row", "status"),
    [
        ("secretary", "own_post", 200),
        ("secretary", "sibling_post", 404),
        ("secretary2", "own_post", 404),
        ("reviewer", "sibling_post", 200),
        ("secretary", "own_comment", 200),
        ("secretary", "sibling_comment", 404),
    ],
)
def test_change_view_by_raw_id(client, tree, rows, who, row, status):
    client.force_login(getattr(tree, who))
    model = "boardpost" if row.endswith("post") else "comment"
    url = reverse(f"admin:discussions_{model}_change", args=[rows[row].pk])
    assert client.get(url).status_code == status


def test_the_secretary_sees_the_name_behind_an_anonymous_post(client, tree, make_post):
    p = make_post(author=tree.office.user, anonymous=True)
    client.force_login(tree.secretary)
    html = client.get(reverse("admin:discussions_boardpost_change", args=[p.pk])).content.decode()
    assert tree.office.real_name in html


def test_answering_in_the_change_form(client, tree, rows, django_capture_on_commit_callbacks):
    post = rows["own_post"]
    client.force_login(tree.secretary)
    url = reverse("admin:discussions_boardpost_change", args=[post.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"answer": "下周一起开会讨论。", "hidden_reason": ""})
    assert response.status_code == 302, response.content.decode()[:2000]
    post.refresh_from_db()
    assert (post.status, post.answer, post.answered_by) == (
        "answered",
        "下周一起开会讨论。",
        tree.secretary,
    )
    assert Event.objects.filter(kind="board_answered", target_id=post.pk).exists()
    assert tree.member.user.notifications.count() == 1


def test_hiding_in_the_change_forms(client, tree, rows):
    client.force_login(tree.secretary)
    post, comment = rows["own_post"], rows["own_comment"]
    client.post(
        reverse("admin:discussions_boardpost_change", args=[post.pk]),
        {"answer": "", "hidden_reason": "含有个人电话"},
    )
    client.post(
        reverse("admin:discussions_comment_change", args=[comment.pk]),
        {"hidden_reason": "广告"},
    )
    post.refresh_from_db()
    comment.refresh_from_db()
    assert (post.status, post.hidden_reason, post.hidden_by) == (
        "hidden",
        "含有个人电话",
        tree.secretary,
    )
    assert (comment.hidden_reason, comment.hidden_by) == ("广告", tree.secretary)


def action(client, url, name, ids):
    return client.post(url, {"action": name, helpers.ACTION_CHECKBOX_NAME: [str(i) for i in ids]})


def test_actions_only_touch_rows_in_scope(client, tree, rows):
    client.force_login(tree.secretary)
    own, sibling = rows["own_post"], rows["sibling_post"]
    action(client, POSTS, "mark_resolved", [own.pk, sibling.pk])
    assert BoardPost.objects.get(pk=own.pk).status == "resolved"
    assert BoardPost.objects.get(pk=sibling.pk).status == "open"
    action(client, POSTS, "hide_selected", [own.pk, sibling.pk])
    assert BoardPost.objects.get(pk=own.pk).status == "hidden"
    assert BoardPost.objects.get(pk=own.pk).hidden_reason  # the standard reason
    assert BoardPost.objects.get(pk=sibling.pk).status == "open"
    action(client, COMMENTS, "hide_selected", [rows["own_comment"].pk, rows["sibling_comment"].pk])
    assert Comment.objects.get(pk=rows["own_comment"].pk).is_hidden
    assert not Comment.objects.get(pk=rows["sibling_comment"].pk).is_hidden


def test_secretaries_neither_add_nor_delete(client, tree, rows):
    client.force_login(tree.secretary)
    assert client.get(reverse("admin:discussions_boardpost_add")).status_code == 403
    url = reverse("admin:discussions_comment_delete", args=[rows["own_comment"].pk])
    assert client.get(url).status_code == 403


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_admin_screens_render(client, tree, rows, language):
    client.cookies["django_language"] = language
    client.force_login(tree.admin)
    for url in (
        POSTS,
        COMMENTS,
        f"{POSTS}?status__exact=open&kind__exact=question",
        f"{COMMENTS}?hidden=no&q=评论",
        reverse("admin:discussions_boardpost_change", args=[rows["own_post"].pk]),
        reverse("admin:discussions_comment_change", args=[rows["own_comment"].pk]),
    ):
        assert client.get(url).status_code == 200, url
