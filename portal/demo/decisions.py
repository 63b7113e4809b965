"""Demo deliberation and decisions (议事决策).

Small demo, in 青藏联合支部 (`member`'s joint branch, `secretary` its secretary):
- two open votes `member` has not cast yet: a secret ballot (recommending outstanding Party
  members; results hidden) and a public one with a live count that may be changed;
- a draft for `secretary` to open;
- decisions: a public one in progress (its owner reported 40 % with a photo), a secret one
  carried out (100 %), and one of the branch committee, attached to last month's committee
  meeting, overdue (the owner's reminder and the secretary's worklist);
- a vote without quorum;
and in 康定隧道支部 (`secretary2`) a rejected motion.

Votes are cast through the services while the window is open, then the history is dated in
the past (window, close, timeline, notices), as the meetings demo does. Natural key: a motion
by (organisation, title).

Bulk (`--members N`): per bulk registration branch, a passed public motion with the votes of
most of its full members and a decision in progress, and an open secret ballot half cast,
all with `bulk_create`.
"""

from __future__ import annotations

from datetime import timedelta
from io import BytesIO

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import CommandError

from branches.models import Organization, RoleAssignment, TimelineEntry
from core.uploads import validate_image
from decisions import selectors, services
from decisions.models import Ballot, Motion, ProgressUpdate, Vote, VoterRecord
from meetings.models import Meeting
from members.models import Member
from notifications.models import Event

from . import BATCH, DemoContext, batched
from .branches import bulk_branches
from .members import bulk_members

User = get_user_model()
E = Motion.Electorate

BODY = (
    "<p>{title}。</p><h3>一、背景</h3><p>{why}</p><h3>二、内容</h3><p>{what}</p>"
    "<h3>三、表决</h3><p>请有表决权的正式党员在表决期内投票；预备党员列席讨论，不参加表决。</p>"
)
BALLOT_OPEN = "关于推荐2025年度“优秀共产党员”人选的无记名投票"
PUBLIC_OPEN = "关于在那曲项目部开展“党员包保帮扶”活动的议案"
DRAFT = "关于开展冬季安全生产“党员承诺践诺”活动的议案"
IN_PROGRESS = "关于在那曲项目部设立“党员先锋岗”的决议"
DONE = "关于支部年度党费使用计划的决议"
OVERDUE = "关于为高原一线党员配备便携式制氧设备的决议"
NO_QUORUM = "关于调整青藏片区党小组划分的议案"
REJECTED = "关于将主题党日固定在每月最后一个周六的议案"
BULK_TITLE = "关于落实项目部安全生产党员责任区的决议（批量演示）"
BULK_OPEN = "关于推荐优秀党员的无记名投票（批量演示）"


def _existing(org: Organization, title: str) -> Motion | None:
    return Motion.objects.filter(organization=org, title=title).first()


def _role_user(org: Organization, role: str):
    assignment = RoleAssignment.objects.filter(organization=org, role=role).select_related("user").first()  # fmt: skip
    return assignment.user if assignment else None


def _raise(ctx, org, by, title, *, why, what, **fields) -> Motion:
    now = ctx.now
    fields.setdefault("opens_at", now - timedelta(minutes=1))
    fields.setdefault("closes_at", now + timedelta(days=5))
    motion = services.motion_create(
        by=by, organization=org, title=title,
        body=BODY.format(title=title, why=why, what=what), **fields,
    )  # fmt: skip
    ctx.count("motions")
    return motion


def _vote(ctx, motion: Motion, share: float, mix: tuple[str, ...], *, skip=("member",)) -> int:
    """Cast the votes of a `share` of the electorate (never the demo accounts in `skip`), the
    choices of `mix` in turn."""
    rng = ctx.rng(f"decisions-{motion.title}")
    users = [u for u in selectors.electorate_users(motion).order_by("pk") if u.username not in skip]  # fmt: skip
    voters = [u for u in users if rng.random() < share]
    for i, user in enumerate(voters):  # the mix in turn: the result does not hang on luck
        services.vote_cast(motion=motion, user=user, choice=mix[i % len(mix)])
    ctx.count("votes", len(voters))
    return len(voters)


def _date_back(motion: Motion, *, opened, closed=None) -> None:
    """Move a motion's history into the past: its window, its close, its timeline line and
    its notices (their inbox rows take the event's time when they are fanned out)."""
    fields = {"opens_at": opened, "opened_at": opened}
    fields["closes_at"] = closed or motion.closes_at
    if closed is not None:
        fields["closed_at"] = closed
    Motion.objects.filter(pk=motion.pk).update(**fields)
    Event.objects.filter(target_id=motion.pk, kind="motion_opened", target_type__model="motion").update(created_at=opened)  # fmt: skip
    if closed is not None:
        Event.objects.filter(target_id=motion.pk, kind__in=["motion_passed", "motion_rejected", "motion_no_quorum"], target_type__model="motion").update(created_at=closed)  # fmt: skip
        TimelineEntry.objects.filter(kind="decision_passed", url=motion.get_absolute_url()).update(occurred_at=closed)  # fmt: skip
    motion.refresh_from_db()


def _closed(ctx, org, by, title, *, days_ago: int, share: float, mix, **fields) -> Motion:
    motion = _raise(ctx, org, by, title, **fields)
    motion = services.motion_open(motion=motion, by=by)
    _vote(ctx, motion, share, mix, skip=())
    motion = services.motion_close(motion=motion, by=by)
    closed = ctx.now - timedelta(days=days_ago)
    _date_back(motion, opened=closed - timedelta(days=3), closed=closed)
    return motion


def _photo(variant: int):
    """A drawn photo of a red sign on a site wall (checked like any upload)."""
    import random

    from PIL import Image, ImageDraw

    rng = random.Random(variant)  # noqa: S311 - a drawing
    img = Image.new("RGB", (960, 640), (150 + rng.randint(0, 40), 170, 190))
    d = ImageDraw.Draw(img)
    d.rectangle((0, 420, 960, 640), fill=(120, 105, 90))
    d.rectangle((300, 140, 660, 380), fill=(190, 20, 30), outline=(230, 200, 80), width=8)
    for i in range(3):
        d.rectangle((340, 190 + i * 55, 620, 215 + i * 55), fill=(240, 210, 90))
    buf = BytesIO()
    img.save(buf, "JPEG", quality=80)
    return validate_image(SimpleUploadedFile("site.jpg", buf.getvalue(), content_type="image/jpeg"))


def _report(ctx, motion, by, body, percent, at, photos=()) -> None:
    """A progress report through the service, dated `at`."""
    update = services.progress_add(motion=motion, by=by, body=body, percent=percent, photos=photos)
    ProgressUpdate.objects.filter(pk=update.pk).update(created_at=at)
    kind = "decision_done" if percent == 100 else "decision_progress"
    TimelineEntry.objects.filter(
        pk__in=TimelineEntry.objects.filter(kind=kind, url=motion.get_absolute_url())
        .order_by("-id")
        .values("pk")[:1]
    ).update(occurred_at=at)
    if percent == 100:
        Motion.objects.filter(pk=motion.pk).update(done_at=at)
    ctx.count("progress updates")


def seed(ctx: DemoContext) -> None:
    joint = ctx.orgs["c1_joint"]
    secretary = ctx.members["secretary"].user
    deputy = _role_user(joint, RoleAssignment.Role.DEPUTY_SECRETARY)
    organiser = _role_user(joint, RoleAssignment.Role.COMMITTEE_MEMBER) or secretary

    # Open votes waiting for `member`.
    if not _existing(joint, BALLOT_OPEN):
        motion = _raise(
            ctx, joint, secretary, BALLOT_OPEN, secret=True, threshold=Motion.Threshold.SIMPLE,
            quorum_percent=80, closes_at=ctx.now + timedelta(days=4),
            why="按照上级党委通知，支部推荐1名“优秀共产党员”人选，候选人为那曲项目部安全员扎西次仁同志。",
            what="是否同意推荐扎西次仁同志为集团2025年度“优秀共产党员”人选。无记名投票，表决结果在投票截止后公布。",
        )  # fmt: skip
        motion = services.motion_open(motion=motion, by=secretary)
        _date_back(motion, opened=ctx.now - timedelta(days=1))
        _vote(ctx, motion, 0.55, ("for", "for", "for", "against", "abstain"))
    if not _existing(joint, PUBLIC_OPEN):
        motion = _raise(
            ctx, joint, secretary, PUBLIC_OPEN, results_hidden=False, changeable=True,
            quorum_percent=50, majority_of=Motion.MajorityOf.CAST, closes_at=ctx.now + timedelta(days=6),
            why="那曲项目部周边有12户牧民家庭冬季取暖、就医困难。",
            what="每名党员包保1至2户，每月走访不少于1次，帮办实事记入党员积分。记名表决，表决期内可以改票。",
        )  # fmt: skip
        motion = services.motion_open(motion=motion, by=secretary)
        _vote(ctx, motion, 0.35, ("for", "for", "for", "abstain"))
    if not _existing(joint, DRAFT):
        _raise(
            ctx, joint, secretary, DRAFT, opens_at=ctx.now + timedelta(days=1),
            closes_at=ctx.now + timedelta(days=8),
            why="入冬后高原施工风险上升。",
            what="每名党员签订一份安全生产承诺书，党员责任区内连续三个月零事故。",
        )  # fmt: skip

    # Decisions and their follow-up.
    if not _existing(joint, IN_PROGRESS):
        motion = _closed(
            ctx, joint, secretary, IN_PROGRESS, days_ago=18, share=0.9, mix=("for", "for", "for", "for", "against"),
            quorum_percent=60,
            why="那曲项目部海拔4600米，冬季施工任务重，需要党员带头。",
            what="在钢筋、混凝土、机电三个班组各设立1个“党员先锋岗”，挂牌上岗，接受职工监督。",
        )  # fmt: skip
        if motion.is_decision:
            services.decision_assign(motion=motion, by=secretary, owner=organiser, due_on=ctx.today + timedelta(days=21))  # fmt: skip
            motion.refresh_from_db()
            _report(ctx, motion, organiser, "三个班组的先锋岗人选已确定，报支委会备案。", 20, ctx.now - timedelta(days=12))  # fmt: skip
            _report(ctx, motion, organiser, "钢筋、混凝土班组已挂牌上岗，机电班组的岗位牌在制作中。", 40, ctx.now - timedelta(days=3), photos=[_photo(1)])  # fmt: skip
    if not _existing(joint, DONE):
        motion = _closed(
            ctx, joint, secretary, DONE, days_ago=75, share=0.85, mix=("for", "for", "for", "abstain"),
            secret=True, quorum_percent=60,
            why="支部留存党费主要用于党员教育和慰问困难党员。",
            what="全年安排党员教育资料8000元、慰问困难党员6000元、“七一”活动4000元，年底公开使用情况。",
        )  # fmt: skip
        if motion.is_decision:
            owner = deputy or secretary
            services.decision_assign(motion=motion, by=secretary, owner=owner, due_on=ctx.today - timedelta(days=10))  # fmt: skip
            motion.refresh_from_db()
            _report(ctx, motion, owner, "党员教育资料已采购发放，“七一”活动已开展。", 60, ctx.now - timedelta(days=40))  # fmt: skip
            _report(ctx, motion, owner, "困难党员慰问金已发放到位，使用情况已在支部公开栏公示。", 100, ctx.now - timedelta(days=14), photos=[_photo(2)])  # fmt: skip
    if not _existing(joint, OVERDUE):
        meeting = (
            Meeting.objects.filter(
                organization=joint, kind=Meeting.Kind.COMMITTEE_MEETING, status=Meeting.Status.HELD
            )
            .order_by("-starts_at")
            .first()
        )
        fields = {"electorate": E.ATTENDEES, "meeting": meeting} if meeting else {"electorate": E.COMMITTEE}  # fmt: skip
        motion = _closed(
            ctx, joint, secretary, OVERDUE, days_ago=35, share=1.0, mix=("for",),
            quorum_percent=80, threshold=Motion.Threshold.TWO_THIRDS,
            why="那曲、格尔木项目部海拔高，夜间作业的党员多次出现高原反应。",
            what="为一线党员配备便携式制氧机20台，由组织委员牵头采购，一个月内配发到位。",
            **fields,
        )  # fmt: skip
        if motion.is_decision:
            services.decision_assign(motion=motion, by=secretary, owner=organiser, due_on=ctx.today - timedelta(days=5))  # fmt: skip
            motion.refresh_from_db()
            _report(ctx, motion, organiser, "已完成询价，12台制氧机配发到那曲项目部，其余8台等待到货。", 60, ctx.now - timedelta(days=9))  # fmt: skip
    if not _existing(joint, NO_QUORUM):
        _closed(
            ctx, joint, secretary, NO_QUORUM, days_ago=50, share=0.3, mix=("for", "against"),
            quorum_percent=50,
            why="部分党员随项目调动到格尔木，原党小组人数不均。",
            what="将青藏片区党小组由两个调整为三个，按项目部划分。",
        )  # fmt: skip
    sctr = ctx.orgs["c1_sctr"]
    secretary2 = ctx.members["secretary2"].user
    if not _existing(sctr, REJECTED):
        _closed(
            ctx, sctr, secretary2, REJECTED, days_ago=25, share=0.8, mix=("against", "against", "for", "abstain"),
            why="有党员提出固定主题党日时间便于安排。",
            what="主题党日固定在每月最后一个周六下午。多数党员认为倒班制下固定周六难以保证到会。",
        )  # fmt: skip


# --------------------------------------------------------------------------------------------
# Bulk
# --------------------------------------------------------------------------------------------


def bulk(ctx: DemoContext, *, members: int) -> None:
    branches = bulk_branches(ctx)
    if not branches:
        return
    ids = [b.id for b in branches]
    present = Motion.objects.filter(organization_id__in=ids[:BATCH], title__in=[BULK_TITLE, BULK_OPEN]).count()  # fmt: skip
    if present:
        if present != min(len(ids), BATCH) * 2:
            raise CommandError(
                f"The database already holds bulk demo motions, not those of --members {members}. "
                "Run `manage.py flush` to seed a different size."
            )
        ctx.log("bulk motions: already there")
        return
    rng = ctx.rng(f"decisions-bulk-{members}")
    full: dict[int, list[int]] = {}
    rows = bulk_members(ctx)
    for chunk in batched([r[0] for r in rows]):
        for user_id, branch_id in Member.objects.filter(
            pk__in=chunk, status=Member.Status.FULL, user__is_active=True
        ).values_list("user_id", "branch_id"):
            full.setdefault(branch_id, []).append(user_id)
    closed_at = ctx.now - timedelta(days=10)
    motions: list[Motion] = []
    tallies: list[tuple[Motion, list[tuple[int, str]]]] = []
    for branch_id in ids:
        voters = full.get(branch_id, [])
        cast = [(u, rng.choice(("for", "for", "for", "against", "abstain"))) for u in voters if rng.random() < 0.8]  # fmt: skip
        counts = {c: sum(1 for _u, v in cast if v == c) for c in ("for", "against", "abstain")}
        result = services.tally(
            electorate=len(voters), votes_for=counts["for"], votes_against=counts["against"],
            votes_abstain=counts["abstain"], quorum_percent=50, threshold="simple", majority_of="electorate",
        )  # fmt: skip
        passed = result == Motion.Result.PASSED
        decided = Motion(
            organization_id=branch_id, title=BULK_TITLE, body="<p>批量演示数据。</p>",
            opens_at=closed_at - timedelta(days=5), closes_at=closed_at, opened_at=closed_at - timedelta(days=5),
            closed_at=closed_at, status=Motion.Status.CLOSED, result=result,
            electorate_size=len(voters), votes_for=counts["for"], votes_against=counts["against"],
            votes_abstain=counts["abstain"],
            due_on=ctx.today + timedelta(days=rng.randint(-5, 40)) if passed else None,
            progress=rng.choice((0, 20, 50, 80)) if passed else 0,
        )  # fmt: skip
        motions.append(decided)
        tallies.append((decided, cast))
        motions.append(Motion(
            organization_id=branch_id, title=BULK_OPEN, body="<p>批量演示数据。</p>", secret=True,
            opens_at=ctx.now - timedelta(days=1), closes_at=ctx.now + timedelta(days=5),
            opened_at=ctx.now - timedelta(days=1), status=Motion.Status.OPEN,
        ))  # fmt: skip
    bar = ctx.progress(total=len(motions), desc="motions")
    for chunk in batched(motions):
        Motion.objects.bulk_create(chunk, batch_size=BATCH)
        bar.update(len(chunk))
    bar.close()
    ctx.count("motions", len(motions))

    votes = [Vote(motion=m, user_id=u, choice=c, cast_at=closed_at - timedelta(days=1)) for m, cast in tallies for u, c in cast]  # fmt: skip
    secret_voters: list[VoterRecord] = []
    ballots: list[Ballot] = []
    for motion in motions:
        if motion.secret:
            for user_id in full.get(motion.organization_id, []):
                if rng.random() < 0.5:
                    secret_voters.append(VoterRecord(motion=motion, user_id=user_id))
                    ballots.append(
                        Ballot(motion=motion, choice=rng.choice(("for", "for", "against")))
                    )
    rng.shuffle(ballots)  # no order shared with the voter records
    for model, objs, desc in ((Vote, votes, "votes"), (VoterRecord, secret_voters, "voter records"), (Ballot, ballots, "ballots")):  # fmt: skip
        bar = ctx.progress(total=len(objs), desc=desc)
        for chunk in batched(objs):
            model.objects.bulk_create(chunk, batch_size=BATCH)
            bar.update(len(chunk))
        bar.close()
        ctx.count(desc, len(objs))
