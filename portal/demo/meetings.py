"""Demo activity sync: a living year of 三会一课 and themed Party days.

Small demo: for four branches and three party groups, a year of held meetings at the cadence
of `NETBRANCH_MEETING_CADENCE` (monthly themed days and committee meetings, quarterly general
meetings and Party lessons, monthly party-group meetings), with attendance, leave and
confirmed minutes; the joint branch's meetings at the 那曲 site (no network) held offline and
entered afterwards with a photo of the paper sign-in sheet; 禄丰项目支部 behind on its cadence
(no themed day for two months, no Party lesson this quarter). Around today, for the demo
accounts: an online micro-lesson starting in a few minutes (sign-in is open), a themed day
next week and a committee meeting in two days (announced; `member` has not answered yet), a
draft Party lesson for `secretary` to announce, a meeting at 那曲 three days ago waiting to be
entered offline, held meetings whose minutes wait for confirmation, and a Party lesson with
reflections asked for, several written, none yet by `member`. One cancelled meeting.

Upcoming meetings go through `meetings.services` (their notices reach the inboxes). The
history is written directly, dated in the past: its notices, answers and sign-ins happened
before the demo began, and sending a year of notices now would bury the inbox. Natural key: a
meeting by (organisation, title, start).

Bulk (`--members N`): per bulk registration branch, three meetings held this quarter with
the attendance of its members and one announced for next week, all with `bulk_create`.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from io import BytesIO

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import CommandError
from django.utils import timezone

from branches.models import Organization, RoleAssignment
from branches.services import timeline_record
from core.uploads import validate_image
from lessons.models import Lesson
from meetings import selectors
from meetings import services as meeting_services
from meetings.models import Attendance, Meeting, Reflection
from members.models import Member

from . import BATCH, DemoContext, batched
from .branches import bulk_branches
from .members import bulk_members

User = get_user_model()
Kind = Meeting.Kind
Format = Meeting.Format
Status = Meeting.Status

# organisation key -> place, format, video link, whether its meetings at 那曲 are held offline
BRANCHES = {
    "c1_joint": ("青藏联合支部线上会议室（西宁项目部设主会场）", Format.BOTH, "https://meeting.tencent.com/dm/netbranch-joint", True),
    "c1_sctr": ("康定隧道项目部党员活动室", Format.ON_SITE, "", False),
    "c2_yn": ("禄丰项目部二楼会议室", Format.ON_SITE, "", False),
    "c3_cy": ("成都绕城项目部党员之家", Format.ON_SITE, "", False),
}  # fmt: skip
GROUPS = ("c1_sctr_g1", "c1_sctr_g2", "c2_yn_g1")
BEHIND = "c2_yn"  # behind on its cadence

THEMED_DAYS = (
    "重温入党誓词主题党日", "学习新修订的安全生产法主题党日", "“学雷锋”志愿服务主题党日",
    "清明祭英烈主题党日", "“五四”青年突击队授旗主题党日", "“安全生产月”隐患排查主题党日",
    "庆祝建党节主题党日", "高原环保主题党日：项目部周边垃圾清理", "“开学季”助学主题党日：走进村小",
    "国庆主题党日：观看《长津湖》", "“廉洁文化进工地”主题党日", "冬季施工安全承诺主题党日",
)  # fmt: skip
LESSON_TITLES = (
    "书记讲党课：在高原上践行初心使命", "党课：从党史中汲取奋进力量",
    "党课：严守纪律规矩，做清白干事的项目人", "党课：新时代产业工人的担当",
)  # fmt: skip
GENERAL_TITLES = (
    "党员大会：审议支部年度工作计划", "党员大会：讨论发展对象和预备党员转正",
    "党员大会：民主评议党员", "党员大会：半年工作总结",
)  # fmt: skip
COMMITTEE_TITLE = "支委会：研究{month}月支部工作"
GROUP_TITLE = "党小组会：{month}月学习交流"
LEAVE_REASONS = ("夜班倒休", "在格尔木项目部值守", "回内地探亲", "隧道掘进关键工序，不能离开", "身体不适，高原反应")  # fmt: skip
REFLECTIONS = (
    "听了书记讲的党课，很受触动。我们在那曲干活，条件确实苦，但想到老一辈建设者在更难的条件下修通了青藏线，"
    "我们这点困难不算什么。以后在安全巡查上要更细，不放过一个隐患。",
    "党课里讲到“把困难留给自己，把方便让给职工”，我想到我们班组新来的两个农民工兄弟，还不适应高原。"
    "这个月我主动带他们熟悉工地，帮他们办好了工资卡。",
    "以前觉得学习是完成任务，这次把党章的八项义务逐条对照了一遍，发现自己在“认真学习”上差距最大。"
    "给自己定个目标：每天在手机上学一课。",
    "作为预备党员，这是我第一次完整参加支部的党课。身边的老党员在隧道塌方抢险时冲在前面，这就是最好的党课。",
    "网络不好，视频断了几次，但支部把课件提前发到了手机上，离线也能看。建议以后每次党课都这样做。",
)  # fmt: skip
MINUTES = (
    "<p><strong>主持人：</strong>{host}　<strong>记录人：</strong>{recorder}</p>"
    "<p><strong>应到</strong> {expected} 人，<strong>实到</strong> {present} 人，请假 {leave} 人。</p>"
    "<h3>会议内容</h3><ol><li>传达学习上级党组织近期文件精神。</li>"
    "<li>{title}：与会党员逐一发言，结合本岗位谈认识、找差距。</li>"
    "<li>通报项目安全生产和进度情况，党员示范岗、责任区负责人汇报本月工作。</li></ol>"
    "<h3>会议决定</h3><p>各党小组于下周内组织讨论，落实到班组；请假党员由所在党小组组长负责补学。</p>"
)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def month_start(day: date, back: int) -> date:
    index = day.year * 12 + day.month - 1 - back
    return date(index // 12, index % 12 + 1, 1)


def _role_users(org: Organization) -> dict[str, int]:
    return dict(
        RoleAssignment.objects.filter(
            organization=org, role__in=RoleAssignment.BRANCH_COMMITTEE_ROLES
        ).values_list("role", "user_id")
    )


def seed(ctx: DemoContext) -> None:
    for key, (place, fmt, video, offline) in BRANCHES.items():
        org = ctx.orgs[key]
        roles = _role_users(org)
        host = roles.get(RoleAssignment.Role.SECRETARY)
        recorder = roles.get(RoleAssignment.Role.COMMITTEE_MEMBER) or roles.get(
            RoleAssignment.Role.DEPUTY_SECRETARY, host
        )
        for spec in _year_of(ctx, key):
            kind, title, starts = spec
            at_naqu = offline and kind == Kind.THEMED_DAY and starts.month % 3 == 0
            _history(
                ctx, org, kind=kind, title=title, starts=starts,
                place="那曲物流园区项目部会议室" if at_naqu else place,
                fmt=Format.ON_SITE if at_naqu else fmt, video="" if at_naqu else video,
                host=host, recorder=recorder, offline=at_naqu,
            )  # fmt: skip
    for key in GROUPS:
        org = ctx.orgs[key]
        leader = _role_users(Organization.objects.get_parent(org)).get(
            RoleAssignment.Role.SECRETARY
        )
        for back in range(11, -1, -1):
            month = month_start(ctx.today, back)
            day = ctx.rng(f"meetings-group-{key}-{month}").randint(19, 25)
            starts = at(month + timedelta(days=day), 19, 30)
            if starts >= ctx.now - timedelta(days=1):
                continue
            _history(
                ctx, org, kind=Kind.GROUP_MEETING,
                title=GROUP_TITLE.format(month=month.month), starts=starts,
                place="项目部职工之家", fmt=Format.ON_SITE, video="", host=leader, recorder=leader,
            )  # fmt: skip
    _around_today(ctx)


def _year_of(ctx: DemoContext, key: str):
    """(kind, title, start) of the held meetings of the last twelve months for a branch, at
    the cadence of the settings; the branch BEHIND misses some."""
    today = ctx.today
    for back in range(11, -1, -1):
        month = month_start(today, back)
        behind_now = key == BEHIND and back <= 1
        yield Kind.COMMITTEE_MEETING, COMMITTEE_TITLE.format(month=month.month), at(month + timedelta(days=4), 18, 30)  # fmt: skip
        if not behind_now:
            yield Kind.THEMED_DAY, THEMED_DAYS[month.month - 1], at(month + timedelta(days=14), 15)  # fmt: skip
        if month.month % 3 == 2:  # the middle month of each quarter
            quarter = (month.month - 1) // 3
            yield Kind.GENERAL_MEETING, GENERAL_TITLES[quarter], at(month + timedelta(days=9), 19)  # fmt: skip
            if not (key == BEHIND and back <= 2):
                yield Kind.PARTY_LESSON, LESSON_TITLES[quarter], at(month + timedelta(days=11), 19)  # fmt: skip


def _exists(org, title, starts) -> Meeting | None:
    return Meeting.objects.filter(organization=org, title=title, starts_at=starts).first()


def _history(ctx, org, *, kind, title, starts, place, fmt, video, host, recorder, offline=False, minutes=True):  # fmt: skip
    """A meeting held in the past, with its attendance and confirmed minutes (see the module
    docstring for why this is not written through the services)."""
    if starts > ctx.now - timedelta(days=2) or _exists(org, title, starts):
        return None
    people = User.objects.in_bulk([pk for pk in (host, recorder) if pk])
    rng = ctx.rng(f"meeting-{org.pk}-{title}-{starts.date()}")  # the same whatever ran before
    meeting = meeting_services.meeting_create(
        by=ctx.admin, organization=org, kind=kind, title=title, starts_at=starts,
        ends_at=starts + timedelta(hours=2), place=place, format=fmt, video_link=video,
        host=people.get(host), recorder=people.get(recorder),
        agenda=f"<ol><li>学习传达上级文件精神</li><li>{title}</li><li>其他事项</li></ol>",
    )  # fmt: skip
    expected = list(selectors.expected_attendees(meeting).values_list("pk", flat=True))
    rows, present, leave = [], 0, 0
    for user_id in expected:
        roll = rng.random()
        if roll < 0.8 or user_id in (host, recorder):
            present += 1
            if offline:
                via, by = Attendance.Via.RECORDED, recorder
            else:
                via, by = rng.choice((Attendance.Via.QR, Attendance.Via.QR, Attendance.Via.BUTTON)), None  # fmt: skip
            rows.append(Attendance(
                meeting=meeting, user_id=user_id, rsvp=Attendance.Rsvp.COMING,
                answered_at=starts - timedelta(days=2),
                signed_in_at=starts + timedelta(minutes=rng.randint(-15, 10)), via=via, recorded_by_id=by,
            ))  # fmt: skip
        elif roll < 0.9:
            leave += 1
            rows.append(Attendance(
                meeting=meeting, user_id=user_id, rsvp=Attendance.Rsvp.LEAVE,
                leave_reason=rng.choice(LEAVE_REASONS), answered_at=starts - timedelta(days=1),
            ))  # fmt: skip
    Attendance.objects.bulk_create(rows)
    names = dict(Member.objects.filter(user_id__in=[host, recorder]).values_list("user_id", "real_name"))  # fmt: skip
    fields = {
        "status": Status.HELD,
        "published_at": starts - timedelta(days=5),
    }
    if minutes:
        fields.update(
            minutes=MINUTES.format(
                host=names.get(host, "—"), recorder=names.get(recorder, "—"), title=title,
                expected=len(expected), present=present, leave=leave,
            ),
            minutes_written_by_id=recorder,
            minutes_confirmed_at=starts + timedelta(days=2),
            minutes_confirmed_by_id=host,
            expected_count=len(expected),
        )  # fmt: skip
    if offline:
        fields.update(held_offline=True, entered_at=starts + timedelta(days=3))
    Meeting.objects.filter(pk=meeting.pk).update(**fields)
    if offline:
        meeting.refresh_from_db()
        meeting.sign_in_sheet.save(f"sheet-{meeting.pk}.jpg", sign_in_sheet(len(expected), variant=meeting.pk))  # fmt: skip
    timeline_record(
        organization=org,
        kind="meeting_held",
        params={"title": title},
        url=meeting.get_absolute_url(),
        at=starts,
    )
    ctx.count("meetings")
    ctx.count("attendance rows", len(rows))
    return meeting


def sign_in_sheet(rows: int, *, variant: int = 0):
    """A drawn photo of a paper sign-in sheet (ruled lines and scribbled signatures), checked
    like any upload."""
    import random

    from PIL import Image, ImageDraw

    rng = random.Random(variant)  # noqa: S311 - a drawing
    img = Image.new("RGB", (900, 1200), (246, 243, 232))
    d = ImageDraw.Draw(img)
    d.rectangle((60, 60, 840, 140), outline=(60, 60, 60), width=3)
    for i in range(max(rows, 8) + 1):
        y = 160 + i * 48
        if y > 1150:
            break
        d.line((60, y, 840, y), fill=(90, 90, 90), width=2)
        if i < rows:
            x = 120
            for _ in range(rng.randint(3, 6)):
                dx, dy = rng.randint(18, 40), rng.randint(-14, 14)
                d.line((x, y - 22, x + dx, y - 22 + dy), fill=(20, 40, 120), width=3)
                x += dx
    d.line((300, 60, 300, 1150), fill=(90, 90, 90), width=2)
    buf = BytesIO()
    img.rotate(rng.uniform(-2, 2), fillcolor=(90, 80, 70)).save(buf, "JPEG", quality=80)
    return validate_image(
        SimpleUploadedFile("sheet.jpg", buf.getvalue(), content_type="image/jpeg")
    )


def _around_today(ctx: DemoContext) -> None:
    joint = ctx.orgs["c1_joint"]
    secretary = ctx.members["secretary"].user
    roles = _role_users(joint)
    recorder = roles.get(RoleAssignment.Role.COMMITTEE_MEMBER)
    recorder_user = User.objects.get(pk=recorder)
    place, fmt, video, _offline = BRANCHES["c1_joint"]
    today = ctx.today

    def upcoming(title, kind, starts, *, publish=True, hours=2, **extra):
        meeting = (
            _exists(joint, title, starts)
            or Meeting.objects.filter(
                organization=joint, title=title, starts_at__gt=ctx.now - timedelta(hours=hours)
            ).first()
        )
        if meeting is None:
            meeting = meeting_services.meeting_create(
                by=secretary, organization=joint, kind=kind, title=title, starts_at=starts,
                ends_at=starts + timedelta(hours=hours), place=extra.pop("place", place),
                format=extra.pop("format", fmt), video_link=extra.pop("video_link", video),
                host=secretary, recorder=recorder_user,
                agenda=extra.pop("agenda", f"<p>{title}</p>"), **extra,
            )  # fmt: skip
            ctx.count("meetings")
            if publish:
                meeting = meeting_services.meeting_publish(meeting=meeting, by=secretary)
        return meeting

    # Sign-in is open now: an online micro-lesson starting in a few minutes.
    now_minute = ctx.now.replace(second=0, microsecond=0)
    upcoming(
        "线上微党课：高原冬季施工的“党员责任区”", Kind.PARTY_LESSON,
        now_minute + timedelta(minutes=15), hours=1, format=Format.ONLINE, place="",
    )  # fmt: skip
    committee = upcoming(
        "支委会：研究年底党员民主评议安排", Kind.COMMITTEE_MEETING, at(today + timedelta(days=2), 19)
    )  # fmt: skip
    themed = upcoming(
        "主题党日：“党旗飘扬在雪域高原”——重温入党誓词", Kind.THEMED_DAY,
        at(today + timedelta(days=6), 15),
        agenda="<ol><li>面向党旗重温入党誓词</li><li>观看专题片《天路》</li>"
        "<li>为那曲项目部周边牧民送温暖</li><li>交流发言</li></ol>",
    )  # fmt: skip
    upcoming(
        "书记讲党课：学习贯彻全会精神", Kind.PARTY_LESSON, at(today + timedelta(days=20), 19),
        publish=False,
    )  # fmt: skip
    # Answers to the next meetings: most have not answered yet (`member` among them).
    users = [
        u for u in selectors.expected_attendees(themed).order_by("pk")
        if u.username not in ("member", "secretary")
    ]  # fmt: skip
    if not themed.attendances.exists():
        for i, user in enumerate(users[:6]):
            if i == 5:
                meeting_services.meeting_rsvp(meeting=themed, user=user, coming=False, reason="在格尔木项目部值守")  # fmt: skip
            else:
                meeting_services.meeting_rsvp(meeting=themed, user=user, coming=True)
        for user in users[:3]:
            if selectors.is_expected(committee, user):  # the committee only
                meeting_services.meeting_rsvp(meeting=committee, user=user, coming=True)

    # Held at 那曲 three days ago, not entered yet: the secretary records it offline.
    starts = at(today - timedelta(days=3), 10)
    if not _exists(joint, "那曲项目部党员学习会", starts):
        meeting = meeting_services.meeting_create(
            by=secretary, organization=joint, kind=Kind.PARTY_LESSON, title="那曲项目部党员学习会",
            starts_at=starts, ends_at=starts + timedelta(hours=1, minutes=30),
            place="那曲物流园区项目部会议室", format=Format.ON_SITE, host=secretary, recorder=recorder_user,
            agenda="<p>学习安全生产责任制，观看警示教育片。</p>",
            lessons=Lesson.objects.filter(organization=joint, title__startswith="高原先锋事迹")[:1],
        )  # fmt: skip
        # Printed as a paper pack before the trip (its short code is on the sign-in sheet).
        Meeting.objects.filter(pk=meeting.pk).update(published_at=starts - timedelta(days=4))
        ctx.count("meetings")

    # A Party lesson held nine days ago: minutes waiting to be confirmed, reflections asked for.
    lesson = _history(
        ctx, joint, kind=Kind.PARTY_LESSON, title="党课：青藏线上的共产党员",
        starts=at(today - timedelta(days=9), 19), place=place, fmt=fmt, video=video,
        host=secretary.pk, recorder=recorder, minutes=False,
    )  # fmt: skip
    if lesson is not None:
        Meeting.objects.filter(pk=lesson.pk).update(
            minutes="<p>书记以青藏铁路建设者的事迹为主线讲党课，十二名党员在线参加。</p>"
            "<p>与会党员结合那曲、格尔木、西宁三个项目部的实际交流发言。</p>",
            minutes_written_by_id=recorder,
            reflections_requested_at=lesson.starts_at + timedelta(hours=3),
        )
        present = list(
            lesson.attendances.filter(signed_in_at__isnull=False)
            .exclude(user__username__in=("member",))
            .values_list("user_id", flat=True)[: len(REFLECTIONS)]
        )
        Reflection.objects.bulk_create(
            Reflection(meeting=lesson, author_id=user_id, body=body)
            for user_id, body in zip(present, REFLECTIONS, strict=False)
        )
        ctx.count("reflections", len(present))

    # One cancelled meeting.
    cy = ctx.orgs["c3_cy"]
    starts = at(today + timedelta(days=4), 19)
    if not _exists(cy, "主题党日：参观成都战役纪念馆", starts):
        by = User.objects.get(pk=_role_users(cy)[RoleAssignment.Role.SECRETARY])
        meeting = meeting_services.meeting_create(
            by=by, organization=cy, kind=Kind.THEMED_DAY, title="主题党日：参观成都战役纪念馆",
            starts_at=starts, ends_at=starts + timedelta(hours=3), place="成都战役纪念馆",
        )  # fmt: skip
        meeting_services.meeting_publish(meeting=meeting, by=by)
        meeting_services.meeting_cancel(
            meeting=meeting, by=by, reason="连续降雨，路基抢险，改到下月第一个周六。"
        )
        ctx.count("meetings")


# --------------------------------------------------------------------------------------------
# Bulk
# --------------------------------------------------------------------------------------------

BULK_TITLE = "主题党日（批量演示）"


def bulk(ctx: DemoContext, *, members: int) -> None:
    branches = bulk_branches(ctx)
    if not branches:
        return
    ids = [b.id for b in branches]
    present = Meeting.objects.filter(organization_id__in=ids[:BATCH], title__startswith=BULK_TITLE).count()  # fmt: skip
    expected_per = 4
    if present:
        if present != min(len(ids), BATCH) * expected_per:
            raise CommandError(
                f"The database already holds bulk demo meetings, not those of --members {members}. "
                "Run `manage.py flush` to seed a different size."
            )
        ctx.log("bulk meetings: already there")
        return
    rng = ctx.rng(f"meetings-bulk-{members}")
    quarter_start = date(ctx.today.year, (ctx.today.month - 1) // 3 * 3 + 1, 1)
    days = max(1, (ctx.today - quarter_start).days)
    meetings: list[Meeting] = []
    for branch_id in ids:
        for n, kind in enumerate((Kind.THEMED_DAY, Kind.PARTY_LESSON, Kind.COMMITTEE_MEETING)):
            starts = at(quarter_start + timedelta(days=rng.randrange(days)), 15)
            if starts > ctx.now - timedelta(days=1):
                starts = ctx.now - timedelta(days=1 + n)
            meetings.append(Meeting(
                organization_id=branch_id, kind=kind, title=f"{BULK_TITLE}{n + 1}", starts_at=starts,
                ends_at=starts + timedelta(hours=2), place="项目部会议室", status=Status.HELD,
                published_at=starts - timedelta(days=5),
            ))  # fmt: skip
        starts = at(ctx.today + timedelta(days=rng.randint(3, 9)), 15)
        meetings.append(Meeting(
            organization_id=branch_id, kind=Kind.THEMED_DAY, title=f"{BULK_TITLE}4", starts_at=starts,
            ends_at=starts + timedelta(hours=2), place="项目部会议室", published_at=ctx.now,
        ))  # fmt: skip
    bar = ctx.progress(total=len(meetings), desc="meetings")
    for chunk in batched(meetings):
        Meeting.objects.bulk_create(chunk, batch_size=BATCH)
        bar.update(len(chunk))
    bar.close()
    ctx.count("meetings", len(meetings))

    held = {}
    for m in meetings:
        if m.status == Status.HELD and m.kind != Kind.COMMITTEE_MEETING:
            held.setdefault(m.organization_id, []).append(m)
    users = {}
    rows = bulk_members(ctx)
    for chunk in batched([r[0] for r in rows]):
        users.update(Member.objects.filter(pk__in=chunk).values_list("pk", "user_id"))
    attendance = []
    for member_id, branch_id, _category in rows:
        for meeting in held.get(branch_id, ()):
            if rng.random() < 0.75:
                attendance.append(Attendance(
                    meeting=meeting, user_id=users[member_id], rsvp=Attendance.Rsvp.COMING,
                    signed_in_at=meeting.starts_at + timedelta(minutes=rng.randint(-10, 10)),
                    via=Attendance.Via.QR,
                ))  # fmt: skip
    bar = ctx.progress(total=len(attendance), desc="attendance")
    for chunk in batched(attendance):
        Attendance.objects.bulk_create(chunk, batch_size=BATCH)
        bar.update(len(chunk))
    bar.close()
    ctx.count("attendance rows", len(attendance))
