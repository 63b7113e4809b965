"""Demo notices of every kind at every level of the tree, readers, e-mail choices, and the
inbox rows their publication fans out to. `bulk` adds notices in proportion."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType

from notifications import services
from notifications.models import EmailPreference, Event, Notice, NoticeRead

from . import BATCH, DemoContext, batched

User = get_user_model()
Kind = Notice.Kind

# (key, organisation key, author username, kind, title, summary, body paragraphs, days ago,
#  pinned, categories (None: everyone), published)
NOTICES = (
    ("dem_review", "group", "reviewer", Kind.NOTICE, "关于开展2026年度民主评议党员工作的通知",
     "各基层党支部于12月20日前完成民主评议，结果报集团党委党建工作部。",
     ["各公司党委、机关党总支，各基层党支部：",
      "根据《中国共产党党员教育管理工作条例》，集团党委决定在全系统开展2026年度民主评议党员工作。",
      "一、时间安排：12月1日至12月20日。边远项目部可通过网络党支部在线开展自评和互评，网络不通的项目部由支部书记带纸质材料进场。",
      "二、工作要求：各支部要逐一对照党员标准，认真开展批评与自我批评，评议结果于12月25日前报送。"],
     6, True, None, True),
    ("q3_disclosure", "group", "reviewer", Kind.DISCLOSURE, "集团2026年第三季度经营情况公开",
     "新签合同额、营业收入和安全生产情况向全体党员公开。",
     ["根据企务公开制度，现将集团2026年第三季度主要经营情况公开如下：",
      "新签合同额同比增长12%，其中高原铁路、公路项目占比四成；营业收入稳步增长；第三季度未发生较大及以上安全生产事故。",
      "对公开内容有疑问或建议的，可在支部留言板留言，党建工作部将统一答复。"],
     12, False, None, True),
    ("net_news", "group", "reviewer", Kind.NEWS, "集团党委召开“支部建在网上”工作推进会",
     "五星党支部代表分享联合党支部和流动党支部的网上组织生活经验。",
     ["11月18日，集团党委在成都召开“支部建在网上、党员连在线上”工作推进会。",
      "青藏片区联合党支部、康定隧道项目部党支部等五星党支部代表分享了经验：会前在网上发布通知，会后在线分享心得体会，网络不通的项目部带纸质学习包进场。"],
     9, False, None, True),
    ("c1_award", "c1", "reviewer", Kind.DECISION, "一公司党委关于表彰2026年度优秀共产党员的决定",
     "表彰在川藏铁路、青藏片区项目建设中表现突出的12名优秀共产党员。",
     ["经支部推荐、公司党委审定，决定授予陈国华等12名同志“优秀共产党员”称号。",
      "希望受表彰的同志珍惜荣誉，在高原项目建设中继续发挥先锋模范作用。"],
     20, False, None, True),
    ("c1_winter", "c1", "reviewer", Kind.NOTICE, "关于做好高原冬季施工安全工作的通知",
     "进入冬季，高海拔项目要落实防寒、防缺氧、防一氧化碳中毒措施。",
     ["各项目部党支部：",
      "高原地区已进入冬季施工期。请党员带头落实防寒保暖、防缺氧和防一氧化碳中毒措施，关心一线职工和家属的生活。",
      "网络不通的项目部，请支部书记进场时将本通知传达到每一名党员。"],
     3, True, ["front_line", "remote"], True),
    ("joint_day", "c1_joint", "secretary", Kind.NOTICE, "青藏联合支部十二月主题党日安排",
     "12月15日在西宁项目部现场开展，那曲、格尔木的党员在线参加。",
     ["联合支部全体党员：",
      "12月主题党日定于12月15日（周一）上午10:00在西宁综合管廊项目部会议室开展，主题为“学习党章党规，争当高原先锋”。",
      "格尔木项目部党员在线参加；那曲项目部暂无网络，由支部书记12月10日进场时送达学习材料，会后收回心得体会。"],
     2, True, None, True),
    ("naqu_news", "c1_joint", "secretary", Kind.NEWS, "那曲项目部党员突击队完成冬季保暖物资配送",
     "海拔4600米的那曲项目部党员突击队为当地小学送去过冬物资。",
     ["11月下旬，那曲物流园区项目部党员突击队冒着严寒，把200套冬衣和一批学习用品送到附近的乡村小学。",
      "项目部没有网络信号，活动照片由支部书记带回西宁后上传。"],
     5, False, None, True),
    ("sctr_dues", "c1_sctr", "secretary2", Kind.NOTICE, "康定隧道项目部党支部关于按时缴纳党费的通知",
     "请全体党员于本月25日前缴纳第四季度党费。",
     ["支部全体党员：请于本月25日前通过组织委员缴纳第四季度党费，进洞作业的同志可委托班组长代交。"],
     4, False, None, True),
    ("joint_draft", "c1_joint", "secretary", Kind.NOTICE, "关于推选支部委员候选人的通知（草稿）",
     "", ["支部委员会任期即将届满，拟于明年一月进行换届选举。（草稿，待支委会讨论后发布。）"],
     0, False, None, False),
)  # fmt: skip


def _body(paragraphs: list[str]) -> str:
    return "".join(f"<p>{p}</p>" for p in paragraphs)


def seed(ctx: DemoContext) -> None:
    # E-mail choices: the named demo accounts get each notification at once (so that a notice
    # published in the admin shows in the console mail); the generated members a mix.
    rng = ctx.rng("notifications-email")
    for username, member in ctx.members.items():
        if EmailPreference.objects.filter(user_id=member.user_id).exists():
            continue
        if username in {"member", "secretary", "secretary2", "reviewer"}:
            mode = EmailPreference.Mode.IMMEDIATE
        elif username == "office":
            mode = EmailPreference.Mode.DIGEST
        else:
            mode = rng.choice(
                [
                    EmailPreference.Mode.IMMEDIATE,
                    EmailPreference.Mode.DIGEST,
                    EmailPreference.Mode.OFF,
                ]
            )
        services.email_preference_set(user=member.user, mode=mode)

    notice_type = ContentType.objects.get_for_model(Notice)
    users = {u.username: u for u in User.objects.filter(username__in={spec[2] for spec in NOTICES})}
    notices = {}
    for (
        key,
        org_key,
        author,
        kind,
        title,
        summary,
        body,
        days,
        pinned,
        categories,
        published,
    ) in NOTICES:
        org = ctx.orgs[org_key]
        notice = Notice.objects.filter(organization=org, title=title).first()
        if notice is None:
            flags = {"for_office": True, "for_front_line": True, "for_remote": True}
            if categories:
                flags = {f"for_{c}": (c in categories) for c in ("office", "front_line", "remote")}
            notice = services.notice_create(
                by=users[author],
                organization=org,
                kind=kind,
                title=title,
                summary=summary,
                body=_body(body),
                pinned=pinned,
                **flags,
            )
            if published:
                notice = services.notice_publish(notice=notice, by=users[author])
                # Backdate: the demo's notices were published over the last weeks.
                at = ctx.days_ago(days) - timedelta(hours=3)
                Notice.objects.filter(pk=notice.pk).update(published_at=at)
                Event.objects.filter(target_type=notice_type, target_id=notice.pk).update(
                    created_at=at
                )
                notice.published_at = at
            ctx.count("notices")
        notices[key] = notice
    ctx.bulk["notices"] = notices

    # Readers: most have read the older notices, few the newest; `member` has read two.
    reads = []
    rng = ctx.rng("notifications-reads")
    for key, notice in notices.items():
        if not notice.is_published:
            continue
        share = 0.2 if key in {"joint_day", "c1_winter"} else 0.7
        for username, member in ctx.members.items():
            if username == "member":
                continue
            if rng.random() < share:
                reads.append(
                    NoticeRead(
                        notice=notice,
                        user_id=member.user_id,
                        read_at=notice.published_at + timedelta(hours=rng.randint(1, 48)),
                    )
                )
    if "member" in ctx.members:
        for key in ("q3_disclosure", "net_news"):
            reads.append(NoticeRead(notice=notices[key], user_id=ctx.members["member"].user_id))
    NoticeRead.objects.bulk_create(reads, ignore_conflicts=True, batch_size=BATCH)


def bulk(ctx: DemoContext, *, members: int) -> None:
    """One published notice per bulk company committee, to its subtree (no fan-out here: the
    fan-out has its own benchmark, tests/bench/fanout.py)."""
    from branches.models import Organization

    root = ctx.orgs["group"]
    companies = list(
        Organization.objects.filter(
            path__startswith=root.path, kind=Organization.Kind.COMMITTEE, depth__gte=3
        )
        .exclude(notices__title__startswith="【批量】")
        .values_list("pk", "name")
    )
    if not companies:
        return
    now = ctx.now
    rows = (
        Notice(
            organization_id=pk,
            kind=Kind.NOTICE,
            title=f"【批量】{name}关于做好年终党建工作的通知",
            body="<p>请各支部按时完成年终党建工作总结。</p>",
            status=Notice.Status.PUBLISHED,
            published_at=now - timedelta(days=i % 30),
        )
        for i, (pk, name) in enumerate(companies)
    )
    for chunk in batched(rows):
        Notice.objects.bulk_create(chunk)
        ctx.count("notices", len(chunk))
