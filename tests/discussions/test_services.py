import uuid

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from discussions import services
from discussions.models import BoardPost, Comment, Like
from members.models import ActivityFact
from notifications.models import Event, Notification

pytestmark = pytest.mark.django_db


def comment(target, user, body="说得好", **kw):
    return services.comment_create(target=target, author=user, body=body, **kw)


def likes_of(obj) -> int:
    return Like.objects.filter(
        content_type=ContentType.objects.get_for_model(obj), object_id=obj.pk
    ).count()


# --- comments ---------------------------------------------------------------------------------


def test_a_member_comments_on_a_notice_they_can_see(tree, notice):
    c = comment(notice, tree.member.user, "  学习了，  \n 谢谢书记  ")
    assert c.body == "学习了，  \n 谢谢书记"  # stripped at both ends, inner text kept
    assert c.organization == tree.branch  # the target's organisation, for moderation
    assert c.target == notice
    assert ActivityFact.objects.filter(member=tree.member, kind="posted").exists()


def test_staff_without_a_member_record_comment_without_an_activity_fact(tree, notice):
    comment(notice, tree.reviewer)
    assert not ActivityFact.objects.exists()


def test_cannot_comment_on_what_one_cannot_see(tree, notice, make_notice):
    with pytest.raises(PermissionDenied):
        comment(notice, tree.sibling_member.user)
    with pytest.raises(PermissionDenied):
        comment(notice, tree.outsider.user)
    draft = make_notice(status="draft", published_at=None)
    with pytest.raises(PermissionDenied):
        comment(draft, tree.member.user)
    assert not Comment.objects.exists()


def test_only_registered_models_take_comments(tree):
    with pytest.raises(ValidationError):
        comment(tree.branch, tree.member.user)


@pytest.mark.parametrize("body", ["", "   ", "\n\t"])
def test_empty_comments_are_refused(tree, notice, body):
    with pytest.raises(ValidationError):
        comment(notice, tree.member.user, body)


def test_length_limit(tree, notice, settings):
    settings.NETBRANCH_COMMENT_MAX_LENGTH = 10
    comment(notice, tree.member.user, "一" * 10)
    with pytest.raises(ValidationError, match="10"):
        comment(notice, tree.member.user, "一" * 11)


def test_rate_limit_counts_comments_and_posts(tree, notice, settings):
    settings.NETBRANCH_POST_RATE = "3/60"
    user = tree.member.user
    comment(notice, user, "一")
    comment(notice, user, "二")
    services.board_post_create(
        organization=tree.branch, author=user, kind="view", body="三", anonymous=False
    )
    with pytest.raises(services.RateLimited):
        comment(notice, user, "四")
    with pytest.raises(services.RateLimited):
        services.board_post_create(
            organization=tree.branch, author=user, kind="view", body="四", anonymous=False
        )
    comment(notice, tree.office.user, "别人不受影响")
    # A minute later the member may write again.
    Comment.objects.filter(author=user).update(
        created_at=timezone.now() - timezone.timedelta(minutes=2)
    )
    BoardPost.objects.filter(author=user).update(
        created_at=timezone.now() - timezone.timedelta(minutes=2)
    )
    comment(notice, user, "五")


def test_a_double_submit_creates_one_comment(tree, notice, settings):
    settings.NETBRANCH_POST_RATE = "1/60"
    token = uuid.uuid4()
    first = comment(notice, tree.member.user, "只发一次", client_token=token)
    again = comment(notice, tree.member.user, "只发一次", client_token=str(token))
    assert again.pk == first.pk  # even though the rate limit would refuse a new one
    assert Comment.objects.count() == 1
    assert ActivityFact.objects.filter(kind="posted").count() == 1


def test_a_double_submit_losing_the_race_gets_the_winners_row(tree, notice):
    token = uuid.uuid4()
    first = comment(notice, tree.member.user, "先到", client_token=token)
    with transaction.atomic():
        row, created = services._create_once(
            Comment,
            author=tree.member.user,
            token=token,
            content_type=first.content_type,
            object_id=notice.pk,
            organization=tree.branch,
            body="后到",
        )
    assert (row.pk, created) == (first.pk, False)
    assert Comment.objects.count() == 1


def test_one_level_of_replies(tree, notice):
    top = comment(notice, tree.member.user, "楼主")
    reply = comment(notice, tree.office.user, "回复", parent=top)
    reply_to_reply = comment(notice, tree.secretary, "再回复", parent=reply.pk)
    assert reply.parent_id == top.pk
    assert reply_to_reply.parent_id == top.pk  # attached to the top-level comment


def test_a_reply_stays_on_its_page(tree, notice, make_notice):
    other = make_notice()
    top = comment(other, tree.member.user)
    with pytest.raises(ValidationError):
        comment(notice, tree.office.user, parent=top)
    with pytest.raises(ValidationError):
        comment(notice, tree.office.user, parent=999_999)


def test_no_replies_to_a_hidden_comment(tree, notice):
    top = comment(notice, tree.member.user)
    services.comment_hide(comment=top, by=tree.secretary, reason="不文明用语")
    with pytest.raises(ValidationError):
        comment(notice, tree.office.user, parent=top)


@pytest.mark.parametrize(
    ("who", "allowed"),
    [("secretary", True), ("reviewer", True), ("admin", True), ("secretary2", False)],
)
def test_who_may_hide_a_comment(tree, notice, who, allowed):
    c = comment(notice, tree.office.user)
    by = getattr(tree, who)
    if allowed:
        hidden = services.comment_hide(comment=c, by=by, reason="  广告  ")
        assert hidden.is_hidden and hidden.hidden_reason == "广告" and hidden.hidden_by == by
    else:
        with pytest.raises(PermissionDenied):
            services.comment_hide(comment=c, by=by, reason="广告")
        assert not Comment.objects.get(pk=c.pk).is_hidden


def test_members_cannot_hide_and_a_reason_is_required(tree, notice):
    c = comment(notice, tree.office.user)
    with pytest.raises(PermissionDenied):
        services.comment_hide(comment=c, by=tree.member.user, reason="我不喜欢")
    with pytest.raises(PermissionDenied):  # not even their own
        services.comment_hide(comment=c, by=tree.office.user, reason="删掉")
    with pytest.raises(ValidationError):
        services.comment_hide(comment=c, by=tree.secretary, reason="  ")


def test_only_the_author_deletes_a_comment(tree, notice):
    c = comment(notice, tree.office.user)
    with pytest.raises(PermissionDenied):
        services.comment_delete(comment=c, by=tree.member.user)
    with pytest.raises(PermissionDenied):
        services.comment_delete(comment=c, by=tree.secretary)
    services.like_toggle(target=c, user=tree.member.user)
    assert services.comment_delete(comment=c, by=tree.office.user) is None
    assert not Comment.objects.exists()
    assert not Like.objects.exists()  # its likes go with it


def test_deleting_a_comment_with_replies_leaves_a_stub_until_the_last_reply_goes(tree, notice):
    top = comment(notice, tree.office.user, "原话")
    reply = comment(notice, tree.member.user, "回复", parent=top)
    stub = services.comment_delete(comment=top, by=tree.office.user)
    assert stub.is_deleted and stub.body == ""
    assert Comment.objects.filter(pk=reply.pk).exists()
    services.comment_delete(comment=reply, by=tree.member.user)
    assert not Comment.objects.exists()


# --- likes --------------------------------------------------------------------------------------


def test_like_toggle_and_wanted_state(tree, notice):
    user = tree.member.user
    assert services.like_toggle(target=notice, user=user) is True
    assert services.like_toggle(target=notice, user=user) is False
    assert likes_of(notice) == 0
    # A double submit of "like" stays one like; of "unlike", none.
    assert services.like_toggle(target=notice, user=user, want=True) is True
    assert services.like_toggle(target=notice, user=user, want=True) is True
    assert likes_of(notice) == 1
    assert services.like_toggle(target=notice, user=user, want=False) is False
    assert services.like_toggle(target=notice, user=user, want=False) is False
    assert likes_of(notice) == 0


def test_likes_need_to_see_the_target(tree, notice):
    with pytest.raises(PermissionDenied):
        services.like_toggle(target=notice, user=tree.sibling_member.user)
    with pytest.raises(ValidationError):
        services.like_toggle(target=tree.branch, user=tree.member.user)


def test_liking_comments(tree, notice):
    c = comment(notice, tree.office.user)
    assert services.like_toggle(target=c, user=tree.member.user) is True
    assert likes_of(c) == 1
    with pytest.raises(PermissionDenied):
        services.like_toggle(target=c, user=tree.sibling_member.user)
    services.comment_hide(comment=c, by=tree.secretary, reason="广告")
    c.refresh_from_db()
    with pytest.raises(ValidationError):
        services.like_toggle(target=c, user=tree.secretary)


def test_unique_like_is_a_database_rule(tree, notice):
    content_type = ContentType.objects.get_for_model(notice)
    Like.objects.create(content_type=content_type, object_id=notice.pk, user=tree.member.user)
    with pytest.raises(IntegrityError), transaction.atomic():
        Like.objects.create(content_type=content_type, object_id=notice.pk, user=tree.member.user)


# --- deleting content -----------------------------------------------------------------------------


def test_deleting_a_notice_deletes_its_comments_and_likes(tree, notice, make_notice):
    other = make_notice()
    top = comment(notice, tree.member.user)
    reply = comment(notice, tree.office.user, parent=top)
    services.like_toggle(target=notice, user=tree.office.user)
    services.like_toggle(target=top, user=tree.office.user)
    services.like_toggle(target=reply, user=tree.member.user)
    kept = comment(other, tree.member.user)
    services.like_toggle(target=other, user=tree.member.user)
    services.like_toggle(target=kept, user=tree.office.user)

    notice.delete()

    assert list(Comment.objects.all()) == [kept]
    assert Like.objects.count() == 2
    assert likes_of(other) == 1 and likes_of(kept) == 1


def test_deleting_a_board_post_deletes_its_comments_and_likes(tree, make_post):
    post = make_post()
    comment(post, tree.office.user)
    services.like_toggle(target=post, user=tree.office.user)
    post.delete()
    assert not Comment.objects.exists()
    assert not Like.objects.exists()


# --- database rules -------------------------------------------------------------------------------


def test_board_rules_are_database_constraints(tree, make_post):
    post = make_post()
    for fields in (
        {"status": "hidden"},  # hidden without a time and a reason
        {"status": "hidden", "hidden_at": timezone.now()},  # without a reason
        {"status": "answered"},  # without an answer
        {"answer": "好的"},  # an answer without its time
        {"status": "resolved"},  # without a time
        {"status": "deleted"},
        {"kind": "rant"},
        {"body": ""},
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            BoardPost.objects.filter(pk=post.pk).update(**fields)


def test_comment_rules_are_database_constraints(tree, notice):
    c = comment(notice, tree.member.user)
    for fields in ({"body": ""}, {"hidden_at": timezone.now()}):
        with pytest.raises(IntegrityError), transaction.atomic():
            Comment.objects.filter(pk=c.pk).update(**fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        Comment.objects.filter(pk=c.pk).update(parent=c)
    with pytest.raises(IntegrityError), transaction.atomic():
        Comment.objects.create(
            content_type=c.content_type,
            object_id=notice.pk,
            organization=tree.branch,
            author=c.author,
            body="同一个提交",
            client_token=c.client_token,
        )


# --- the board -------------------------------------------------------------------------------------


def post(tree, author=None, org=None, **kw):
    kw.setdefault("kind", "question")
    kw.setdefault("body", "宿舍的网络什么时候能修好？")
    kw.setdefault("anonymous", False)
    return services.board_post_create(
        organization=org or tree.branch, author=author or tree.member.user, **kw
    )


def test_members_post_on_their_boards(tree):
    p = post(tree)
    assert (p.status, p.organization, p.kind) == ("open", tree.branch, "question")
    assert ActivityFact.objects.filter(member=tree.member, kind="posted").exists()
    joint = post(tree, author=tree.participant.user, org=tree.joint)  # taking part there
    assert joint.organization == tree.joint


@pytest.mark.parametrize(
    ("who", "org"),
    [
        ("sibling_member", "branch"),  # another branch
        ("member", "sibling"),
        ("member", "company"),  # a parent is not "their" board
        ("outsider", "branch"),
        ("reviewer", "branch"),  # managers answer, members write
    ],
)
def test_nobody_posts_on_a_board_that_is_not_theirs(tree, who, org):
    author = getattr(tree, who)
    author = getattr(author, "user", author)
    with pytest.raises(PermissionDenied):
        post(tree, author=author, org=getattr(tree, org))


def test_post_validation(tree, settings):
    with pytest.raises(ValidationError):
        post(tree, kind="rant")
    with pytest.raises(ValidationError):
        post(tree, body="   ")
    settings.NETBRANCH_BOARD_POST_MAX_LENGTH = 5
    with pytest.raises(ValidationError):
        post(tree, body="一二三四五六")


def test_a_double_submitted_post_is_one_row(tree):
    token = uuid.uuid4()
    assert post(tree, client_token=token).pk == post(tree, client_token=token).pk
    assert BoardPost.objects.count() == 1


def test_answering_notifies_the_author_once(tree, django_capture_on_commit_callbacks):
    p = post(tree, body="夜班的饭菜能不能热一下？")
    with django_capture_on_commit_callbacks(execute=True):
        answered = services.board_post_answer(post=p, by=tree.secretary, answer="已和食堂沟通。")
    assert answered.status == "answered" and answered.answered_by == tree.secretary
    assert answered.answered_at is not None
    event = Event.objects.get(kind="board_answered")
    assert event.target == answered
    inbox = Notification.objects.filter(recipient=tree.member.user, event=event)
    assert inbox.count() == 1
    assert not Notification.objects.exclude(recipient=tree.member.user).exists()
    with django_capture_on_commit_callbacks(execute=True):
        services.board_post_answer(post=p, by=tree.secretary, answer="已和食堂沟通，明天起加热。")
    assert Event.objects.filter(kind="board_answered").count() == 1  # a correction is quiet
    assert BoardPost.objects.get(pk=p.pk).answer == "已和食堂沟通，明天起加热。"


@pytest.mark.parametrize("who", ["member", "office", "secretary2", "sibling_member"])
def test_members_and_other_secretaries_cannot_answer(tree, who):
    p = post(tree)
    by = getattr(tree, who)
    by = getattr(by, "user", by)
    with pytest.raises(PermissionDenied):
        services.board_post_answer(post=p, by=by, answer="我来回答")
    with pytest.raises(PermissionDenied):
        services.board_post_hide(post=p, by=by, reason="不想看到")
    assert BoardPost.objects.get(pk=p.pk).status == "open"


def test_resolving(tree):
    p = post(tree)
    with pytest.raises(PermissionDenied):
        services.board_post_resolve(post=p, by=tree.office.user)
    with pytest.raises(PermissionDenied):
        services.board_post_resolve(post=p, by=tree.secretary2)
    mine = services.board_post_resolve(post=p, by=tree.member.user)  # the author may
    assert mine.status == "resolved" and mine.resolved_at is not None
    q = post(tree, body="第二个问题")
    assert services.board_post_resolve(post=q, by=tree.secretary).status == "resolved"


def test_hiding_needs_a_reason_and_ends_answers(tree):
    p = post(tree)
    with pytest.raises(ValidationError):
        services.board_post_hide(post=p, by=tree.secretary, reason="")
    hidden = services.board_post_hide(post=p, by=tree.secretary, reason="涉及个人隐私")
    assert (hidden.status, hidden.hidden_reason, hidden.hidden_by) == (
        "hidden",
        "涉及个人隐私",
        tree.secretary,
    )
    with pytest.raises(ValidationError):
        services.board_post_answer(post=p, by=tree.secretary, answer="回复")
    with pytest.raises(ValidationError):
        services.board_post_resolve(post=p, by=tree.secretary)
