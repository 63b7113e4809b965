"""Demo members, their participations, activity facts and roles.

Small demo: DESIGN's accounts (member, office, secretary, secretary2, reviewer) and about 150
generated members (`demo001`...) across the small tree, every category and contact status,
through the services. Bulk: `m000001`... registered in the bulk tree's branches, with users,
members, participations, activity facts and role assignments inserted with `bulk_create`.
Every account has the password `netbranch-demo`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from branches.models import RoleAssignment, TimelineEntry
from branches.services import role_assign
from members.models import (
    ActivityFact,
    ContactAttempt,
    Invitation,
    JoinRequest,
    Member,
    OutreachCase,
    Participation,
    Transfer,
)
from members.services import (
    invitation_create,
    invitation_path,
    invitation_revoke,
    join_request_refuse,
    join_request_send,
    member_activity_record,
    member_create,
    outreach_attempt_log,
    outreach_case_close,
    outreach_case_open,
    participation_start,
    transfer_accept,
    transfer_refuse,
    transfer_release,
    transfer_request,
    transfer_withdraw,
)

from . import BATCH, DemoContext, Login, at_morning
from .branches import ORGS, bulk_branches
from .names import POSITIONS, fake_phone, person_name

Category = Member.Category
Contact = Member.ContactStatus
Role = RoleAssignment.Role
FactKind = ActivityFact.Kind

CONTACT_WEIGHTS = (
    (Contact.ACTIVE, 70),
    (Contact.AT_RISK, 12),
    (Contact.LOST, 6),
    (Contact.INVISIBLE, 12),
)
FACT_KINDS = (
    (FactKind.STUDIED, 5),
    (FactKind.ATTENDED, 3),
    (FactKind.POSTED, 2),
    (FactKind.SERVED, 1),
)
PROBATIONARY_SHARE = 0.08


def activity(rng: random.Random, contact_status: str, now: datetime) -> list[tuple[str, datetime]]:
    """Activity facts that fit the contact status: active within 30 days, at risk 30-90 days
    ago, lost contact none in the last 90 days, invisible and pocket rarely anything."""
    if contact_status == Contact.ACTIVE:
        last, count, oldest = rng.uniform(0, 25), rng.randint(1, 6), 90
    elif contact_status == Contact.AT_RISK:
        last, count, oldest = rng.uniform(32, 85), rng.randint(1, 3), 200
    elif contact_status == Contact.LOST:
        last, count, oldest = rng.uniform(95, 400), rng.randint(0, 2), 700
    else:  # invisible, pocket
        last, count, oldest = rng.uniform(120, 700), rng.choice((0, 0, 1)), 800
    if count == 0:
        return []
    ages = [last] + [rng.uniform(last, max(last, oldest)) for _ in range(count - 1)]
    kinds, weights = zip(*FACT_KINDS, strict=True)
    return [
        (rng.choices(kinds, weights)[0], now - timedelta(days=age, minutes=rng.randint(0, 600)))
        for age in ages
    ]


def joined_on(rng: random.Random, today: date, status: str) -> date:
    if status == Member.Status.PROBATIONARY:  # admitted within the last year
        return today - timedelta(days=rng.randint(20, 340))
    return today - timedelta(days=rng.randint(400, 35 * 365))


def draw_contact(rng: random.Random) -> str:
    statuses, weights = zip(*CONTACT_WEIGHTS, strict=True)
    return rng.choices(statuses, weights)[0]


# --------------------------------------------------------------------------------------------
# Small demo
# --------------------------------------------------------------------------------------------


@dataclass
class Spec:
    username: str
    real_name: str
    branch: str | None  # organisation key in ctx.orgs; None for a pocket member
    site: str | None
    category: str
    position: str
    status: str = Member.Status.FULL
    contact_status: str = Contact.ACTIVE
    joined_party_on: date | None = None
    phone: str = ""
    registered_days_ago: int = 365
    joins: list[tuple[str, int]] = field(default_factory=list)  # (organisation key, days ago)
    roles: list[tuple[str, str, str]] = field(
        default_factory=list
    )  # (organisation key, role, title)
    facts: list[tuple[str, datetime]] = field(default_factory=list)


@dataclass(frozen=True)
class Block:
    """`count` generated members registered in `branch` (None: pocket members)."""

    branch: str | None
    count: int
    category: str
    sites: tuple[str, ...] = ()
    joins: tuple[str, ...] = ()  # every member takes part there
    rotate: tuple[str, ...] = ()  # each member takes part in one of these (party groups)
    roles: tuple[
        tuple[str, str, str], ...
    ] = ()  # (organisation key, role, title) for members 0, 1, ...


JOINT_SITES = ("naqu", "golmud", "xining")
BLOCKS = (
    Block("hq1", 8, Category.OFFICE, roles=(("hq1", Role.SECRETARY, ""), ("hq", Role.SECRETARY, ""))),
    Block("hq2", 8, Category.OFFICE, roles=(("hq2", Role.SECRETARY, ""),)),
    Block("c1_office", 6, Category.OFFICE, rotate=("c1_office_g1",),
          roles=(("c1_office", Role.SECRETARY, ""), ("c1", Role.REVIEWER, "党群工作部"))),
    Block("c1_office", 6, Category.OFFICE),
    Block("c1_joint", 10, Category.REMOTE, sites=JOINT_SITES,
          roles=(("c1_joint", Role.DEPUTY_SECRETARY, ""), ("c1_joint", Role.COMMITTEE_MEMBER, "组织委员"))),
    # Registered with their home project, working at the small sites: they take part in the joint branch.
    Block("c1_sctr", 5, Category.REMOTE, sites=JOINT_SITES, joins=("c1_joint",)),
    Block("c1_sctr", 16, Category.FRONT_LINE, sites=("kangding",), rotate=("c1_sctr_g1", "c1_sctr_g2"),
          roles=(("c1_sctr", Role.DEPUTY_SECRETARY, ""), ("c1_sctr", Role.COMMITTEE_MEMBER, "宣传委员"))),
    Block("c1_sctr", 4, Category.FRONT_LINE, sites=("kangding",), joins=("c1_sctr_micro",)),
    Block("c1_mobile", 10, Category.FRONT_LINE, sites=("kangding", "golmud"),
          roles=(("c1_mobile", Role.SECRETARY, ""),)),
    Block("c2_office", 10, Category.OFFICE,
          roles=(("c2_office", Role.SECRETARY, ""), ("c2", Role.REVIEWER, "党群工作部"))),
    Block("c2_yn", 14, Category.FRONT_LINE, sites=("lufeng",), rotate=("c2_yn_g1",),
          roles=(("c2_yn", Role.SECRETARY, ""),)),
    Block("c2_xj", 12, Category.REMOTE, sites=("ruoqiang",), roles=(("c2_xj", Role.SECRETARY, ""),)),
    Block("c3_office", 8, Category.OFFICE,
          roles=(("c3_office", Role.SECRETARY, ""), ("c3", Role.REVIEWER, "党群工作部"))),
    Block("c3_cy", 12, Category.FRONT_LINE, sites=("chengdu",), roles=(("c3_cy", Role.SECRETARY, ""),)),
    Block("c3_ys", 10, Category.REMOTE, sites=("yushu",), roles=(("c3_ys", Role.SECRETARY, ""),)),
    Block(None, 4, Category.FRONT_LINE),
)  # fmt: skip

# DESIGN's demo accounts: username, real name, branch, site, category, position, joined, roles.
NAMED = (
    ("member", "李向阳", "c1_joint", "naqu", Category.REMOTE, "安全员", date(2014, 7, 1), ()),
    ("office", "刘晓梅", "c1_office", None, Category.OFFICE, "综合办公室文秘", date(2016, 6, 28), ()),
    ("secretary", "陈国华", "c1_joint", "xining", Category.FRONT_LINE, "项目书记", date(2005, 7, 1),
     (("c1_joint", Role.SECRETARY, ""),)),
    ("secretary2", "赵红军", "c1_sctr", "kangding", Category.FRONT_LINE, "项目书记", date(2008, 12, 20),
     (("c1_sctr", Role.SECRETARY, ""),)),
    ("reviewer", "孙丽娟", "hq1", None, Category.OFFICE, "党建工作部副部长", date(2003, 5, 4),
     (("group", Role.REVIEWER, "党建工作部"),)),
)  # fmt: skip


def small_specs(ctx: DemoContext) -> list[Spec]:
    """Every member of the small demo, the same on every run."""
    rng = ctx.rng("members-small")
    founded = {org[0]: org[5] for org in ORGS}  # days ago; nobody registers before that

    def registered(branch: str | None, joined: date) -> int:
        latest = founded[branch] - 10 if branch else 900
        return min((ctx.today - joined).days, rng.randint(30, latest))

    specs = []
    for username, name, branch, site, category, position, joined, roles in NAMED:
        specs.append(
            Spec(
                username=username,
                real_name=name,
                branch=branch,
                site=site,
                category=category,
                position=position,
                joined_party_on=joined,
                phone=fake_phone(rng),
                registered_days_ago=registered(branch, joined),
                roles=list(roles),
                facts=activity(rng, Contact.ACTIVE, ctx.now),
            )
        )
    n = 0
    for block in BLOCKS:
        for i in range(block.count):
            n += 1
            role_holder = i < len(block.roles)
            if block.branch is None:
                contact = Contact.POCKET
            else:
                contact = Contact.ACTIVE if role_holder else draw_contact(rng)
            status = Member.Status.FULL
            if not role_holder and rng.random() < PROBATIONARY_SHARE:
                status = Member.Status.PROBATIONARY
            site = rng.choice(block.sites) if block.sites else None
            joined = joined_on(rng, ctx.today, status)
            joins = [(key, rng.randint(30, 400)) for key in block.joins]
            if block.rotate:
                joins.append((block.rotate[i % len(block.rotate)], rng.randint(30, 400)))
            specs.append(
                Spec(
                    username=f"demo{n:03d}",
                    real_name=person_name(
                        rng, tibetan=site in ("naqu", "yushu") and rng.random() < 0.3
                    ),
                    branch=block.branch,
                    site=site,
                    category=block.category,
                    position=rng.choice(POSITIONS[block.category]),
                    status=status,
                    contact_status=contact,
                    joined_party_on=joined,
                    phone=fake_phone(rng),
                    registered_days_ago=registered(block.branch, joined),
                    joins=joins,
                    roles=[block.roles[i]] if role_holder else [],
                    facts=activity(rng, contact, ctx.now),
                )
            )
    return specs


def seed(ctx: DemoContext) -> None:
    specs = small_specs(ctx)
    User = get_user_model()
    existing = set(
        User.objects.filter(username__in=[s.username for s in specs]).values_list(
            "username", flat=True
        )
    )
    new_users = []
    for spec in specs:
        if spec.username not in existing:
            new_users.append(_create(ctx, spec).user_id)
    # One hash for everyone, made once with the configured hasher.
    User.objects.filter(pk__in=new_users).update(password=ctx.password_hash)

    ctx.members.update(
        (m.user.username, m)
        for m in Member.objects.select_related("user", "branch", "project_site").filter(
            user__username__in=[s.username for s in specs]
        )
    )
    rng = ctx.rng("roles-small")
    for spec in specs:
        for org_key, role, title in spec.roles:
            if not RoleAssignment.objects.filter(
                user=ctx.members[spec.username].user, organization=ctx.orgs[org_key], role=role
            ).exists():
                role_assign(
                    user=ctx.members[spec.username].user,
                    organization=ctx.orgs[org_key],
                    role=role,
                    by=ctx.admin,
                    title=title,
                )
                # The service dates the line today; the demo's committees were elected earlier.
                TimelineEntry.objects.filter(
                    pk=TimelineEntry.objects.filter(
                        organization=ctx.orgs[org_key], kind="role_assigned"
                    )
                    .order_by("-id")
                    .values("pk")[:1]
                ).update(
                    occurred_at=at_morning(
                        ctx.date_ago(rng.randint(5, max(6, spec.registered_days_ago - 5)))
                    )
                )
                ctx.count("role assignments")
    _logins(ctx)
    transfers_and_join_requests(ctx)
    outreach_cases(ctx)
    site_lifecycle(ctx)
    invitations(ctx)


def _create(ctx: DemoContext, spec: Spec) -> Member:
    branch = ctx.orgs[spec.branch] if spec.branch else None
    member = member_create(
        by=ctx.admin,
        username=spec.username,
        email=f"{spec.username}@example.com",
        real_name=spec.real_name,
        branch=branch,
        project_site=ctx.sites[spec.site] if spec.site else None,
        status=spec.status,
        category=spec.category,
        joined_party_on=spec.joined_party_on,
        phone=spec.phone,
        position=spec.position,
        contact_status=spec.contact_status,
    )
    ctx.count("users")
    ctx.count("members")
    if branch is not None:
        # The service dates the "registered" line today; the demo's members registered earlier.
        entry = (
            TimelineEntry.objects.filter(organization=branch, kind="member_registered")
            .order_by("-id")
            .first()
        )
        if entry is not None:
            entry.occurred_at = at_morning(ctx.date_ago(spec.registered_days_ago))
            entry.save(update_fields=["occurred_at"])
    for org_key, days in spec.joins:
        participation_start(
            member=member,
            organization=ctx.orgs[org_key],
            by=ctx.admin,
            started_on=ctx.date_ago(days),
        )
        ctx.count("participations")
    for kind, at in sorted(spec.facts, key=lambda fact: fact[1]):
        member_activity_record(member=member, kind=kind, at=at)
        ctx.count("activity facts")
    return member


def _logins(ctx: DemoContext) -> None:
    def where(username):
        m = ctx.members[username]
        return f"{m.real_name} · {m.branch.name}" if m.branch else m.real_name

    site = ctx.sites["naqu"]
    ctx.logins.extend(
        [
            Login(
                "member",
                f"remote-site member at {site.name} ({site.province}, {site.altitude_m} m, no coverage); {where('member')}",
            ),
            Login("office", f"office member; {where('office')}"),
            Login("secretary", f"secretary of member's joint branch; {where('secretary')}"),
            Login(
                "secretary2",
                f"secretary of a sibling branch under {ctx.orgs['c1'].name}; {where('secretary2')}",
            ),
            Login("reviewer", f"reviewer at {ctx.orgs['group'].name}; {where('reviewer')}"),
        ]
    )


# --------------------------------------------------------------------------------------------
# Transfers and join requests (small demo)
# --------------------------------------------------------------------------------------------

JOINER = "joiner"  # an account with no member record, asking to join


def transfers_and_join_requests(ctx: DemoContext) -> None:
    """Transfers in every state (one overdue waiting for its release, one released and overdue
    waiting for `secretary2`, one released waiting for `secretary`), one out of the group,
    pending join requests to `secretary`'s and `secretary2`'s branches. `member` has none, so
    they can start one. Made through the services by the people concerned, then dated back."""
    if Transfer.objects.filter(member__user__username__startswith="demo").exists():
        return
    role_holders = set(RoleAssignment.objects.values_list("user_id", flat=True))
    taken: set[int] = set()

    def pick(branch_key: str) -> Member:
        branch = ctx.orgs[branch_key]
        for username in sorted(ctx.members):
            m = ctx.members[username]
            if (
                username.startswith("demo")
                and m.branch_id == branch.pk
                and m.user_id not in role_holders
                and m.pk not in taken
            ):
                taken.add(m.pk)
                return m
        raise CommandError(f"no demo member left in {branch_key}")

    def officer(branch_key: str):
        return (
            RoleAssignment.objects.filter(organization=ctx.orgs[branch_key], role=Role.SECRETARY)
            .select_related("user")
            .first()
            .user
        )

    def dated(transfer: Transfer, requested: int, released=None, closed=None) -> None:
        Transfer.objects.filter(pk=transfer.pk).update(
            requested_at=ctx.days_ago(requested),
            released_at=ctx.days_ago(released) if released is not None else transfer.released_at,
            closed_at=ctx.days_ago(closed) if closed is not None else transfer.closed_at,
        )
        ctx.count("transfers")

    def ask(from_key, to_key=None, **kw) -> Transfer:
        member = pick(from_key)
        to = ctx.orgs[to_key] if to_key else None
        return transfer_request(member=member, by=member.user, to_branch=to, **kw)

    # Waiting for `secretary` (c1_joint) to release it.
    dated(ask("c1_joint", "c1_sctr", reason="调往康定隧道项目", letter_number=""), 3)
    # Overdue: asked 45 days ago, c2_xj has not released it yet.
    dated(ask("c2_xj", "c3_cy", reason="项目完工，调往成都绕城项目"), 45)
    # Released by c1_sctr, waiting for `secretary` (c1_joint) to accept.
    t = ask(
        "c1_sctr", "c1_joint", reason="调往那曲物流园区项目", letter_number="川藏组转[2026]21号"
    )
    transfer_release(transfer=t, by=officer("c1_sctr"))
    dated(t, 6, released=4)
    # Released by c2_yn 40 days ago and still not accepted by `secretary2` (c1_sctr): overdue.
    t = ask("c2_yn", "c1_sctr", reason="调往川藏铁路", letter_number="滇中组转[2026]5号")
    transfer_release(transfer=t, by=officer("c2_yn"))
    dated(t, 42, released=40)
    # Accepted two months ago: the member now belongs to c1_joint.
    t = ask("c1_mobile", "c1_joint", reason="设备随项目转场")
    transfer_release(transfer=t, by=officer("c1_mobile"))
    transfer_accept(transfer=t, by=officer("c1_joint"))
    dated(t, 70, released=66, closed=60)
    # Refused by the receiving branch.
    t = ask("c3_cy", "c3_ys", reason="申请去玉树项目")
    transfer_release(transfer=t, by=officer("c3_cy"))
    transfer_refuse(transfer=t, by=officer("c3_ys"), reason="项目即将收尾，暂不接收")
    dated(t, 30, released=28, closed=25)
    # Withdrawn by the member.
    t = ask("hq1", "hq2", reason="部门调整")
    transfer_withdraw(transfer=t, by=t.member.user)
    dated(t, 20, closed=18)
    # Out of the group: released with the letter number, the member archived.
    t = ask("hq2", external_organization="成都市直机关工委", reason="调离集团")
    transfer_release(transfer=t, by=officer("hq2"), letter_number="集团党组转[2026]3号")
    dated(t, 15, released=12)

    # Join requests: the pocket members and an account with no record yet.
    pockets = sorted(
        (m for u, m in ctx.members.items() if u.startswith("demo") and m.branch_id is None),
        key=lambda m: m.user.username,
    )
    User = get_user_model()
    joiner = User.objects.filter(username=JOINER).first()
    if joiner is None:
        joiner = User.objects.create(
            username=JOINER, email=f"{JOINER}@example.com", password=ctx.password_hash
        )
        ctx.count("users")
    asks = [
        (joiner, "c1_joint", "王建新", "从地方单位调入那曲项目，持介绍信", "藏组转[2026]8号", 2),
    ]
    asks += [
        (m.user, key, m.real_name, "组织关系介绍信在身上，一直没有转入", "", days)
        for m, key, days in zip(
            pockets, ("c1_joint", "c1_sctr", "c1_sctr"), (5, 9, 30), strict=False
        )
    ]
    made = []
    for user, key, name, details, letter, days in asks:
        jr = join_request_send(
            user=user,
            branch=ctx.orgs[key],
            real_name=name,
            phone=fake_phone(ctx.rng(f"join-{user.username}")),
            details=details,
            letter_number=letter,
        )
        JoinRequest.objects.filter(pk=jr.pk).update(created_at=ctx.days_ago(days))
        made.append(jr)
        ctx.count("join requests")
    if len(made) > 3:  # the oldest one was refused; its person may ask again
        join_request_refuse(
            join_request=made[3], by=officer("c1_sctr"), reason="请先补齐介绍信后再申请"
        )
    ctx.logins.append(
        Login(JOINER, f"an account registered nowhere; asked to join {ctx.orgs['c1_joint'].name}")
    )
    # Released members left their branch (pocket until accepted): later modules read ctx.
    for m in ctx.members.values():
        if m.pk in taken:
            m.refresh_from_db(fields=["branch", "contact_status", "archived_at"])


# --------------------------------------------------------------------------------------------
# Bulk
# --------------------------------------------------------------------------------------------

BULK_USERNAMES = r"^m[0-9]{6,}$"
POCKET_SHARE = 0.03


def bulk_username(n: int, members: int) -> str:
    return f"m{n:0{max(6, len(str(members)))}d}"


def bulk(ctx: DemoContext, *, members: int) -> None:
    User = get_user_model()
    present = User.objects.filter(username__regex=BULK_USERNAMES).count()
    if present:
        if (
            present != members
            or not User.objects.filter(username=bulk_username(members, members)).exists()
        ):
            raise CommandError(
                f"The database already holds {present} bulk demo members, not {members}. "
                "Run `manage.py flush` (or recreate the database) to seed a different --members."
            )
        ctx.log(f"bulk members: {present} already there")
        bulk_transfers_and_cases(ctx, members=members)
        return

    rng = ctx.rng(f"members-bulk-{members}")
    rows: list[tuple[int, int | None, str]] = []
    bar = ctx.progress(total=members, desc="members")
    buffer: list[dict] = []
    n = 0
    for branch in bulk_branches(ctx):
        for i in range(branch.size):
            n += 1
            buffer.append(_bulk_spec(ctx, rng, branch, i, bulk_username(n, members)))
            if len(buffer) >= BATCH:
                rows.extend(_flush(ctx, buffer))
                bar.update(len(buffer))
                buffer = []
    if buffer:
        rows.extend(_flush(ctx, buffer))
        bar.update(len(buffer))
    bar.close()
    ctx.bulk["members"] = rows
    bulk_transfers_and_cases(ctx, members=members)


def _bulk_spec(ctx: DemoContext, rng: random.Random, branch, i: int, username: str) -> dict:
    roles = []
    if i == 0:
        roles.append((branch.id, Role.SECRETARY, ""))
    elif i == 1 and branch.size >= 18:
        roles.append((branch.id, Role.DEPUTY_SECRETARY, ""))
    elif i == 2:
        roles.append((branch.id, Role.COMMITTEE_MEMBER, "组织委员"))
    elif 3 <= i < 3 + len(branch.review_ids):
        roles.append((branch.review_ids[i - 3], Role.REVIEWER, "党群工作部"))

    if branch.category == Category.OFFICE:
        category = Category.OFFICE
    elif rng.random() < 0.85:
        category = branch.category
    else:
        category = Category.FRONT_LINE if branch.category == Category.REMOTE else Category.REMOTE

    if roles:
        contact, status = Contact.ACTIVE, Member.Status.FULL
    else:
        contact = Contact.POCKET if rng.random() < POCKET_SHARE else draw_contact(rng)
        status = (
            Member.Status.PROBATIONARY if rng.random() < PROBATIONARY_SHARE else Member.Status.FULL
        )

    if branch.kind == "mobile_branch":
        sites = branch.company_site_ids
    elif branch.category == Category.OFFICE:
        sites = []
    else:
        sites = branch.site_ids
    joins = []
    if contact != Contact.POCKET:
        if branch.group_ids and rng.random() < 0.75:
            joins.append(rng.choice(branch.group_ids))
        if branch.micro_id and rng.random() < 0.15:
            joins.append(branch.micro_id)
        if branch.joint_id and branch.joint_site_ids and rng.random() < 0.03:
            joins.append(branch.joint_id)  # works at one of the joint branch's small sites
            sites, category = branch.joint_site_ids, Category.REMOTE
    joined = joined_on(rng, ctx.today, status)
    facts = activity(rng, contact, ctx.now)
    return {
        "username": username,
        "real_name": person_name(rng),
        "branch_id": None if contact == Contact.POCKET else branch.id,
        "site_id": rng.choice(sites) if sites and contact != Contact.POCKET else None,
        "status": status,
        "category": category,
        "joined": joined,
        "registered": at_morning(
            ctx.today - timedelta(days=min((ctx.today - joined).days, rng.randint(30, 900)))
        ),
        "phone": fake_phone(rng),
        "position": rng.choice(POSITIONS[category]),
        "contact": contact,
        "facts": facts,
        "last_active": max((at for _kind, at in facts), default=None),
        "joins": [(org_id, ctx.date_ago(rng.randint(30, 400))) for org_id in joins],
        "roles": roles,
    }


def _flush(ctx: DemoContext, specs: list[dict]) -> list[tuple[int, int | None, str]]:
    User = get_user_model()
    users = [
        User(
            username=s["username"],
            email=f"{s['username']}@example.com",
            password=ctx.password_hash,
            is_staff=bool(s["roles"]),
            date_joined=s["registered"],
        )
        for s in specs
    ]
    User.objects.bulk_create(users, batch_size=BATCH)
    members = [
        Member(
            user_id=u.pk,
            real_name=s["real_name"],
            branch_id=s["branch_id"],
            project_site_id=s["site_id"],
            status=s["status"],
            category=s["category"],
            joined_party_on=s["joined"],
            phone=s["phone"],
            position=s["position"],
            contact_status=s["contact"],
            last_active_at=s["last_active"],
        )
        for u, s in zip(users, specs, strict=True)
    ]
    Member.objects.bulk_create(members, batch_size=BATCH)
    participations = [
        Participation(member_id=m.pk, organization_id=org_id, started_on=started)
        for m, s in zip(members, specs, strict=True)
        for org_id, started in s["joins"]
    ]
    Participation.objects.bulk_create(participations, batch_size=BATCH)
    facts = [
        ActivityFact(member_id=m.pk, kind=kind, occurred_at=at)
        for m, s in zip(members, specs, strict=True)
        for kind, at in s["facts"]
    ]
    ActivityFact.objects.bulk_create(facts, batch_size=BATCH)
    roles = [
        RoleAssignment(user_id=u.pk, organization_id=org_id, role=role, title=title)
        for u, s in zip(users, specs, strict=True)
        for org_id, role, title in s["roles"]
    ]
    RoleAssignment.objects.bulk_create(roles, batch_size=BATCH)
    ctx.count("users", len(users))
    ctx.count("members", len(members))
    ctx.count("participations", len(participations))
    ctx.count("activity facts", len(facts))
    ctx.count("role assignments", len(roles))
    return [(m.pk, m.branch_id, m.category) for m in members]


def bulk_members(ctx: DemoContext) -> list[tuple[int, int | None, str]]:
    """(member id, registered branch id, category) of every bulk member, for later modules."""
    if "members" not in ctx.bulk:
        ctx.bulk["members"] = list(
            Member.objects.filter(user__username__regex=BULK_USERNAMES)
            .order_by("pk")
            .values_list("pk", "branch_id", "category")
        )
    return ctx.bulk["members"]


# Contact attempts of the demo's outreach cases: (days after opening, channel, result).
ATTEMPTS = (
    (1, ContactAttempt.Channel.PHONE, "电话无人接听"),
    (4, ContactAttempt.Channel.MESSAGE, "微信留言，暂未回复"),
    (9, ContactAttempt.Channel.VISIT, "到原项目部走访，同事说已调往新项目"),
)


def outreach_cases(ctx: DemoContext) -> None:
    """Outreach cases in `secretary`'s branch: open ones with a few attempts for its members at
    risk, lost or invisible (one assigned to `office`), and closed ones for members found
    again (active now). Through the services by `secretary`, then dated back."""
    if OutreachCase.objects.filter(member__user__username__startswith="demo").exists():
        return
    secretary = ctx.members["secretary"]
    office = ctx.members.get("office")
    members = Member.objects.filter(
        branch=secretary.branch, user__username__startswith="demo", archived_at__isnull=True
    ).order_by("pk")
    missing = list(
        members.filter(contact_status__in=[Contact.LOST, Contact.AT_RISK, Contact.INVISIBLE])[:5]
    )
    found = list(members.filter(contact_status=Contact.ACTIVE)[:2])
    for i, member in enumerate(missing + found):
        closing = member in found
        opened = ctx.days_ago((80 if closing else 40) - i * 5)
        case = outreach_case_open(
            member=member,
            by=secretary.user,
            assigned_to=office.user if office and i == 1 else None,
            note="雷达提示失联，支部安排联系",
            now=opened,
        )
        for days, channel, result in ATTEMPTS[: 1 + i % 3]:
            outreach_attempt_log(
                case=case,
                by=secretary.user,
                channel=channel,
                result=result,
                at=opened + timedelta(days=days),
            )
            ctx.count("contact attempts")
        if closing:
            outreach_case_close(
                case=case,
                by=secretary.user,
                result=OutreachCase.Result.FOUND,
                note="已联系上，恢复参加组织生活",
                now=opened + timedelta(days=12),
            )
        OutreachCase.objects.filter(pk=case.pk).update(created_at=opened, updated_at=opened)
        ctx.count("outreach cases")


def invitations(ctx: DemoContext) -> None:
    """`secretary`'s branch invitations, one of each state: a link made yesterday and still
    pending, an e-mail invitation used a month ago by a member of the branch, one expired and
    one withdrawn. Through the services by `secretary`, on their own clock (no mail leaves:
    the mailed one is used before its transaction commits)."""
    secretary = ctx.members["secretary"]
    branch = secretary.branch
    if Invitation.objects.filter(branch=branch).exists():
        return
    by = secretary.user
    _, raw_token = invitation_create(by=by, branch=branch, now=ctx.days_ago(1))
    ctx.log(f"pending invitation to {branch.name}: {invitation_path(raw_token)}")
    joined = (
        Member.objects.filter(branch=branch, user__username__startswith="demo")
        .select_related("user")
        .order_by("-pk")
        .first()
    )
    used, _ = invitation_create(
        by=by,
        branch=branch,
        email=joined.user.email or f"{joined.user.username}@example.com",
        real_name=joined.real_name,
        category=joined.category,
        now=ctx.days_ago(32),
    )
    Invitation.objects.filter(pk=used.pk).update(
        emailed_at=ctx.days_ago(32),
        used_at=ctx.days_ago(30),
        used_by=joined.user,
        member=joined,
    )
    invitation_create(by=by, branch=branch, real_name="李晓东", now=ctx.days_ago(20))
    withdrawn, _ = invitation_create(
        by=by, branch=branch, email="zhaomin@example.com", now=ctx.days_ago(6)
    )
    Invitation.objects.filter(pk=withdrawn.pk).update(emailed_at=ctx.days_ago(6))
    invitation_revoke(invitation=withdrawn, by=by, now=ctx.days_ago(5))
    ctx.count("invitations", 4)


# --------------------------------------------------------------------------------------------
# Project-site lifecycle (small demo) and bulk transfers and outreach cases
# --------------------------------------------------------------------------------------------

# key, name, province, place, altitude, coverage, opened / closed (days ago)
CLOSED_SITE = ("delingha", "德令哈风电场项目部", "青海", "海西州德令哈市", 2980, "weak", 560, 12)
NEW_SITE = ("gonghe", "共和光伏产业园项目部", "青海", "海南州共和县", 2850, "weak", 20, None)


def site_lifecycle(ctx: DemoContext) -> None:
    """In `secretary`'s joint branch: a site closed 12 days ago with five members, one already
    re-homed (taking part in the mobile branch), four still on `secretary`'s worklist; and a
    small site opened 20 days ago whose two members, registered with the mobile branch, were
    attached to it and take part in the joint branch. Through the services, as the people
    concerned would."""
    from branches.models import ProjectSite
    from branches.services import site_close, site_open
    from members.services import member_update, site_attach, site_rehome

    joint = ctx.orgs["c1_joint"]
    key, name, province, place, altitude, coverage, opened, closed = CLOSED_SITE
    if ProjectSite.objects.filter(organization=joint, name=name).exists():
        ctx.sites[key] = ProjectSite.objects.get(organization=joint, name=name)
        ctx.sites[NEW_SITE[0]] = ProjectSite.objects.filter(
            organization=joint, name=NEW_SITE[1]
        ).first()
        return
    secretary = ctx.members["secretary"].user
    busy = set(
        Transfer.objects.filter(
            state__in=[Transfer.State.REQUESTED, Transfer.State.RELEASED]
        ).values_list("member_id", flat=True)
    )
    role_holders = set(RoleAssignment.objects.values_list("user_id", flat=True))

    def free(branch_key: str, sites: tuple[str, ...], n: int) -> list[Member]:
        found = list(
            Member.objects.filter(
                user__username__startswith="demo",
                branch=ctx.orgs[branch_key],
                project_site__in=[ctx.sites[s] for s in sites],
                archived_at__isnull=True,
            )
            .exclude(pk__in=busy)
            .exclude(user_id__in=role_holders)
            .select_related("user", "branch")
            .order_by("user__username")[:n]
        )
        if len(found) < n:
            raise CommandError(f"not enough demo members in {branch_key} for the site demo")
        return found

    site = site_open(
        by=ctx.admin,
        organization=joint,
        name=name,
        province=province,
        opened_on=ctx.date_ago(opened),
        place=place,
        altitude_m=altitude,
        coverage=coverage,
    )
    leaving = free("c1_joint", ("golmud", "xining"), 5)
    for m in leaving:
        member_update(member=m, by=ctx.admin, fields={"project_site": site})
    site = site_close(site=site, by=ctx.admin, on=ctx.date_ago(closed))
    site_rehome(
        site=site,
        by=secretary,
        members=leaving[:1],
        action="participate",
        target=ctx.orgs["c1_mobile"],
        reason="德令哈项目完工，随机械化施工队转场",
    )
    ctx.sites[key] = site
    ctx.count("project sites")
    ctx.count("participations")

    key, name, province, place, altitude, coverage, opened, _closed = NEW_SITE
    new_site = site_open(
        by=ctx.admin,
        organization=joint,
        name=name,
        province=province,
        opened_on=ctx.date_ago(opened),
        place=place,
        altitude_m=altitude,
        coverage=coverage,
    )
    site_attach(
        site=new_site,
        by=ctx.admin,
        members=free("c1_mobile", ("kangding", "golmud"), 2),
        branch=joint,
        note="共和光伏项目党员少，参加青藏联合支部活动",
    )
    ctx.sites[key] = new_site
    ctx.count("project sites")
    ctx.count("participations", 2)


BULK_MARK = "（批量演示）"
TRANSFER_SHARE = 0.01  # of the bulk members, a transfer each, in every state
CASE_SHARE = 0.02  # of the bulk members, an outreach case each (a third closed)


def bulk_transfers_and_cases(ctx: DemoContext, *, members: int) -> None:
    """Transfers in every state for 1 % of the bulk members (to or from another branch of
    their company; an accepted one came in from there) and outreach cases with one to three
    contact attempts for 2 %, taken among those not in touch. Set-based: one read of the bulk
    members, then `bulk_create`."""
    if Transfer.objects.filter(reason__endswith=BULK_MARK).exists():
        return
    rows = [r for r in bulk_members(ctx) if r[1] is not None]
    branches = {b.id: b for b in bulk_branches(ctx)}
    if not rows or not branches:
        return
    rng = ctx.rng(f"transfers-bulk-{members}")
    by_company: dict[int, list[int]] = {}
    for b in branches.values():
        by_company.setdefault(b.company_id, []).append(b.id)
    states = list(Transfer.State)
    step = max(1, round(1 / TRANSFER_SHARE))
    transfers = []
    for i, (member_id, branch_id, _category) in enumerate(rows[::step]):
        company = branches[branch_id].company_id if branch_id in branches else None
        others = [b for b in by_company.get(company, []) if b != branch_id]
        if not others:
            continue
        other = rng.choice(others)
        state = states[i % len(states)]
        asked = ctx.days_ago(rng.uniform(3, 120))
        released = asked + timedelta(days=rng.uniform(0.5, 5))
        closed = released + timedelta(days=rng.uniform(0.5, 10))
        accepted = state == Transfer.State.ACCEPTED
        transfers.append(
            Transfer(
                member_id=member_id,
                # An accepted transfer brought the member here from a sibling branch.
                from_branch_id=other if accepted else branch_id,
                to_branch_id=branch_id if accepted else other,
                state=state,
                reason="项目转场" + BULK_MARK,
                requested_at=asked,
                released_at=released if state in ("released", "accepted") else None,
                closed_at=closed if state in ("accepted", "refused", "withdrawn") else None,
                refusal_reason="暂不接收" if state == "refused" else "",
            )
        )
    Transfer.objects.bulk_create(transfers, batch_size=BATCH)
    ctx.count("transfers", len(transfers))

    first = rows[0][0]
    away = list(
        Member.objects.filter(
            pk__gte=first,
            branch__isnull=False,
            archived_at__isnull=True,
            contact_status__in=[Contact.AT_RISK, Contact.LOST, Contact.INVISIBLE],
        )
        .order_by("pk")
        .values_list("pk", "branch_id")
    )
    wanted = max(1, round(members * CASE_SHARE))
    picked = away[:: max(1, len(away) // wanted)][:wanted]
    cases = []
    for i, (member_id, branch_id) in enumerate(picked):
        opened = ctx.days_ago(rng.uniform(5, 150))
        closing = i % 3 == 0
        cases.append(
            OutreachCase(
                member_id=member_id,
                organization_id=branch_id,
                opened_at=opened,
                closed_at=opened + timedelta(days=rng.uniform(3, 30)) if closing else None,
                result=OutreachCase.Result.FOUND if closing else "",
                note="雷达提示失联，支部安排联系" + BULK_MARK,
            )
        )
    OutreachCase.objects.bulk_create(cases, batch_size=BATCH)
    attempts = [
        ContactAttempt(
            case_id=case.pk,
            at=case.opened_at + timedelta(days=days),
            channel=channel,
            result=result,
        )
        for i, case in enumerate(cases)
        for days, channel, result in ATTEMPTS[: 1 + i % 3]
    ]
    ContactAttempt.objects.bulk_create(attempts, batch_size=BATCH)
    ctx.count("outreach cases", len(cases))
    ctx.count("contact attempts", len(attempts))
