"""Writes of the study sync (lessons.services): lessons and their invariants (reading time,
the 20-minute micro-lesson, sanitised bodies, videos), who may publish, schedule and share,
notifications that go once to the right people, study records, checks and points that are
never doubled, plans and their reminders, documents."""

import datetime
import uuid
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from branches.models import Organization, RoleAssignment, TimelineEntry
from lessons import selectors, services, tasks
from lessons.models import (
    CheckAttempt,
    Document,
    DocumentRead,
    Lesson,
    LessonReminder,
    LessonShare,
    PointsEntry,
    Question,
    StudyPlan,
    StudyPlanItem,
    StudyRecord,
)
from members.models import ActivityFact, Member
from notifications.models import Event, Notification
from tests import factories
from tests.lessons.conftest import chinese, english, events_for, race, recipients_of

pytestmark = pytest.mark.django_db

BRANCH = {"member", "office", "secretary"}
SIBLING = {"sibling_member", "participant", "secretary2"}
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 64
HOSTILE = (
    "<script>alert(document.cookie)</script>"
    '<img src="x" onerror="alert(1)">'
    '<a href="javascript:alert(2)">点我</a>'
    '<iframe src="https://evil.example/"></iframe>'
    '<p style="position:fixed;top:0" onclick="alert(3)">正文</p>'
    "<style>body{display:none}</style>"
    '<svg onload="alert(4)"></svg>'
    "<object data='x.swf'></object>"
)


def actor(tree, name):
    if name in {"member", "office", "sibling_member", "outsider"}:
        return getattr(tree, name).user
    return getattr(tree, name)


def fresh(user):
    return type(user).objects.get(pk=user.pk)


# --- creating lessons: reading time and the 20-minute micro-lesson ---------------------------


def test_create_stores_the_reading_time(tree, make_lesson):
    lesson = make_lesson(body=f"<p>{chinese(600)}</p>")
    assert lesson.reading_minutes == 2
    assert lesson.status == Lesson.Status.DRAFT
    assert lesson.author == tree.admin
    lesson = make_lesson(
        kind=Lesson.Kind.ONLINE, body=f"<p>{english(400)}</p><p>{chinese(300)}</p>"
    )
    assert Lesson.objects.get(pk=lesson.pk).reading_minutes == 3


def test_update_recomputes_the_reading_time(tree, make_lesson):
    lesson = make_lesson(body=f"<p>{chinese(300)}</p>")
    lesson = services.lesson_update(
        lesson=lesson, by=tree.secretary, fields={"body": f"<p>{chinese(1500)}</p>"}
    )
    assert Lesson.objects.get(pk=lesson.pk).reading_minutes == 5
    lesson = services.lesson_update(
        lesson=lesson, by=tree.secretary, fields={"kind": Lesson.Kind.ONLINE, "video_minutes": 30}
    )
    assert Lesson.objects.get(pk=lesson.pk).reading_minutes == 35


@pytest.mark.parametrize(
    "fields",
    [
        {"body": f"<p>{chinese(6300)}</p>"},  # 21 minutes of text
        {
            "body": f"<p>{chinese(5990)}</p>" + '<img src="/media/a.jpg">' * 5
        },  # pictures tip it over
        {"body": f"<p>{english(4001)}</p>"},
        {"body": "<p>短</p>", "video_minutes": 21},
    ],
)
def test_a_micro_lesson_over_20_minutes_is_refused_and_nothing_saved(tree, make_lesson, fields):
    with pytest.raises(ValidationError) as info:
        make_lesson(**fields)
    assert "20" in " ".join(info.value.messages)
    assert not Lesson.objects.exists()


def test_a_micro_lesson_of_exactly_20_minutes_is_accepted(make_lesson):
    assert make_lesson(body=f"<p>{chinese(6000)}</p>").reading_minutes == 20


@pytest.mark.parametrize("kind", [Lesson.Kind.ONLINE, Lesson.Kind.LECTURE])
def test_other_lessons_may_be_longer(make_lesson, kind):
    lesson = make_lesson(kind=kind, body=f"<p>{chinese(30000)}</p>")
    assert Lesson.objects.get(pk=lesson.pk).reading_minutes == 100


def test_an_update_that_makes_a_micro_lesson_too_long_is_refused(tree, make_lesson):
    lesson = make_lesson(body=f"<p>{chinese(600)}</p>")
    with pytest.raises(ValidationError):
        services.lesson_update(lesson=lesson, by=tree.secretary, fields={"body": chinese(9000)})
    long = make_lesson(kind=Lesson.Kind.ONLINE, body=chinese(9000))
    with pytest.raises(ValidationError):
        services.lesson_update(lesson=long, by=tree.secretary, fields={"kind": Lesson.Kind.MICRO})
    assert Lesson.objects.get(pk=lesson.pk).reading_minutes == 2
    assert Lesson.objects.get(pk=long.pk).kind == Lesson.Kind.ONLINE


def test_the_database_keeps_micro_lessons_at_20_minutes(tree, make_lesson):
    micro = make_lesson()
    online = make_lesson(kind=Lesson.Kind.ONLINE)
    with pytest.raises(IntegrityError), transaction.atomic():
        Lesson.objects.filter(pk=micro.pk).update(reading_minutes=21)
    with pytest.raises(IntegrityError), transaction.atomic():
        Lesson.objects.filter(pk=micro.pk).update(reading_minutes=20 * 60)
    Lesson.objects.filter(pk=micro.pk).update(reading_minutes=20)
    Lesson.objects.filter(pk=online.pk).update(reading_minutes=21)
    with pytest.raises(IntegrityError), transaction.atomic():
        Lesson.objects.filter(pk=online.pk).update(kind=Lesson.Kind.MICRO)
    with pytest.raises(IntegrityError), transaction.atomic():
        Lesson.objects.create(title="太长", organization=tree.branch, reading_minutes=25)
    assert Lesson.objects.get(pk=micro.pk).reading_minutes == 20


# --- hostile HTML ----------------------------------------------------------------------------


def test_hostile_html_is_stripped_on_save(tree, make_lesson):
    lesson = make_lesson(body=HOSTILE)
    stored = Lesson.objects.get(pk=lesson.pk).body
    for bad in (
        "<script",
        "alert",
        "onerror",
        "javascript:",
        "<iframe",
        "style",
        "<svg",
        "onload",
        "<object",
        "onclick",
    ):
        assert bad not in stored.lower(), bad
    assert "正文" in stored and "点我" in stored
    lesson = services.lesson_update(
        lesson=lesson, by=tree.secretary, fields={"body": "<p>好</p>" + HOSTILE}
    )
    stored = Lesson.objects.get(pk=lesson.pk).body
    assert "<script" not in stored and "onerror" not in stored and "<p>好</p>" in stored


def test_hostile_html_does_not_count_in_the_reading_time(make_lesson):
    # 7,000 characters inside <script>, <style> and <iframe> would make 24 minutes: it is a
    # one-minute micro-lesson once they are gone.
    hidden = chinese(7000)
    body = f"<script>{hidden}</script><style>{hidden}</style><iframe>{hidden}</iframe><p>正文</p>"
    lesson = make_lesson(body=body)
    assert lesson.reading_minutes == 1
    assert hidden not in Lesson.objects.get(pk=lesson.pk).body


# --- video -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://www.bilibili.com/video/BV1xx411c7mD",  # not https
        "https://evil.example.com/video.mp4",
        "https://www.bilibili.com.evil.example/video",  # the allowed host as a prefix
        "https://evil.example/?next=https://v.qq.com/x",
        "https://bilibili.com/video/BV1",  # a host not on the list (only www. and player.)
        "ftp://v.qq.com/a.mp4",
    ],
)
def test_a_video_link_outside_the_allow_list_is_refused(make_lesson, url):
    with pytest.raises(ValidationError) as info:
        make_lesson(kind=Lesson.Kind.VIDEO, video_url=url, video_minutes=10)
    assert "video_url" in info.value.message_dict
    assert not Lesson.objects.exists()


@pytest.mark.parametrize(
    "url", ["https://player.bilibili.com/player.html?bvid=BV1xx", "https://V.QQ.com/x/page/a.html"]
)
def test_a_video_link_on_the_allow_list_is_accepted(make_lesson, url):
    lesson = make_lesson(kind=Lesson.Kind.VIDEO, video_url=url, video_minutes=10, body="")
    assert lesson.reading_minutes == 10


def test_the_allow_list_comes_from_settings(settings, make_lesson):
    settings.NETBRANCH_VIDEO_HOSTS = ["video.example.org"]
    make_lesson(kind=Lesson.Kind.VIDEO, video_url="https://video.example.org/1", video_minutes=3)
    with pytest.raises(ValidationError):
        make_lesson(kind=Lesson.Kind.VIDEO, video_url="https://www.bilibili.com/video/BV1")


def test_a_video_lesson_needs_a_file_or_a_link(tree, make_lesson):
    with pytest.raises(ValidationError) as info:
        make_lesson(kind=Lesson.Kind.VIDEO, video_minutes=10)
    assert "video_file" in info.value.message_dict
    lesson = make_lesson(
        kind=Lesson.Kind.VIDEO,
        video_file=SimpleUploadedFile("党课.mp4", MP4),
        video_minutes=12,
        body="",
    )
    stored = Lesson.objects.get(pk=lesson.pk)
    assert stored.video_file.name.startswith("lessons/videos/")
    assert stored.reading_minutes == 12
    linked = make_lesson(kind=Lesson.Kind.VIDEO, video_url="https://v.qq.com/x/1", video_minutes=5)
    with pytest.raises(ValidationError):
        services.lesson_update(lesson=linked, by=tree.secretary, fields={"video_url": ""})


# --- permissions: role x organisation x action --------------------------------------------

ROLE_TABLE = [
    ("secretary", "branch", True),  # own
    ("secretary", "party_group", True),  # child
    ("secretary", "sibling", False),  # sibling
    ("secretary", "company", False),  # parent
    ("secretary2", "branch", False),  # sibling's secretary
    ("company_secretary", "branch", True),  # parent's secretary over a child
    ("company_secretary", "group", False),  # parent of the company
    ("reviewer", "group", True),  # own
    ("reviewer", "company", True),  # child
    ("reviewer", "branch", True),  # grandchild
    ("reviewer", "outside", False),  # another group
    ("member", "branch", False),  # no role
    ("admin", "outside", True),
]


@pytest.fixture
def company_secretary(tree):
    user = factories.UserFactory(username="company_secretary")
    factories.RoleAssignmentFactory(
        user=user, organization=tree.company, role=RoleAssignment.Role.SECRETARY
    )
    tree.company_secretary = user
    return user


@pytest.mark.usefixtures("company_secretary")
@pytest.mark.parametrize(("who", "org", "allowed"), ROLE_TABLE)
@pytest.mark.parametrize("action", ["create", "update", "publish", "schedule", "archive", "remind"])
def test_who_may_manage_lessons(tree, make_lesson, committed, who, org, allowed, action):
    by, organization = actor(tree, who), getattr(tree, org)
    if action == "create":
        if allowed:
            lesson = services.lesson_create(
                by=by, organization=organization, title="新课", body="<p>学习</p>"
            )
            assert lesson.author == by
        else:
            with pytest.raises(PermissionDenied):
                services.lesson_create(
                    by=by, organization=organization, title="新课", body="<p>学习</p>"
                )
            assert not Lesson.objects.exists()
        return
    lesson = make_lesson(org=organization, publish=action == "remind")
    before = Event.objects.count()
    calls = {
        "update": lambda: services.lesson_update(lesson=lesson, by=by, fields={"title": "改过"}),
        "publish": lambda: services.lesson_publish(lesson=lesson, by=by),
        "schedule": lambda: services.lesson_schedule(
            lesson=lesson, by=by, publish_at=timezone.now() + timedelta(days=1)
        ),
        "archive": lambda: services.lesson_archive(lesson=lesson, by=by),
        "remind": lambda: services.lesson_remind_unfinished(lesson=lesson, by=by),
    }
    stored = Lesson.objects.get(pk=lesson.pk)
    if allowed:
        with committed():
            calls[action]()
        lesson.refresh_from_db()
        expected = {
            "update": stored.status,
            "publish": "published",
            "schedule": "scheduled",
            "archive": "archived",
            "remind": "published",
        }
        assert lesson.status == expected[action]
    else:
        with pytest.raises(PermissionDenied):
            calls[action]()
        lesson.refresh_from_db()
        assert (lesson.status, lesson.title, lesson.publish_at) == (
            stored.status,
            stored.title,
            stored.publish_at,
        )
        assert Event.objects.count() == before
        assert not LessonReminder.objects.exists()


def test_a_lesson_cannot_be_moved_out_of_scope(tree, make_lesson):
    lesson = make_lesson(org=tree.branch)
    for org in (tree.company, tree.sibling):
        with pytest.raises(PermissionDenied):
            services.lesson_update(lesson=lesson, by=tree.secretary, fields={"organization": org})
    services.lesson_update(
        lesson=lesson, by=tree.secretary, fields={"organization": tree.party_group}
    )
    assert Lesson.objects.get(pk=lesson.pk).organization == tree.party_group


# --- publishing ------------------------------------------------------------------------------


def test_publishing_notifies_the_audience_once(tree, make_lesson, committed):
    lesson = make_lesson(org=tree.branch)
    assert not Event.objects.exists()
    with committed():
        published = services.lesson_publish(lesson=lesson, by=tree.secretary)
        assert not Notification.objects.exists()  # the fan-out waits for the commit
    assert published.status == Lesson.Status.PUBLISHED and published.published_at is not None
    (event,) = events_for(lesson)
    assert (event.kind, event.actor, event.subject) == (
        "lesson_published",
        tree.secretary,
        lesson.title,
    )
    assert recipients_of(event) == BRANCH
    assert (
        TimelineEntry.objects.filter(organization=tree.branch, kind="lesson_published").count() == 1
    )
    first_time = published.published_at
    with committed():
        again = services.lesson_publish(lesson=lesson, by=tree.secretary)
    assert again.published_at == first_time
    assert events_for(lesson).count() == 1
    assert Notification.objects.count() == len(BRANCH)
    assert TimelineEntry.objects.filter(kind="lesson_published").count() == 1


def test_archiving_hides_a_lesson_and_publishing_it_again_notifies_nobody(
    tree, make_lesson, committed
):
    lesson = make_lesson(publish=True)
    published_at = Lesson.objects.get(pk=lesson.pk).published_at
    archived = services.lesson_archive(lesson=lesson, by=tree.secretary)
    assert archived.status == Lesson.Status.ARCHIVED
    assert not selectors.lesson_visible_to(tree.member.user, archived)
    assert events_for(lesson).count() == 1
    with committed():
        services.lesson_publish(lesson=lesson, by=tree.secretary)
    lesson.refresh_from_db()
    assert lesson.status == Lesson.Status.PUBLISHED
    assert lesson.published_at == published_at  # back in its place in the lists
    assert selectors.lesson_visible_to(tree.member.user, lesson)
    assert events_for(lesson).count() == 1
    assert Notification.objects.count() == len(BRANCH)


def test_an_archived_lesson_scheduled_again_publishes_without_notifying(
    tree, make_lesson, committed
):
    lesson = make_lesson(publish=True)
    published_at = Lesson.objects.get(pk=lesson.pk).published_at
    services.lesson_archive(lesson=lesson, by=tree.secretary)
    at = timezone.now() + timedelta(hours=1)
    services.lesson_schedule(lesson=lesson, by=tree.secretary, publish_at=at)
    with committed():
        assert services.lessons_publish_due(now=at) == 1
    lesson.refresh_from_db()
    assert (lesson.status, lesson.published_at, lesson.publish_at) == (
        "published",
        published_at,
        None,
    )
    assert events_for(lesson).count() == 1


# --- scheduling ------------------------------------------------------------------------------


def test_schedule_refuses_a_time_that_is_not_in_the_future(tree, make_lesson):
    lesson = make_lesson()
    for when in (timezone.now() - timedelta(minutes=1), timezone.now() - timedelta(days=30)):
        with pytest.raises(ValidationError):
            services.lesson_schedule(lesson=lesson, by=tree.secretary, publish_at=when)
    assert Lesson.objects.get(pk=lesson.pk).status == Lesson.Status.DRAFT


def test_a_published_lesson_cannot_be_scheduled(tree, make_lesson):
    lesson = make_lesson(publish=True)
    with pytest.raises(ValidationError):
        services.lesson_schedule(
            lesson=lesson, by=tree.secretary, publish_at=timezone.now() + timedelta(days=1)
        )
    assert Lesson.objects.get(pk=lesson.pk).status == Lesson.Status.PUBLISHED


def test_scheduled_lessons_publish_themselves_once(tree, make_lesson, committed):
    now = timezone.now()
    due = make_lesson(title="到期", by=tree.secretary)
    later = make_lesson(title="以后")
    services.lesson_schedule(lesson=due, by=tree.secretary, publish_at=now + timedelta(minutes=5))
    services.lesson_schedule(lesson=later, by=tree.secretary, publish_at=now + timedelta(days=2))
    assert services.lessons_publish_due(now=now) == 0
    assert not Event.objects.exists()

    at = now + timedelta(minutes=6)
    with committed():
        assert services.lessons_publish_due(now=at) == 1
    due.refresh_from_db()
    later.refresh_from_db()
    assert (due.status, due.published_at, due.publish_at) == (Lesson.Status.PUBLISHED, at, None)
    assert later.status == Lesson.Status.SCHEDULED
    (event,) = Event.objects.all()
    assert (event.kind, event.target_id, event.actor) == (
        "lesson_published",
        due.pk,
        tree.secretary,
    )
    assert recipients_of(event) == BRANCH
    assert selectors.lesson_visible_to(fresh(tree.member.user), due)
    assert not selectors.lesson_visible_to(fresh(tree.member.user), later)

    # The next beat, and the one after: nothing more.
    with committed():
        assert services.lessons_publish_due(now=at) == 0
        assert services.lessons_publish_due(now=at + timedelta(minutes=1)) == 0
    assert Event.objects.count() == 1
    assert Notification.objects.count() == len(BRANCH)


def test_the_beat_task_publishes_due_lessons(tree, make_lesson, committed, monkeypatch):
    lesson = make_lesson()
    services.lesson_schedule(
        lesson=lesson, by=tree.secretary, publish_at=timezone.now() + timedelta(seconds=30)
    )
    Lesson.objects.filter(pk=lesson.pk).update(publish_at=timezone.now() - timedelta(seconds=1))
    with committed():
        assert tasks.publish_due_lessons.delay().get() == 1
        assert tasks.publish_due_lessons.delay().get() == 0
    assert recipients_of(events_for(lesson).get()) == BRANCH


def test_a_scheduled_lesson_published_by_hand_is_not_published_again(tree, make_lesson, committed):
    lesson = make_lesson()
    services.lesson_schedule(
        lesson=lesson, by=tree.secretary, publish_at=timezone.now() + timedelta(minutes=1)
    )
    with committed():
        services.lesson_publish(lesson=lesson, by=tree.secretary)
        assert services.lessons_publish_due(now=timezone.now() + timedelta(minutes=2)) == 0
    assert Event.objects.count() == 1


# --- sharing ---------------------------------------------------------------------------------

SHARE_TABLE = [
    ("reviewer", "branch", "company", True),
    ("reviewer", "branch", "group", True),
    ("reviewer", "branch", "sibling", True),
    ("reviewer", "branch", "outside", False),  # target outside their subtree
    ("reviewer", "outside", "group", False),  # lesson outside their subtree
    ("company_reviewer", "branch", "company", True),
    ("company_reviewer", "branch", "group", False),  # above their subtree
    ("secretary", "branch", "company", False),  # secretaries do not share
    ("secretary", "branch", "party_group", False),
    ("secretary2", "branch", "sibling", False),
    ("company_secretary", "branch", "company", False),
    ("member", "branch", "company", False),
    ("admin", "outside", "group", True),
]


@pytest.mark.usefixtures("company_secretary")
@pytest.mark.parametrize(("who", "lesson_org", "target", "allowed"), SHARE_TABLE)
def test_who_may_share(tree, make_lesson, committed, who, lesson_org, target, allowed):
    reviewer = factories.UserFactory(username="company_reviewer")
    factories.RoleAssignmentFactory(
        user=reviewer, organization=tree.company, role=RoleAssignment.Role.REVIEWER
    )
    tree.company_reviewer = reviewer
    lesson = make_lesson(org=getattr(tree, lesson_org), publish=True)
    by, organization = actor(tree, who), getattr(tree, target)
    if allowed:
        with committed():
            share = services.lesson_share(lesson=lesson, organization=organization, by=by)
        assert (share.organization, share.shared_by) == (organization, by)
        assert events_for(lesson, "lesson_shared").count() == 1
    else:
        with pytest.raises(PermissionDenied):
            services.lesson_share(lesson=lesson, organization=organization, by=by)
        assert not LessonShare.objects.exists()
        assert not events_for(lesson, "lesson_shared").exists()


def test_sharing_tells_the_new_audience_once_and_keeps_author_and_branch(
    tree, make_lesson, committed
):
    lesson = make_lesson(org=tree.branch, by=tree.secretary, publish=True)
    assert not selectors.lesson_visible_to(tree.sibling_member.user, lesson)
    with committed():
        share = services.lesson_share(lesson=lesson, organization=tree.company, by=tree.reviewer)
    (event,) = events_for(lesson, "lesson_shared")
    assert event.actor == tree.reviewer
    assert recipients_of(event) == SIBLING  # not the branch: they were told when it was published
    lesson.refresh_from_db()
    assert (lesson.author, lesson.organization) == (tree.secretary, tree.branch)
    assert selectors.lesson_visible_to(fresh(tree.sibling_member.user), lesson)
    assert selectors.lesson_visible_to(fresh(tree.participant.user), lesson)
    assert not selectors.lesson_visible_to(fresh(tree.outsider.user), lesson)
    # Sharing again (a double click): one share, one event, no new inbox row.
    with committed():
        again = services.lesson_share(lesson=lesson, organization=tree.company, by=tree.reviewer)
    assert again == share
    assert LessonShare.objects.count() == 1
    assert events_for(lesson, "lesson_shared").count() == 1
    assert Notification.objects.filter(event__kind="lesson_shared").count() == len(SIBLING)
    # Every member gets one notice about the lesson, whichever way it reached them.
    assert Notification.objects.filter(event__target_id=lesson.pk).count() == len(BRANCH | SIBLING)


def test_a_wider_share_tells_only_those_who_did_not_have_it(tree, make_lesson, committed):
    company2 = factories.OrganizationFactory(
        parent=tree.group, name="二公司党委", kind=Organization.Kind.COMMITTEE
    )
    far = factories.OrganizationFactory(parent=company2, name="三号项目党支部")
    factories.MemberFactory(user__username="far_member", branch=far)
    lesson = make_lesson(org=tree.branch, publish=True)
    with committed():
        services.lesson_share(lesson=lesson, organization=tree.company, by=tree.reviewer)
        services.lesson_share(lesson=lesson, organization=tree.group, by=tree.reviewer)
    company_event, group_event = events_for(lesson, "lesson_shared").order_by("pk")
    assert recipients_of(company_event) == SIBLING
    assert recipients_of(group_event) == {"far_member"}
    people = Notification.objects.filter(event__target_id=lesson.pk)
    assert people.count() == people.values("recipient").distinct().count() == 7


def test_sharing_keeps_the_audience_filters(tree, make_lesson, committed):
    remote = factories.MemberFactory(
        user__username="remote2", branch=tree.sibling, category=Member.Category.REMOTE
    )
    lesson = make_lesson(org=tree.branch, publish=True, for_office=False, for_front_line=False)
    training = make_lesson(org=tree.branch, publish=True, committee_only=True)
    with committed():
        services.lesson_share(lesson=lesson, organization=tree.company, by=tree.reviewer)
        services.lesson_share(lesson=training, organization=tree.company, by=tree.reviewer)
    assert recipients_of(events_for(lesson, "lesson_shared").get()) == {"remote2"}
    assert recipients_of(events_for(training, "lesson_shared").get()) == {"secretary2"}
    assert selectors.lesson_visible_to(fresh(remote.user), lesson)
    assert not selectors.lesson_visible_to(fresh(tree.sibling_member.user), lesson)
    assert selectors.lesson_visible_to(fresh(tree.secretary2), training)
    assert not selectors.lesson_visible_to(fresh(tree.sibling_member.user), training)


def test_what_cannot_be_shared(tree, make_lesson):
    draft = make_lesson(org=tree.branch)
    with pytest.raises(ValidationError):
        services.lesson_share(lesson=draft, organization=tree.company, by=tree.reviewer)
    lesson = make_lesson(org=tree.branch, publish=True)
    # Where it is published already: its own organisation and everything under it.
    for org in (tree.branch, tree.party_group):
        with pytest.raises(ValidationError):
            services.lesson_share(lesson=lesson, organization=org, by=tree.reviewer)
    assert not LessonShare.objects.exists()
    assert not Event.objects.filter(kind="lesson_shared").exists()


# --- studying: records, checks and points --------------------------------------------------


@pytest.fixture
def lesson(make_lesson):
    return make_lesson(publish=True)


@pytest.fixture
def checked(make_lesson):
    """A published lesson with a check of two questions (right answers: b, then a)."""
    lesson = make_lesson(publish=True, title="有检测的课")
    Question.objects.create(
        lesson=lesson,
        order=1,
        text="支部多久开一次支委会？",
        choice_a="每年",
        choice_b="每月",
        correct="b",
    )
    Question.objects.create(
        lesson=lesson,
        order=2,
        text="微党课最长多少分钟？",
        choice_a="20",
        choice_b="60",
        correct="a",
    )
    return lesson


def answers_for(lesson, right=True) -> dict:
    wrong = {"a": "b", "b": "a"}
    return {str(q.pk): q.correct if right else wrong[q.correct] for q in lesson.questions.all()}


def points_of(user) -> int:
    return sum(PointsEntry.objects.filter(user=user).values_list("points", flat=True))


def test_opening_starts_one_record(tree, lesson):
    user = tree.member.user
    first = services.study_open(lesson=lesson, user=user)
    for _ in range(3):
        assert (
            services.study_open(lesson=lesson, user=user, at=timezone.now() + timedelta(hours=1))
            == first
        )
    record = StudyRecord.objects.get()
    assert record.started_at == first.started_at
    assert (record.marked_at, record.finished_at, record.points) == (None, None, 0)


def test_marking_a_lesson_without_a_check_finishes_it_once(tree, lesson, settings):
    settings.NETBRANCH_POINTS_FINISHED = 4
    member = tree.member
    before = timezone.now()
    record = services.study_mark(lesson=lesson, user=member.user)
    assert record.finished_at is not None and record.finished_at >= before
    assert record.points == 4
    assert StudyRecord.objects.get().points == 4
    assert points_of(member.user) == 4
    (fact,) = ActivityFact.objects.filter(member=member)
    assert (fact.kind, fact.occurred_at) == (ActivityFact.Kind.STUDIED, record.finished_at)
    member.refresh_from_db()
    assert member.last_active_at == record.finished_at
    # Marking again, re-reading: nothing more.
    for _ in range(2):
        services.study_open(lesson=lesson, user=member.user)
        again = services.study_mark(lesson=lesson, user=member.user)
        assert (again.finished_at, again.points) == (record.finished_at, 4)
    assert PointsEntry.objects.count() == 1
    assert ActivityFact.objects.count() == 1
    assert StudyRecord.objects.count() == 1


def test_with_a_check_marking_alone_does_not_finish(tree, checked):
    user = tree.member.user
    record = services.study_mark(lesson=checked, user=user)
    assert record.marked_at is not None and record.finished_at is None
    assert points_of(user) == 0
    assert not ActivityFact.objects.exists()


def test_a_wrong_answer_does_not_pass_and_earns_nothing(tree, checked):
    user = tree.member.user
    services.study_mark(lesson=checked, user=user)
    answers = answers_for(checked)
    answers[next(iter(answers))] = "a"  # the first one wrong
    result = services.check_answer(lesson=checked, user=user, answers=answers)
    assert (result.passed, result.already_passed, result.points) == (False, False, 0)
    q1, q2 = checked.questions.all()
    assert result.correct == {q1.pk: False, q2.pk: True}
    record = StudyRecord.objects.get()
    assert (record.check_passed_at, record.finished_at, record.points) == (None, None, 0)
    assert CheckAttempt.objects.filter(passed=False).count() == 1
    assert not PointsEntry.objects.exists()
    # Missing answers are wrong answers.
    assert not services.check_answer(lesson=checked, user=user, answers={}).passed


def test_the_right_answers_pass_finish_and_earn_once(tree, checked, settings):
    user = tree.member.user
    services.study_mark(lesson=checked, user=user)
    services.check_answer(lesson=checked, user=user, answers=answers_for(checked, right=False))
    result = services.check_answer(lesson=checked, user=user, answers=answers_for(checked))
    expected = settings.NETBRANCH_POINTS_CHECK + settings.NETBRANCH_POINTS_FINISHED
    assert (result.passed, result.already_passed, result.points) == (True, False, expected)
    record = StudyRecord.objects.get()
    assert record.check_passed_at is not None and record.finished_at is not None
    assert record.points == expected == points_of(user)
    assert ActivityFact.objects.filter(kind=ActivityFact.Kind.STUDIED).count() == 1
    # Answering again after passing, right or wrong, and marking again: nothing more.
    for answers in (answers_for(checked), answers_for(checked, right=False)):
        again = services.check_answer(lesson=checked, user=user, answers=answers)
        assert (again.passed, again.already_passed, again.points) == (True, True, 0)
    services.study_mark(lesson=checked, user=user)
    assert points_of(user) == expected
    assert PointsEntry.objects.count() == 2
    assert ActivityFact.objects.count() == 1
    assert CheckAttempt.objects.count() == 2


def test_passing_before_marking_finishes_on_marking(tree, checked, settings):
    user = tree.member.user
    result = services.check_answer(
        lesson=checked, user=user, answers={int(k): v for k, v in answers_for(checked).items()}
    )
    assert (result.passed, result.points) == (True, settings.NETBRANCH_POINTS_CHECK)
    assert StudyRecord.objects.get().finished_at is None
    assert not ActivityFact.objects.exists()
    record = services.study_mark(lesson=checked, user=user)
    assert record.finished_at is not None
    assert record.points == settings.NETBRANCH_POINTS_CHECK + settings.NETBRANCH_POINTS_FINISHED


def test_a_replayed_submission_counts_once(tree, checked, settings):
    user = tree.member.user
    services.study_mark(lesson=checked, user=user)
    wrong_id, right_id = uuid.uuid4(), uuid.uuid4()
    assert not services.check_answer(
        lesson=checked, user=user, answers=answers_for(checked, right=False), client_id=wrong_id
    ).passed
    # The same submission replayed (offline queue sent twice), even with other answers in it.
    replay = services.check_answer(
        lesson=checked, user=user, answers=answers_for(checked), client_id=wrong_id
    )
    assert (replay.passed, replay.points) == (False, 0)
    assert CheckAttempt.objects.count() == 1
    passed = services.check_answer(
        lesson=checked, user=user, answers=answers_for(checked), client_id=str(right_id)
    )
    assert (
        passed.passed
        and passed.points == settings.NETBRANCH_POINTS_CHECK + settings.NETBRANCH_POINTS_FINISHED
    )
    for _ in range(3):
        replay = services.check_answer(
            lesson=checked, user=user, answers=answers_for(checked), client_id=right_id
        )
        assert replay.passed and replay.points == 0
    assert CheckAttempt.objects.count() == 2
    assert PointsEntry.objects.count() == 2


def test_a_lesson_without_a_check_has_nothing_to_answer(tree, lesson):
    with pytest.raises(ValidationError):
        services.check_answer(lesson=lesson, user=tree.member.user, answers={})
    assert not CheckAttempt.objects.exists()


def test_the_time_of_an_offline_action_is_kept(tree, checked):
    member = tree.member
    Member.objects.filter(pk=member.pk).update(last_active_at=None)
    marked = timezone.now() - timedelta(days=3)
    answered = timezone.now() - timedelta(days=2)
    services.study_mark(lesson=checked, user=member.user, at=marked)
    services.check_answer(
        lesson=checked, user=member.user, answers=answers_for(checked), at=answered
    )
    record = StudyRecord.objects.get()
    assert (record.started_at, record.marked_at, record.check_passed_at, record.finished_at) == (
        marked, marked, answered, answered,
    )  # fmt: skip
    assert set(PointsEntry.objects.values_list("earned_at", flat=True)) == {answered}
    assert ActivityFact.objects.get().occurred_at == answered
    member.refresh_from_db()
    assert member.last_active_at == answered


def test_the_time_of_an_action_is_never_in_the_future(tree, lesson, checked):
    user = tree.member.user
    services.study_mark(lesson=lesson, user=user, at=timezone.now() + timedelta(days=30))
    services.check_answer(
        lesson=checked,
        user=user,
        answers=answers_for(checked),
        at=timezone.now() + timedelta(days=1),
    )
    now = timezone.now()
    for record in StudyRecord.objects.all():
        for value in (
            record.started_at,
            record.marked_at,
            record.finished_at,
            record.check_passed_at,
        ):
            assert value is None or value <= now
    assert all(at <= now for at in PointsEntry.objects.values_list("earned_at", flat=True))
    assert all(at <= now for at in ActivityFact.objects.values_list("occurred_at", flat=True))
    tree.member.refresh_from_db()
    assert tree.member.last_active_at <= now


def test_an_invisible_lesson_cannot_be_studied(tree, make_lesson, checked):
    sibling = make_lesson(org=tree.sibling, publish=True)
    draft = make_lesson(org=tree.branch)
    remote_only = make_lesson(org=tree.branch, publish=True, for_office=False, for_front_line=False)
    Question.objects.create(lesson=sibling, text="?", choice_a="是", choice_b="否", correct="a")
    cases = [
        (tree.member.user, sibling),
        (tree.member.user, draft),
        (tree.office.user, remote_only),
        (tree.outsider.user, checked),
    ]
    for user, target in cases:
        with pytest.raises(PermissionDenied):
            services.study_mark(lesson=target, user=user)
        with pytest.raises(PermissionDenied):
            services.check_answer(lesson=target, user=user, answers=answers_for(checked))
    assert not StudyRecord.objects.exists()
    assert not CheckAttempt.objects.exists()
    assert not PointsEntry.objects.exists()


def test_a_manager_who_is_not_a_member_studies_without_an_activity_fact(tree, lesson, settings):
    record = services.study_mark(lesson=lesson, user=tree.reviewer)
    assert record.points == settings.NETBRANCH_POINTS_FINISHED
    assert not ActivityFact.objects.exists()


# --- reminders of a lesson -----------------------------------------------------------------


def test_remind_those_who_have_not_finished_once_a_day(tree, lesson, committed):
    services.study_mark(lesson=lesson, user=tree.member.user)
    services.study_open(lesson=lesson, user=tree.office.user)  # opened, not finished
    with committed():
        assert services.lesson_remind_unfinished(lesson=lesson, by=tree.secretary) == 2
        assert services.lesson_remind_unfinished(lesson=lesson, by=tree.secretary) == 0
    (event,) = events_for(lesson, "lesson_reminder")
    assert recipients_of(event) == {"office", "secretary"}
    reminder = LessonReminder.objects.get()
    assert (reminder.day, reminder.recipients, reminder.sent_by) == (
        timezone.localdate(),
        2,
        tree.secretary,
    )


def test_yesterdays_reminder_does_not_stop_todays(tree, lesson, committed):
    LessonReminder.objects.create(lesson=lesson, day=timezone.localdate() - timedelta(days=1))
    with committed():
        assert services.lesson_remind_unfinished(lesson=lesson, by=tree.secretary) == 3
    assert events_for(lesson, "lesson_reminder").count() == 1


def test_nobody_left_to_remind(tree, lesson, committed):
    for user in (tree.member.user, tree.office.user, tree.secretary):
        services.study_mark(lesson=lesson, user=user)
    with committed():
        assert services.lesson_remind_unfinished(lesson=lesson, by=tree.secretary) == 0
    assert not events_for(lesson, "lesson_reminder").exists()


def test_a_draft_is_not_reminded(tree, make_lesson):
    with pytest.raises(ValidationError):
        services.lesson_remind_unfinished(lesson=make_lesson(), by=tree.secretary)
    assert not LessonReminder.objects.exists()


# --- plans -----------------------------------------------------------------------------------


def test_plan_save_scope(tree, make_plan):
    plan = make_plan(org=tree.branch, by=tree.secretary)
    assert plan.author == tree.secretary and plan.status == StudyPlan.Status.DRAFT
    with pytest.raises(PermissionDenied):
        make_plan(org=tree.sibling, by=tree.secretary)
    with pytest.raises(PermissionDenied):
        services.plan_save(plan=plan, by=tree.secretary2, fields={"title": "改"})
    with pytest.raises(PermissionDenied):
        services.plan_save(plan=plan, by=tree.secretary, fields={"organization": tree.company})
    with pytest.raises(ValidationError):
        services.plan_save(
            plan=plan, by=tree.secretary, fields={"due_on": plan.starts_on - timedelta(days=1)}
        )
    assert StudyPlan.objects.get(pk=plan.pk).organization == tree.branch


def test_plan_publish_refuses_an_empty_plan_and_unpublished_lessons(tree, make_lesson, make_plan):
    empty = make_plan()
    with pytest.raises(ValidationError):
        services.plan_publish(plan=empty, by=tree.secretary)
    draft = make_lesson(title="尚未发布的课")
    plan = make_plan(items=[make_lesson(publish=True), draft])
    with pytest.raises(ValidationError) as info:
        services.plan_publish(plan=plan, by=tree.secretary)
    assert "尚未发布的课" in info.value.messages[0]
    assert not StudyPlan.objects.filter(status=StudyPlan.Status.PUBLISHED).exists()
    assert not Event.objects.filter(kind="plan_published").exists()
    with pytest.raises(PermissionDenied):
        services.plan_publish(plan=plan, by=tree.secretary2)


def test_plan_publish_refuses_an_unpublished_document(tree, make_lesson, make_plan):
    from lessons.models import Document

    document = Document.objects.create(
        title="尚未发布的文件", category="study_material", organization=tree.branch,
        body="<p>正文</p>", issued_on=timezone.localdate(), published=False,
    )  # fmt: skip
    plan = make_plan(items=[make_lesson(publish=True), document])
    with pytest.raises(ValidationError) as info:
        services.plan_publish(plan=plan, by=tree.secretary)
    assert "尚未发布的文件" in info.value.messages[0]
    Document.objects.filter(pk=document.pk).update(published=True)
    assert services.plan_publish(plan=plan, by=tree.secretary).status == StudyPlan.Status.PUBLISHED


def test_plan_publish_notifies_the_audience_once(tree, make_lesson, make_plan, committed):
    plan = make_plan(
        items=[make_lesson(publish=True), make_lesson(publish=True)],
        for_office=False,
        for_front_line=False,
    )
    with committed():
        services.plan_publish(plan=plan, by=tree.secretary)
        services.plan_publish(plan=plan, by=tree.secretary)
    plan.refresh_from_db()
    assert plan.status == StudyPlan.Status.PUBLISHED and plan.published_at is not None
    (event,) = Event.objects.filter(kind="plan_published")
    assert recipients_of(event) == {"member"}
    assert TimelineEntry.objects.filter(kind="plan_published").count() == 1


@pytest.fixture
def due_plan(tree, make_lesson, make_plan, committed):
    """A published branch plan of two lessons due in two days."""
    first, second = make_lesson(publish=True), make_lesson(publish=True)
    plan = make_plan(items=[first, second], due_on=timezone.localdate() + timedelta(days=2))
    with committed():
        services.plan_publish(plan=plan, by=tree.secretary)
    plan.lessons = (first, second)
    return plan


def test_plans_remind_due_reminds_those_who_have_not_finished_once(tree, due_plan, committed):
    first, second = due_plan.lessons
    for lesson in (first, second):
        services.study_mark(lesson=lesson, user=tree.member.user)  # finished everything
    services.study_mark(lesson=first, user=tree.office.user)  # half
    with committed():
        assert services.plans_remind_due() == 1
        assert services.plans_remind_due() == 0
        assert tasks.remind_due_plans.delay().get() == 0
    (event,) = Event.objects.filter(kind="plan_due_soon")
    assert event.target_id == due_plan.pk
    assert recipients_of(event) == {"office", "secretary"}
    assert StudyPlan.objects.get(pk=due_plan.pk).reminded_at is not None


def test_plans_remind_due_only_within_the_reminder_days(tree, due_plan, settings, committed):
    today = timezone.localdate()
    with committed():
        assert services.plans_remind_due(today=today - timedelta(days=5)) == 0  # due in 7 days
        assert services.plans_remind_due(today=today + timedelta(days=3)) == 0  # overdue
    settings.NETBRANCH_PLAN_REMINDER_DAYS = 1
    assert services.plans_remind_due(today=today) == 0  # due in 2 days
    settings.NETBRANCH_PLAN_REMINDER_DAYS = 7
    with committed():
        assert services.plans_remind_due(today=today - timedelta(days=5)) == 1
    assert Event.objects.filter(kind="plan_due_soon").count() == 1


def test_draft_plans_are_not_reminded(tree, make_lesson, make_plan):
    make_plan(items=[make_lesson(publish=True)], due_on=timezone.localdate() + timedelta(days=1))
    assert services.plans_remind_due() == 0


def test_a_lesson_listed_twice_in_a_plan_is_finished_once(tree, make_lesson, make_plan, committed):
    lesson = make_lesson(publish=True)
    plan = make_plan(items=[lesson, lesson], due_on=timezone.localdate() + timedelta(days=1))
    services.plan_publish(plan=plan, by=tree.secretary)
    services.study_mark(lesson=lesson, user=tree.member.user)
    with committed():
        assert services.plans_remind_due() == 1
    assert recipients_of(Event.objects.get(kind="plan_due_soon")) == {"office", "secretary"}


# --- documents -------------------------------------------------------------------------------


def document_fields(org, **fields):
    return {
        "title": "中国共产党支部工作条例（试行）", "category": Document.Category.PARTY_RULES,
        "organization": org, "body": "<p>第一章 总则</p>", "issued_on": datetime.date(2018, 10, 28),
        "published": True, **fields,
    }  # fmt: skip


def test_document_save_scope(tree):
    document = services.document_save(
        document=None, by=tree.secretary, fields=document_fields(tree.branch)
    )
    assert Document.objects.get().organization == tree.branch
    with pytest.raises(PermissionDenied):
        services.document_save(
            document=None, by=tree.secretary, fields=document_fields(tree.company)
        )
    with pytest.raises(PermissionDenied):
        services.document_save(
            document=None, by=tree.member.user, fields=document_fields(tree.branch)
        )
    with pytest.raises(PermissionDenied):
        services.document_save(document=document, by=tree.secretary2, fields={"title": "改"})
    with pytest.raises(PermissionDenied):
        services.document_save(
            document=document, by=tree.secretary, fields={"organization": tree.sibling}
        )
    services.document_save(document=document, by=tree.reviewer, fields={"organization": tree.group})
    assert Document.objects.count() == 1
    assert Document.objects.get().organization == tree.group


def test_a_document_needs_a_text_or_a_file(tree):
    with pytest.raises(ValidationError):
        services.document_save(
            document=None, by=tree.secretary, fields=document_fields(tree.branch, body="")
        )
    # A body that is nothing once sanitised is no text either.
    with pytest.raises(ValidationError):
        services.document_save(
            document=None,
            by=tree.secretary,
            fields=document_fields(tree.branch, body="<script>x</script>"),
        )
    assert not Document.objects.exists()
    pdf = SimpleUploadedFile("条例.pdf", b"%PDF-1.4\n%%EOF\n")
    with_file = services.document_save(
        document=None, by=tree.secretary, fields=document_fields(tree.branch, body="", file=pdf)
    )
    assert with_file.file.name.startswith("documents/")
    text = services.document_save(
        document=None, by=tree.secretary, fields=document_fields(tree.branch)
    )
    with pytest.raises(ValidationError):
        services.document_save(document=text, by=tree.secretary, fields={"body": ""})
    with pytest.raises(IntegrityError), transaction.atomic():
        Document.objects.filter(pk=text.pk).update(body="", file="")
    with pytest.raises(IntegrityError), transaction.atomic():
        Document.objects.filter(pk=with_file.pk).update(file="")


def test_document_hostile_html_is_stripped(tree):
    document = services.document_save(
        document=None,
        by=tree.secretary,
        fields=document_fields(tree.branch, body="<p>条例</p>" + HOSTILE),
    )
    body = Document.objects.get(pk=document.pk).body
    assert "<script" not in body and "onerror" not in body and "javascript:" not in body
    assert "条例" in body


def test_document_read_once(tree):
    document = services.document_save(
        document=None, by=tree.secretary, fields=document_fields(tree.branch)
    )
    for _ in range(3):
        services.document_read(document=document, user=tree.member.user)
    services.document_read(document=document, user=tree.office.user)
    assert DocumentRead.objects.count() == 2
    assert DocumentRead.objects.filter(user=tree.member.user).count() == 1


# --- a plan item is a lesson or a document -------------------------------------------------


def test_a_plan_item_is_a_lesson_or_a_document(tree, make_lesson, make_plan):
    plan = make_plan()
    document = services.document_save(
        document=None, by=tree.secretary, fields=document_fields(tree.branch)
    )
    for kwargs in ({}, {"lesson": make_lesson(), "document": document}):
        with pytest.raises(IntegrityError), transaction.atomic():
            StudyPlanItem.objects.create(plan=plan, **kwargs)


# --- really concurrent (PostgreSQL): double clicks, two beats, two workers -------------------


@pytest.mark.django_db(transaction=True)
class TestConcurrency:
    @pytest.fixture(autouse=True)
    def _postgres(self, require_postgres):
        pass

    def test_two_beats_publish_a_due_lesson_once(self, tree, make_lesson):
        lessons = [make_lesson() for _ in range(3)]
        for lesson in lessons:
            services.lesson_schedule(
                lesson=lesson, by=tree.admin, publish_at=timezone.now() + timedelta(seconds=30)
            )
        at = timezone.now() + timedelta(minutes=1)
        results = race(lambda: services.lessons_publish_due(now=at), n=3)
        assert not [r for r in results if isinstance(r, Exception)], results
        assert sum(results) == 3, results  # each lesson published by one of the beats
        assert Lesson.objects.filter(status=Lesson.Status.PUBLISHED).count() == 3
        assert Event.objects.filter(kind="lesson_published").count() == 3
        assert Notification.objects.count() == 3 * len(BRANCH)

    def test_a_double_click_on_publish_notifies_once(self, tree, make_lesson):
        lesson = make_lesson()
        results = race(lambda: services.lesson_publish(lesson=lesson, by=tree.secretary), n=3)
        assert not [r for r in results if isinstance(r, Exception)], results
        assert events_for(lesson).count() == 1
        assert Notification.objects.count() == len(BRANCH)

    def test_a_double_share_makes_one_share_and_one_event(self, tree, make_lesson):
        lesson = make_lesson(publish=True)
        results = race(
            lambda: services.lesson_share(
                lesson=lesson, organization=tree.company, by=tree.reviewer
            ),
            n=3,
        )
        assert not [r for r in results if isinstance(r, Exception)], results
        assert LessonShare.objects.count() == 1
        assert events_for(lesson, "lesson_shared").count() == 1

    def test_double_marks_never_double_points(self, tree, make_lesson, settings):
        lesson = make_lesson(publish=True)
        user = tree.member.user
        results = race(lambda: services.study_mark(lesson=lesson, user=fresh(user)), n=4)
        assert not [r for r in results if isinstance(r, Exception)], results
        assert StudyRecord.objects.count() == 1
        assert PointsEntry.objects.count() == 1
        assert StudyRecord.objects.get().points == settings.NETBRANCH_POINTS_FINISHED
        assert ActivityFact.objects.count() == 1

    def test_double_submits_never_double_points(self, tree, make_lesson, settings):
        lesson = make_lesson(publish=True)
        Question.objects.create(lesson=lesson, text="？", choice_a="是", choice_b="否", correct="a")
        user = tree.member.user
        services.study_mark(lesson=lesson, user=user)
        answers = answers_for(lesson)
        results = race(
            lambda: services.check_answer(lesson=lesson, user=fresh(user), answers=answers), n=4
        )
        assert not [r for r in results if isinstance(r, Exception)], results
        total = settings.NETBRANCH_POINTS_CHECK + settings.NETBRANCH_POINTS_FINISHED
        assert sorted(r.points for r in results) == [0, 0, 0, total]
        assert PointsEntry.objects.count() == 2
        assert StudyRecord.objects.get().points == total
        # The same offline submission sent from two tabs at once.
        other = make_lesson(publish=True)
        Question.objects.create(lesson=other, text="？", choice_a="是", choice_b="否", correct="b")
        client_id = uuid.uuid4()
        results = race(
            lambda: services.check_answer(
                lesson=other, user=fresh(user), answers=answers_for(other), client_id=client_id
            ),
            n=3,
        )
        assert not [r for r in results if isinstance(r, Exception)], results
        assert CheckAttempt.objects.filter(lesson=other).count() == 1
        assert PointsEntry.objects.filter(lesson=other).count() == 1

    def test_two_beats_remind_a_plan_once(self, tree, make_lesson, make_plan):
        plan = make_plan(
            items=[make_lesson(publish=True)], due_on=timezone.localdate() + timedelta(days=1)
        )
        services.plan_publish(plan=plan, by=tree.secretary)
        results = race(services.plans_remind_due, n=3)
        assert sorted(results) == [0, 0, 1], results
        assert Event.objects.filter(kind="plan_due_soon").count() == 1
        assert Notification.objects.filter(event__kind="plan_due_soon").count() == len(BRANCH)
