"""The study pages: access and scope, the check that keeps its answers until the member has
answered, marking and checking with and without htmx, points that never double, Chinese
search, the home card, both languages, and query counts that do not grow with the data."""

import datetime
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from lessons import selectors
from lessons.models import (
    CheckAttempt,
    Document,
    DocumentRead,
    Lesson,
    LessonAttachment,
    PointsEntry,
    StudyPlan,
    StudyPlanItem,
    StudyRecord,
    Topic,
)
from tests import factories
from tests.bench.page_weight import BUDGET_BYTES, measure
from tests.lessons.conftest import chinese
from tests.lessons.test_selectors import (
    REMOTE,
    bulk_lessons,
    comment,
    document,
    finish,
    lesson,
    like,
    plan,
    question,
)

pytestmark = pytest.mark.django_db

LIST = reverse("lessons:list")
STUDY = reverse("lessons:study")
DOCUMENTS = reverse("lessons:documents")
HX = {"HTTP_HX_REQUEST": "true"}


def detail_url(target) -> str:
    return reverse("lessons:detail", args=[target.pk])


def mark_url(target) -> str:
    return reverse("lessons:mark", args=[target.pk])


def check_url(target) -> str:
    return reverse("lessons:check", args=[target.pk])


def html(response) -> str:
    return response.content.decode()


def sql_of(queries) -> str:
    return "\n".join(q["sql"] for q in queries)


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


@pytest.fixture
def en(client):
    client.cookies["django_language"] = "en"
    return client


@pytest.fixture
def member(client, tree):
    client.force_login(tree.member.user)
    return tree.member.user


@pytest.fixture
def checked(tree):
    """A published micro-lesson of the member's branch with a two-question check."""
    target = lesson(tree.branch, title="学习党章党规", summary="党章第一章")
    q1 = question(target, order=1, correct="b", explanation="党员必须履行八项义务。")
    q2 = question(target, order=2, correct="c", explanation="预备期为一年。")
    return target, q1, q2


def right_answers(q1, q2, client_id=None) -> dict:
    return {f"q{q1.pk}": "b", f"q{q2.pk}": "c", "client_id": str(client_id or uuid.uuid4())}


# --- access -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name,args",
    [
        ("list", []),
        ("detail", [1]),
        ("study", []),
        ("plan", [1]),
        ("documents", []),
        ("document", [1]),
    ],
)
def test_login_required(client, db, name, args):
    response = client.get(reverse(f"lessons:{name}", args=args))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_actions_are_posts_only(client, member, checked):
    target, _q1, _q2 = checked
    assert client.get(mark_url(target)).status_code == 405
    assert client.get(check_url(target)).status_code == 405
    assert client.post(LIST).status_code == 405


@pytest.mark.parametrize(
    "org,flags,member_sees",
    [
        ("branch", REMOTE, True),
        ("company", REMOTE, True),
        ("group", {}, True),
        ("sibling", REMOTE, False),
        ("sibling", {}, False),
        ("outside", {}, False),
        ("branch", {"for_remote": False}, False),
        ("branch", {"committee_only": True}, False),
    ],
)
def test_a_remote_site_member_opens_what_is_meant_for_them(
    client, tree, member, org, flags, member_sees
):
    target = lesson(getattr(tree, org), title="测试可见性的党课", **flags)
    response = client.get(detail_url(target))
    assert response.status_code == (200 if member_sees else 404)
    assert StudyRecord.objects.filter(user=member, lesson=target).exists() == member_sees
    assert (target.title in html(client.get(LIST))) == member_sees


def test_committee_only_lessons_open_for_secretaries(client, tree):
    training = lesson(tree.company, title="支部书记培训", committee_only=True)
    for user, expected in ((tree.secretary, 200), (tree.secretary2, 200), (tree.office.user, 404)):
        client.force_login(user)
        assert client.get(detail_url(training)).status_code == expected, user


def test_a_draft_opens_only_for_its_managers_and_starts_no_record(client, tree, en):
    draft = lesson(tree.branch, title="草稿党课", status=Lesson.Status.DRAFT)
    question(draft)
    for user in (tree.member.user, tree.secretary2):
        client.force_login(user)
        assert client.get(detail_url(draft)).status_code == 404
        assert client.post(mark_url(draft)).status_code == 404
    client.force_login(tree.secretary)
    page = html(client.get(detail_url(draft)))
    assert "Not published: members cannot see it yet." in page
    assert 'id="study"' not in page and "Post the comment" not in page
    assert not StudyRecord.objects.exists()
    # Marking a draft is refused with a clear message, with and without htmx.
    response = client.post(mark_url(draft), follow=True)
    assert "This lesson is not open to you." in html(response)
    fragment = html(client.post(mark_url(draft), **HX))
    assert "This lesson is not open to you." in fragment and "<html" not in fragment
    assert not StudyRecord.objects.exists()


def test_an_unknown_lesson_is_404(client, member):
    assert client.get(reverse("lessons:detail", args=[10**8])).status_code == 404
    assert client.post(reverse("lessons:check", args=[10**8])).status_code == 404


# --- the lesson page --------------------------------------------------------------------------


def test_lesson_page_shows_reading_time_organisation_author_body_and_discussion(
    client, tree, member, en
):
    target = lesson(
        tree.branch, title="红色家书", summary="读一封家书", body="<p>见字如面。<script>alert(1)</script></p>",
        speaker="王书记", reading_minutes=7,
    )  # fmt: skip
    target.topics.set([Topic.objects.create(name="党史")])
    comment(target, tree.office.user, "写得真好")
    like(target, tree.office.user)
    page = html(client.get(detail_url(target)))
    for text in (
        "红色家书",
        "读一封家书",
        "见字如面。",
        "7 minutes",
        "Speaker: 王书记",
        tree.branch.display_name,
        "党史",
        "写得真好",
        "Mark as studied",
    ):
        assert text in page, text
    assert "<script>alert" not in page
    assert 'class="like-count">1<' in page


def test_a_video_lesson_plays_its_file_without_preloading_or_links_to_the_site(
    client, tree, member
):
    linked = lesson(
        tree.branch,
        kind=Lesson.Kind.VIDEO,
        video_url="https://v.qq.com/x/page/abc.html",
        video_minutes=12,
    )
    page = html(client.get(detail_url(linked)))
    assert 'href="https://v.qq.com/x/page/abc.html"' in page and 'rel="noopener noreferrer"' in page
    filed = lesson(
        tree.branch, kind=Lesson.Kind.VIDEO, video_file="lessons/videos/2025/01/talk.mp4"
    )
    page = html(client.get(detail_url(filed)))
    assert (
        '<video class="video" controls preload="none" src="/media/lessons/videos/2025/01/talk.mp4">'
        in page
    )


def test_attachments_are_listed(client, tree, member):
    target = lesson(tree.branch)
    LessonAttachment.objects.create(
        lesson=target, title="学习提纲", file="lessons/files/2025/01/outline.pdf"
    )
    page = html(client.get(detail_url(target)))
    assert 'href="/media/lessons/files/2025/01/outline.pdf" download>学习提纲<' in page


def test_right_answers_are_not_in_the_page_before_answering(client, member, checked, en):
    target, q1, q2 = checked
    page = html(client.get(detail_url(target)))
    assert q1.text in page and "选项乙" in page and 'name="client_id"' in page
    for hidden in (q1.explanation, q2.explanation, "answer-key", "Right answer", "correct"):
        assert hidden not in page, hidden
    # A wrong answer reveals the right ones, with the explanations, per question.
    response = client.post(
        check_url(target),
        {f"q{q1.pk}": "b", f"q{q2.pk}": "a", "client_id": str(uuid.uuid4())},
        follow=True,
    )
    page = html(response)
    assert "Not all answers are right." in page
    assert q1.explanation in page and q2.explanation in page
    assert (
        page.count('class="answer-feedback right"') == 1
        and page.count('class="answer-feedback wrong"') == 1
    )
    assert "Right answer: C. 选项丙" in page
    assert "Answer again" in page  # the form stays until the check is passed


def test_check_and_mark_without_javascript_redirect_back_with_a_message(
    client, member, checked, en
):
    target, q1, q2 = checked
    client.get(detail_url(target))
    response = client.post(check_url(target), right_answers(q1, q2))
    assert response.status_code == 302
    assert response["Location"] == detail_url(target) + "#study"
    page = client.get(response["Location"])
    assert "All answers are right. You earned 3 points." in messages_of(page)
    assert "You passed the check." in html(page) and q2.explanation in html(page)
    assert 'name="client_id"' not in html(page)  # no form once passed
    response = client.post(mark_url(target))
    assert response.status_code == 302 and response["Location"] == detail_url(target) + "#study"
    page = client.get(response["Location"])
    assert "Lesson finished. You earned 2 points." in messages_of(page)
    assert "Finished on" in html(page) and "5 points." in html(page)
    assert "Mark as studied</button>" not in html(page)
    record = StudyRecord.objects.get(user=member, lesson=target)
    assert record.finished_at and record.points == 5


def test_check_and_mark_with_htmx_answer_the_study_panel(client, member, checked, en):
    target, q1, q2 = checked
    client.get(detail_url(target))
    response = client.post(mark_url(target), **HX)
    fragment = html(response)
    assert response.status_code == 200 and "<html" not in fragment
    assert fragment.lstrip().startswith('<section id="study"')
    assert "Marked as studied. Pass the check to finish the lesson." in fragment
    assert "answer-key" not in fragment and q1.explanation not in fragment
    response = client.post(check_url(target), right_answers(q1, q2), **HX)
    fragment = html(response)
    assert "<html" not in fragment and fragment.lstrip().startswith('<section id="study"')
    assert "All answers are right. You earned 5 points." in fragment  # check 3 + finished 2
    assert q1.explanation in fragment and "Finished on" in fragment


def test_unanswered_questions_are_refused_and_record_nothing(client, member, checked, en):
    target, q1, _q2 = checked
    response = client.post(
        check_url(target), {f"q{q1.pk}": "b", "client_id": str(uuid.uuid4())}, **HX
    )
    assert "Answer every question, please." in html(response)
    assert not CheckAttempt.objects.exists()


def test_a_lesson_without_check_finishes_on_marking(client, tree, member, en):
    target = lesson(tree.branch)
    page = html(client.get(detail_url(target)))
    assert 'class="check"' not in page
    fragment = html(client.post(check_url(target), {"client_id": str(uuid.uuid4())}, **HX))
    assert "This lesson has no check." in fragment
    fragment = html(client.post(mark_url(target), **HX))
    assert "Lesson finished. You earned 2 points." in fragment


def test_points_never_double_on_double_submits_replays_or_rereading(client, member, checked, en):
    target, q1, q2 = checked
    client.get(detail_url(target))
    client_id = uuid.uuid4()
    first = client.post(check_url(target), right_answers(q1, q2, client_id), **HX)
    assert "You earned 3 points." in html(first)
    replay = client.post(
        check_url(target), right_answers(q1, q2, client_id), **HX
    )  # a double submit
    again = client.post(
        check_url(target), right_answers(q1, q2), follow=True
    )  # a new form, passed already
    assert "You have already passed this check: points count once." in html(replay)
    assert "You have already passed this check: points count once." in html(again)
    for _ in range(3):
        client.post(mark_url(target), **HX)
        client.post(mark_url(target))
        client.get(detail_url(target))  # re-reading
    assert PointsEntry.objects.filter(user=member).count() == 2
    assert selectors.points_for_user(user=member)["total"] == 5
    assert StudyRecord.objects.get(user=member, lesson=target).points == 5
    assert CheckAttempt.objects.filter(user=member).count() == 1


def test_a_replayed_wrong_answer_counts_once(client, member, checked):
    target, q1, q2 = checked
    wrong = {f"q{q1.pk}": "a", f"q{q2.pk}": "a", "client_id": str(uuid.uuid4())}
    client.post(check_url(target), wrong, **HX)
    client.post(check_url(target), wrong, **HX)
    assert CheckAttempt.objects.filter(user=member).count() == 1
    assert not PointsEntry.objects.exists()


# --- lists and search ---------------------------------------------------------------------------


@pytest.mark.parametrize("q", ["党章", "党规"])
def test_chinese_substring_search(client, tree, member, q):
    lesson(tree.branch, title="学习党章党规")
    lesson(tree.branch, title="红色家书")
    page = html(client.get(LIST, {"q": q}))
    assert "学习党章党规" in page and "红色家书" not in page
    assert f'value="{q}"' in page  # the box keeps the words


def test_list_filters_keep_each_other_and_paginate(client, tree, member, settings, en):
    settings.NETBRANCH_PAGE_SIZE = 5
    bulk_lessons(
        tree.branch, 7, prefix="视频课", kind=Lesson.Kind.VIDEO, video_url="https://v.qq.com/x"
    )
    bulk_lessons(tree.branch, 3, prefix="微课", kind=Lesson.Kind.MICRO)
    page = html(client.get(LIST, {"kind": "video", "q": "视频"}))
    assert page.count('class="lesson-row') == 5 and "微课" not in page
    assert "?kind=video&amp;q=%E8%A7%86%E9%A2%91&amp;page=2" in page  # the pager keeps the filters
    assert 'href="?q=%E8%A7%86%E9%A2%91"' in page  # "All" drops the kind, keeps the words
    second = html(client.get(LIST, {"kind": "video", "q": "视频", "page": 2}))
    assert second.count('class="lesson-row') == 2
    empty = html(client.get(LIST, {"q": "没有"}))
    assert "No lesson matches." in empty
    assert client.get(LIST, {"topic": "x", "kind": "<b>", "page": "z"}).status_code == 200


def test_documents_list_detail_and_read(client, tree, member, en):
    rules = document(tree.group, title="中国共产党章程", body="<p>第一章 党员</p>")
    filed = document(
        tree.branch,
        title="集团文件",
        category=Document.Category.GROUP_DOCUMENTS,
        body="",
        file="documents/2025/01/rules.pdf",
    )
    document(tree.sibling, title="兄弟支部文件")
    page = html(client.get(DOCUMENTS))
    assert "中国共产党章程" in page and "集团文件" in page and "兄弟支部文件" not in page
    page = html(client.get(DOCUMENTS, {"category": "group_documents"}))
    assert "集团文件" in page and "中国共产党章程" not in page
    page = html(client.get(DOCUMENTS, {"q": "章程"}))
    assert "中国共产党章程" in page and "集团文件" not in page
    assert "第一章 党员" in html(client.get(rules.get_absolute_url()))
    assert 'href="/media/documents/2025/01/rules.pdf" download' in html(
        client.get(filed.get_absolute_url())
    )
    assert DocumentRead.objects.filter(user=member).count() == 2
    assert (
        client.get(
            reverse("lessons:document", args=[Document.objects.get(title="兄弟支部文件").pk])
        ).status_code
        == 404
    )


def test_plan_page_and_scope(client, tree, member, en):
    done, todo = lesson(tree.branch, title="已学"), lesson(tree.branch, title="待学")
    target = plan(tree.branch, [done, todo, document(tree.group)])
    draft = plan(tree.branch, [todo], status=StudyPlan.Status.DRAFT)
    finish(member, done)
    page = html(client.get(target.get_absolute_url()))
    assert "1 of 3 done" in page and '<progress max="3" value="1"' in page
    assert page.index("已学") < page.index("待学")
    assert client.get(draft.get_absolute_url()).status_code == 404
    client.force_login(tree.sibling_member.user)
    assert client.get(target.get_absolute_url()).status_code == 404
    client.force_login(tree.secretary)
    assert client.get(draft.get_absolute_url()).status_code == 200


def test_study_page_shows_plans_points_history_and_ranking(client, tree, member, en):
    a, b = lesson(tree.branch, title="甲课"), lesson(tree.branch, title="乙课")
    plan(tree.branch, [a, b], title="十一月学习计划")
    finish(member, a)
    finish(tree.office.user, a)
    finish(tree.office.user, b)
    page = html(client.get(STUDY))
    for text in (
        "十一月学习计划",
        "1 of 2 done",
        "2 points",
        "this month: 2",
        "甲课",
        "My rank: 2 of 3.",
    ):
        assert text in page, text
    assert page.index(tree.office.real_name) < page.index(tree.member.real_name)


# --- the home card ------------------------------------------------------------------------------


def test_home_study_card_present_with_a_plan_or_a_lesson_absent_without(client, tree, member, en):
    assert 'class="card study-card"' not in html(client.get("/"))
    first, second = (
        lesson(tree.branch, title="第一课", minutes_ago=5),
        lesson(tree.branch, title="第二课"),
    )
    page = html(client.get("/"))
    assert 'class="card study-card"' in page and "Next lesson" in page
    plan(tree.branch, [first, second], title="十二月计划")
    finish(member, first)
    page = html(client.get("/"))
    card = page[page.index('class="card study-card"') :]
    assert "十二月计划" in card and '<progress max="2" value="1"' in card
    assert "第二课" in card and "My points: 2" in card
    assert page.index("study-card") < page.index('id="me-h"')  # first among the member cards


def test_home_has_no_study_card_for_staff_without_a_member_record(client, tree, en):
    lesson(tree.group)
    client.force_login(tree.reviewer)
    assert "study-card" not in html(client.get("/"))


def test_header_links_to_study_and_lessons(client, member, en):
    page = html(client.get("/"))
    assert f'href="{STUDY}"' in page and f'href="{LIST}"' in page


# --- both languages, every page -----------------------------------------------------------------


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_every_study_page_renders_in_both_languages(client, tree, language, checked):
    client.cookies["django_language"] = language
    target, q1, q2 = checked
    rules = document(tree.group)
    target_plan = plan(tree.branch, [target, rules])
    for user in (tree.member.user, tree.secretary, tree.reviewer, tree.admin):
        client.force_login(user)
        for url in (
            LIST,
            detail_url(target),
            STUDY,
            target_plan.get_absolute_url(),
            DOCUMENTS,
            rules.get_absolute_url(),
            "/",
        ):
            response = client.get(url)
            assert response.status_code == 200, (user, url)
            assert f'lang="{language}"' in html(response)
    client.force_login(tree.member.user)
    client.post(check_url(target), right_answers(q1, q2))
    assert client.get(detail_url(target)).status_code == 200


# --- budgets ------------------------------------------------------------------------------------


def grow(tree, target, n):
    """n× the data around the member: lessons (with topics, comments, likes, records and plan
    items), comments on `target`, finished lessons, plans and branch members with points."""
    topic = Topic.objects.get_or_create(name="党史")[0]
    more = bulk_lessons(tree.branch, 9 * n, prefix=f"增长{n}课")
    for i, extra in enumerate(more):
        extra.topics.add(topic)
        comment(extra, tree.office.user)
        like(extra, tree.office.user)
        if i % 2:
            finish(tree.member.user, extra)
        else:
            StudyRecord.objects.create(
                user=tree.member.user, lesson=extra, started_at=timezone.now()
            )
    for i in range(10 * n):
        comment(target, tree.office.user, f"第{i}条评论")
        like(target, factories.UserFactory())
    for _ in range(3):
        plan(tree.branch, more[: 5 * n], title="增长计划")
    for i in range(5 * n):
        other = factories.MemberFactory(branch=tree.branch)
        finish(other.user, more[i])


def seed_small(tree, member):
    """The small case has one of everything the pages show."""
    target = lesson(tree.branch, title="学习党章党规")
    question(target)
    other = lesson(tree.branch, title="红色家书")
    other.topics.add(Topic.objects.create(name="党章"))
    comment(target, tree.office.user)
    like(target, tree.office.user)
    finish(member, other)
    finish(tree.office.user, other)
    plan(tree.branch, [target, other, document(tree.group)])
    return target


@pytest.mark.parametrize("page", ["list", "detail", "study", "home"])
def test_query_count_does_not_grow_with_the_data(
    client, tree, member, page, django_assert_max_num_queries
):
    target = seed_small(tree, member)
    url = {"list": LIST, "detail": detail_url(target), "study": STUDY, "home": "/"}[page]
    client.get(url)  # warm up: session, content types, the record
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    few = list(small.captured_queries)
    print(f"{page}: {len(few)} queries")
    # home: the study card plus the meeting, vote and service cards and a request in progress
    budget = {"list": 12, "detail": 20, "study": 14, "home": 21}[page]
    assert len(few) <= budget, sql_of(few)
    grow(tree, target, 10)
    with django_assert_max_num_queries(len(few)) as large:
        response = client.get(url)
    assert response.status_code == 200
    assert len(large.captured_queries) == len(few), sql_of(large.captured_queries)


def test_a_micro_lesson_page_is_within_the_phone_budget(client, tree, member, checked):
    target, _q1, _q2 = checked
    Lesson.objects.filter(pk=target.pk).update(
        body="".join(f"<p>{chinese(180)}</p>" for _ in range(30))
    )
    for i in range(30):
        comment(target, tree.office.user, f"认真学习，第{i}条心得。" * 3)
    result = measure(client, detail_url(target))
    print(f"lesson detail: {result}")
    assert result["css"] > 0 and result["js"] > 0, result["assets"]
    assert result["total"] <= BUDGET_BYTES, result


def test_study_page_paginates_the_history(client, tree, member, settings, en):
    settings.NETBRANCH_PAGE_SIZE = 5
    for i, done in enumerate(bulk_lessons(tree.branch, 7)):
        finish(member, done, at=timezone.now() - datetime.timedelta(hours=i))
    page = html(client.get(STUDY))
    assert page.count("批量党课") == 5 and 'rel="next"' in page
    assert html(client.get(STUDY, {"page": 2})).count("批量党课") == 2


def test_plan_items_of_many_plans_count_once_in_the_list(client, tree, member):
    target = lesson(tree.branch, title="计划课", minutes_ago=999)
    for _ in range(3):
        plan(tree.branch, [target])
    page = html(client.get(LIST))
    assert page.count("计划课") == 1
    assert StudyPlanItem.objects.filter(lesson=target).count() == 3
