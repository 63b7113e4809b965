"""`manage.py seed_demo`: the small demo, its accounts, idempotency, and the bulk tree."""

from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db.models import Count, Max
from django.utils import timezone

from branches.models import Organization, ProjectSite, RoleAssignment, TimelineEntry
from meetings import selectors as meeting_selectors
from members.models import ActivityFact, Member, Participation
from portal.demo import DEMO_PASSWORD
from portal.demo.meetings import at, month_start

User = get_user_model()
Role = RoleAssignment.Role
DEMO_ACCOUNTS = ("member", "office", "secretary", "secretary2", "reviewer", "admin")
from decisions.models import Motion, Vote, VoterRecord  # noqa: E402
from discussions.models import BoardPost, Comment, Like  # noqa: E402
from lessons.models import Document, Lesson, PointsEntry, StudyPlan, StudyRecord  # noqa: E402
from meetings.models import Attendance, Meeting, Reflection  # noqa: E402
from notifications.models import Event, Notice, Notification  # noqa: E402
from welfare import services as welfare_services  # noqa: E402
from welfare.models import (  # noqa: E402
    FollowUpPhoto,
    PairingCase,
    WelfareActivity,
    WelfareFeature,
    WelfareParticipant,
    WelfarePhoto,
)

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
    Meeting,
    Attendance,
    Reflection,
    WelfareActivity,
    PairingCase,
    Motion,
    Vote,
    VoterRecord,
)


@pytest.fixture
def debug(settings):
    """pytest-django runs tests with DEBUG=False, which the command refuses."""
    settings.DEBUG = True


def seed(**options) -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out, stderr=StringIO(), **options)
    return out.getvalue()


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker, tmp_path_factory):
    """The small demo, seeded once for this module (it takes a while) and committed; each test
    runs in a transaction on top of it, rolled back after. Returns the command's output. The
    settings are those tests/conftest.py gives each test (fast hasher, media in a temporary
    folder, mail kept in memory, eager tasks)."""
    from django.test.utils import override_settings

    with (
        django_db_blocker.unblock(),
        override_settings(
            DEBUG=True,
            PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
            MEDIA_ROOT=tmp_path_factory.mktemp("media"),
            EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
            CELERY_TASK_ALWAYS_EAGER=True,
        ),
    ):
        yield seed()
        call_command("flush", "--noinput", stdout=StringIO())


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


def parent_path(org: Organization) -> str:
    return org.path[: -Organization.steplen]


def test_running_twice_changes_nothing(seeded, db, debug):
    first_output = seeded
    first = counts()
    assert first["Member"] >= 140
    assert "Created" in first_output

    second_output = seed()

    assert counts() == first
    assert "Nothing to create" in second_output
    duplicates = Organization.objects.values("name").annotate(n=Count("pk")).filter(n__gt=1)
    assert not duplicates.exists()
    assert Organization.objects.find_problems() == ([], [], [], [], [])


def test_demo_accounts_have_their_roles_and_branches(seeded, db):
    output = seeded

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


def test_demo_accounts_log_in_with_the_demo_password(seeded, db, client):
    for username in DEMO_ACCOUNTS:
        user = User.objects.get(username=username)
        # Hashed with the configured hasher (the tests' fast one), so logins work.
        assert user.password.startswith("md5$")
        assert user.check_password(DEMO_PASSWORD)
        assert client.login(username=username, password=DEMO_PASSWORD), username
        client.logout()
    assert User.objects.get(username="demo001").check_password(DEMO_PASSWORD)


def test_refuses_without_debug_unless_forced(seeded, db, settings):
    settings.DEBUG = False
    before = counts()
    with pytest.raises(CommandError, match="DEBUG=False"):
        seed(members=10)
    assert counts() == before

    assert "Nothing to create" in seed(force=True)


def test_demo_covers_every_status_category_and_kind(seeded, db):

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


def test_bulk_builds_a_valid_tree_and_is_idempotent(seeded, db, debug):
    small = counts()
    welfare_small = WelfareActivity.objects.count()
    seed(members=300)
    after = counts()
    # Each app adds its share in proportion.
    assert WelfareActivity.objects.count() - welfare_small >= 10
    assert WelfareParticipant.objects.filter(member__user__username__startswith="m0").exists()
    assert Meeting.objects.filter(title__startswith="主题党日（批量演示）").exists()

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


# --- the activity sync ------------------------------------------------------------------


def test_a_year_of_every_kind_with_attendance_and_minutes(seeded, db):
    now = timezone.now()
    held = Meeting.objects.filter(status=Meeting.Status.HELD)
    kinds = set(held.values_list("kind", flat=True))
    assert set(Meeting.Kind.values) - {Meeting.Kind.OTHER} <= kinds
    oldest = held.order_by("starts_at").first().starts_at
    assert (now - oldest).days >= 300
    assert held.filter(minutes_confirmed_at__isnull=False).count() > 100
    # Attendance: present, on leave and absent all occur.
    assert Attendance.objects.filter(signed_in_at__isnull=False).exists()
    assert Attendance.objects.filter(rsvp=Attendance.Rsvp.LEAVE).exclude(leave_reason="").exists()
    meeting = held.filter(kind=Meeting.Kind.GENERAL_MEETING).first()
    expected = meeting_selectors.expected_attendees(meeting).count()
    assert meeting.attendances.filter(signed_in_at__isnull=False).count() < expected
    assert TimelineEntry.objects.filter(kind="meeting_held").count() == held.count()
    assert Meeting.objects.filter(status=Meeting.Status.CANCELLED).exclude(cancelled_reason="").exists()  # fmt: skip


def test_meetings_at_the_tibet_site_are_held_offline_with_a_photo_of_the_sheet(seeded, db):
    offline = Meeting.objects.filter(held_offline=True)
    assert offline.count() >= 3
    for meeting in offline:
        assert "那曲" in meeting.place
        assert meeting.entered_at > meeting.starts_at
        assert meeting.sign_in_sheet.name.endswith((".jpg", ".jpeg", ".webp", ".png"))
        assert (
            not meeting.attendances.exclude(via=Attendance.Via.RECORDED)
            .filter(signed_in_at__isnull=False)
            .exists()
        )
    # And one at 那曲 waits to be entered.
    waiting = Meeting.objects.get(title="那曲项目部党员学习会")
    assert waiting.status == Meeting.Status.PLANNED and waiting.starts_at < timezone.now()


def test_what_the_demo_accounts_find(seeded, db):
    from django.contrib.auth import get_user_model

    member = get_user_model().objects.get(username="member")
    upcoming = [
        m
        for m in Meeting.objects.filter(
            status=Meeting.Status.PLANNED, published_at__isnull=False, starts_at__gt=timezone.now()
        )
        if meeting_selectors.is_expected(m, member)
    ]
    assert len(upcoming) >= 2
    assert not Attendance.objects.filter(meeting__in=upcoming, user=member).exists()
    # Sign-in is open for one of them now.
    assert any((m.starts_at - timezone.now()).total_seconds() < 30 * 60 for m in upcoming)
    asked = Meeting.objects.get(reflections_requested_at__isnull=False)
    assert asked.reflections.count() >= 3
    assert not asked.reflections.filter(author=member).exists()
    assert asked.minutes and asked.minutes_confirmed_at is None
    assert Meeting.objects.filter(published_at__isnull=True, status=Meeting.Status.PLANNED).exists()


def test_one_branch_is_behind_on_its_cadence(seeded, db):
    per_org = dict(
        Meeting.objects.filter(
            status=Meeting.Status.HELD,
            kind=Meeting.Kind.THEMED_DAY,
            starts_at__gte=at(month_start(timezone.localdate(), 1), 0),
        )
        .values_list("organization__short_name")
        .annotate(n=Count("pk"))
    )
    assert per_org.get("禄丰项目支部", 0) == 0
    assert per_org.get("康定隧道支部", 0) >= 1


# --- the service sync -------------------------------------------------------------------


def test_the_demo_shows_the_service_sync(seeded, db, client):
    today = timezone.localdate()
    done = WelfareActivity.objects.filter(status="done")
    assert done.count() >= 12
    assert {a.held_on.month for a in done} >= set(range(1, 13)) - {
        today.month
    } or done.count() >= 12
    assert (today - min(a.held_on for a in done)).days <= 366
    assert WelfarePhoto.objects.filter(cleared=False).exists() and WelfarePhoto.objects.filter(cleared=True).exists()  # fmt: skip
    assert WelfareParticipant.objects.filter(member__user__username="member").count() >= 2
    assert TimelineEntry.objects.filter(kind="welfare_activity_done").count() == done.count()
    assert WelfareFeature.objects.filter(organization__depth=1).exists()

    joined = WelfareActivity.objects.get(meeting__isnull=False)
    assert joined.meeting.kind == "themed_day" and joined.held_on >= today
    member = joined.organization.registered_members.get(user__username="member").user
    assert welfare_services.activity_sign_up(activity=joined, user=member).member.user == member

    waiting = WelfareActivity.objects.get(status="planned", held_on__lt=today)
    assert waiting.sign_ups.filter(member__user__username="member").exists()
    assert welfare_services.activity_record_done(activity=waiting, by=waiting.organization.role_assignments.get(role="secretary").user).is_done  # fmt: skip

    mine = PairingCase.objects.filter(paired_members__user__username="member")
    assert mine.count() == 2 and all(c.is_open for c in mine)
    due = Event.objects.filter(kind="welfare_follow_up_due")  # fanned out after the commit
    assert any(member.pk in e.audience_params["users"] for e in due)
    handed = PairingCase.objects.get(status="handed_over")
    assert handed.project_site.closed_on == handed.handed_over_on
    assert handed.handover_to_kind == "village_committee" and handed.handover_document
    assert FollowUpPhoto.objects.filter(cleared=False).exists()

    client.force_login(member)
    assert client.get("/welfare/").status_code == 200
    assert client.get(mine.first().get_absolute_url()).status_code == 200


# --- the project-site lifecycle ---------------------------------------------------------------


def test_secretary_has_a_closed_site_with_members_to_rehome(seeded, db, client):
    from members import selectors_sites
    from members import services as member_services

    secretary = User.objects.get(username="secretary")
    joint = secretary.role_assignments.get(role="secretary").organization
    closed = ProjectSite.objects.get(organization=joint, closed_on__isnull=False)
    rows = selectors_sites.rehome_rows(site=closed)
    pending = [m for m in rows if m.pending]
    assert 3 <= len(pending) <= 5 and len(rows) > len(pending)
    assert all(m.takes_part_in for m in rows if not m.pending)
    opened = ProjectSite.objects.get(organization=joint, name="共和光伏产业园项目部")
    attached = selectors_sites.site_branch_rows(site=opened)
    assert len(attached) == 2 and {m.takes_part_in for m in attached} == {joint.name}

    client.force_login(secretary)
    home = client.get("/")
    assert home.context["worklist"]["sites_to_rehome"] == 1
    assert 'href="/members/sites/"' in home.content.decode()
    assert client.get(f"/members/sites/{closed.pk}/rehome/").status_code == 200
    sibling = Organization.objects.get(registered_members__user__username="secretary2")
    made = member_services.site_rehome(
        site=closed, by=secretary, members=pending, action="transfer", target=sibling
    )
    assert len(made) == len(pending)
    assert not selectors_sites.closed_sites_pending().filter(pk=closed.pk).exists()
