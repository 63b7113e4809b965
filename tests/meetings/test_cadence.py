"""The meeting cadence (三会一课): periods are calendar months and quarters in Asia/Shanghai
(a meeting late on the last local day counts for that period even though it is the previous
UTC day... or the same one), only held meetings of the required kinds count, a committee
meeting is required only where there is a committee, a party group holds its group meeting
monthly; the daily warning goes out once per organisation, kind and period and only in the
last N days; the page is scoped and costs the same for 3 and 30 organisations."""

from datetime import date, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from branches.models import Organization, RoleAssignment
from meetings import tasks
from meetings.models import CadenceWarning, Meeting
from meetings.selectors import cadence as selectors
from meetings.services import cadence as services
from members.models import Member
from notifications.models import Event, Notification
from tests import factories

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
K = Meeting.Kind
CADENCE = "/meetings/cadence/"


def local(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def meeting(org, kind, starts_at, status=Meeting.Status.HELD) -> Meeting:
    return Meeting.objects.create(
        organization=org,
        kind=kind,
        title=f"{kind} {starts_at:%Y-%m-%d %H:%M}",
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=1),
        status=status,
    )


def table(org, year=2026, today=date(2026, 12, 31)):
    [entry] = selectors.cadence_for(organizations=[org], year=year, today=today)
    return entry


def row(entry, kind):
    return next(r for r in entry.rows if r.kind == kind)


def states(entry, kind) -> list[str]:
    return [p.state for p in row(entry, kind).periods]


def helds(entry, kind) -> list[int]:
    return [p.held for p in row(entry, kind).periods]


# --- periods in Asia/Shanghai -----------------------------------------------------------------


def test_month_edges_are_local(tree):
    late = local(2026, 3, 31, 23, 30)  # 15:30 UTC on March 31
    early = local(2026, 5, 1, 0, 30)  # 16:30 UTC on April 30
    assert late.astimezone(ZoneInfo("UTC")).day == 31
    assert early.astimezone(ZoneInfo("UTC")).month == 4
    meeting(tree.branch, K.THEMED_DAY, late)
    meeting(tree.branch, K.THEMED_DAY, early)
    counts = helds(table(tree.branch), K.THEMED_DAY)
    assert counts == [0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0]


def test_quarter_edges_are_local(tree):
    meeting(tree.branch, K.GENERAL_MEETING, local(2026, 3, 31, 23, 30))  # Q1
    meeting(tree.branch, K.GENERAL_MEETING, local(2026, 4, 1, 0, 30))  # Q2 (16:30 UTC Mar 31)
    meeting(tree.branch, K.PARTY_LESSON, local(2026, 7, 1, 0, 30))  # Q3 (16:30 UTC Jun 30)
    meeting(tree.branch, K.PARTY_LESSON, local(2026, 12, 31, 23, 30))  # Q4 (15:30 UTC)
    entry = table(tree.branch)
    assert helds(entry, K.GENERAL_MEETING) == [1, 1, 0, 0]
    assert helds(entry, K.PARTY_LESSON) == [0, 0, 1, 1]
    assert [p.label for p in row(entry, K.GENERAL_MEETING).periods] == ["Q1", "Q2", "Q3", "Q4"]
    assert [p.span for p in row(entry, K.GENERAL_MEETING).periods] == [3, 3, 3, 3]


def test_year_edges_are_local(tree):
    meeting(tree.branch, K.THEMED_DAY, local(2026, 1, 1, 0, 30))  # 2025-12-31 16:30 UTC
    meeting(tree.branch, K.THEMED_DAY, local(2025, 12, 31, 23, 30))  # 2025 in Shanghai
    meeting(tree.branch, K.THEMED_DAY, local(2027, 1, 1, 0, 30))  # 2027
    assert helds(table(tree.branch), K.THEMED_DAY) == [1] + [0] * 11
    assert helds(table(tree.branch, year=2025), K.THEMED_DAY)[11] == 1


def test_several_meetings_in_a_period_are_counted(tree):
    for day in (2, 15, 28):
        meeting(tree.branch, K.THEMED_DAY, local(2026, 2, day, 9))
    meeting(tree.branch, K.GENERAL_MEETING, local(2026, 1, 5, 9))
    meeting(tree.branch, K.GENERAL_MEETING, local(2026, 3, 5, 9))
    entry = table(tree.branch)
    assert helds(entry, K.THEMED_DAY)[1] == 3
    assert helds(entry, K.GENERAL_MEETING)[0] == 2


# --- what counts --------------------------------------------------------------------------------


def test_only_held_meetings_of_the_kind_count(tree):
    when = local(2026, 6, 10, 9)
    meeting(tree.branch, K.OTHER, when)
    meeting(tree.branch, K.THEMED_DAY, when, status=Meeting.Status.CANCELLED)
    meeting(tree.branch, K.THEMED_DAY, when, status=Meeting.Status.PLANNED)
    meeting(tree.branch, K.GENERAL_MEETING, when)  # held, but not a themed day
    meeting(tree.sibling, K.THEMED_DAY, when)  # another branch's
    entry = table(tree.branch)
    assert helds(entry, K.THEMED_DAY) == [0] * 12
    assert states(entry, K.THEMED_DAY)[5] == selectors.MISSED
    assert states(entry, K.GENERAL_MEETING)[1] == selectors.MET
    assert "other" not in {r.kind for r in entry.rows}


def test_a_meeting_held_offline_counts(tree):
    m = meeting(tree.branch, K.THEMED_DAY, local(2026, 8, 8, 9))
    Meeting.objects.filter(pk=m.pk).update(held_offline=True, entered_at=timezone.now())
    assert states(table(tree.branch), K.THEMED_DAY)[7] == selectors.MET


def test_states_around_today(tree):
    meeting(tree.branch, K.THEMED_DAY, local(2026, 1, 20, 9))
    entry = table(tree.branch, today=date(2026, 5, 15))
    assert states(entry, K.THEMED_DAY) == (
        ["met", "missed", "missed", "missed", "current"] + ["future"] * 7
    )
    assert states(entry, K.GENERAL_MEETING) == ["missed", "current", "future", "future"]
    meeting(tree.branch, K.THEMED_DAY, local(2026, 5, 1, 9))
    entry = table(tree.branch, today=date(2026, 5, 15))
    assert states(entry, K.THEMED_DAY)[4] == "met"


# --- who must hold what ------------------------------------------------------------------------


def kinds_required(org) -> list[str]:
    return [r.kind for r in table(org).rows]


def test_a_branch_with_a_committee_holds_committee_meetings(tree):
    entry = table(tree.branch)  # the secretary is its committee
    assert entry.has_committee
    assert kinds_required(tree.branch) == [
        K.GENERAL_MEETING, K.COMMITTEE_MEETING, K.PARTY_LESSON, K.THEMED_DAY
    ]  # fmt: skip
    assert row(entry, K.COMMITTEE_MEETING).unit == selectors.MONTH
    assert row(entry, K.GENERAL_MEETING).unit == selectors.QUARTER


def test_without_a_committee_no_committee_meeting_is_required(tree):
    assert not table(tree.joint).has_committee  # nobody is assigned to the joint branch
    assert kinds_required(tree.joint) == [K.GENERAL_MEETING, K.PARTY_LESSON, K.THEMED_DAY]
    factories.RoleAssignmentFactory(
        user=tree.office.user, organization=tree.joint, role=RoleAssignment.Role.COMMITTEE_MEMBER
    )
    assert K.COMMITTEE_MEETING in kinds_required(tree.joint)


def test_a_reviewer_is_no_committee(tree):
    """The group committee's reviewer over a branch does not give it a committee."""
    factories.RoleAssignmentFactory(
        user=tree.reviewer, organization=tree.joint, role=RoleAssignment.Role.REVIEWER
    )
    assert K.COMMITTEE_MEETING not in kinds_required(tree.joint)


def test_a_party_group_holds_its_group_meeting_monthly(tree):
    meeting(tree.party_group, K.GROUP_MEETING, local(2026, 4, 30, 23, 30))
    meeting(tree.party_group, K.THEMED_DAY, local(2026, 5, 10, 9))  # not required of a group
    entry = table(tree.party_group)
    assert [r.kind for r in entry.rows] == [K.GROUP_MEETING]
    assert helds(entry, K.GROUP_MEETING)[3:5] == [1, 0]


def test_organisations_without_a_cadence_are_left_out(tree):
    micro = factories.OrganizationFactory(parent=tree.branch, kind=Organization.Kind.MICRO_BRANCH)
    result = selectors.cadence_for(
        organizations=[tree.group, tree.company, micro, tree.branch], year=2026
    )
    assert [e.organization for e in result] == [tree.branch]


def test_the_setting_decides(tree, settings):
    settings.NETBRANCH_MEETING_CADENCE = {"branch": {"themed_day": "quarter"}}
    entry = table(tree.branch)
    assert [(r.kind, r.unit) for r in entry.rows] == [(K.THEMED_DAY, selectors.QUARTER)]
    assert selectors.cadence_for(organizations=[tree.party_group], year=2026) == []


def test_period_bounds():
    assert selectors.period_bounds(date(2026, 2, 14), "month") == (date(2026, 2, 1), date(2026, 3, 1))  # fmt: skip
    assert selectors.period_bounds(date(2026, 12, 31), "month") == (date(2026, 12, 1), date(2027, 1, 1))  # fmt: skip
    assert selectors.period_bounds(date(2026, 11, 2), "quarter") == (date(2026, 10, 1), date(2027, 1, 1))  # fmt: skip
    assert selectors.period_bounds(date(2026, 4, 1), "quarter") == (date(2026, 4, 1), date(2026, 7, 1))  # fmt: skip


# --- query counts ---------------------------------------------------------------------------------


def many_branches(tree, n: int) -> list[Organization]:
    orgs = []
    for i in range(n):
        org = factories.OrganizationFactory(parent=tree.company, name=f"批量党支部{i}")
        if i % 2:
            factories.RoleAssignmentFactory(
                user=factories.UserFactory(), organization=org, role=RoleAssignment.Role.SECRETARY
            )
        for month in range(1, 13, 2):
            meeting(org, K.THEMED_DAY, local(2026, month, 3, 9))
            meeting(org, K.COMMITTEE_MEETING, local(2026, month, 28, 23, 30))
        orgs.append(org)
    return [Organization.objects.get(pk=o.pk) for o in orgs]


def test_the_computation_costs_two_queries_whatever_the_number(tree):
    orgs = many_branches(tree, 30)
    for subset in (orgs[:3], orgs):
        with CaptureQueriesContext(connection) as ctx:
            result = selectors.cadence_for(organizations=subset, year=2026)
        assert len(ctx) == 2, "\n".join(q["sql"] for q in ctx.captured_queries)
        assert len(result) == len(subset)
    by_org = {e.organization.pk: e for e in result}
    assert helds(by_org[orgs[1].pk], K.COMMITTEE_MEETING) == [1, 0] * 6
    assert K.COMMITTEE_MEETING not in {r.kind for r in by_org[orgs[0].pk].rows}


def test_the_page_costs_the_same_for_3_and_30_organisations(client, tree, settings):
    settings.NETBRANCH_PAGE_SIZE = 100  # all on one page: the count must not grow anyway
    client.force_login(tree.reviewer)
    counts = []
    for n in (3, 27):  # the tree has 3 + the new ones under the reviewer
        many_branches(tree, n)
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(CADENCE + "?year=2026")
        assert response.status_code == 200
        counts.append(len(ctx))
        sections = response.content.decode().count('class="card cadence-org"')
        assert (
            sections
            == Organization.objects.filter(
                path__startswith=tree.group.path, kind__in=selectors.cadence_org_kinds()
            ).count()
        )
    assert counts[0] == counts[1], counts
    assert sections == 4 + 30  # branch, sibling, party group, joint + 30 new


# --- the page ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "sees", "hidden"),
    [
        ("secretary", {"一号项目党支部", "一号项目第一党小组"}, {"二号项目党支部", "外部党支部"}),
        ("secretary2", {"二号项目党支部"}, {"一号项目党支部", "高原联合党支部"}),
        (
            "reviewer",
            {"一号项目党支部", "二号项目党支部", "高原联合党支部", "一号项目第一党小组"},
            {"外部党支部", "一公司党委"},
        ),
    ],
)
def test_managers_see_their_organisations(client, tree, who, sees, hidden):
    client.force_login(getattr(tree, who))
    page = client.get(CADENCE).content.decode()
    assert all(name in page for name in sees)
    assert not any(name in page for name in hidden)


@pytest.mark.parametrize("who", ["member", "outsider"])
def test_members_are_refused(client, tree, who):
    client.force_login(getattr(tree, who).user)
    assert client.get(CADENCE).status_code == 403


def test_anonymous_is_sent_to_log_in(client):
    assert client.get(CADENCE).status_code == 302


def test_the_page_shows_met_and_missed(client, tree):
    this_year = timezone.localdate().year
    meeting(tree.branch, K.THEMED_DAY, datetime(this_year, 1, 15, 9, tzinfo=SHANGHAI))
    client.force_login(tree.secretary)
    page = client.get(CADENCE).content.decode()
    assert 'class="cad cad-met"' in page
    assert 'colspan="3"' in page  # quarterly rows span three months
    assert "Committee meeting" in page or "branch committee meeting" in page
    # A bad year falls back to this one.
    assert client.get(CADENCE + "?year=abc").status_code == 200
    assert client.get(CADENCE + "?year=1900").context["year"] == this_year


# --- the daily warning --------------------------------------------------------------------------------


def warned() -> set[tuple[str, str, date]]:
    return set(CadenceWarning.objects.values_list("organization__name", "kind", "period_start"))


def warned_users(kind="cadence_warning") -> set[str]:
    return set(
        Notification.objects.filter(event__kind=kind).values_list("recipient__username", flat=True)
    )


def test_warned_in_the_last_days_of_a_quarter_once(tree, committed):
    with committed():
        sent = services.cadence_warn(today=date(2026, 3, 25))  # 7 days left: 25..31
    q1, march = date(2026, 1, 1), date(2026, 3, 1)
    # The branch (with a committee) and the sibling (secretary2) lack everything; the joint
    # branch and the party group have nobody to warn.
    expected = {
        (name, kind, start)
        for name in ("一号项目党支部", "二号项目党支部")
        for kind, start in (
            (K.GENERAL_MEETING, q1), (K.PARTY_LESSON, q1),
            (K.COMMITTEE_MEETING, march), (K.THEMED_DAY, march),
        )
    }  # fmt: skip
    assert warned() == expected
    assert sent == 8
    assert warned_users() == {"secretary", "secretary2"}
    event = Event.objects.filter(kind="cadence_warning").first()
    assert event.url == f"{CADENCE}?year=2026"
    assert event.audience == "users"
    # Again (beat ticked twice, or the next day): nothing more.
    with committed():
        assert services.cadence_warn(today=date(2026, 3, 25)) == 0
        assert services.cadence_warn(today=date(2026, 3, 31)) == 0
    assert Event.objects.filter(kind="cadence_warning").count() == 8


def test_each_secretary_gets_only_their_branch(tree, committed):
    with committed():
        services.cadence_warn(today=date(2026, 3, 25))
    for username, org in (("secretary", tree.branch), ("secretary2", tree.sibling)):
        subjects = set(
            Event.objects.filter(
                kind="cadence_warning", notifications__recipient__username=username
            ).values_list("subject", flat=True)
        )
        assert len(subjects) == 4
        assert all(s.startswith(org.display_name) for s in subjects), subjects


def test_not_warned_before_the_last_days(tree):
    assert services.cadence_warn(today=date(2026, 3, 24)) == 0  # 8 days left
    assert services.cadence_warn(today=date(2026, 2, 21)) == 0  # 8 days left in February
    assert services.cadence_warn(today=date(2026, 1, 1)) == 0
    assert not CadenceWarning.objects.exists()


def test_february_warns_for_the_month_only(tree):
    services.cadence_warn(today=date(2026, 2, 22))  # 7 days left: 22..28
    assert {k for _, k, _ in warned()} == {K.COMMITTEE_MEETING, K.THEMED_DAY}
    assert {s for _, _, s in warned()} == {date(2026, 2, 1)}


def test_a_held_meeting_spares_the_warning(tree):
    meeting(tree.branch, K.THEMED_DAY, local(2026, 3, 1, 0, 30))  # Feb 28 16:30 UTC: March
    meeting(tree.branch, K.GENERAL_MEETING, local(2026, 1, 1, 0, 30))  # Q1
    meeting(tree.branch, K.PARTY_LESSON, local(2026, 3, 31, 23, 30))  # Q1, late
    meeting(tree.branch, K.COMMITTEE_MEETING, local(2026, 2, 28, 23, 30))  # February: no help
    meeting(tree.branch, K.OTHER, local(2026, 3, 10, 9))
    services.cadence_warn(today=date(2026, 3, 30))
    assert {k for name, k, _ in warned() if name == "一号项目党支部"} == {K.COMMITTEE_MEETING}


def test_deputies_are_warned_committee_members_are_not(tree, committed):
    factories.RoleAssignmentFactory(
        user=tree.office.user, organization=tree.branch, role=RoleAssignment.Role.DEPUTY_SECRETARY
    )
    factories.RoleAssignmentFactory(
        user=tree.member.user, organization=tree.branch, role=RoleAssignment.Role.COMMITTEE_MEMBER
    )
    with committed():
        services.cadence_warn(today=date(2026, 3, 25))
    assert warned_users() == {"secretary", "secretary2", "office"}


def test_a_party_group_with_a_secretary_is_warned_of_its_group_meeting(tree):
    factories.RoleAssignmentFactory(
        user=tree.office.user, organization=tree.party_group, role=RoleAssignment.Role.SECRETARY
    )
    services.cadence_warn(today=date(2026, 3, 25))
    group = {k for name, k, _ in warned() if name == tree.party_group.name}
    assert group == {K.GROUP_MEETING}


def test_a_branch_without_a_secretary_is_warned_once_it_has_one(tree):
    services.cadence_warn(today=date(2026, 3, 25))
    assert not {w for w in warned() if w[0] == tree.joint.name}
    factories.RoleAssignmentFactory(
        user=tree.participant.user, organization=tree.joint, role=RoleAssignment.Role.SECRETARY
    )
    assert services.cadence_warn(today=date(2026, 3, 26)) == 4  # now it has a committee too
    assert Member.objects.get(user__username="participant")


def test_the_daily_task_warns(tree, monkeypatch):
    from portal.celery import app

    schedule = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert "meetings.tasks.warn_cadence" in schedule
    fake = SimpleNamespace(localdate=lambda: date(2026, 3, 25), now=timezone.now)
    monkeypatch.setattr(services, "timezone", fake)
    assert tasks.warn_cadence.delay().get() == 8
    assert tasks.warn_cadence.delay().get() == 0
