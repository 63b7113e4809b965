"""Demo service sync: a year of 微公益 activities across the branches (drawn photos, some not
cleared for showing; participants and their hours, money, goods, people helped), one joined to
the joint branch's next themed Party day, coming ones with sign-ups (`member` has not signed up
yet: that is theirs to try), one held two days ago waiting for `secretary` to record it, an
activity featured to the whole group by `reviewer`; and pairing help cases with follow-up
visits, `member` paired in two of them (one waiting for a visit, so the reminder has gone out),
and one handed over to a village committee after the Kashgar site closed. `bulk` adds done
activities in proportion to each bulk branch's size, with participants and timeline lines.

Natural keys: an activity by (organisation, title), a case by (organisation, name). All names,
villages and phone numbers are fictional (phones start with 100). Photos are drawn with Pillow
(`portal.demo.lessons.checked_picture`) and go through `core`'s checks like any upload.
"""

from __future__ import annotations

import uuid
from contextlib import suppress
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import CommandError

from branches.models import Organization, RoleAssignment, TimelineEntry
from branches.scope import subtree_q
from discussions.services import RateLimited, comment_create, like_toggle
from meetings.models import Meeting
from members.models import ActivityFact, Member
from members.selectors import members_of_organizations
from notifications.models import Event
from welfare import services
from welfare.models import PairingCase, WelfareActivity, WelfareParticipant

from . import BATCH, DemoContext, at_morning, batched
from .branches import BUREAU_SUFFIX, bulk_branches
from .lessons import checked_picture, minimal_pdf
from .members import bulk_members
from .names import fake_phone

Kind = WelfareActivity.Kind
COMMENT_NAMESPACE = uuid.UUID("2b0c8f3e-5b7a-4f55-9f0e-7d3b1c6a9e21")
PHOTO_SIZE = (720, 480)


@dataclass(frozen=True)
class ActivitySpec:
    key: str
    org: str  # key in ctx.orgs
    kind: str
    title: str
    days_ago: int  # negative: still to come
    place: str
    site: str | None  # key in ctx.sites
    description: str
    people: int = 0  # participants (members of the organisation)
    hours: float = 0
    money: int = 0
    goods: str = ""
    goods_value: int = 0
    helped: int = 0
    photos: tuple[tuple[str, str, bool], ...] = ()  # (scene, caption, cleared)
    places: int | None = None
    sign_ups: int = 0  # for coming ones
    themed_day: bool = False  # part of the organisation's next themed Party day
    record: bool = True  # a past one: recorded as done (False: waits for the secretary)
    member_takes_part: bool = False  # `member` among the participants


ACTIVITIES = (
    ActivitySpec(
        "schoolbags", "c1_joint", Kind.EDUCATION, "那曲镇达萨村小学“爱心书包”捐赠", 300, "达萨村小学", "naqu",
        "<p>联合支部党员自愿捐款，为达萨村小学60名学生每人送去一个书包和一套文具。</p>",
        people=8, hours=3, goods="书包60个、文具60套", goods_value=4800, helped=60,
        photos=(("book", "捐赠的书包和文具", True), ("snow", "党员和孩子们在校门口", False)),
        member_takes_part=True,
    ),
    ActivitySpec(
        "checkups", "c1_joint", Kind.CARE, "格尔木项目部职工家属高原健康体检", 240, "格尔木市人民医院", "golmud",
        "<p>请医院为来项目部探亲的职工家属做高原健康体检，讲解高原反应的预防。</p>",
        people=5, hours=4, money=3600, helped=25, photos=(("solar", "体检现场", False),),
    ),
    ActivitySpec(
        "cleanup", "c1_joint", Kind.VOLUNTEERING, "西宁城北区社区义务清扫", 180, "城北区朝阳街道", "xining",
        "<p>党员志愿者和社区一起清扫管廊施工沿线的街道，清理施工垃圾。</p>",
        people=9, hours=2.5, helped=0, photos=(("road", "清扫后的街道", True),),
    ),
    ActivitySpec(
        "quilts", "c1_joint", Kind.DONATION, "为那曲牧民送去过冬棉被", 90, "色尼区油恰乡", "naqu",
        "<p>入冬前，联合支部为项目部周边40户牧民送去棉被和米面油。那曲项目部没有网络，活动结束后在西宁补录。</p>",
        people=10, hours=5, goods="棉被40床、米面油40份", goods_value=12000, helped=40,
        photos=(("tent", "把棉被送到牧民的帐篷", True), ("snow", "和牧民一家合影", False)),
        member_takes_part=True,
    ),
    ActivitySpec(
        "warmth", "c1_joint", Kind.VISIT, "为那曲项目部周边牧民送温暖", -6, "色尼区油恰乡", "naqu",
        "<p>主题党日的一项内容：走访项目部周边的困难牧民家庭，送去生活用品，了解他们的困难。</p>",
        places=12, sign_ups=7, themed_day=True,
    ),
    ActivitySpec(
        "trees", "c1_joint", Kind.VOLUNTEERING, "格尔木光伏电站周边义务植树", -20, "郭勒木德镇", "golmud",
        "<p>在光伏电站周边种植沙棘和红柳，防风固沙。自带手套，项目部提供工具和午餐。</p>",
        sign_ups=3,
    ),
    ActivitySpec(
        "safety_talk", "c1_joint", Kind.VOLUNTEERING, "西宁项目部“安全生产月”进社区宣讲", 2, "城北区朝阳社区", "xining",
        "<p>党员志愿者到社区讲解施工区域安全常识，发放宣传册。</p>",
        record=False, sign_ups=4,
    ),
    ActivitySpec(
        "bursary", "c1_sctr", Kind.EDUCATION, "康定隧道项目部农民工子女助学金发放", 200, "项目部会议室", "kangding",
        "<p>支部倡议设立助学金，为20名考上高中和大学的农民工子女发放助学金。</p>",
        people=6, hours=2, money=20000, helped=20, photos=(("meeting", "助学金发放仪式", True),),
    ),
    ActivitySpec(
        "quake", "c1_sctr", Kind.EMERGENCY, "泸定地震应急抢险支援", 150, "泸定县磨西镇", "kangding",
        "<p>地震发生后，支部组织党员突击队携带机械设备连夜赶赴灾区，抢通道路。</p>",
        people=12, hours=16, goods="挖掘机2台、装载机1台、帐篷10顶", goods_value=0, helped=300,
        photos=(("road", "抢通中的道路", True), ("workers", "党员突击队", True)),
    ),
    ActivitySpec(
        "blood", "c1_sctr", Kind.VOLUNTEERING, "康定城区无偿献血", -10, "康定市献血屋", "kangding",
        "<p>与市中心血站联合组织无偿献血，请提前一天报名，献血前一晚注意休息。</p>",
        places=30, sign_ups=9,
    ),
    ActivitySpec(
        "elders", "c2_yn", Kind.VISIT, "禄丰市敬老院重阳节慰问", 60, "禄丰市敬老院", "lufeng",
        "<p>重阳节前夕，支部党员到敬老院为老人们理发、打扫卫生，送去慰问品。</p>",
        people=7, hours=3, goods="牛奶、水果、保暖内衣", goods_value=2600, helped=45,
        photos=(("office", "敬老院里", False),),
    ),
    ActivitySpec(
        "coats", "c2_xj", Kind.DONATION, "若羌县瓦石峡镇小学冬衣捐赠", 75, "瓦石峡镇中心小学", "ruoqiang",
        "<p>为瓦石峡镇中心小学的孩子们捐赠冬衣和棉鞋。</p>",
        people=6, hours=2, goods="冬衣120件、棉鞋120双", goods_value=18000, helped=120,
        photos=(("sunrise", "捐赠现场", True),),
    ),
    ActivitySpec(
        "clinic", "c3_ys", Kind.CARE, "称多县牧区义诊", 100, "清水河镇", "yushu",
        "<p>联系玉树州人民医院的医生到牧区义诊，项目部提供车辆。</p>",
        people=5, hours=6, money=1500, helped=130, photos=(("mountains", "前往牧区的路上", True),),
    ),
    ActivitySpec(
        "families", "c3_ys", Kind.CARE, "通天河大桥项目部职工家属慰问", 30, "项目部职工之家", "yushu",
        "<p>春节前慰问在项目部过年的职工和来探亲的家属。</p>",
        people=4, hours=2, money=8000, helped=32,
    ),
    ActivitySpec(
        "leifeng", "c3_cy", Kind.VOLUNTEERING, "双流区社区“学雷锋”志愿服务", 260, "双流区东升街道", "chengdu",
        "<p>学雷锋纪念日，党员志愿者在社区义务维修家电、理发、量血压。</p>",
        people=11, hours=3, helped=90, photos=(("workers", "志愿服务现场", True),),
    ),
    ActivitySpec(
        "one_day", "hq1", Kind.DONATION, "集团机关“慈心一日捐”", 330, "集团机关", None,
        "<p>机关党员干部自愿捐出一天工资，用于资助青藏片区项目部周边的困难家庭。</p>",
        people=8, money=56800, helped=0,
    ),
    ActivitySpec(
        "winter", "c1_office", Kind.CARE, "一公司机关为青藏片区职工家属送温暖", 45, "一公司机关", None,
        "<p>机关支部为在青藏片区工作的职工家庭送去慰问信和慰问品。</p>",
        people=6, hours=1, goods="慰问品30份", goods_value=9000, helped=30,
    ),
)  # fmt: skip
#: (activity key, organisation key of the feature, by)
FEATURES = (("quilts", "group", "reviewer"), ("quake", "c1", "reviewer"))


@dataclass(frozen=True)
class CaseSpec:
    key: str
    org: str
    site: str | None
    kind: str  # household / person
    help_kind: str
    village: str
    name: str
    surname: str
    address: str
    household_size: int | None
    situation: str
    plan: str
    started_days_ago: int
    visits: tuple[tuple[int, str, str | None, bool], ...]  # (days ago, notes, photo scene, cleared)
    paired: tuple[str, ...] = ()  # demo usernames; "+N" for N more members of the branch
    handover: tuple | None = None  # (kind, to, contact, note): on the site's closing day


CASES = (
    CaseSpec(
        "dasa", "c1_joint", "naqu", "household", "education", "色尼区那曲镇达萨村", "次仁卓嘎", "次仁",
        "达萨村三组", 5,
        "丈夫因病去世，一人抚养三个孩子，两个在上小学。", "资助三个孩子的学习用品和校服，每两个月走访一次，帮忙联系镇上的临时工作。",
        300, (
            (290, "第一次走访，了解家庭情况，送去米面油和孩子的文具。", "tent", False),
            (230, "送去孩子们的校服，和班主任了解孩子的学习。", "book", True),
            (170, "帮忙联系了镇上保洁的临时工作。", None, False),
            (110, "大孩子期末考试进步了，送去奖励的书。", "book", True),
            (40, "入冬前送去棉衣和煤。", "snow", False),
        ), paired=("member", "+1"),
    ),
    CaseSpec(
        "youqia", "c1_joint", "naqu", "person", "elderly", "色尼区油恰乡", "多吉", "多吉",
        "油恰乡二村", 1,
        "独居老人，腿脚不便，子女在外地打工。", "每月电话问候，两个月上门一次，帮忙取药、打扫。",
        200, (
            (190, "上门认识老人，打扫了房子。", "tent", False),
            (130, "帮忙到乡卫生院取药。", None, False),
            (75, "送去过冬的酥油和茶砖。", "snow", True),
        ), paired=("member",),
    ),
    CaseSpec(
        "hongliu", "c1_joint", "golmud", "household", "livelihood", "格尔木市郭勒木德镇红柳村", "马文军", "",
        "红柳村六社", 4,
        "家中主要劳动力受伤，暂时不能外出务工。", "介绍到项目部做临时看护工作，帮助申请临时救助。",
        150, (
            (140, "第一次走访，了解伤情和家里的收入。", None, False),
            (80, "已在项目部做看护工作，收入稳定。", "solar", True),
            (20, "回访，伤已痊愈。", None, False),
        ), paired=("+2",),
    ),
    CaseSpec(
        "guza", "c1_sctr", "kangding", "person", "education", "康定市姑咱镇", "杨小兰", "",
        "姑咱镇中学", None,
        "高二学生，父母务农，家庭困难。", "每学期资助学费和生活费，党员一对一辅导数学。",
        240, (
            (230, "送去本学期的学费。", None, False),
            (120, "期中考试后和孩子谈心，辅导数学。", "book", True),
            (35, "送去下学期的生活费。", None, False),
        ), paired=("secretary2", "+1"),
    ),
    CaseSpec(
        "awati", "c2_xj", "kashgar", "household", "livelihood", "喀什市浩罕乡阿瓦提村", "阿不来提·吐尔逊", "阿不来提",
        "阿瓦提村四组", 6,
        "家中老人常年患病，孩子多，收入低。", "帮助发展庭院种植，资助老人看病，孩子上学。",
        900, (
            (880, "第一次走访，了解家庭情况。", None, False),
            (800, "送去果树苗，帮助发展庭院种植。", "sunrise", True),
            (720, "陪老人到乡卫生院看病。", None, False),
            (650, "果树挂果，帮忙联系收购。", "sunrise", True),
        ), paired=("+2",),
        handover=("village_committee", "浩罕乡阿瓦提村村民委员会", "村委会主任 买买提", "喀什项目完工撤场，帮扶移交村委会继续跟进，每季度电话回访。"),
    ),
    CaseSpec(
        "qingshuihe", "c3_ys", "yushu", "person", "health", "称多县清水河镇", "格桑拉姆", "格桑",
        "清水河镇扎麻村", 3,
        "先天性心脏病，需要手术。", "联系西宁的医院手术，资助部分费用，术后回访。",
        120, (
            (110, "联系好西宁的医院，陪同检查。", None, False),
            (60, "手术顺利，送去营养品。", "mountains", True),
        ), paired=("+1",),
    ),
)  # fmt: skip


# --------------------------------------------------------------------------------------------
# Small demo
# --------------------------------------------------------------------------------------------


def seed(ctx: DemoContext) -> None:
    activities = {spec.key: _activity(ctx, spec) for spec in ACTIVITIES}
    for key, org_key, username in FEATURES:
        services.activity_feature(
            activity=activities[key], organization=ctx.orgs[org_key], by=ctx.members[username].user
        )
    _discussion(ctx, activities)
    for spec in CASES:
        _case(ctx, spec)
    # The daily reminder, as the beat would send it today (once per case and period).
    sent = services.cases_send_follow_up_reminders(today=ctx.today)
    if sent:
        ctx.count("welfare reminders", sent)


def _secretary_of(ctx: DemoContext, org: Organization):
    """Who writes for the organisation: its secretary (the admin if it has none)."""
    assignment = (
        RoleAssignment.objects.filter(organization=org, role=RoleAssignment.Role.SECRETARY)
        .select_related("user")
        .first()
    )
    return assignment.user if assignment else ctx.admin


def _members(org: Organization, *, exclude=()) -> list[Member]:
    return list(
        members_of_organizations(organizations=[org])
        .filter(contact_status__in=[Member.ContactStatus.ACTIVE, Member.ContactStatus.AT_RISK])
        .exclude(user__username__in=list(exclude))
        .select_related("user")
        .order_by("pk")
    )


def _themed_day(ctx: DemoContext, org: Organization, by) -> Meeting:
    """The organisation's next themed Party day (the meetings demo's, when it ran; else one
    planned here)."""
    found = (
        Meeting.objects.filter(
            organization=org,
            kind=Meeting.Kind.THEMED_DAY,
            status=Meeting.Status.PLANNED,
            starts_at__gte=ctx.now,
        )
        .order_by("starts_at")
        .first()
    )
    if found is not None:
        return found
    from meetings import services as meeting_services

    starts = at_morning(ctx.today + timedelta(days=6)) + timedelta(hours=6)
    meeting = meeting_services.meeting_create(
        by=by, organization=org, kind=Meeting.Kind.THEMED_DAY,
        title="主题党日：“党旗飘扬在雪域高原”——重温入党誓词", starts_at=starts,
        ends_at=starts + timedelta(hours=3), place="那曲项目部会议室",
        agenda="<ol><li>面向党旗重温入党誓词</li><li>为那曲项目部周边牧民送温暖</li></ol>",
    )  # fmt: skip
    ctx.count("meetings")
    return meeting_services.meeting_publish(meeting=meeting, by=by)


def _activity(ctx: DemoContext, spec: ActivitySpec) -> WelfareActivity:
    org = ctx.orgs[spec.org]
    found = WelfareActivity.objects.filter(organization=org, title=spec.title).first()
    if found is not None:
        return found
    by = _secretary_of(ctx, org)
    held_on = ctx.today - timedelta(days=spec.days_ago)
    waiting = spec.days_ago >= 0 and not spec.record
    activity = services.activity_create(
        by=by, organization=org, kind=spec.kind, title=spec.title, description=spec.description,
        # One still to be recorded took its sign-ups before its date: it is moved back below.
        held_on=ctx.today + timedelta(days=1) if waiting else held_on, place=spec.place,
        places=spec.places,
        project_site=ctx.sites[spec.site] if spec.site else None,
        meeting=_themed_day(ctx, org, by) if spec.themed_day else None,
    )  # fmt: skip
    ctx.count("welfare activities")
    variant = sum(map(ord, spec.key))
    for n, (scene, caption, cleared) in enumerate(spec.photos):
        picture = checked_picture(
            scene, size=PHOTO_SIZE, variant=variant + n, name=f"{spec.key}.jpg"
        )
        services.photo_add(activity=activity, by=by, image=picture, caption=caption, cleared=cleared)  # fmt: skip
        ctx.count("welfare photos")
    rng = ctx.rng(f"welfare-{spec.key}")
    people = _members(org, exclude=("member",))
    if spec.days_ago < 0 or waiting:
        activity = services.activity_publish(activity=activity, by=by)
        for person in rng.sample(people, min(spec.sign_ups, len(people))):
            _sign_up(activity, person.user)
        if waiting:
            if "member" in ctx.members:  # `member` signed up for it
                _sign_up(activity, ctx.members["member"].user)
            announced = at_morning(held_on) - timedelta(days=8)
            WelfareActivity.objects.filter(pk=activity.pk).update(
                held_on=held_on, published_at=announced, created_at=announced
            )
            Event.objects.filter(
                kind="welfare_activity_published", target_id=activity.pk,
                target_type=ContentType.objects.get_for_model(WelfareActivity),
            ).update(created_at=announced)  # fmt: skip
            activity = WelfareActivity.objects.get(pk=activity.pk)
        return activity
    chosen = rng.sample(people, min(spec.people, len(people)))
    if spec.member_takes_part and "member" in ctx.members:
        chosen = [ctx.members["member"], *chosen[1:]]
    hours = Decimal(str(spec.hours))
    activity = services.activity_record_done(
        activity=activity, by=by, participants=[(m, hours) for m in chosen],
        money_yuan=Decimal(spec.money), goods=spec.goods, goods_value_yuan=Decimal(spec.goods_value),
        beneficiaries=spec.helped,
    )  # fmt: skip
    at = at_morning(held_on)
    WelfareActivity.objects.filter(pk=activity.pk).update(
        created_at=at - timedelta(days=10), published_at=at - timedelta(days=10),
        done_at=at + timedelta(hours=10), updated_at=at + timedelta(hours=10),
    )  # fmt: skip
    return WelfareActivity.objects.get(pk=activity.pk)


def _sign_up(activity: WelfareActivity, user) -> None:
    with suppress(ValidationError):  # full: the place went to someone else
        services.activity_sign_up(activity=activity, user=user)


def _discussion(ctx: DemoContext, activities: dict[str, WelfareActivity]) -> None:
    """Likes and a few comments on the joint branch's activities."""
    org = ctx.orgs["c1_joint"]
    people = _members(org)[:6]
    lines = (
        ("quilts", "那曲的冬天零下二十多度，这些棉被送得及时！"),
        ("quilts", "牧民阿妈拉着我们的手不放，很感动。"),
        ("schoolbags", "孩子们背上新书包的样子真好看。"),
    )
    for i, person in enumerate(people):
        for key in ("quilts", "schoolbags"):
            like_toggle(target=activities[key], user=person.user, want=True)
        if i < len(lines):
            key, body = lines[i]
            try:
                comment_create(
                    target=activities[key], author=person.user, body=body,
                    client_token=uuid.uuid5(COMMENT_NAMESPACE, f"{key}:{i}"),
                )  # fmt: skip
            except RateLimited:
                continue


def _case(ctx: DemoContext, spec: CaseSpec) -> PairingCase:
    org = ctx.orgs[spec.org]
    found = PairingCase.objects.filter(organization=org, name=spec.name).first()
    if found is not None:
        return found
    by = _secretary_of(ctx, org)
    rng = ctx.rng(f"welfare-case-{spec.key}")
    named = [ctx.members[u] for u in spec.paired if not u.startswith("+") and u in ctx.members]
    more = sum(int(u[1:]) for u in spec.paired if u.startswith("+"))
    others = [
        m for m in _members(org, exclude=("member", "secretary", "secretary2")) if m not in named
    ]
    paired = named + rng.sample(others, min(more, len(others)))
    started = ctx.today - timedelta(days=spec.started_days_ago)
    case = services.case_create(
        by=by, paired_members=paired, organization=org,
        project_site=ctx.sites[spec.site] if spec.site else None,
        beneficiary_kind=spec.kind, help_kind=spec.help_kind, village=spec.village, name=spec.name,
        surname=spec.surname, address=spec.address, phone=fake_phone(rng),
        household_size=spec.household_size, situation=spec.situation, plan=spec.plan,
        started_on=started,
    )  # fmt: skip
    ctx.count("pairing cases")
    variant = sum(map(ord, spec.key))
    for n, (days_ago, notes, scene, cleared) in enumerate(spec.visits):
        visitor = paired[n % len(paired)].user if paired else by
        photos = []
        if scene:
            photos = [
                checked_picture(scene, size=PHOTO_SIZE, variant=variant + n, name="visit.jpg")
            ]
        services.follow_up_add(
            case=case, by=visitor, visited_on=ctx.today - timedelta(days=days_ago), notes=notes,
            photos=photos, cleared=cleared,
        )  # fmt: skip
        ctx.count("follow-up visits")
    if spec.handover:
        kind, to, contact, note = spec.handover
        site = ctx.sites[spec.site]
        on = site.closed_on or ctx.today
        document = SimpleUploadedFile(
            "handover.pdf",
            minimal_pdf(("Pairing help handover", f"Case {spec.key}", f"Date: {on:%Y-%m-%d}")),
            content_type="application/pdf",
        )
        case = services.case_hand_over(
            case=case, by=by, to_kind=kind, to=to, contact=f"{contact} {fake_phone(rng)}", on=on,
            document=document, note=note,
        )  # fmt: skip
    PairingCase.objects.filter(pk=case.pk).update(created_at=at_morning(started))
    return case


# --------------------------------------------------------------------------------------------
# Bulk
# --------------------------------------------------------------------------------------------

BULK_TITLES = (
    (Kind.VISIT, "走访慰问项目部周边困难群众"),
    (Kind.VOLUNTEERING, "党员志愿服务进社区"),
    (Kind.DONATION, "“爱心一日捐”"),
    (Kind.EDUCATION, "助学帮困：走进村小"),
    (Kind.CARE, "慰问一线职工家属"),
)
MEMBERS_PER_ACTIVITY = 60  # a branch of 60 members does one activity in the year, of 120 two
PARTICIPANTS = 5


def bulk(ctx: DemoContext, *, members: int) -> None:
    """Done activities for every bulk registration branch, one per MEMBERS_PER_ACTIVITY
    members (at least one), over the past year, each with up to PARTICIPANTS participants and
    their hours, the "took part in a welfare activity" fact and a line on the branch
    timeline."""
    branches = bulk_branches(ctx)
    if not branches:
        return
    expected = sum(max(1, b.size // MEMBERS_PER_ACTIVITY) for b in branches)
    bureau_paths = list(
        Organization.objects.filter(depth=2, name__endswith=BUREAU_SUFFIX).values_list(
            "path", flat=True
        )
    )
    present = WelfareActivity.objects.filter(
        subtree_q(bureau_paths, prefix="organization__")
    ).count()
    if present:
        if present != expected:
            raise CommandError(
                f"The database already holds {present} bulk welfare activities, not {expected} "
                f"for --members {members}. Run `manage.py flush` to seed a different size."
            )
        ctx.log(f"bulk welfare activities: {present} already there")
        return

    rng = ctx.rng(f"welfare-bulk-{members}")
    by_branch: dict[int, list[int]] = {}
    for member_id, branch_id, _category in bulk_members(ctx):
        if branch_id is not None:
            by_branch.setdefault(branch_id, []).append(member_id)
    secretaries = {}
    ids = [b.id for b in branches]
    for chunk in batched(ids):
        secretaries.update(
            RoleAssignment.objects.filter(
                organization_id__in=chunk, role=RoleAssignment.Role.SECRETARY
            ).values_list("organization_id", "user_id")
        )
    activities: list[WelfareActivity] = []
    for branch in branches:
        for _ in range(max(1, branch.size // MEMBERS_PER_ACTIVITY)):
            kind, title = rng.choice(BULK_TITLES)
            held_on = ctx.today - timedelta(days=rng.randint(3, 360))
            at = at_morning(held_on)
            activities.append(
                WelfareActivity(
                    organization_id=branch.id, kind=kind, title=title, held_on=held_on,
                    project_site_id=rng.choice(branch.site_ids) if branch.site_ids else None,
                    status=WelfareActivity.Status.DONE, published_at=at - timedelta(days=7),
                    done_at=at + timedelta(hours=8), recorded_by_id=secretaries.get(branch.id),
                    created_by_id=secretaries.get(branch.id),
                    money_yuan=Decimal(rng.choice((0, 0, 500, 1000, 2000))),
                    goods_value_yuan=Decimal(0), beneficiaries=rng.randint(5, 80),
                    description=f"<p>{title}。</p>",
                )
            )  # fmt: skip
    bar = ctx.progress(total=len(activities), desc="welfare activities")
    for chunk in batched(activities):
        WelfareActivity.objects.bulk_create(chunk, batch_size=BATCH)
        bar.update(len(chunk))
    bar.close()
    participants, facts, entries = [], [], []
    for activity in activities:
        pool = by_branch.get(activity.organization_id, [])
        chosen = rng.sample(pool, min(PARTICIPANTS, len(pool)))
        at = at_morning(activity.held_on) + timedelta(hours=3)
        for member_id in chosen:
            participants.append(
                WelfareParticipant(
                    activity_id=activity.pk, member_id=member_id,
                    hours=Decimal(rng.choice(("1.0", "2.0", "2.5", "3.0", "4.0"))),
                )
            )  # fmt: skip
            facts.append(ActivityFact(member_id=member_id, kind=ActivityFact.Kind.SERVED, occurred_at=at))  # fmt: skip
        entries.append(
            TimelineEntry(
                organization_id=activity.organization_id, kind="welfare_activity_done",
                params={"title": activity.title}, url=activity.get_absolute_url(), occurred_at=at,
            )
        )  # fmt: skip
    for rows, model in ((participants, WelfareParticipant), (facts, ActivityFact), (entries, TimelineEntry)):  # fmt: skip
        for chunk in batched(rows):
            model.objects.bulk_create(chunk, batch_size=BATCH)
    ctx.count("welfare activities", len(activities))
    ctx.count("welfare participants", len(participants))
    ctx.count("timeline entries", len(entries))
