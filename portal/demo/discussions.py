"""Demo board posts, comments and likes.

Small demo: a lively board in the joint branch (青藏联合支部, where `member` and `secretary`
are) and in the Kangding tunnel branch (`secretary2`): questions the secretary answered,
suggestions, an anonymous post, a resolved one and a hidden one with its reason; comments,
replies and likes on them and on the published notices (if `portal.demo.notifications` made
any). Everything goes through the services with deterministic client tokens, so that running
it again finds its rows (a double submit) and creates nothing. Rows are then dated back over
the last weeks, and the "posted" activity facts with them.

Bulk: posts on the bulk branches' boards (about one per 25 members), some answered by the
branch secretary, with comments and likes, inserted with `bulk_create`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from django.contrib.contenttypes.models import ContentType
from django.core.management.base import CommandError
from django.db.models import Max

from branches.models import RoleAssignment
from discussions import services
from discussions.models import BoardPost, Comment, Like
from members.models import ActivityFact, Member

from . import BATCH, DemoContext, batched
from .members import BULK_USERNAMES, bulk_members

NAMESPACE = uuid.UUID("6f1c1a2e-4b1e-4d52-9a59-2f3e5b0d7c11")


def token(key: str) -> uuid.UUID:
    """The client token of a demo row: the same on every run, so a re-run is a double submit."""
    return uuid.uuid5(NAMESPACE, key)


@dataclass
class Reply:
    author: str  # username, or "@N" for the N-th active member of the board
    body: str


@dataclass
class Post:
    key: str
    author: str
    kind: str
    body: str
    days_ago: float
    anonymous: bool = False
    answer: str = ""
    resolved: bool = False
    hidden: str = ""  # the reason
    comments: list[tuple[str, str, list[Reply]]] = field(default_factory=list)
    likes: int = 0


JOINT = (
    Post(
        "joint-offline", "member", "question",
        "那曲项目部没有网络信号，每月的线上组织生活我只能等到去镇上办事时再补学。"
        "这样补学算不算参加了组织生活？",
        days_ago=24,
        answer="算。支部对没有信号的项目部实行“离线学习、事后补签”：学习资料提前下载到手机，"
        "回到有信号的地方后在平台上补签，我会在台账里注明。也欢迎把学习心得拍照发上来。",
        resolved=True,
        comments=[
            ("@1", "格尔木这边信号时有时无，也用这个办法，很方便。", [
                Reply("member", "谢谢，下次下山前我先把资料下好。"),
            ]),
        ],
        likes=6,
    ),
    Post(
        "joint-video", "@1", "suggestion",
        "建议把党课视频压缩成小文件，或者配一份图文稿。格尔木这边每月流量不够用，"
        "一个视频就要几百兆。",
        days_ago=18,
        answer="已请宣传委员把视频转成标清版，同时上传图文稿，下周起执行。",
        comments=[
            ("@2", "赞成，图文稿在工地休息时看最方便。", []),
            ("secretary", "图文稿会放在每节课的附件里，可以离线阅读。", []),
        ],
        likes=8,
    ),
    Post(
        "joint-flex", "@3", "view",
        "有些项目部的学习任务正好赶上施工高峰，希望学习计划能按季度弹性安排，"
        "只要季度内完成就行。",
        days_ago=9,
        anonymous=True,
        comments=[
            ("@4", "同感，浇筑混凝土那几天确实顾不上。", []),
        ],
        likes=5,
    ),
    Post(
        "joint-dues", "~elsewhere", "question",
        "我的组织关系在康定隧道支部，平时参加联合支部的活动，党费应该交到哪边？",
        days_ago=6,
        answer="党费交到组织关系所在的支部，也就是康定隧道项目部党支部；"
        "联合支部组织大家学习和活动，不收党费。",
        likes=2,
    ),
    Post(
        "joint-micro", "@2", "view",
        "在西宁项目部看了《党员应知应会》微党课，二十分钟讲清楚，很实用，建议多出这样的短课。",
        days_ago=3,
        comments=[
            ("@1", "这个好，图片多，文字少。", []),
            ("member", "下载下来在那曲也能看。", []),
        ],
        likes=4,
    ),
    Post(
        "joint-ad", "@4", "view",
        "出售九成新越野车一辆，跑过青藏线，有意者私聊 139****2207。",
        days_ago=2,
        hidden="与支部工作无关，且含有个人联系方式。",
    ),
)  # fmt: skip

KANGDING = (
    Post(
        "kd-shifts", "@1", "question",
        "隧道进口工区三班倒，主题党日都安排在白天，夜班的同志参加不了。能不能分两场开？",
        days_ago=20,
        answer="可以。从本月起主题党日分两场：白班后一场、夜班前一场，内容相同，签到任选一场。",
        resolved=True,
        comments=[
            ("@2", "太好了，夜班的同志终于能参加了。", [
                Reply("secretary2", "第一场定在本周四18:30，在项目部会议室。"),
            ]),
        ],
        likes=9,
    ),
    Post(
        "kd-tablet", "@3", "suggestion",
        "建议在隧道口值班室放一台能连网的平板，没带手机或手机没电的时候也能学习、签到。",
        days_ago=12,
        answer="已向项目部申请，物资设备部本月配发两台，放在进口、出口值班室。",
        likes=7,
    ),
    Post(
        "kd-probation", "@4", "question",
        "我是预备党员，明年转正，转正前需要准备哪些材料？找谁交？",
        days_ago=8,
        anonymous=True,
        answer="转正前一个月向支部提交书面转正申请，附一年来的思想汇报；"
        "入党介绍人和支委会会找你谈话。有疑问可以直接找组织委员。",
        likes=3,
    ),
    Post(
        "kd-safety", "@5", "view",
        "上周的党课把高原隧道施工安全和党员先锋岗结合起来讲，大家听得进去，希望多搞。",
        days_ago=4,
        comments=[
            ("@6", "是的，案例都是身边的事。", []),
        ],
        likes=5,
    ),
    Post(
        "kd-ticket", "@6", "view",
        "转让一张下周五成都到康定的大巴票，有需要的联系我。",
        days_ago=1,
        hidden="与支部工作无关，请发到项目部生活群。",
    ),
)  # fmt: skip

NOTICE_COMMENTS = (
    "认真学习，坚决落实。",
    "收到，会按时参加。",
    "工地上信号不好，下班后补学。",
    "内容很实在，支持！",
    "建议把附件也做成手机上好看的格式。",
    "已转发到项目部学习群。",
)
SECRETARY_REPLIES = (
    "谢谢大家的支持，有问题随时在留言板提。",
    "好的，有困难及时跟支部说。",
    "补学的同志记得在平台补签。",
)


def seed(ctx: DemoContext) -> None:
    touched: set[int] = set()
    _board(ctx, "c1_joint", "secretary", JOINT, touched)
    _board(ctx, "c1_sctr", "secretary2", KANGDING, touched)
    _notices(ctx, touched)
    _redate_activity(touched)


def _active_members(ctx: DemoContext, org_key: str, exclude: set[str]) -> list[Member]:
    """Active generated members registered in or taking part in the organisation, in a
    stable order."""
    from members.selectors import members_of_organizations

    usernames = set(
        members_of_organizations(organizations=[ctx.orgs[org_key]], subtree=False)
        .filter(contact_status=Member.ContactStatus.ACTIVE, user__username__startswith="demo")
        .values_list("user__username", flat=True)
    )
    return [ctx.members[u] for u in sorted(usernames - exclude) if u in ctx.members]


def _board(ctx: DemoContext, org_key: str, secretary: str, posts, touched: set[int]) -> None:
    organization = ctx.orgs[org_key]
    secretary_user = ctx.members[secretary].user
    cast = _active_members(ctx, org_key, exclude={"member", "secretary", "secretary2"})

    if not cast:
        return

    def who(name: str):
        if name == "~elsewhere":  # someone registered elsewhere who takes part here
            found = [m for m in cast if m.branch_id != organization.pk]
            return (found or cast)[0].user
        if name.startswith("@"):
            return cast[(int(name[1:]) - 1) % len(cast)].user
        return ctx.members[name].user

    rng = ctx.rng(f"discussions-{org_key}")
    latest = ctx.now - timedelta(minutes=10)
    for spec in posts:
        author = who(spec.author)
        created_at = ctx.days_ago(spec.days_ago) - timedelta(minutes=rng.randint(0, 600))
        post = _post(ctx, spec, organization, author, created_at, touched)
        if spec.answer:
            services.board_post_answer(post=post, by=secretary_user, answer=spec.answer)
            BoardPost.objects.filter(pk=post.pk, answered_at__gt=created_at).update(
                answered_at=created_at + timedelta(hours=rng.randint(3, 30))
            )
        if spec.resolved:
            services.board_post_resolve(post=post, by=secretary_user)
            BoardPost.objects.filter(pk=post.pk).update(resolved_at=created_at + timedelta(days=2))
        if spec.hidden:
            services.board_post_hide(post=post, by=secretary_user, reason=spec.hidden)
            BoardPost.objects.filter(pk=post.pk).update(hidden_at=created_at + timedelta(hours=2))
        at = created_at
        for n, (commenter, body, replies) in enumerate(spec.comments):
            at += timedelta(hours=rng.randint(1, 20))
            top = _comment(ctx, f"{spec.key}-c{n}", post, who(commenter), body, min(at, latest),
                           touched)  # fmt: skip
            for m, reply in enumerate(replies):
                at += timedelta(hours=rng.randint(1, 8))
                _comment(ctx, f"{spec.key}-c{n}-r{m}", post, who(reply.author), reply.body,
                         min(at, latest), touched, parent=top)  # fmt: skip
        likers = [author, secretary_user, *(m.user for m in cast)]
        for user in likers[1 : spec.likes + 1]:
            _like(ctx, post, user)


def _post(ctx, spec: Post, organization, author, created_at, touched) -> BoardPost:
    key = token(f"board:{spec.key}")
    existing = BoardPost.objects.filter(author=author, client_token=key).first()
    if existing is not None:
        return existing
    post = services.board_post_create(
        organization=organization,
        author=author,
        kind=spec.kind,
        body=spec.body,
        anonymous=spec.anonymous,
        client_token=key,
    )
    # Dated back: the rate limit counts the last minute only, so the next one goes through.
    BoardPost.objects.filter(pk=post.pk).update(created_at=created_at)
    post.created_at = created_at
    _redate_last_fact(author, created_at, touched)
    ctx.count("board posts")
    return post


def _comment(ctx, key: str, target, author, body: str, at, touched, parent=None) -> Comment:
    client_token = token(f"comment:{key}")
    existing = Comment.objects.filter(author=author, client_token=client_token).first()
    if existing is not None:
        return existing
    comment = services.comment_create(
        target=target, author=author, body=body, parent=parent, client_token=client_token
    )
    Comment.objects.filter(pk=comment.pk).update(created_at=at)
    _redate_last_fact(author, at, touched)
    ctx.count("comments")
    return comment


def _like(ctx, target, user) -> None:
    content_type = ContentType.objects.get_for_model(target)
    if Like.objects.filter(content_type=content_type, object_id=target.pk, user=user).exists():
        return
    services.like_toggle(target=target, user=user, want=True)
    ctx.count("likes")


def _redate_last_fact(user, at, touched: set[int]) -> None:
    """The service dates the "posted" fact now; the demo's posts were written earlier."""
    member = Member.objects.filter(user=user).values_list("pk", flat=True).first()
    if member is None:
        return
    fact = (
        ActivityFact.objects.filter(member_id=member, kind=ActivityFact.Kind.POSTED)
        .order_by("-id")
        .values_list("pk", flat=True)
        .first()
    )
    if fact is not None:
        ActivityFact.objects.filter(pk=fact).update(occurred_at=at)
    touched.add(member)


def _redate_activity(touched: set[int]) -> None:
    """`last_active_at` back to the member's latest fact after the facts were dated back."""
    for member_id in touched:
        latest = ActivityFact.objects.filter(member_id=member_id).aggregate(at=Max("occurred_at"))
        Member.objects.filter(pk=member_id).update(last_active_at=latest["at"])


def _notices(ctx: DemoContext, touched: set[int]) -> None:
    """Comments, replies and likes on the newest published notices that members can see."""
    from notifications.models import Notice
    from notifications.selectors import notice_visible_to

    notices = list(
        Notice.objects.filter(status=Notice.Status.PUBLISHED)
        .select_related("organization")
        .order_by("-published_at", "-id")[:8]
    )
    if not notices:
        return
    people = [ctx.members[u] for u in ("member", "office", "secretary", "secretary2")]
    people += [
        m
        for u, m in sorted(ctx.members.items())
        if u.startswith("demo") and m.contact_status == Member.ContactStatus.ACTIVE
    ][:40]
    rng = ctx.rng("discussions-notices")
    latest = ctx.now - timedelta(minutes=10)  # written before the run: outside the rate window
    for notice in notices:
        readers = [m for m in people if notice_visible_to(m.user, notice)]
        if not readers:
            continue
        at = max(notice.published_at, ctx.days_ago(30))
        commenters = rng.sample(readers, min(len(readers), rng.randint(1, 4)))
        for n, member in enumerate(commenters):
            at += timedelta(hours=rng.randint(1, 12))
            body = NOTICE_COMMENTS[(notice.pk + n) % len(NOTICE_COMMENTS)]
            top = _comment(ctx, f"notice-{notice.pk}-c{n}", notice, member.user, body,
                           min(at, latest), touched)  # fmt: skip
            if n == 0:
                moderator = next(
                    (m for m in readers if m.user.username.startswith("secretary")), None
                )
                if moderator is not None and moderator.user != member.user:
                    reply = SECRETARY_REPLIES[notice.pk % len(SECRETARY_REPLIES)]
                    _comment(ctx, f"notice-{notice.pk}-c0-r0", notice, moderator.user, reply,
                             min(at + timedelta(hours=2), latest), touched, parent=top)  # fmt: skip
            for liker in rng.sample(readers, min(len(readers), rng.randint(0, 3))):
                _like(ctx, top, liker.user)
        for liker in rng.sample(readers, min(len(readers), rng.randint(2, 8))):
            _like(ctx, notice, liker.user)


# --------------------------------------------------------------------------------------------
# Bulk
# --------------------------------------------------------------------------------------------

POSTS_PER_MEMBER = 1 / 25
BULK_BODIES = (
    ("question", "项目部什么时候组织下一次党课？"),
    ("question", "流动到新工地后，组织关系要不要转？"),
    ("suggestion", "建议学习资料多配图，少用大段文字。"),
    ("suggestion", "希望主题党日能和安全生产活动结合起来。"),
    ("view", "这个月的微党课讲得很好，贴近工地实际。"),
    ("view", "支部给困难职工送温暖，大家都很感动。"),
)
BULK_ANSWERS = (
    "已安排，请关注通知。",
    "按规定办理，有问题找组织委员。",
    "好建议，支委会研究后落实。",
)
BULK_COMMENTS = ("同意。", "我也有同样的问题。", "支持！", "谢谢书记的回复。")


def bulk(ctx: DemoContext, *, members: int) -> None:
    rows = bulk_members(ctx)  # (member id, branch id, category)
    expected = max(1, round(len(rows) * POSTS_PER_MEMBER)) if rows else 0
    present = BoardPost.objects.filter(author__username__regex=BULK_USERNAMES).count()
    if present:
        if present != expected:
            raise CommandError(
                f"The database already holds {present} bulk board posts, not {expected} "
                f"for --members {members}. Run `manage.py flush` to seed a different size."
            )
        ctx.log(f"bulk board posts: {present} already there")
        return
    if not expected:
        return

    users = dict(Member.objects.filter(pk__in=[r[0] for r in rows]).values_list("pk", "user_id"))
    by_branch: dict[int, list[int]] = {}
    for member_id, branch_id, _category in rows:
        if branch_id is not None:
            by_branch.setdefault(branch_id, []).append(users[member_id])
    secretaries = dict(
        RoleAssignment.objects.filter(
            organization_id__in=list(by_branch), role=RoleAssignment.Role.SECRETARY
        ).values_list("organization_id", "user_id")
    )
    rng = ctx.rng(f"discussions-bulk-{members}")
    branch_ids = sorted(by_branch)
    posts: list[BoardPost] = []
    for i in range(expected):
        branch_id = branch_ids[i % len(branch_ids)]
        author = rng.choice(by_branch[branch_id])
        kind, body = rng.choice(BULK_BODIES)
        created = ctx.days_ago(rng.uniform(0, 180))
        post = BoardPost(
            organization_id=branch_id,
            author_id=author,
            kind=kind,
            body=body,
            anonymous=rng.random() < 0.1,
            created_at=created,
            client_token=token(f"bulk-{members}-post-{i}"),
        )
        secretary = secretaries.get(branch_id)
        if secretary and rng.random() < 0.6:
            post.answer = rng.choice(BULK_ANSWERS)
            post.answered_by_id = secretary
            post.answered_at = min(created + timedelta(hours=rng.randint(2, 72)), ctx.now)
            post.status = BoardPost.Status.ANSWERED
            if rng.random() < 0.4:
                post.status = BoardPost.Status.RESOLVED
                post.resolved_at = post.answered_at
        posts.append(post)
    bar = ctx.progress(total=len(posts), desc="board posts")
    for chunk in batched(posts):
        BoardPost.objects.bulk_create(chunk, batch_size=BATCH)
        bar.update(len(chunk))
    bar.close()

    post_type = ContentType.objects.get_for_model(BoardPost)
    comments: list[Comment] = []
    likes: list[Like] = []
    for i, post in enumerate(posts):
        pool = by_branch[post.organization_id]
        for j in range(rng.choice((0, 0, 1, 2, 3))):
            comments.append(
                Comment(
                    content_type=post_type,
                    object_id=post.pk,
                    organization_id=post.organization_id,
                    author_id=rng.choice(pool),
                    body=rng.choice(BULK_COMMENTS),
                    created_at=min(post.created_at + timedelta(hours=j + 1), ctx.now),
                    client_token=token(f"bulk-{members}-comment-{i}-{j}"),
                )
            )
        for user_id in rng.sample(pool, min(len(pool), rng.randint(0, 5))):
            likes.append(Like(content_type=post_type, object_id=post.pk, user_id=user_id))
    for chunk in batched(comments):
        Comment.objects.bulk_create(chunk, batch_size=BATCH)
    for chunk in batched(likes):
        Like.objects.bulk_create(chunk, batch_size=BATCH, ignore_conflicts=True)
    ctx.count("board posts", len(posts))
    ctx.count("comments", len(comments))
    ctx.count("likes", len(likes))
