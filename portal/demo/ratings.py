"""Demo five-star branch ratings (五星党支部) and practice accounts.

Small demo: this year's ratings of every demo branch are computed from the demo's figures
(`reports.services.rating.ratings_compute`) and stay "computed". The demo has no activity
before this year, so last year's ratings are scored (by the same formula and upsert,
`ratings_store`) from plausible figures drawn per branch, and decided by `reviewer`: most
confirmed; 康定隧道支部 (`secretary2`) five stars with its practice account shared group-wide
(every member of the group notified; it shows on the branch page); 青藏联合支部 (`secretary`,
`member`) set to five stars with a reason, its account submitted and waiting for `reviewer` on
/reports/ratings/; 南疆项目支部 lowered with a reason. Natural keys: a rating by (organisation,
year), an account by (organisation, title).

Bulk (`--members N`): this year's ratings of the bulk branches by `ratings_compute`
(set-based); last year's from drawn figures, confirmed in bulk with their history.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import F

from reports.models import BranchRating, PracticeAccount, RatingDecision
from reports.services import rating as services

from . import BATCH, DemoContext
from .branches import bulk_branches

User = get_user_model()

# Last year's drawn quality (0..1) of a few branches; the others draw theirs.
QUALITY = {"c1_sctr": 0.98, "c1_joint": 0.8, "c2_xj": 0.83}
# key of the branch, stars, reason: the committee's decisions other than a confirmation.
OVERRIDES = [
    (
        "c1_sctr",
        5,
        "康定隧道支部在高海拔、长隧道施工中坚持“三会一课”不断线，党员先锋岗覆盖全部工作面，"
        "全年安全生产零事故，经党委会研究评定为五星党支部。",
    ),
    (
        "c1_joint",
        5,
        "青藏联合支部克服项目部分散、那曲无网络的困难，坚持离线学习、补录签到，"
        "组织生活质量高，经党委会研究评定为五星党支部。",
    ),
    (
        "c2_xj",
        3,
        "项目转场期间有两个月未按期召开支委会，活动报告两次逾期，经党委会研究下调一星。",
    ),
]
REQUIRED = {"general_meeting": 4, "party_lesson": 4, "committee_meeting": 12, "themed_day": 12}
SHARED_TITLE = "隧道掌子面上的“党员先锋岗”"
SHARED_BODY = (
    "<p>康定隧道项目部党支部把党员先锋岗设在掌子面、二衬台车和洞口值班室，"
    "每个工区一名党员牵头、两名党员包保。</p>"
    "<h3>一、怎么做</h3><ul><li>班前十分钟讲安全、讲任务，党员带头签字确认；</li>"
    "<li>每月主题党日放在工地现场，结合隐患排查开展；</li>"
    "<li>三班倒的党员在手机上学习微党课，微支部在群里交流心得。</li></ul>"
    "<h3>二、效果</h3><p>全年安全生产零事故，隧道月进尺创项目新高，"
    "两名青年技术骨干递交了入党申请书。</p>"
)
SUBMITTED_TITLE = "没有信号的那曲项目部怎样过组织生活"
SUBMITTED_BODY = (
    "<p>那曲项目部海拔4600米，没有网络信号。支部把学习材料提前下载到党员手机上离线学习，"
    "会议在格尔木、西宁两个项目部线上召开，那曲的党员每周到镇上时补录签到和心得。</p>"
    "<p>一年来，三个项目部的党员学习完成率保持在九成以上，没有一名党员失联。</p>"
)


def _reviewer():
    return User.objects.get(username="reviewer")


def drawn_figures(rng, quality: float) -> tuple[dict, tuple[int, int]]:
    """A year's figures of a branch doing about `quality` of what is asked, and its reports
    on time (of 16: twelve months and four quarters)."""

    def share(spread: float = 0.08) -> float:
        return max(0.0, min(1.0, rng.gauss(quality, spread)))

    members = rng.randint(6, 40)
    required = sum(REQUIRED.values())
    contact_active = round(members * share(0.05))
    lost = rng.randint(0, max(0, members - contact_active))
    figures = {
        "members": members,
        "meetings_required": dict(REQUIRED),
        "meetings_missed": round(required * (1 - share(0.05))),
        "attendance_rate": share(),
        "study_completion": share(),
        "reflections": round(members * 4 * share(0.15)),
        "welfare_hours": round(members * 8 * share(0.2), 1),
        "decisions_done": (done := rng.randint(2, 8)),
        "decisions_overdue": round(done * (1 - share(0.1))),
        "board_questions": (asked := rng.randint(3, 15)),
        "board_answered": round(asked * share(0.1)),
        "contact": {
            "active": contact_active,
            "at_risk": members - contact_active - lost,
            "invisible": 0,
            "lost": lost,
            "pocket": 0,
        },
        "outreach_open": lost if quality > 0.8 else 0,
    }
    return figures, (round(16 * share(0.1)), 16)


def seed(ctx: DemoContext) -> None:
    year = ctx.today.year
    reviewer = _reviewer()
    branches = list(services.rated_organizations().order_by("path"))
    ids = [b.pk for b in branches]
    if BranchRating.objects.filter(year=year - 1, organization_id__in=ids).exists():
        ctx.log("ratings of last year: already there")
    else:
        rng = ctx.rng("ratings-last-year")
        quality = {ctx.orgs[key].pk: q for key, q in QUALITY.items()}
        figures, on_time = {}, {}
        for org in branches:
            q = quality.get(org.pk) or rng.uniform(0.45, 0.92)
            figures[org.pk], on_time[org.pk] = drawn_figures(rng, q)
        result = services.ratings_store(
            year=year - 1, figures=figures, reports_on_time=on_time, now=ctx.days_ago(300)
        )
        ctx.count("branch ratings", result["created"])
    if BranchRating.objects.filter(year=year, organization_id__in=ids).exists():
        ctx.log("ratings of this year: already there")
    else:
        result = services.ratings_compute(year=year, organization_ids=ids, now=ctx.now)
        ctx.count("branch ratings", result["created"])
    _decide_last_year(ctx, year - 1, reviewer)
    _practice_accounts(ctx, year - 1, reviewer)


def _decide_last_year(ctx: DemoContext, year: int, reviewer) -> None:
    overrides = {ctx.orgs[key].pk: (stars, reason) for key, stars, reason in OVERRIDES}
    undecided = BranchRating.objects.filter(
        year=year, status=BranchRating.Status.COMPUTED
    ).select_related("organization")
    for rating in undecided:
        stars, reason = overrides.get(rating.organization_id, (None, ""))
        if stars is None or stars == rating.computed_stars:
            services.rating_confirm(rating=rating, by=reviewer)
        else:
            services.rating_override(rating=rating, by=reviewer, stars=stars, reason=reason)
        ctx.count("rating decisions")


def _practice_accounts(ctx: DemoContext, year: int, reviewer) -> None:
    for key, title, body, share in (
        ("c1_sctr", SHARED_TITLE, SHARED_BODY, True),
        ("c1_joint", SUBMITTED_TITLE, SUBMITTED_BODY, False),
    ):
        org = ctx.orgs[key]
        if PracticeAccount.objects.filter(organization=org, title=title).exists():
            continue
        rating = BranchRating.objects.select_related("organization").get(
            organization=org, year=year
        )
        # Written by the branch's secretary (any member of its committee may).
        secretary = (
            User.objects.filter(
                role_assignments__organization=org,
                role_assignments__role__in=services.BRANCH_ROLES,
            )
            .order_by("pk")
            .first()
        )
        writer = secretary or ctx.admin
        account = services.practice_account_save(rating=rating, by=writer, title=title, body=body)
        services.practice_account_submit(account=account, by=writer)
        if share:
            services.practice_account_share(account=account, by=reviewer)
        ctx.count("practice accounts")


def bulk(ctx: DemoContext, *, members: int) -> None:
    branches = bulk_branches(ctx)
    if not branches:
        return
    ids = [b.id for b in branches if b.kind in services.RATED_KINDS]
    year = ctx.today.year
    if BranchRating.objects.filter(year=year - 1, organization_id__in=ids[:BATCH]).exists():
        ctx.log("bulk ratings of last year: already there")
    else:
        rng = ctx.rng(f"ratings-bulk-{members}")
        figures, on_time = {}, {}
        for pk in ids:
            figures[pk], on_time[pk] = drawn_figures(rng, rng.uniform(0.4, 0.97))
        result = services.ratings_store(
            year=year - 1, figures=figures, reports_on_time=on_time, now=ctx.days_ago(300)
        )
        ctx.count("branch ratings", result["created"])
        _confirm_in_bulk(ctx, year=year - 1, organization_ids=ids)
    if BranchRating.objects.filter(year=year, organization_id__in=ids[:BATCH]).exists():
        ctx.log("bulk ratings of this year: already there")
    else:
        result = services.ratings_compute(year=year, organization_ids=ids, now=ctx.now)
        ctx.count("branch ratings", result["created"])


def _confirm_in_bulk(ctx: DemoContext, *, year: int, organization_ids: list[int]) -> None:
    """Last year's bulk ratings confirmed as the committee would, with their history rows."""
    reviewer = _reviewer()
    qs = BranchRating.objects.filter(
        year=year, organization_id__in=organization_ids, status=BranchRating.Status.COMPUTED
    )
    decided_at = ctx.now
    rows = list(qs.values_list("pk", "computed_stars", "score"))
    qs.update(
        status=BranchRating.Status.CONFIRMED,
        stars=F("computed_stars"),
        decided_by=reviewer,
        decided_at=decided_at,
    )
    RatingDecision.objects.bulk_create(
        [
            RatingDecision(
                rating_id=pk,
                action=RatingDecision.Action.CONFIRMED,
                stars=stars,
                score=score,
                by=reviewer,
                at=decided_at,
            )
            for pk, stars, score in rows
        ],
        batch_size=BATCH,
    )
    ctx.count("rating decisions", len(rows))
