"""Demo organisation tree and project sites.

Small demo: 瀚川建设集团党委 over the head-office general branch and three company committees,
with office branches, project branches, a joint branch for three small plateau sites (one at
那曲, 4,600 m, no coverage), a mobile branch, a micro-branch and party groups.

Bulk: engineering bureaus (工程局党委) under the group, ten companies each, twenty
registration branches per company (two office branches under a general branch, a joint
branch with three small sites, a mobile branch, sixteen project branches with party groups
and some micro-branches), sized so that they register exactly N members. The materialised
paths are computed here and the rows inserted with `bulk_create`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.core.management.base import CommandError
from django.db.models import F
from django.urls import reverse

from branches.models import Organization, ProjectSite, TimelineEntry
from branches.scope import subtree_q
from branches.services import organization_create, site_close, site_open

from . import BATCH, DemoContext, at_morning, batched
from .names import (
    JOINT_REGIONS,
    PLACES,
    PROJECT_KINDS,
    SMALL_PROJECT_KINDS,
    WORK_AREAS,
    cn_number,
    coverage_for,
    fake_phone,
)

Kind = Organization.Kind

# --------------------------------------------------------------------------------------------
# Small demo
# --------------------------------------------------------------------------------------------

# key, parent key, name, short name, kind, founded (days ago), description
ORGS = (
    ("group", None, "瀚川建设集团有限公司党委", "集团党委", Kind.COMMITTEE, 3650,
     "集团党委领导集团机关和各子公司党组织，党建工作部负责日常工作，审核各支部的活动报告。"),
    ("hq", "group", "集团机关党总支", "机关党总支", Kind.GENERAL_BRANCH, 3300, ""),
    ("hq1", "hq", "集团机关第一党支部", "机关一支部", Kind.BRANCH, 3300,
     "党建工作部、综合办公室、人力资源部的党员。"),
    ("hq2", "hq", "集团机关第二党支部", "机关二支部", Kind.BRANCH, 3300,
     "工程管理部、财务部、物资设备部的党员。"),
    ("c1", "group", "瀚川第一工程有限公司党委", "一公司党委", Kind.COMMITTEE, 3400, ""),
    ("c1_office", "c1", "一公司机关党支部", "一公司机关支部", Kind.BRANCH, 3300, ""),
    ("c1_office_g1", "c1_office", "一公司机关第一党小组", "", Kind.GROUP, 1200, ""),
    ("c1_joint", "c1", "一公司青藏片区联合党支部", "青藏联合支部", Kind.JOINT_BRANCH, 700,
     "那曲、格尔木、西宁三个小型项目部党员人数少、相距远，联合组建党支部，"
     "主要通过网络开展组织生活；那曲项目部海拔4600米，没有网络信号。"),
    ("c1_sctr", "c1", "一公司川藏铁路康定隧道项目部党支部", "康定隧道支部", Kind.BRANCH, 900, ""),
    ("c1_sctr_micro", "c1_sctr", "康定隧道进口工区微支部", "进口工区微支部", Kind.MICRO_BRANCH, 400,
     "隧道进口工区三班倒作业，党员利用班前班后在手机上学习、交流。"),
    ("c1_sctr_g1", "c1_sctr", "康定隧道项目第一党小组", "", Kind.GROUP, 850, ""),
    ("c1_sctr_g2", "c1_sctr", "康定隧道项目第二党小组", "", Kind.GROUP, 850, ""),
    ("c1_mobile", "c1", "一公司机械化施工流动党支部", "流动党支部", Kind.MOBILE_BRANCH, 1500,
     "盾构、架桥机等专业机械队伍随工程转场，党员流动性大，活动随队开展。"),
    ("c2", "group", "瀚川第二工程有限公司党委", "二公司党委", Kind.COMMITTEE, 3300, ""),
    ("c2_office", "c2", "二公司机关党支部", "二公司机关支部", Kind.BRANCH, 3200, ""),
    ("c2_yn", "c2", "二公司滇中引水禄丰段项目部党支部", "禄丰项目支部", Kind.BRANCH, 1100, ""),
    ("c2_yn_g1", "c2_yn", "禄丰项目第一党小组", "", Kind.GROUP, 1000, ""),
    ("c2_xj", "c2", "二公司南疆公路项目部党支部", "南疆项目支部", Kind.BRANCH, 1600,
     "支部随项目转场：喀什城市道路项目完工后，整体转入若羌公路项目。"),
    ("c3", "group", "瀚川路桥工程有限公司党委", "路桥公司党委", Kind.COMMITTEE, 3000, ""),
    ("c3_office", "c3", "路桥公司机关党支部", "路桥机关支部", Kind.BRANCH, 2900, ""),
    ("c3_cy", "c3", "路桥公司成都绕城高速项目部党支部", "成都绕城支部", Kind.BRANCH, 800, ""),
    ("c3_ys", "c3", "路桥公司玉树通天河大桥项目部党支部", "通天河大桥支部", Kind.BRANCH, 500, ""),
)  # fmt: skip

# key, organisation key, name, province, place, altitude, coverage, opened / closed (days ago)
SITES = (
    ("naqu", "c1_joint", "那曲物流园区项目部", "西藏", "那曲市色尼区", 4600, "none", 420, None),
    ("golmud", "c1_joint", "格尔木光伏电站项目部", "青海", "海西州格尔木市", 2800, "weak", 380, None),
    ("xining", "c1_joint", "西宁综合管廊项目部", "青海", "西宁市城北区", 2275, "good", 650, None),
    ("kangding", "c1_sctr", "川藏铁路康定隧道项目部", "四川", "甘孜州康定市", 2560, "weak", 880, None),
    ("lufeng", "c2_yn", "滇中引水禄丰段项目部", "云南", "楚雄州禄丰市", 1600, "good", 1050, None),
    ("kashgar", "c2_xj", "喀什城市道路项目部", "新疆", "喀什地区喀什市", 1290, "good", 1550, 620),
    ("ruoqiang", "c2_xj", "若羌公路项目部", "新疆", "巴音郭楞州若羌县", 900, "weak", 600, None),
    ("chengdu", "c3_cy", "成都绕城高速改扩建项目部", "四川", "成都市双流区", 500, "good", 760, None),
    ("yushu", "c3_ys", "玉树通天河大桥项目部", "青海", "玉树州称多县", 3700, "weak", 470, None),
)  # fmt: skip


def seed(ctx: DemoContext) -> None:
    for spec in ORGS:
        _ensure_org(ctx, *spec)
    for spec in SITES:
        _ensure_site(ctx, *spec)
    _ensure_site_photo(ctx, "naqu")


def _ensure_site_photo(ctx: DemoContext, key: str) -> None:
    """A drawn picture of the plateau site, uploaded through core's checks so that the branch
    page shows it with its phone-sized renditions."""
    site = ctx.sites[key]
    if site.photo:
        return
    from io import BytesIO

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image, ImageDraw

    from core.images import schedule_renditions
    from core.uploads import validate_image

    width, height = 1600, 900
    img = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(img)
    for y in range(height):  # sky fading to the horizon
        t = y / height
        draw.line(
            [(0, y), (width, y)], fill=(int(40 + 150 * t), int(110 + 110 * t), int(200 + 40 * t))
        )
    draw.polygon(
        [
            (0, 620),
            (380, 250),
            (640, 520),
            (980, 180),
            (1320, 480),
            (1600, 300),
            (1600, 900),
            (0, 900),
        ],
        fill=(92, 84, 78),
    )
    draw.polygon([(300, 330), (380, 250), (460, 330), (420, 320), (380, 345)], fill=(245, 245, 250))
    draw.polygon(
        [(880, 280), (980, 180), (1080, 280), (1030, 270), (980, 300)], fill=(245, 245, 250)
    )
    draw.rectangle([(0, 760), (width, height)], fill=(150, 130, 90))  # the plateau
    for x in (520, 600, 680):  # site cabins
        draw.rectangle([(x, 700), (x + 60, 760)], fill=(30, 90, 160))
    draw.rectangle([(760, 660), (772, 760)], fill=(180, 180, 180))  # flagpole
    draw.rectangle([(772, 660), (832, 700)], fill=(200, 20, 30))
    buffer = BytesIO()
    img.save(buffer, format="JPEG", quality=80)
    cleaned = validate_image(
        SimpleUploadedFile("naqu.jpg", buffer.getvalue(), content_type="image/jpeg")
    )
    site.photo.save(cleaned.name, cleaned, save=True)
    schedule_renditions(
        site.photo.name
    )  # FieldFile.save() stores the file before the field sees it


def _ensure_org(ctx, key, parent_key, name, short_name, kind, founded, description) -> None:
    parent = ctx.orgs[parent_key] if parent_key else None
    found = Organization.objects.filter(name=name)
    if parent is None:
        found = found.filter(depth=1)
    else:
        found = found.filter(depth=parent.depth + 1, path__startswith=parent.path)
    org = found.first()
    if org is None:
        org = organization_create(
            parent=parent,
            by=ctx.admin,
            name=name,
            short_name=short_name,
            kind=kind,
            description=f"<p>{description}</p>" if description else "",
            contact_phone=fake_phone(ctx.rng(f"org-phone:{key}")),
        )
        # The service dates the "set up" line today; the demo's branches are older.
        TimelineEntry.objects.filter(organization=org, kind="organization_created").update(
            occurred_at=at_morning(ctx.date_ago(founded))
        )
        ctx.count("organisations")
    ctx.orgs[key] = org


def _ensure_site(ctx, key, org_key, name, province, place, altitude, coverage, opened, closed):
    org = ctx.orgs[org_key]
    site = ProjectSite.objects.filter(organization=org, name=name).first()
    if site is None:
        site = site_open(
            by=ctx.admin,
            organization=org,
            name=name,
            province=province,
            opened_on=ctx.date_ago(opened),
            place=place,
            altitude_m=altitude,
            coverage=coverage,
        )
        if closed is not None:
            site = site_close(site=site, by=ctx.admin, on=ctx.date_ago(closed))
        ctx.count("project sites")
    ctx.sites[key] = site


# --------------------------------------------------------------------------------------------
# Bulk
# --------------------------------------------------------------------------------------------

BUREAU_SUFFIX = "工程局党委"  # marks the bulk tree: the small demo has no 工程局
COMPANIES_PER_BUREAU = 10
PROJECTS_PER_COMPANY = 16
MEMBERS_PER_BRANCH = (15, 25)


@dataclass
class PlannedSite:
    name: str
    province: str
    place: str
    altitude: int
    coverage: str
    opened_on: date
    closed_on: date | None = None


@dataclass
class PlannedOrg:
    path: str
    depth: int
    name: str
    short_name: str
    kind: str
    founded: date
    phone: str
    numchild: int = 0
    # Registration branches only:
    size: int = 0
    category: str = ""
    company: str = ""
    sites: list[PlannedSite] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    micro: str = ""
    joint: str = ""
    reviews: list[str] = field(default_factory=list)


@dataclass
class BulkBranch:
    """A registration branch of the bulk tree, with what member generation needs."""

    id: int
    kind: str
    size: int
    category: str
    company_id: int
    site_ids: list[int]
    company_site_ids: list[int]
    group_ids: list[int]
    micro_id: int | None
    joint_id: int | None
    joint_site_ids: list[int]
    review_ids: list[int]


class _Planner:
    def __init__(self, *, root: Organization, first_index: int, rng, today: date):
        self.root = root
        self.next_root_index = first_index
        self.rng = rng
        self.today = today
        self.orgs: list[PlannedOrg] = []
        self.bureaus = 0

    def ago(self, low: int, high: int) -> date:
        return self.today - timedelta(days=self.rng.randint(low, high))

    def add(self, parent: PlannedOrg | None, name: str, short: str, kind: str, founded: date):
        if parent is None:
            path = Organization._get_path(self.root.path, self.root.depth + 1, self.next_root_index)
            self.next_root_index += 1
            self.bureaus += 1
            depth = self.root.depth + 1
        else:
            parent.numchild += 1
            depth = parent.depth + 1
            path = Organization._get_path(parent.path, depth, parent.numchild)
        org = PlannedOrg(
            path=path,
            depth=depth,
            name=name,
            short_name=short,
            kind=kind,
            founded=founded,
            phone=f"100{self.rng.randrange(10**8):08d}",
        )
        self.orgs.append(org)
        return org


def plan_tree(*, members: int, root: Organization, first_index: int, rng, today: date):
    """The bulk tree for `members`, in path order; deterministic for a given generator."""
    sizes: list[int] = []
    total = 0
    while total < members:
        sizes.append(rng.randint(*MEMBERS_PER_BRANCH))
        total += sizes[-1]
    sizes[-1] -= total - members
    sizes.reverse()  # pop() hands them out in order

    p = _Planner(root=root, first_index=first_index, rng=rng, today=today)
    b = 0
    while sizes:
        b += 1
        bureau = p.add(
            None,
            f"瀚川第{cn_number(b)}{BUREAU_SUFFIX}",
            f"{cn_number(b)}局党委",
            Kind.COMMITTEE,
            p.ago(3300, 4200),
        )
        for j in range(1, COMPANIES_PER_BUREAU + 1):
            if not sizes:
                break
            _plan_company(p, bureau, b, j, sizes)
    return p.orgs, p.bureaus


def _plan_company(p: _Planner, bureau: PlannedOrg, b: int, j: int, sizes: list[int]) -> None:
    rng = p.rng
    cshort = f"{cn_number(b)}局{cn_number(j)}公司"
    founded = p.ago(2500, 3300)
    company = p.add(
        bureau,
        f"瀚川{cn_number(b)}局第{cn_number(j)}工程公司党委",
        f"{cshort}党委",
        Kind.COMMITTEE,
        founded,
    )

    def branch(parent, name, short, kind, founded, category, **extra):
        org = p.add(parent, name, short, kind, founded)
        org.size = sizes.pop()
        org.category = category
        org.company = company.path
        for key, value in extra.items():
            setattr(org, key, value)
        return org

    general = p.add(
        company, f"{cshort}机关党总支", f"{cshort}机关总支", Kind.GENERAL_BRANCH, founded
    )
    reviews = [company.path] + ([bureau.path] if j == 1 else [])
    for k in (1, 2):
        if sizes:
            branch(
                general,
                f"{cshort}机关第{cn_number(k)}党支部",
                f"机关{cn_number(k)}支部",
                Kind.BRANCH,
                founded,
                "office",
                reviews=reviews if k == 1 else [],
            )
    if not sizes:
        return

    region, province = rng.choice(JOINT_REGIONS)
    places = rng.sample([pl for pl in PLACES if pl[0] == province], 3)
    joint_sites = []
    for _prov, place, short, altitude in places:
        kind_name = rng.choice(SMALL_PROJECT_KINDS)
        joint_sites.append(
            PlannedSite(
                f"{short}{kind_name}项目部",
                province,
                place,
                altitude,
                coverage_for(rng, altitude),
                p.ago(90, 700),
            )
        )
    joint = branch(
        company,
        f"{cshort}{region}片区联合党支部",
        f"{region}联合支部",
        Kind.JOINT_BRANCH,
        p.ago(700, 900),
        "remote",
        sites=joint_sites,
    )
    if sizes:
        branch(
            company,
            f"{cshort}机械化施工流动党支部",
            "流动党支部",
            Kind.MOBILE_BRANCH,
            p.ago(900, 2000),
            "front_line",
        )

    for k in range(PROJECTS_PER_COMPANY):
        if not sizes:
            break
        province, place, short, altitude = rng.choice(PLACES)
        site_name = f"{short}{rng.choice(PROJECT_KINDS)}项目部"
        opened = p.ago(60, 1000)
        sites = [
            PlannedSite(site_name, province, place, altitude, coverage_for(rng, altitude), opened)
        ]
        if rng.random() < 0.15:  # the branch moved here from a finished project
            old_province, old_place, old_short, old_altitude = rng.choice(PLACES)
            old_open = p.ago(1100, 2000)
            sites.insert(
                0,
                PlannedSite(
                    f"{old_short}{rng.choice(PROJECT_KINDS)}项目部",
                    old_province,
                    old_place,
                    old_altitude,
                    coverage_for(rng, old_altitude),
                    old_open,
                    closed_on=min(opened, p.ago(365, 1000)),
                ),
            )
        remote = altitude >= 3000 or sites[-1].coverage == "none"
        founded = sites[0].opened_on - timedelta(days=rng.randint(0, 30))
        org = branch(
            company,
            f"{cshort}{site_name}党支部",
            site_name.removesuffix("项目部") + "支部",
            Kind.BRANCH,
            founded,
            "remote" if remote else "front_line",
            sites=sites,
            joint=joint.path,
        )
        stem = site_name.removesuffix("项目部")
        for g in (1, 2):
            group = p.add(
                org,
                f"{stem}项目第{cn_number(g)}党小组",
                "",
                Kind.GROUP,
                founded + timedelta(days=30),
            )
            org.groups.append(group.path)
        if k % 4 == 0:
            micro = p.add(
                org,
                f"{stem}{rng.choice(WORK_AREAS)}微支部",
                "",
                Kind.MICRO_BRANCH,
                founded + timedelta(days=60),
            )
            org.micro = micro.path


def bulk(ctx: DemoContext, *, members: int) -> None:
    root = Organization.objects.get(pk=ctx.orgs["group"].pk)
    ctx.orgs["group"] = root
    children = Organization.objects.filter(depth=root.depth + 1, path__startswith=root.path)
    bureau_paths = list(
        children.filter(name__endswith=BUREAU_SUFFIX)
        .order_by("path")
        .values_list("path", flat=True)
    )
    if bureau_paths:
        first_index = Organization._str2int(bureau_paths[0][-Organization.steplen :])
    else:
        last = children.order_by("-path").values_list("path", flat=True).first()
        first_index = Organization._str2int(last[-Organization.steplen :]) + 1 if last else 1
    plan, bureaus = plan_tree(
        members=members,
        root=root,
        first_index=first_index,
        rng=ctx.rng(f"branches-bulk-{members}"),
        today=ctx.today,
    )

    if bureau_paths:
        ids = dict(Organization.objects.filter(subtree_q(bureau_paths)).values_list("path", "id"))
        if len(ids) != len(plan) or any(ids.get(o.path) is None for o in plan):
            raise CommandError(
                "The database already holds a bulk demo tree of another size. "
                "Run `manage.py flush` (or recreate the database) to seed a different --members."
            )
        open_sites: dict[int, list[int]] = {}
        rows = ProjectSite.objects.filter(organization_id__in=ids.values(), closed_on__isnull=True)
        for site_id, org_id in rows.order_by("id").values_list("id", "organization_id"):
            open_sites.setdefault(org_id, []).append(site_id)
        ctx.log(f"bulk tree: {len(plan)} organisations already there")
    else:
        ids, open_sites = _insert(ctx, root, plan, bureaus)

    ctx.bulk["branches"] = _bulk_branches(plan, ids, open_sites)


def _insert(ctx: DemoContext, root: Organization, plan: list[PlannedOrg], bureaus: int):
    bar = ctx.progress(total=len(plan), desc="organisations")
    ids: dict[str, int] = {}
    for chunk in batched(plan):
        objs = [
            Organization(
                path=o.path,
                depth=o.depth,
                numchild=o.numchild,
                name=o.name,
                short_name=o.short_name,
                kind=o.kind,
                contact_phone=o.phone,
            )
            for o in chunk
        ]
        Organization.objects.bulk_create(objs, batch_size=BATCH)
        ids.update((o.path, o.pk) for o in objs)
        bar.update(len(objs))
    bar.close()
    Organization.objects.filter(pk=root.pk).update(numchild=F("numchild") + bureaus)
    root.numchild += bureaus

    sites = [
        ProjectSite(
            organization_id=ids[o.path],
            name=s.name,
            province=s.province,
            place=s.place,
            altitude_m=s.altitude,
            coverage=s.coverage,
            opened_on=s.opened_on,
            closed_on=s.closed_on,
        )
        for o in plan
        for s in o.sites
    ]
    ProjectSite.objects.bulk_create(sites, batch_size=BATCH)
    open_sites: dict[int, list[int]] = {}
    for s in sites:
        if s.closed_on is None:
            open_sites.setdefault(s.organization_id, []).append(s.pk)

    sentinel = 987654321
    url = reverse("branches:detail", args=[sentinel])
    entries = [
        TimelineEntry(
            organization_id=ids[o.path],
            kind="organization_created",
            params={"name": o.name},
            url=url.replace(str(sentinel), str(ids[o.path])),
            occurred_at=at_morning(o.founded),
        )
        for o in plan
    ]
    for s in sites:
        entries.append(
            TimelineEntry(
                organization_id=s.organization_id,
                kind="site_opened",
                params={"site": s.name},
                occurred_at=at_morning(s.opened_on),
            )
        )
        if s.closed_on is not None:
            entries.append(
                TimelineEntry(
                    organization_id=s.organization_id,
                    kind="site_closed",
                    params={"site": s.name},
                    occurred_at=at_morning(s.closed_on),
                )
            )
    TimelineEntry.objects.bulk_create(entries, batch_size=BATCH)
    ctx.count("organisations", len(plan))
    ctx.count("project sites", len(sites))
    ctx.count("timeline entries", len(entries))
    return ids, open_sites


def _bulk_branches(plan: list[PlannedOrg], ids: dict[str, int], open_sites: dict[int, list[int]]):
    company_sites: dict[str, list[int]] = {}
    for o in plan:
        if o.kind == Kind.BRANCH and o.sites:
            company_sites.setdefault(o.company, []).extend(open_sites.get(ids[o.path], []))
    out = []
    for o in plan:
        if not o.size:
            continue
        joint_id = ids[o.joint] if o.joint else None
        out.append(
            BulkBranch(
                id=ids[o.path],
                kind=o.kind,
                size=o.size,
                category=o.category,
                company_id=ids[o.company],
                site_ids=open_sites.get(ids[o.path], []),
                company_site_ids=company_sites.get(o.company, []),
                group_ids=[ids[g] for g in o.groups],
                micro_id=ids[o.micro] if o.micro else None,
                joint_id=joint_id,
                joint_site_ids=open_sites.get(joint_id, []) if joint_id else [],
                review_ids=[ids[r] for r in o.reviews],
            )
        )
    assert sum(b.size for b in out) == sum(o.size for o in plan)
    return out


def bulk_branches(ctx: DemoContext) -> list[BulkBranch]:
    """The registration branches of the bulk tree (after `bulk` ran), for later modules."""
    return ctx.bulk.get("branches", [])
