"""Audience and scope of lessons, documents and plans (lessons.selectors): a member sees what
is published on the path from their organisations to the root and meant for them (category,
status, committee-only); drafts and scheduled lessons are nobody's reading; the people a
lesson notifies are exactly people who may open it."""

import datetime

import pytest
from django.http import Http404
from django.utils import timezone

from branches.models import RoleAssignment
from lessons import selectors, services
from lessons.models import Document
from members.models import Member
from notifications.models import Event
from tests import factories
from tests.lessons.conftest import events_for, recipients_of

pytestmark = pytest.mark.django_db

EVERYONE = {
    "member", "office", "sibling_member", "outsider", "participant", "secretary", "secretary2",
    "reviewer", "admin",
}  # fmt: skip


def fresh(user):
    """The user without the per-request caches (viewer, scope, home paths)."""
    return type(user).objects.get(pk=user.pk)


def users(tree) -> dict:
    people = {n: getattr(tree, n) for n in ("secretary", "secretary2", "reviewer", "admin")}
    for name in ("member", "office", "sibling_member", "outsider", "participant"):
        people[name] = getattr(tree, name).user
    return people


def who_sees(tree, lesson) -> set[str]:
    return {
        name
        for name, user in users(tree).items()
        if selectors.lessons_visible_to(user=fresh(user)).filter(pk=lesson.pk).exists()
    }


def only(**flags) -> dict:
    """Audience flags: the categories named on, the others off (statuses left both on)."""
    cats = {"for_office", "for_front_line", "for_remote"}
    return {c: c in flags for c in cats} | {k: v for k, v in flags.items() if k not in cats}


# --- the member's path ---------------------------------------------------------------------


def test_a_remote_site_member_sees_remote_lessons_of_their_path_only(tree, make_lesson):
    remote = only(for_remote=True)
    on_path = [
        make_lesson(org=o, publish=True, **remote) for o in (tree.branch, tree.company, tree.group)
    ]
    elsewhere = [
        make_lesson(org=o, publish=True, **remote)
        for o in (tree.sibling, tree.joint, tree.party_group, tree.outside, tree.other_group)
    ]
    seen = set(selectors.lessons_visible_to(user=tree.member.user).values_list("pk", flat=True))
    assert seen == {lesson.pk for lesson in on_path}
    assert not seen & {lesson.pk for lesson in elsewhere}
    for lesson in on_path:
        assert selectors.lesson_visible_to(tree.member.user, lesson)
    for lesson in elsewhere:
        assert not selectors.lesson_visible_to(tree.member.user, lesson)


@pytest.mark.parametrize(
    ("org", "flags", "expected"),
    [
        # All members of the path, managers of the subtree (secretary, reviewer), the superuser.
        ("branch", {}, {"member", "office", "secretary", "reviewer", "admin"}),
        ("sibling", {}, {"sibling_member", "participant", "secretary2", "reviewer", "admin"}),
        ("joint", {}, {"participant", "reviewer", "admin"}),  # participation counts
        ("company", {}, EVERYONE - {"outsider"}),
        ("group", {}, EVERYONE - {"outsider"}),
        ("outside", {}, {"outsider", "admin"}),
        # Remote-site only: the office members of the path do not see it (secretaries are office
        # members who do not manage the company), the managers of its organisation do.
        ("company", only(for_remote=True), {"member", "reviewer", "admin"}),
        ("branch", only(for_remote=True), {"member", "secretary", "reviewer", "admin"}),
        ("branch", only(for_office=True), {"office", "secretary", "reviewer", "admin"}),
        ("company", only(for_front_line=True), {"reviewer", "admin"}),
        # Secretary training: committee members of the path and the managers only.
        ("company", {"committee_only": True}, {"secretary", "secretary2", "reviewer", "admin"}),
        ("branch", {"committee_only": True}, {"secretary", "reviewer", "admin"}),
        # Full members only: everybody here is a full member.
        (
            "branch",
            {"for_probationary": False},
            {"member", "office", "secretary", "reviewer", "admin"},
        ),
    ],
)
def test_who_sees_a_published_lesson(tree, make_lesson, org, flags, expected):
    lesson = make_lesson(org=getattr(tree, org), publish=True, **flags)
    assert who_sees(tree, lesson) == expected


def test_an_office_member_does_not_see_a_remote_only_lesson(tree, make_lesson):
    lesson = make_lesson(org=tree.branch, publish=True, **only(for_remote=True))
    assert not selectors.lesson_visible_to(tree.office.user, lesson)
    assert selectors.lesson_visible_to(tree.member.user, lesson)
    with pytest.raises(Http404):
        selectors.access_lesson_by_id(lesson_id=lesson.pk, user=tree.office.user)
    assert selectors.access_lesson_by_id(lesson_id=lesson.pk, user=tree.member.user) == lesson


def test_probationary_members(tree, make_lesson):
    Member.objects.filter(pk=tree.office.pk).update(status=Member.Status.PROBATIONARY)
    full_only = make_lesson(publish=True, for_probationary=False)
    probationary_only = make_lesson(publish=True, for_full=False)
    office, member = fresh(tree.office.user), fresh(tree.member.user)
    assert not selectors.lesson_visible_to(office, full_only)
    assert selectors.lesson_visible_to(office, probationary_only)
    assert selectors.lesson_visible_to(member, full_only)
    assert not selectors.lesson_visible_to(member, probationary_only)


def test_committee_only_lessons(tree, make_lesson):
    training = make_lesson(org=tree.company, publish=True, committee_only=True)
    deputy = factories.MemberFactory(user__username="deputy", branch=tree.branch)
    committee = factories.MemberFactory(user__username="committee", branch=tree.sibling)
    factories.RoleAssignmentFactory(
        user=deputy.user, organization=tree.branch, role=RoleAssignment.Role.DEPUTY_SECRETARY
    )
    factories.RoleAssignmentFactory(
        user=committee.user, organization=tree.sibling, role=RoleAssignment.Role.COMMITTEE_MEMBER
    )
    for user in (tree.secretary, tree.secretary2, deputy.user, committee.user):
        assert selectors.lesson_visible_to(fresh(user), training), user
    for user in (tree.member.user, tree.office.user, tree.participant.user, tree.outsider.user):
        assert not selectors.lesson_visible_to(fresh(user), training), user
    # A committee member who is staff, registered as a member nowhere, is told about training
    # above where they serve and can open it; other content of the company is not theirs.
    staff = factories.UserFactory(username="staff_deputy")
    factories.RoleAssignmentFactory(
        user=staff, organization=tree.sibling, role=RoleAssignment.Role.DEPUTY_SECRETARY
    )
    assert selectors.lesson_visible_to(fresh(staff), training)
    assert not selectors.lesson_visible_to(
        fresh(staff), make_lesson(org=tree.company, publish=True)
    )
    # A committee member elsewhere (another group) does not see this group's training.
    far = factories.MemberFactory(user__username="far", branch=tree.outside)
    factories.RoleAssignmentFactory(
        user=far.user, organization=tree.outside, role=RoleAssignment.Role.SECRETARY
    )
    assert not selectors.lesson_visible_to(fresh(far.user), training)


def test_drafts_scheduled_and_archived_lessons_are_nobodys_reading(tree, make_lesson):
    draft = make_lesson()
    scheduled = make_lesson()
    services.lesson_schedule(
        lesson=scheduled, by=tree.admin, publish_at=timezone.now() + datetime.timedelta(hours=1)
    )
    archived = make_lesson(publish=True)
    services.lesson_archive(lesson=archived, by=tree.admin)
    for lesson in (draft, scheduled, archived):
        lesson.refresh_from_db()
        assert who_sees(tree, lesson) == set(), lesson.status
        with pytest.raises(Http404):
            selectors.access_lesson_by_id(lesson_id=lesson.pk, user=tree.member.user)
        # The branch's managers preview them; nobody else opens them by id.
        assert selectors.access_lesson_by_id(lesson_id=lesson.pk, user=tree.secretary) == lesson
        with pytest.raises(Http404):
            selectors.access_lesson_by_id(lesson_id=lesson.pk, user=tree.secretary2)
    with pytest.raises(Http404):
        selectors.access_lesson_by_id(lesson_id=10**9, user=tree.admin)


def test_the_superuser_sees_every_published_lesson(tree, make_lesson):
    published = [
        make_lesson(org=tree.outside, publish=True, committee_only=True),
        make_lesson(org=tree.sibling, publish=True, **only(for_front_line=True)),
        make_lesson(org=tree.party_group, publish=True, for_full=False),
    ]
    make_lesson()  # a draft
    seen = set(selectors.lessons_visible_to(user=tree.admin).values_list("pk", flat=True))
    assert seen == {lesson.pk for lesson in published}


def test_an_inactive_superuser_sees_nothing_by_being_one(tree, make_lesson):
    lesson = make_lesson(org=tree.outside, publish=True)
    tree.admin.is_active = False
    assert not selectors.lesson_visible_to(tree.admin, lesson)


def test_a_shared_lesson_is_seen_under_the_organisation_it_is_shared_with(tree, make_lesson):
    lesson = make_lesson(org=tree.branch, publish=True, **only(for_office=True))
    assert not selectors.lesson_visible_to(tree.sibling_member.user, lesson)
    services.lesson_share(lesson=lesson, organization=tree.company, by=tree.reviewer)
    sibling = fresh(tree.sibling_member.user)
    assert selectors.lesson_visible_to(sibling, lesson)
    assert selectors.access_lesson_by_id(lesson_id=lesson.pk, user=sibling) == lesson
    # The audience still applies, and outside the company nothing changes.
    Member.objects.filter(pk=tree.sibling_member.pk).update(category=Member.Category.REMOTE)
    assert not selectors.lesson_visible_to(fresh(tree.sibling_member.user), lesson)
    assert not selectors.lesson_visible_to(fresh(tree.outsider.user), lesson)
    # Shared twice (company and group): listed once.
    services.lesson_share(lesson=lesson, organization=tree.group, by=tree.reviewer)
    assert list(selectors.lessons_visible_to(user=fresh(tree.office.user))) == [lesson]


# --- documents and plans follow the same rules -----------------------------------------------


def test_documents_visible_to(tree):
    def doc(org, published=True, **flags):
        fields = {
            "title": "中国共产党支部工作条例", "category": Document.Category.PARTY_RULES,
            "organization": org, "body": "<p>第一条</p>", "issued_on": datetime.date(2018, 10, 28),
            "published": published, **flags,
        }  # fmt: skip
        return services.document_save(document=None, by=tree.admin, fields=fields)

    group_rules = doc(tree.group)
    remote_only = doc(tree.company, **only(for_remote=True))
    unpublished = doc(tree.branch, published=False)
    sibling = doc(tree.sibling)
    training = doc(tree.company, committee_only=True)
    outside = doc(tree.outside)

    def seen(user):
        return set(selectors.documents_visible_to(user=fresh(user)).values_list("pk", flat=True))

    assert seen(tree.member.user) == {group_rules.pk, remote_only.pk}
    assert seen(tree.office.user) == {group_rules.pk}
    assert seen(tree.sibling_member.user) == {group_rules.pk, sibling.pk}
    assert seen(tree.secretary2) == {group_rules.pk, sibling.pk, training.pk}
    assert seen(tree.admin) == {group_rules.pk, remote_only.pk, sibling.pk, training.pk, outside.pk}
    assert unpublished.pk not in seen(tree.secretary)
    # The managers of its organisation open the unpublished one by id; members do not.
    assert selectors.access_document_by_id(document_id=unpublished.pk, user=tree.secretary)
    with pytest.raises(Http404):
        selectors.access_document_by_id(document_id=unpublished.pk, user=tree.member.user)
    with pytest.raises(Http404):
        selectors.access_document_by_id(document_id=sibling.pk, user=tree.member.user)


def test_plans_visible_to(tree, make_lesson, make_plan):
    lesson = make_lesson(org=tree.group, publish=True)
    branch_plan = make_plan(org=tree.branch, items=[lesson])
    remote_plan = make_plan(org=tree.company, items=[lesson], **only(for_remote=True))
    sibling_plan = make_plan(org=tree.sibling, items=[lesson])
    draft = make_plan(org=tree.branch, items=[lesson])
    for plan in (branch_plan, remote_plan, sibling_plan):
        services.plan_publish(plan=plan, by=tree.admin)

    def seen(user):
        return set(selectors.plans_visible_to(user=fresh(user)).values_list("pk", flat=True))

    assert seen(tree.member.user) == {branch_plan.pk, remote_plan.pk}
    assert seen(tree.office.user) == {branch_plan.pk}
    assert seen(tree.sibling_member.user) == {sibling_plan.pk}
    assert draft.pk not in seen(tree.admin)
    assert seen(tree.reviewer) == {branch_plan.pk, remote_plan.pk, sibling_plan.pk}
    with pytest.raises(Http404):
        selectors.access_plan_by_id(plan_id=sibling_plan.pk, user=tree.member.user)
    with pytest.raises(Http404):
        selectors.access_plan_by_id(plan_id=draft.pk, user=tree.member.user)
    assert selectors.access_plan_by_id(plan_id=draft.pk, user=tree.secretary) == draft


# --- who is told = who may open it ---------------------------------------------------------


COMMITTEES = {"secretary", "secretary2", "staff_deputy", "group_committee"}


@pytest.mark.parametrize(
    ("org", "flags", "expected"),
    [
        ("branch", {}, {"member", "office", "secretary"}),
        (
            "company",
            {},
            {"member", "office", "secretary", "sibling_member", "participant", "secretary2"},
        ),
        ("joint", {}, {"participant"}),
        ("company", only(for_remote=True), {"member"}),
        ("company", only(for_office=True, for_full=False), set()),
        ("company", {"committee_only": True}, COMMITTEES),
        ("group", {"committee_only": True}, COMMITTEES),
        ("sibling", {"committee_only": True}, {"secretary2", "staff_deputy"}),
        ("branch", {"committee_only": True}, {"secretary", "group_committee"}),
        ("party_group", {"committee_only": True}, {"group_committee"}),
        ("outside", {"committee_only": True}, set()),
        ("outside", {}, {"outsider"}),
    ],
)
def test_publishing_notifies_exactly_the_audience_and_they_can_open_it(
    tree, make_lesson, org, flags, expected
):
    # A deputy secretary who is staff, not registered as a member anywhere in the tree, and a
    # committee member of the party group under the branch (a member of the branch as well).
    staff = factories.UserFactory(username="staff_deputy")
    factories.RoleAssignmentFactory(
        user=staff, organization=tree.sibling, role=RoleAssignment.Role.DEPUTY_SECRETARY
    )
    factories.RoleAssignmentFactory(
        user=factories.UserFactory(username="group_committee"),
        organization=tree.party_group,
        role=RoleAssignment.Role.COMMITTEE_MEMBER,
    )
    lesson = make_lesson(org=getattr(tree, org), publish=True, **flags)
    (event,) = events_for(lesson)
    assert event.kind == "lesson_published"
    assert recipients_of(event) == expected
    for user in type(tree.admin).objects.filter(username__in=expected):
        assert selectors.lesson_visible_to(user, lesson), user.username


def test_probationary_audience(tree, make_lesson):
    Member.objects.filter(pk=tree.member.pk).update(status=Member.Status.PROBATIONARY)
    lesson = make_lesson(publish=True, for_full=False)
    assert recipients_of(Event.objects.get()) == {"member"}
    lesson = make_lesson(publish=True, for_probationary=False)
    assert recipients_of(events_for(lesson).get()) == {"office", "secretary"}


def test_inactive_users_are_not_told(tree, make_lesson):
    type(tree.admin).objects.filter(pk=tree.office.user.pk).update(is_active=False)
    lesson = make_lesson(publish=True)
    assert recipients_of(events_for(lesson).get()) == {"member", "secretary"}
