"""`manage.py seed_demo`: the small demo, its accounts, idempotency, and the bulk tree."""

from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db.models import Count, Max
from django.utils import timezone

from branches.models import Organization, ProjectSite, RoleAssignment, TimelineEntry
from members.models import ActivityFact, Member, Participation
from portal.demo import DEMO_PASSWORD

User = get_user_model()
Role = RoleAssignment.Role
DEMO_ACCOUNTS = ("member", "office", "secretary", "secretary2", "reviewer", "admin")
from discussions.models import BoardPost, Comment, Like  # noqa: E402
from lessons.models import Document, Lesson, PointsEntry, StudyPlan, StudyRecord  # noqa: E402
from notifications.models import Event, Notice, Notification  # noqa: E402

MODELS = (
    User,
    Organization,
    ProjectSite,
    RoleAssignment,
    TimelineEntry,
    Member,
    Participation,
    ActivityFact,
    Notice,
    Event,
    Notification,
    BoardPost,
    Comment,
    Like,
    Lesson,
    StudyRecord,
    PointsEntry,
    StudyPlan,
    Document,
)


@pytest.fixture
def debug(settings):
    """pytest-django runs tests with DEBUG=False, which the command refuses."""
    settings.DEBUG = True


def seed(**options) -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out, stderr=StringIO(), **options)
    return out.getvalue()


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


def parent_path(org: Organization) -> str:
    return org.path[: -Organization.steplen]


def test_running_twice_changes_nothing(db, debug):
    first_output = seed()
    first = counts()
    assert first["Member"] >= 140
    assert "Created" in first_output

    second_output = seed()

    assert counts() == first
    assert "Nothing to create" in second_output
    duplicates = Organization.objects.values("name").annotate(n=Count("pk")).filter(n__gt=1)
    assert not duplicates.exists()
    assert Organization.objects.find_problems() == ([], [], [], [], [])


def test_demo_accounts_have_their_roles_and_branches(db, debug):
    output = seed()

    member = Member.objects.select_related("branch", "project_site", "user").get(
        user__username="member"
    )
    assert member.branch.kind == Organization.Kind.JOINT_BRANCH
    assert member.category == Member.Category.REMOTE
    site = member.project_site
    assert (site.province, site.coverage) == ("西藏", ProjectSite.Coverage.NONE)
    assert site.altitude_m >= 4500
    assert site.organization_id == member.branch_id
    assert not member.user.is_staff

    office = Member.objects.select_related("branch").get(user__username="office")
    assert office.category == Member.Category.OFFICE
    assert office.branch.kind == Organization.Kind.BRANCH
    company = Organization.objects.get(path=parent_path(office.branch))
    assert (company.kind, company.depth) == (Organization.Kind.COMMITTEE, 2)

    secretary = RoleAssignment.objects.select_related("organization", "user").get(
        user__username="secretary", role=Role.SECRETARY
    )
    assert secretary.organization == member.branch
    assert secretary.user.is_staff
    assert Member.objects.get(user__username="secretary").branch == member.branch
    committee = set(
        RoleAssignment.objects.filter(organization=member.branch).values_list("role", flat=True)
    )
    assert {Role.SECRETARY, Role.DEPUTY_SECRETARY, Role.COMMITTEE_MEMBER} <= committee

    secretary2 = RoleAssignment.objects.select_related("organization", "user").get(
        user__username="secretary2", role=Role.SECRETARY
    )
    sibling = secretary2.organization
    assert sibling != member.branch
    assert sibling.kind in Organization.REGISTRATION_KINDS
    assert parent_path(sibling) == parent_path(member.branch)
    assert Organization.objects.get(path=parent_path(sibling)).kind == Organization.Kind.COMMITTEE
    assert secretary2.user.is_staff
    assert RoleAssignment.objects.filter(organization=sibling, role=Role.DEPUTY_SECRETARY).exists()

    reviewer = RoleAssignment.objects.select_related("organization", "user").get(
        user__username="reviewer", role=Role.REVIEWER
    )
    assert reviewer.organization.depth == 1
    assert reviewer.user.is_staff

    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff

    for username in DEMO_ACCOUNTS:
        assert f"  {username} " in output
    assert DEMO_PASSWORD in output


def test_demo_accounts_log_in_with_the_demo_password(db, debug, client):
    seed()
    for username in DEMO_ACCOUNTS:
        user = User.objects.get(username=username)
        # Hashed with the configured hasher (the tests' fast one), so logins work.
        assert user.password.startswith("md5$")
        assert user.check_password(DEMO_PASSWORD)
        assert client.login(username=username, password=DEMO_PASSWORD), username
        client.logout()
    assert User.objects.get(username="demo001").check_password(DEMO_PASSWORD)


def test_refuses_without_debug_unless_forced(db, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG=False"):
        seed()
    assert not User.objects.exists()

    seed(force=True)
    assert User.objects.filter(username="member").exists()


def test_demo_covers_every_status_category_and_kind(db, debug):
    seed()

    assert set(Member.objects.values_list("contact_status", flat=True)) == set(
        Member.ContactStatus.values
    )
    assert set(Member.objects.values_list("category", flat=True)) == set(Member.Category.values)
    assert set(Member.objects.values_list("status", flat=True)) == set(Member.Status.values)
    assert set(Organization.objects.values_list("kind", flat=True)) == set(Organization.Kind.values)
    assert set(ProjectSite.objects.values_list("coverage", flat=True)) == set(
        ProjectSite.Coverage.values
    )
    assert ProjectSite.objects.filter(closed_on__isnull=False).exists()
    assert {"西藏", "青海", "四川", "云南", "新疆"} <= set(
        ProjectSite.objects.values_list("province", flat=True)
    )

    pocket = Member.objects.filter(contact_status=Member.ContactStatus.POCKET)
    assert pocket.exists() and not pocket.filter(branch__isnull=False).exists()

    recent = timezone.now() - timedelta(days=90)
    lost = Member.objects.filter(contact_status=Member.ContactStatus.LOST)
    assert not lost.filter(last_active_at__gte=recent).exists()
    assert not ActivityFact.objects.filter(member__in=lost, occurred_at__gte=recent).exists()
    active = Member.objects.filter(contact_status=Member.ContactStatus.ACTIVE)
    assert not active.filter(last_active_at__isnull=True).exists()
    # last_active_at is the latest fact.
    latest = dict(
        ActivityFact.objects.values("member")
        .annotate(at=Max("occurred_at"))
        .values_list("member", "at")
    )
    for member_id, last_active in Member.objects.filter(pk__in=latest).values_list(
        "pk", "last_active_at"
    ):
        assert last_active == latest[member_id]

    # Members of the small sites registered at home but taking part in the joint branch.
    joint = Member.objects.get(user__username="member").branch
    participants = Participation.objects.filter(organization=joint).select_related("member")
    assert participants.count() >= 3
    assert all(p.member.branch_id != joint.pk for p in participants)
    for kind in (Organization.Kind.MICRO_BRANCH, Organization.Kind.GROUP):
        assert Participation.objects.filter(organization__kind=kind).exists()

    kinds = set(TimelineEntry.objects.filter(organization=joint).values_list("kind", flat=True))
    assert {"organization_created", "site_opened", "role_assigned", "member_registered"} <= kinds
    assert TimelineEntry.objects.filter(kind="site_closed").exists()


def test_bulk_builds_a_valid_tree_and_is_idempotent(db, debug):
    seed()
    small = counts()
    seed(members=300)
    after = counts()

    bulk_members = Member.objects.filter(user__username__regex=r"^m[0-9]{6}$")
    assert bulk_members.count() == 300
    assert after["Member"] == small["Member"] + 300
    assert Organization.objects.find_problems() == ([], [], [], [], [])
    root = Organization.objects.get(depth=1)
    assert root.numchild == Organization.objects.filter(depth=2).count()

    registered = bulk_members.exclude(branch=None)
    assert not registered.exclude(branch__kind__in=Organization.REGISTRATION_KINDS).exists()
    per_branch = registered.values("branch").annotate(n=Count("pk")).values_list("n", flat=True)
    assert max(per_branch) <= 25
    assert set(bulk_members.values_list("contact_status", flat=True)) == set(
        Member.ContactStatus.values
    )
    assert Participation.objects.filter(member__in=bulk_members).exists()
    assert RoleAssignment.objects.filter(
        user__member__in=bulk_members, role=Role.SECRETARY
    ).exists()
    assert not User.objects.filter(
        member__in=bulk_members, role_assignments__isnull=False, is_staff=False
    ).exists()
    assert User.objects.get(username="m000300").check_password(DEMO_PASSWORD)

    seed(members=300)
    assert counts() == after

    with pytest.raises(CommandError, match=r"another size|not 400"):
        seed(members=400)
    assert counts() == after
