import pytest
from django.db import connection
from django.http import Http404
from django.template import Context, Template
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from discussions import selectors, services
from discussions.models import BoardPost
from tests.discussions.conftest import bulk_comments, bulk_posts

pytestmark = pytest.mark.django_db


def names(orgs):
    return {o.name for o in orgs}


def test_boards_for_user(tree):
    assert names(selectors.boards_for_user(tree.member.user)) == {tree.branch.name}
    assert names(selectors.boards_for_user(tree.participant.user)) == {
        tree.sibling.name,
        tree.joint.name,
    }
    # A secretary reads their branch's board and those under it.
    assert names(selectors.boards_for_user(tree.secretary)) == {
        tree.branch.name,
        tree.party_group.name,
    }
    # A reviewer reads every board in their subtree, committees have none.
    assert names(selectors.boards_for_user(tree.reviewer)) == {
        tree.branch.name,
        tree.sibling.name,
        tree.party_group.name,
        tree.joint.name,
    }
    assert tree.outside.name in names(selectors.boards_for_user(tree.admin))


@pytest.mark.parametrize(
    ("who", "org", "readable"),
    [
        ("member", "branch", True),
        ("member", "sibling", False),
        ("member", "party_group", False),  # not taking part there
        ("member", "company", False),
        ("participant", "joint", True),
        ("secretary", "party_group", True),
        ("secretary", "sibling", False),
        ("secretary2", "branch", False),
        ("reviewer", "sibling", True),
        ("reviewer", "company", False),  # a committee has no board
        ("reviewer", "outside", False),
    ],
)
def test_can_read_board(tree, who, org, readable):
    user = getattr(tree, who)
    user = getattr(user, "user", user)
    assert selectors.can_read_board(user, getattr(tree, org)) is readable
    if not readable:
        with pytest.raises(Http404):
            selectors.access_board_by_id(organization_id=getattr(tree, org).pk, user=user)


def test_default_board_is_the_registered_branch(tree):
    assert selectors.default_board_for_user(tree.participant.user) == tree.sibling
    assert selectors.default_board_for_user(tree.reviewer) is not None  # the first they manage
    assert selectors.default_board_for_user(tree.outsider.user) == tree.outside


def test_hidden_posts_show_to_moderators_and_their_author(tree, make_post):
    shown = make_post(author=tree.office.user)
    hidden = make_post(author=tree.office.user, body="不合适的话")
    services.board_post_hide(post=hidden, by=tree.secretary, reason="人身攻击")

    def visible(user):
        return set(selectors.board_posts(organization=tree.branch, user=user))

    assert visible(tree.member.user) == {shown}
    assert visible(tree.office.user) == {shown, hidden}
    assert visible(tree.secretary) == {shown, hidden}
    with pytest.raises(Http404):
        selectors.access_board_post_by_id(post_id=hidden.pk, user=tree.member.user)
    assert selectors.access_board_post_by_id(post_id=hidden.pk, user=tree.office.user) == hidden


def test_board_post_outside_the_scope_is_a_404(tree, make_post):
    p = make_post(org=tree.sibling, author=tree.sibling_member.user)
    for user in (tree.member.user, tree.secretary, tree.outsider.user):
        with pytest.raises(Http404):
            selectors.access_board_post_by_id(post_id=p.pk, user=user)
    assert selectors.access_board_post_by_id(post_id=p.pk, user=tree.secretary2) == p
    assert selectors.access_board_post_by_id(post_id=p.pk, user=tree.reviewer) == p


def test_status_filter(tree, make_post):
    make_post()
    answered = make_post(status="answered", answer="好", answered_at=timezone.now())
    got = selectors.board_posts(organization=tree.branch, user=tree.member.user, status="answered")
    assert list(got) == [answered]


def test_counts_are_annotated(tree, notice, make_post):
    p = make_post()
    services.comment_create(target=p, author=tree.office.user, body="同意")
    c = services.comment_create(target=p, author=tree.member.user, body="补充")
    services.comment_hide(comment=c, by=tree.secretary, reason="重复")
    services.like_toggle(target=p, user=tree.office.user)
    row = selectors.board_posts(organization=tree.branch, user=tree.office.user).get(pk=p.pk)
    assert (row.comment_count, row.like_count, row.liked_by_me) == (1, 1, True)
    row = selectors.board_posts(organization=tree.branch, user=tree.member.user).get(pk=p.pk)
    assert row.liked_by_me is False
    assert selectors.like_state(target=p, user=tree.office.user) == {"count": 1, "liked": True}
    assert selectors.like_state(target=notice, user=tree.office.user) == {
        "count": 0,
        "liked": False,
    }


def test_thread_replies_likes_and_visibility(tree, notice):
    top = services.comment_create(target=notice, author=tree.member.user, body="一楼")
    r1 = services.comment_create(target=notice, author=tree.office.user, body="二楼", parent=top)
    r2 = services.comment_create(target=notice, author=tree.secretary, body="三楼", parent=top)
    services.comment_hide(comment=r2, by=tree.secretary, reason="跑题")
    services.like_toggle(target=r1, user=tree.member.user)
    newer = services.comment_create(target=notice, author=tree.office.user, body="新的一楼")

    thread = selectors.comment_thread(target=notice, user=tree.member.user)
    tops = list(thread["page_obj"])
    assert tops == [newer, top]  # newest first
    assert thread["total"] == 3  # the hidden reply does not count for a member
    assert tops[1].visible_replies == [r1]
    assert (tops[1].visible_replies[0].like_count, tops[1].visible_replies[0].liked_by_me) == (
        1,
        True,
    )
    assert thread["can_moderate"] is False

    mod = selectors.comment_thread(target=notice, user=tree.secretary)
    assert [r.pk for r in list(mod["page_obj"])[1].visible_replies] == [r1.pk, r2.pk]
    assert mod["can_moderate"] is True


def test_my_answered_posts(tree, make_post):
    now = timezone.now()
    recent = make_post(status="answered", answer="已办", answered_at=now)
    make_post(status="answered", answer="旧事", answered_at=now - timezone.timedelta(days=40))
    make_post()  # not answered
    make_post(author=tree.office.user, status="answered", answer="别人", answered_at=now)
    assert selectors.my_answered_posts(tree.member.user) == [recent]


def _render_thread(target, user):
    request = RequestFactory().get("/somewhere/?x=1")
    request.user = user
    template = Template("{% load discussions %}{% comment_thread obj %}{% like_button obj %}")
    return template.render(Context({"obj": target, "request": request, "user": user}))


def _queries(fn) -> tuple[int, list[str]]:
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries), [q["sql"] for q in ctx.captured_queries]


@pytest.mark.parametrize("who", ["member", "secretary"])
def test_a_thread_costs_the_same_for_5_or_500_comments(tree, make_notice, settings, who):
    settings.NETBRANCH_PAGE_SIZE = 20
    authors = [tree.member.user, tree.office.user, tree.secretary, tree.reviewer]
    user = getattr(tree, who)
    user = getattr(user, "user", user)
    small, large = make_notice(), make_notice()
    bulk_comments(small, tree.branch, authors, 5, likers=authors[:2])
    bulk_comments(large, tree.branch, authors, 500, likers=authors[:2])
    _render_thread(small, user)  # warm the per-process caches (content types)

    # Fresh user objects: no per-request caches carried from one measure to the other.
    fresh = type(user).objects.get(pk=user.pk)
    n_small, _ = _queries(lambda: _render_thread(small, fresh))
    fresh = type(user).objects.get(pk=user.pk)
    n_large, sql_large = _queries(lambda: _render_thread(large, fresh))
    assert n_small == n_large, "\n".join(sql_large)
    assert n_large <= 7, "\n".join(sql_large)


def test_board_page_costs_the_same_for_5_or_500_posts(tree, settings):
    authors = [tree.member.user, tree.office.user, tree.secretary]
    bulk_posts(tree.branch, authors, 5)
    bulk_posts(tree.party_group, authors, 500)

    def page(org):
        posts = list(selectors.board_page(organization=org, user=tree.secretary, page=1))
        return [
            (p.author.member.real_name, p.answered_by, p.comment_count, p.like_count) for p in posts
        ]

    page(tree.branch)
    n_small, _ = _queries(lambda: page(tree.branch))
    n_large, sql = _queries(lambda: page(tree.party_group))
    assert n_small == n_large == 2, "\n".join(sql)
    assert BoardPost.objects.filter(organization=tree.party_group).count() == 500
