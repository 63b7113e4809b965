"""The page selectors of the study sync (lessons.selectors, "pages" section): what each page
lists for whom, in which order, with which state, and what the check shows before and after
the member answers."""

import datetime
import uuid

import pytest
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from discussions.models import Comment, Like
from lessons import selectors, services
from lessons.models import (
    Document,
    DocumentRead,
    Lesson,
    PointsEntry,
    Question,
    StudyPlan,
    StudyPlanItem,
    StudyRecord,
    Topic,
)
from tests import factories

pytestmark = pytest.mark.django_db

REMOTE = {"for_office": False, "for_front_line": False, "for_remote": True}


# --- helpers (the view tests use them too) ---------------------------------------------------


def fresh(user):
    """The user without the per-request caches (viewer, scope, home paths)."""
    return type(user).objects.get(pk=user.pk)


def lesson(org, *, title="微党课", minutes_ago=0, status=Lesson.Status.PUBLISHED, **fields):
    """A lesson row made directly (fast: no fan-out), published by default."""
    fields.setdefault("body", "<p>学习党的创新理论，坚定理想信念。</p>")
    published_at = timezone.now() - datetime.timedelta(minutes=minutes_ago)
    return Lesson.objects.create(
        organization=org,
        title=title,
        status=status,
        published_at=published_at if status == Lesson.Status.PUBLISHED else None,
        **fields,
    )


def bulk_lessons(org, n, *, prefix="批量党课", **fields) -> list[Lesson]:
    now = timezone.now()
    return Lesson.objects.bulk_create(
        Lesson(
            organization=org,
            title=f"{prefix}{i}",
            summary=f"第{i}课的摘要",
            body="<p>学习党的创新理论。</p>",
            status=Lesson.Status.PUBLISHED,
            published_at=now - datetime.timedelta(hours=1 + i),
            **fields,
        )
        for i in range(n)
    )


def question(target, *, order=1, correct="b", explanation="因为党章这样规定。", text=None):
    return Question.objects.create(
        lesson=target,
        order=order,
        text=text or f"第{order}题：下列哪项正确？",
        choice_a="选项甲",
        choice_b="选项乙",
        choice_c="选项丙",
        correct=correct,
        explanation=explanation,
    )


def plan(
    org,
    items,
    *,
    title="本月学习计划",
    starts=-10,
    due=20,
    status=StudyPlan.Status.PUBLISHED,
    **fields,
):
    today = timezone.localdate()
    obj = StudyPlan.objects.create(
        organization=org,
        title=title,
        starts_on=today + datetime.timedelta(days=starts),
        due_on=today + datetime.timedelta(days=due),
        status=status,
        published_at=timezone.now() if status == StudyPlan.Status.PUBLISHED else None,
        **fields,
    )
    StudyPlanItem.objects.bulk_create(
        StudyPlanItem(
            plan=obj,
            order=i,
            lesson=item if isinstance(item, Lesson) else None,
            document=item if isinstance(item, Document) else None,
        )
        for i, item in enumerate(items, start=1)
    )
    return obj


def document(org, *, title="中国共产党章程", category=Document.Category.PARTY_RULES, **fields):
    fields.setdefault("body", "<p>第一章 党员</p>")
    fields.setdefault("published", True)
    return Document.objects.create(
        organization=org, title=title, category=category, issued_on=timezone.localdate(), **fields
    )


def finish(user, target, *, points=True, at=None):
    """A finished record with its points, as the services leave it."""
    at = at or timezone.now()
    StudyRecord.objects.update_or_create(
        user=user,
        lesson=target,
        defaults={
            "started_at": at,
            "marked_at": at,
            "finished_at": at,
            "points": 2 if points else 0,
        },
    )
    if points:
        PointsEntry.objects.get_or_create(
            user=user, lesson=target, reason=PointsEntry.Reason.FINISHED,
            defaults={"points": 2, "earned_at": at},
        )  # fmt: skip


def comment(target, author, body="说得好"):
    return Comment.objects.create(
        content_type=ContentType.objects.get_for_model(target),
        object_id=target.pk,
        organization=target.organization,
        author=author,
        body=body,
        client_token=uuid.uuid4(),
    )


def like(target, user):
    return Like.objects.create(
        content_type=ContentType.objects.get_for_model(target), object_id=target.pk, user=user
    )


def titles(qs) -> list[str]:
    return [row.title for row in qs]


# --- /lessons/ --------------------------------------------------------------------------------


def test_a_remote_site_member_lists_remote_lessons_of_their_path_not_a_siblings(tree):
    mine = [
        lesson(o, title=f"边远{o.name}", **REMOTE) for o in (tree.branch, tree.company, tree.group)
    ]
    lesson(tree.sibling, title="兄弟支部的课", **REMOTE)
    lesson(tree.sibling, title="兄弟支部全体")
    lesson(tree.outside, title="外部的课")
    lesson(tree.branch, title="机关专题", for_remote=False)
    listed = set(titles(selectors.lesson_list_for_user(user=tree.member.user)))
    assert listed == {m.title for m in mine}
    office = set(titles(selectors.lesson_list_for_user(user=tree.office.user)))
    assert office.isdisjoint({m.title for m in mine}) and "机关专题" in office


def test_committee_only_lessons_are_listed_for_secretaries_only(tree):
    lesson(tree.company, title="书记培训", committee_only=True)
    assert "书记培训" in titles(selectors.lesson_list_for_user(user=tree.secretary))
    assert "书记培训" in titles(selectors.lesson_list_for_user(user=tree.secretary2))
    for user in (tree.member.user, tree.office.user, tree.outsider.user):
        assert "书记培训" not in titles(selectors.lesson_list_for_user(user=user))


def test_drafts_are_listed_for_nobody(tree):
    lesson(tree.branch, title="草稿", status=Lesson.Status.DRAFT)
    for user in (tree.member.user, tree.secretary, tree.reviewer, tree.admin):
        assert "草稿" not in titles(selectors.lesson_list_for_user(user=user))


def test_lessons_of_my_current_plans_come_first_then_the_newest(tree):
    old = lesson(tree.branch, title="计划里的旧课", minutes_ago=600)
    lesson(tree.branch, title="新课", minutes_ago=1)
    lesson(tree.branch, title="较新的课", minutes_ago=60)
    expired = lesson(tree.branch, title="过期计划的课", minutes_ago=300)
    draft_plan = lesson(tree.branch, title="草稿计划的课", minutes_ago=400)
    sibling_plan = lesson(tree.company, title="兄弟计划的课", minutes_ago=500)
    plan(tree.branch, [old])
    plan(tree.branch, [expired], starts=-40, due=-1)
    plan(tree.branch, [draft_plan], status=StudyPlan.Status.DRAFT)
    plan(tree.sibling, [sibling_plan])
    rows = list(selectors.lesson_list_for_user(user=tree.member.user))
    assert [r.title for r in rows] == [
        "计划里的旧课", "新课", "较新的课", "过期计划的课", "草稿计划的课", "兄弟计划的课",
    ]  # fmt: skip
    assert [r.for_me for r in rows] == [True, False, False, False, False, False]
    # A plan starting soon is already "for me"; a reviewer with no member record has none.
    plan(tree.branch, [lesson(tree.branch, title="下月的课", minutes_ago=700)], starts=5, due=35)
    assert titles(selectors.lesson_list_for_user(user=fresh(tree.member.user)))[:2] == [
        "计划里的旧课", "下月的课",
    ]  # fmt: skip
    assert not any(r.for_me for r in selectors.lesson_list_for_user(user=tree.reviewer))


def test_filter_by_kind_and_topic(tree):
    rules, history = Topic.objects.create(name="党章党规"), Topic.objects.create(name="党史")
    micro = lesson(tree.branch, title="微课", kind=Lesson.Kind.MICRO)
    video = lesson(
        tree.branch, title="视频课", kind=Lesson.Kind.VIDEO, video_url="https://v.qq.com/x"
    )
    lecture = lesson(tree.branch, title="专题讲座", kind=Lesson.Kind.LECTURE)
    micro.topics.set([rules])
    video.topics.set([rules, history])
    lecture.topics.set([history])
    user = tree.member.user
    assert titles(selectors.lesson_list_for_user(user=user, kind="video")) == ["视频课"]
    assert set(titles(selectors.lesson_list_for_user(user=user, topic=rules.pk))) == {
        "微课",
        "视频课",
    }
    assert titles(selectors.lesson_list_for_user(user=user, kind="micro", topic=history.pk)) == []
    assert len(titles(selectors.lesson_list_for_user(user=user, kind="nonsense"))) == 3
    assert [t.name for t in selectors.topics_in_use()] == sorted(["党章党规", "党史"])


@pytest.mark.parametrize("q", ["党章", "党规", "学习党章党规", " 党章 ", "章党"])
def test_search_finds_chinese_substrings_of_the_title(tree, q):
    lesson(tree.branch, title="学习党章党规")
    lesson(tree.branch, title="红色家书")
    assert titles(selectors.lesson_list_for_user(user=tree.member.user, q=q)) == ["学习党章党规"]


def test_search_looks_in_summaries_ignores_case_and_stays_in_scope(tree):
    lesson(tree.branch, title="第一课", summary="围绕党章开展专题学习")
    lesson(tree.branch, title="Party Rules Today")
    lesson(tree.sibling, title="兄弟支部学党章")
    user = tree.member.user
    assert titles(selectors.lesson_list_for_user(user=user, q="党章")) == ["第一课"]
    assert titles(selectors.lesson_list_for_user(user=user, q="party rules")) == [
        "Party Rules Today"
    ]
    assert titles(selectors.lesson_list_for_user(user=user, q="没有这样的课")) == []
    assert titles(selectors.lesson_list_for_user(user=user, q="100%")) == []  # LIKE is escaped


def test_rows_carry_my_state_and_the_discussion_counts(tree):
    opened, done, untouched = (lesson(tree.branch, title=t) for t in ("打开的", "学完的", "没看的"))
    user = tree.member.user
    StudyRecord.objects.create(user=user, lesson=opened, started_at=timezone.now())
    finish(user, done)
    finish(tree.office.user, untouched)  # someone else's record
    comment(done, tree.office.user)
    comment(done, tree.secretary)
    like(done, tree.office.user)
    like(done, user)
    rows = {r.title: r for r in selectors.lesson_list_for_user(user=user)}
    assert (rows["打开的"].opened, rows["打开的"].finished) == (True, False)
    assert (rows["学完的"].opened, rows["学完的"].finished) == (True, True)
    assert (rows["没看的"].opened, rows["没看的"].finished) == (False, False)
    assert (
        rows["学完的"].comment_count,
        rows["学完的"].like_count,
        rows["学完的"].liked_by_me,
    ) == (2, 2, True)
    assert rows["没看的"].comment_count == 0


# --- a lesson ---------------------------------------------------------------------------------


def test_the_check_shows_no_right_answer_before_answering(tree):
    target = lesson(tree.branch)
    q1 = question(target, order=1, correct="c", explanation="第一题的解释")
    q2 = question(target, order=2, correct="a", explanation="第二题的解释")
    user = tree.member.user
    record = services.study_open(lesson=target, user=user)
    check = selectors.lesson_detail(lesson=target, user=user, record=record)["check"]
    assert [q.id for q in check.questions] == [q1.pk, q2.pk]
    assert not check.revealed and not check.passed
    for shown in check.questions:
        assert (shown.correct, shown.correct_text, shown.explanation, shown.right) == (
            "",
            "",
            "",
            None,
        )
        assert [k for k, _t in shown.choices] == ["a", "b", "c"]

    services.check_answer(lesson=target, user=user, answers={str(q1.pk): "c", str(q2.pk): "b"})
    check = selectors.lesson_detail(lesson=target, user=user)["check"]
    assert check.revealed and not check.passed
    first, second = check.questions
    assert (first.answer, first.right, first.correct, first.correct_text) == (
        "c",
        True,
        "c",
        "选项丙",
    )
    assert (second.answer, second.right, second.correct) == ("b", False, "a")
    assert second.explanation == "第二题的解释"

    services.check_answer(lesson=target, user=user, answers={str(q1.pk): "c", str(q2.pk): "a"})
    check = selectors.lesson_detail(lesson=target, user=user)["check"]
    assert check.passed and all(q.right for q in check.questions)


def test_lesson_detail_reads_topics_attachments_shares_and_no_check(tree):
    target = lesson(tree.branch)
    target.topics.set([Topic.objects.create(name="党史")])
    services.lesson_share(lesson=target, organization=tree.group, by=tree.reviewer)
    detail = selectors.lesson_detail(lesson=target, user=tree.member.user)
    assert detail["check"] is None and detail["record"] is None
    assert [t.name for t in detail["topics"]] == ["党史"]
    assert [s.organization for s in detail["shares"]] == [tree.group]
    assert detail["attachments"] == []


# --- /study/ ----------------------------------------------------------------------------------


def test_study_overview_plans_progress_points_and_history(tree):
    user = tree.member.user
    a, b, c = (lesson(tree.branch, title=t) for t in ("甲课", "乙课", "丙课"))
    rules = document(tree.group)
    unpublished = document(tree.group, title="未发布的文件", published=False)
    current = plan(tree.branch, [a, b, rules, unpublished], due=5)
    later = plan(tree.company, [c], title="下季度计划", starts=3, due=60)
    plan(tree.branch, [c], title="已过期", starts=-60, due=-1)
    plan(tree.sibling, [c], title="兄弟支部计划")
    plan(tree.branch, [c], title="边远以外", for_remote=False)
    finish(user, a)
    DocumentRead.objects.create(user=user, document=rules, read_at=timezone.now())
    StudyRecord.objects.create(user=user, lesson=b, started_at=timezone.now())  # opened only
    last_month = selectors.month_start() - datetime.timedelta(days=3)
    finish(user, c, at=last_month)

    overview = selectors.study_overview(user=fresh(user))
    assert [p.title for p in overview["plans"]] == [current.title, later.title]
    assert [(p.done_count, p.item_count) for p in overview["plans"]] == [(2, 3), (1, 1)]
    assert overview["points"] == {"total": 4, "month": 2}
    assert [r.lesson.title for r in overview["history"]] == ["甲课", "丙课"]
    assert overview["ranking"]["organization"] == tree.branch


def test_the_ranking_sums_this_months_points_of_my_branch(tree):
    user = tree.member.user
    lessons = bulk_lessons(tree.branch, 14)
    now = timezone.now()
    others = [
        factories.MemberFactory(branch=tree.branch, real_name=f"队员{i:02}") for i in range(12)
    ]
    for i, other in enumerate(others):  # 队员00 has 13 points ... 队员11 has 2
        PointsEntry.objects.bulk_create(
            PointsEntry(
                user=other.user, lesson=lessons[j], reason="finished", points=1, earned_at=now
            )
            for j in range(13 - i)
        )
    # Last month's points and another branch's members do not count.
    PointsEntry.objects.create(
        user=others[11].user, lesson=lessons[0], reason="check", points=50,
        earned_at=selectors.month_start() - datetime.timedelta(seconds=1),
    )  # fmt: skip
    PointsEntry.objects.create(
        user=tree.sibling_member.user, lesson=lessons[0], reason="check", points=99, earned_at=now
    )
    PointsEntry.objects.bulk_create(
        PointsEntry(user=user, lesson=lessons[j], reason="check", points=1, earned_at=now)
        for j in range(3)
    )
    ranking = selectors.study_overview(user=fresh(user))["ranking"]
    assert [r["real_name"] for r in ranking["top"]] == [f"队员{i:02}" for i in range(10)]
    assert [r["month_points"] for r in ranking["top"]] == list(range(13, 3, -1))
    assert [r["rank"] for r in ranking["top"]] == list(range(1, 11))
    # Me: 3 points, tied with 队员10: both 11th; 15 members (me, office, secretary, 12 others).
    assert (ranking["mine"]["rank"], ranking["mine"]["month_points"]) == (11, 3)
    assert ranking["members"] == 15
    assert tree.sibling_member.real_name not in [r["real_name"] for r in ranking["top"]]


def test_no_points_no_rank_and_no_branch_no_ranking(tree):
    ranking = selectors.study_overview(user=tree.member.user)["ranking"]
    assert ranking["top"] == [] and ranking["mine"]["month_points"] == 0
    assert selectors.study_overview(user=tree.reviewer)["ranking"] is None


# --- documents and plans ------------------------------------------------------------------------


def test_document_list_scope_filters_search_and_read_state(tree):
    rules = document(tree.group, title="中国共产党章程")
    document(
        tree.branch,
        title="项目部安全文件",
        category=Document.Category.GROUP_DOCUMENTS,
        summary="党规学习材料",
    )
    document(tree.sibling, title="兄弟支部文件")
    document(tree.branch, title="未发布", published=False)
    user = tree.member.user
    DocumentRead.objects.create(user=user, document=rules, read_at=timezone.now())
    rows = {d.title: d for d in selectors.document_list_for_user(user=user)}
    assert set(rows) == {"中国共产党章程", "项目部安全文件"}
    assert rows["中国共产党章程"].is_read and not rows["项目部安全文件"].is_read
    assert titles(selectors.document_list_for_user(user=user, category="party_rules")) == [
        "中国共产党章程"
    ]
    assert titles(selectors.document_list_for_user(user=user, q="党章")) == ["中国共产党章程"]
    assert titles(selectors.document_list_for_user(user=user, q="党规")) == ["项目部安全文件"]
    assert titles(selectors.document_list_for_user(user=user, q="章程")) == ["中国共产党章程"]


def test_plan_detail_items_in_order_with_my_state(tree):
    user = tree.member.user
    done, opened, hidden = (lesson(tree.branch, title=t) for t in ("学完", "打开", "书记专用"))
    Lesson.objects.filter(pk=hidden.pk).update(committee_only=True)
    rules = document(tree.group)
    target = plan(tree.branch, [done, rules, opened, hidden])
    finish(user, done)
    StudyRecord.objects.create(user=user, lesson=opened, started_at=timezone.now())
    detail = selectors.plan_detail(plan=target, user=user)
    items = detail["items"]
    assert [str(i) for i in items] == ["学完", rules.title, "打开", "书记专用"]
    assert [i.done for i in items] == [True, False, False, False]
    assert [i.opened for i in items if i.lesson_id] == [True, True, False]
    assert [i.can_open for i in items] == [True, True, True, False]
    assert (detail["done"], detail["total"]) == (1, 4)


# --- the home card ------------------------------------------------------------------------------


def test_study_card_absent_when_there_is_nothing_to_show(tree):
    assert selectors.study_card(user=tree.member.user) is None
    finished = lesson(tree.branch)
    finish(tree.member.user, finished)
    assert selectors.study_card(user=fresh(tree.member.user)) is None  # nothing left to study


def test_study_card_plan_then_next_lesson_and_points(tree):
    user = tree.member.user
    first, second, third = (
        lesson(tree.branch, title=t, minutes_ago=m) for t, m in (("一", 30), ("二", 20), ("三", 10))
    )
    newest = lesson(tree.branch, title="最新", minutes_ago=0)
    target = plan(tree.branch, [first, second, third])
    finish(user, first)
    card = selectors.study_card(user=fresh(user))
    assert card["plan"] == target and (card["plan"].done_count, card["plan"].item_count) == (1, 3)
    assert card["lesson"] == second and card["points"] == 2
    finish(user, second)
    finish(user, third)
    card = selectors.study_card(user=fresh(user))
    assert card["lesson"] == newest and card["points"] == 6  # the plan is done: the newest next
    # No plan: the lesson I have opened comes before the newest.
    StudyPlan.objects.all().delete()
    older = lesson(tree.branch, title="看了一半", minutes_ago=99)
    StudyRecord.objects.create(user=user, lesson=older, started_at=timezone.now())
    card = selectors.study_card(user=fresh(user))
    assert card["plan"] is None and card["lesson"] == older and card["points"] == 6
