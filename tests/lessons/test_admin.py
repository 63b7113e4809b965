"""The study sync in the secretaries' admin: scoped lessons, plans and documents (changelist,
raw ids, choices, plan items, autocomplete, actions), saving through the services with their
refusals shown as form errors, the publish / schedule buttons, the remind and share actions,
the "who has studied it" block, and the read-only study records."""

import datetime

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from lessons import services
from lessons.admin import lesson_study_stats
from lessons.models import (
    Document,
    Lesson,
    LessonReminder,
    LessonShare,
    Question,
    StudyPlan,
    StudyPlanItem,
    StudyRecord,
    Topic,
)
from members.models import Member
from notifications.models import Event
from tests import factories
from tests.lessons.conftest import chinese

pytestmark = pytest.mark.django_db

LESSONS = reverse("admin:lessons_lesson_changelist")
ADD_LESSON = reverse("admin:lessons_lesson_add")
PLANS = reverse("admin:lessons_studyplan_changelist")
ADD_PLAN = reverse("admin:lessons_studyplan_add")
DOCUMENTS = reverse("admin:lessons_document_changelist")
ADD_DOCUMENT = reverse("admin:lessons_document_add")
RECORDS = reverse("admin:lessons_studyrecord_changelist")
ORGS = ["group", "company", "branch", "party_group", "sibling", "joint", "outside"]
SEES = {
    "secretary": {"branch", "party_group"},
    "secretary2": {"sibling"},
    "reviewer": {"group", "company", "branch", "party_group", "sibling", "joint"},
    "admin": set(ORGS),
}


def change_url(obj):
    return reverse(f"admin:lessons_{obj._meta.model_name}_change", args=[obj.pk])


def management(prefix, total=0):
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def lesson_data(organization, **overrides):
    data = {
        "organization": organization.pk,
        "kind": Lesson.Kind.MICRO,
        "title": "微党课：学党章",
        "summary": "",
        "body": f"<p>{chinese(400)}</p>",
        "speaker": "",
        "video_url": "",
        "video_minutes": "",
        "for_office": "on",
        "for_front_line": "on",
        "for_remote": "on",
        "for_full": "on",
        "for_probationary": "on",
        "publish_at_0": "",
        "publish_at_1": "",
        **management("questions"),
        **management("attachments"),
    }
    data.update(overrides)
    return data


def question(n=0, **overrides):
    data = {
        f"questions-{n}-order": str(n + 1),
        f"questions-{n}-text": f"第{n + 1}题：党章规定党员义务有几项？",
        f"questions-{n}-choice_a": "六项",
        f"questions-{n}-choice_b": "八项",
        f"questions-{n}-choice_c": "",
        f"questions-{n}-choice_d": "",
        f"questions-{n}-correct": "b",
        f"questions-{n}-explanation": "",
    }
    data.update({f"questions-{n}-{k}": v for k, v in overrides.items()})
    return data


def plan_data(organization, items=(), **overrides):
    today = timezone.localdate()
    data = {
        "organization": organization.pk,
        "title": "十二月学习计划",
        "description": "",
        "starts_on": today.isoformat(),
        "due_on": (today + datetime.timedelta(days=20)).isoformat(),
        "for_office": "on",
        "for_front_line": "on",
        "for_remote": "on",
        "for_full": "on",
        "for_probationary": "on",
        **management("items", len(items)),
    }
    for n, item in enumerate(items):
        key = "lesson" if isinstance(item, Lesson) else "document"
        data[f"items-{n}-order"] = str(n + 1)
        data[f"items-{n}-{key}"] = str(item.pk)
    data.update(overrides)
    return data


def messages_of(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def form_errors(response):
    return response.context["adminform"].form.errors


@pytest.fixture
def lesson_per_org(tree, make_lesson):
    return {org: make_lesson(org=getattr(tree, org), title=f"{org}的微党课") for org in ORGS}


@pytest.fixture
def english_admin(client):
    client.cookies["django_language"] = "en"
    return client


# --- scope -------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", list(SEES))
def test_lesson_changelist_and_raw_ids_are_scoped(client, tree, lesson_per_org, who):
    client.force_login(getattr(tree, who))
    response = client.get(LESSONS)
    assert response.status_code == 200
    assert {lesson.title for lesson in response.context["cl"].result_list} == {
        f"{org}的微党课" for org in SEES[who]
    }
    for org, lesson in lesson_per_org.items():
        expected = 200 if org in SEES[who] else 404
        assert client.get(change_url(lesson)).status_code == expected, (who, org)


@pytest.mark.parametrize("who", ["secretary", "reviewer"])
def test_plan_and_document_changelists_are_scoped(client, tree, make_plan, who):
    for org in ORGS:
        make_plan(org=getattr(tree, org), title=f"{org}的计划")
        services.document_save(
            document=None,
            by=tree.admin,
            fields={
                "title": f"{org}的文件",
                "category": Document.Category.STUDY_MATERIAL,
                "organization": getattr(tree, org),
                "body": "<p>学习材料</p>",
                "issued_on": timezone.localdate(),
            },
        )
    client.force_login(getattr(tree, who))
    plans = client.get(PLANS).context["cl"].result_list
    assert {p.title for p in plans} == {f"{o}的计划" for o in SEES[who]}
    documents = client.get(DOCUMENTS).context["cl"].result_list
    assert {d.title for d in documents} == {f"{o}的文件" for o in SEES[who]}
    for plan in StudyPlan.objects.all():
        expected = (
            200 if plan.organization.name in {getattr(tree, o).name for o in SEES[who]} else 404
        )
        assert client.get(change_url(plan)).status_code == expected


def test_a_post_to_another_branchs_lesson_changes_nothing(client, tree, lesson_per_org):
    sibling_lesson = lesson_per_org["sibling"]
    client.force_login(tree.secretary)
    response = client.post(
        change_url(sibling_lesson), lesson_data(tree.branch, title="改过了", _publish="1")
    )
    assert response.status_code == 404
    sibling_lesson.refresh_from_db()
    assert (sibling_lesson.title, sibling_lesson.status) == ("sibling的微党课", Lesson.Status.DRAFT)
    assert not Event.objects.exists()


def test_choosing_another_branchs_organisation_is_a_form_error(client, tree):
    client.force_login(tree.secretary)
    for org in (tree.sibling, tree.company, tree.outside):
        response = client.post(ADD_LESSON, lesson_data(org))
        assert response.status_code == 200, org
        assert "organization" in form_errors(response), org
    assert not Lesson.objects.exists()


def test_members_without_a_role_cannot_open_the_lesson_admin(client, tree, lesson_per_org):
    client.force_login(tree.member.user)
    assert client.get(LESSONS).status_code == 403
    assert client.get(change_url(lesson_per_org["branch"])).status_code == 403


# --- saving through the services ----------------------------------------------------------------


def test_add_saves_a_draft_through_the_service(client, tree):
    topic = Topic.objects.create(name="党章党规")
    client.force_login(tree.secretary)
    data = lesson_data(
        tree.branch,
        body=f"<p>{chinese(600)}</p><script>alert(1)</script>",
        topics=[topic.pk],
        for_office="",
        **{**management("questions", 1), **question(0)},
    )
    response = client.post(ADD_LESSON, data)
    assert response.status_code == 302, form_errors(response)
    lesson = Lesson.objects.get()
    assert (lesson.status, lesson.author, lesson.organization) == (
        Lesson.Status.DRAFT,
        tree.secretary,
        tree.branch,
    )
    assert lesson.reading_minutes == 2  # 600 characters at 300 a minute
    assert "<script" not in lesson.body
    assert not lesson.for_office and lesson.for_remote
    assert list(lesson.topics.all()) == [topic]
    assert Question.objects.get(lesson=lesson).correct == "b"
    assert not Event.objects.exists()


def test_a_micro_lesson_over_20_minutes_is_a_form_error_next_to_the_body(english_admin, tree):
    client = english_admin
    client.force_login(tree.secretary)
    response = client.post(ADD_LESSON, lesson_data(tree.branch, body=f"<p>{chinese(6100)}</p>"))
    assert response.status_code == 200
    errors = form_errors(response)
    assert "A micro-lesson takes 20 minutes at most" in " ".join(errors["body"])
    assert not Lesson.objects.exists()

    # The same text is fine as an online lesson.
    response = client.post(
        ADD_LESSON,
        lesson_data(tree.branch, kind=Lesson.Kind.ONLINE, body=f"<p>{chinese(6100)}</p>"),
    )
    assert response.status_code == 302
    assert Lesson.objects.get().reading_minutes == 21


def test_an_edit_that_makes_a_micro_lesson_too_long_saves_nothing(english_admin, tree, make_lesson):
    client = english_admin
    lesson = make_lesson(org=tree.branch, by=tree.secretary, title="原标题")
    client.force_login(tree.secretary)
    response = client.post(
        change_url(lesson),
        lesson_data(tree.branch, title="新标题", body=f"<p>{chinese(6100)}</p>", _publish="1"),
    )
    assert response.status_code == 200
    assert "A micro-lesson takes 20 minutes at most" in " ".join(form_errors(response)["body"])
    lesson.refresh_from_db()
    assert (lesson.title, lesson.status) == ("原标题", Lesson.Status.DRAFT)
    assert not Event.objects.exists()


def test_video_checks_are_form_errors(english_admin, tree):
    client = english_admin
    client.force_login(tree.secretary)
    response = client.post(
        ADD_LESSON,
        lesson_data(
            tree.branch,
            kind=Lesson.Kind.VIDEO,
            video_url="https://evil.example/v.mp4",
            video_minutes="10",
        ),
    )
    assert "Videos may be linked from these sites only" in " ".join(
        form_errors(response)["video_url"]
    )
    response = client.post(ADD_LESSON, lesson_data(tree.branch, kind=Lesson.Kind.VIDEO))
    assert "needs a video file or a link" in " ".join(form_errors(response)["video_file"])
    assert not Lesson.objects.exists()

    response = client.post(
        ADD_LESSON,
        lesson_data(
            tree.branch,
            kind=Lesson.Kind.VIDEO,
            video_url="https://www.12371.cn/2024/03/18/VIDE1.shtml",
            video_minutes="30",
        ),
    )
    assert response.status_code == 302
    assert Lesson.objects.get().reading_minutes == 32  # 400 characters and 30 minutes of video


def test_more_than_three_questions_are_refused(client, tree):
    client.force_login(tree.secretary)
    data = lesson_data(tree.branch, **management("questions", 4))
    for n in range(4):
        data.update(question(n))
    response = client.post(ADD_LESSON, data)
    assert response.status_code == 200
    assert not Lesson.objects.exists()


def test_a_right_answer_that_is_not_offered_is_refused(client, tree):
    client.force_login(tree.secretary)
    data = lesson_data(tree.branch, **management("questions", 1), **question(0, correct="c"))
    response = client.post(ADD_LESSON, data)
    assert response.status_code == 200
    assert not Lesson.objects.exists()


# --- publish and schedule buttons ----------------------------------------------------------------


def test_save_and_publish_notifies_once(client, tree, committed):
    client.force_login(tree.secretary)
    page = client.get(ADD_LESSON).content.decode()
    assert 'name="_publish"' in page and 'name="_schedule"' in page
    with committed():
        response = client.post(ADD_LESSON, lesson_data(tree.branch, _publish="1"))
    assert response.status_code == 302
    lesson = Lesson.objects.get()
    assert lesson.is_published and lesson.published_at
    event = Event.objects.get()
    assert (event.kind, event.target_id, event.actor) == (
        "lesson_published",
        lesson.pk,
        tree.secretary,
    )

    # Published: no buttons; a stale page pressing it again tells nobody twice.
    page = client.get(change_url(lesson)).content.decode()
    assert 'name="_publish"' not in page and 'name="_schedule"' not in page
    with committed():
        client.post(change_url(lesson), lesson_data(tree.branch, title="改个标题", _publish="1"))
    lesson.refresh_from_db()
    assert lesson.title == "改个标题"
    assert Event.objects.count() == 1


def test_a_plain_save_does_not_publish(client, tree, make_lesson):
    draft = make_lesson(org=tree.branch, by=tree.secretary)
    client.force_login(tree.secretary)
    response = client.post(change_url(draft), lesson_data(tree.branch, title="只保存"))
    assert response.status_code == 302
    draft.refresh_from_db()
    assert (draft.title, draft.status) == ("只保存", Lesson.Status.DRAFT)
    assert not Event.objects.exists()


def test_save_and_schedule(english_admin, tree, make_lesson):
    client = english_admin
    draft = make_lesson(org=tree.branch, by=tree.secretary)
    client.force_login(tree.secretary)

    response = client.post(change_url(draft), lesson_data(tree.branch, _schedule="1"))
    assert response.status_code == 200
    assert "Choose when the lesson publishes itself" in " ".join(
        form_errors(response)["publish_at"]
    )

    past = timezone.localtime() - datetime.timedelta(hours=1)
    response = client.post(
        change_url(draft),
        lesson_data(
            tree.branch,
            _schedule="1",
            publish_at_0=past.date().isoformat(),
            publish_at_1=past.strftime("%H:%M:%S"),
        ),
    )
    assert "Choose a time in the future" in " ".join(form_errors(response)["publish_at"])
    draft.refresh_from_db()
    assert draft.status == Lesson.Status.DRAFT

    tomorrow = (timezone.localtime() + datetime.timedelta(days=1)).replace(
        hour=9, minute=0, second=0, microsecond=0
    )
    response = client.post(
        change_url(draft),
        lesson_data(
            tree.branch,
            _schedule="1",
            publish_at_0=tomorrow.date().isoformat(),
            publish_at_1="09:00:00",
        ),
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert (draft.status, draft.publish_at) == (Lesson.Status.SCHEDULED, tomorrow)
    assert not Event.objects.exists()

    # Scheduled lessons still offer both buttons; moving the time with a plain save reschedules.
    page = client.get(change_url(draft)).content.decode()
    assert 'name="_publish"' in page
    later = tomorrow + datetime.timedelta(days=1)
    client.post(
        change_url(draft),
        lesson_data(tree.branch, publish_at_0=later.date().isoformat(), publish_at_1="09:00:00"),
    )
    draft.refresh_from_db()
    assert (draft.status, draft.publish_at) == (Lesson.Status.SCHEDULED, later)


# --- actions -------------------------------------------------------------------------------------


def test_publish_and_archive_actions_stay_in_scope(client, tree, lesson_per_org, committed):
    client.force_login(tree.secretary)
    own, foreign = lesson_per_org["branch"], lesson_per_org["sibling"]
    with committed():
        client.post(LESSONS, {"action": "publish", "_selected_action": [own.pk, foreign.pk]})
    assert set(Lesson.objects.filter(status=Lesson.Status.PUBLISHED)) == {own}
    assert Event.objects.get().target_id == own.pk

    client.post(LESSONS, {"action": "archive", "_selected_action": [own.pk, foreign.pk]})
    own.refresh_from_db()
    foreign.refresh_from_db()
    assert (own.status, foreign.status) == (Lesson.Status.ARCHIVED, Lesson.Status.DRAFT)


def test_remind_action_once_a_day(english_admin, tree, make_lesson, committed):
    client = english_admin
    lesson = make_lesson(org=tree.branch, by=tree.secretary, publish=True)
    draft = make_lesson(org=tree.branch, by=tree.secretary, title="草稿")
    services.study_mark(lesson=lesson, user=tree.member.user)
    client.force_login(tree.secretary)
    with committed():
        response = client.post(
            LESSONS, {"action": "remind_unfinished", "_selected_action": [lesson.pk]}
        )
    assert response.status_code == 302
    assert any("2 members reminded" in m for m in messages_of(response))
    assert Event.objects.filter(kind="lesson_reminder").count() == 1

    with committed():
        response = client.post(
            LESSONS, {"action": "remind_unfinished", "_selected_action": [lesson.pk, draft.pk]}
        )
    assert Event.objects.filter(kind="lesson_reminder").count() == 1
    assert LessonReminder.objects.count() == 1
    text = " ".join(messages_of(response))
    assert "today's reminder has already gone out" in text
    assert "Publish the lesson before reminding anyone" in text


def test_the_share_action_is_for_reviewers_only(client, tree, make_lesson, committed):
    lesson = make_lesson(org=tree.branch, by=tree.secretary, publish=True)
    client.force_login(tree.secretary)
    choices = dict(client.get(LESSONS).context["action_form"].fields["action"].choices)
    assert "share" not in choices and "remind_unfinished" in choices
    client.post(
        LESSONS,
        {
            "action": "share",
            "_selected_action": [lesson.pk],
            "organization": tree.group.pk,
            "apply": "1",
        },
    )
    assert not LessonShare.objects.exists()

    client.force_login(tree.reviewer)
    choices = dict(client.get(LESSONS).context["action_form"].fields["action"].choices)
    assert "share" in choices
    # The intermediate page: organisations of the reviewer's subtree to choose from.
    page = client.post(LESSONS, {"action": "share", "_selected_action": [lesson.pk]})
    assert page.status_code == 200
    offered = set(page.context["form"].fields["organization"].queryset)
    assert {tree.group, tree.company} <= offered
    assert tree.other_group not in offered
    # Choosing outside the subtree is refused by the form.
    refused = client.post(
        LESSONS,
        {"action": "share", "_selected_action": [lesson.pk], "organization": tree.other_group.pk,
         "apply": "1"},
    )  # fmt: skip
    assert refused.status_code == 200 and refused.context["form"].errors
    with committed():
        response = client.post(
            LESSONS,
            {"action": "share", "_selected_action": [lesson.pk], "organization": tree.group.pk,
             "apply": "1"},
        )  # fmt: skip
    assert response.status_code == 302
    share = LessonShare.objects.get()
    assert (share.lesson, share.organization, share.shared_by) == (
        lesson,
        tree.group,
        tree.reviewer,
    )
    assert Event.objects.filter(kind="lesson_shared").count() == 1
    lesson.refresh_from_db()
    assert (lesson.organization, lesson.author) == (tree.branch, tree.secretary)


# --- who has studied it -------------------------------------------------------------------------


def test_published_change_page_shows_who_has_studied_it(english_admin, tree, make_lesson):
    client = english_admin
    lesson = make_lesson(org=tree.branch, by=tree.secretary, publish=True)
    services.study_mark(lesson=lesson, user=tree.member.user)
    services.study_open(lesson=lesson, user=tree.office.user)
    client.force_login(tree.secretary)
    page = client.get(change_url(lesson)).content.decode()
    assert (
        "Of 3 members it is meant for: 1 finished, 1 opened but not finished, 1 not opened yet."
        in page
    )
    unfinished = page.split("<strong>Not finished yet:</strong>", 1)[1].split("</p>", 1)[0]
    assert tree.office.real_name in unfinished
    assert tree.secretary.member.real_name in unfinished
    assert tree.member.real_name not in unfinished

    draft = make_lesson(org=tree.branch, by=tree.secretary)
    assert "members it is meant for" not in client.get(change_url(draft)).content.decode()


def test_the_study_block_costs_the_same_for_a_bigger_audience(tree, make_lesson):
    lesson = make_lesson(org=tree.branch, by=tree.secretary, publish=True)
    with CaptureQueriesContext(connection) as small:
        stats = lesson_study_stats(lesson.pk)
    assert stats["total"] == 3
    for n in range(30):
        member = factories.MemberFactory(branch=tree.branch, category=Member.Category.REMOTE)
        if n % 3 == 0:
            services.study_mark(lesson=lesson, user=member.user)
        elif n % 3 == 1:
            services.study_open(lesson=lesson, user=member.user)
    with CaptureQueriesContext(connection) as big:
        stats = lesson_study_stats(lesson.pk)
    assert (stats["total"], stats["finished"], stats["opened"], stats["not_yet"]) == (
        33,
        10,
        10,
        13,
    )
    assert len(stats["unfinished"]) == 23
    assert len(big.captured_queries) == len(small.captured_queries) <= 5


# --- study plans --------------------------------------------------------------------------------


def test_plan_items_cannot_point_outside_what_the_user_manages_or_may_study(
    client, tree, make_lesson
):
    own = make_lesson(org=tree.branch, by=tree.secretary, publish=True, title="本支部的课")
    group_lesson = make_lesson(org=tree.group, publish=True, title="集团的课")
    sibling_lesson = make_lesson(org=tree.sibling, publish=True, title="兄弟支部的课")
    outside_lesson = make_lesson(org=tree.outside, publish=True, title="外部的课")
    client.force_login(tree.secretary)
    for foreign in (sibling_lesson, outside_lesson):
        response = client.post(ADD_PLAN, plan_data(tree.branch, items=[own, foreign]))
        assert response.status_code == 200, foreign
        formset = response.context["inline_admin_formsets"][0].formset
        assert formset.errors[1].get("lesson"), foreign
    assert not StudyPlan.objects.exists()

    response = client.post(ADD_PLAN, plan_data(tree.branch, items=[own, group_lesson]))
    assert response.status_code == 302
    plan = StudyPlan.objects.get()
    assert (plan.organization, plan.author, plan.status) == (
        tree.branch,
        tree.secretary,
        StudyPlan.Status.DRAFT,
    )
    assert [i.lesson for i in plan.items.order_by("order")] == [own, group_lesson]


def test_plan_item_autocomplete_offers_what_the_user_may_use(client, tree, make_lesson):
    make_lesson(org=tree.branch, by=tree.secretary, title="本支部的草稿")
    make_lesson(org=tree.group, publish=True, title="集团的课")
    make_lesson(org=tree.group, title="集团的草稿")
    make_lesson(org=tree.sibling, publish=True, title="兄弟支部的课")
    client.force_login(tree.secretary)
    response = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "lessons", "model_name": "studyplanitem", "field_name": "lesson"},
    )
    assert response.status_code == 200
    assert {r["text"] for r in response.json()["results"]} == {"本支部的草稿", "集团的课"}


def test_save_and_publish_a_plan(english_admin, tree, make_lesson, committed):
    client = english_admin
    draft_lesson = make_lesson(org=tree.branch, by=tree.secretary, title="还没发布的课")
    published = make_lesson(org=tree.branch, by=tree.secretary, publish=True, title="已发布的课")
    client.force_login(tree.secretary)
    assert 'name="_publish"' in client.get(ADD_PLAN).content.decode()

    response = client.post(ADD_PLAN, plan_data(tree.branch, _publish="1"))
    assert response.status_code == 200
    assert "Add at least one lesson or document" in " ".join(
        response.context["inline_admin_formsets"][0].formset.non_form_errors()
    )
    response = client.post(ADD_PLAN, plan_data(tree.branch, items=[draft_lesson], _publish="1"))
    assert "Publish the plan's lessons first: 还没发布的课." in " ".join(
        response.context["inline_admin_formsets"][0].formset.non_form_errors()
    )
    assert not StudyPlan.objects.exists()

    with committed():
        response = client.post(ADD_PLAN, plan_data(tree.branch, items=[published], _publish="1"))
    assert response.status_code == 302
    plan = StudyPlan.objects.get()
    assert plan.status == StudyPlan.Status.PUBLISHED
    assert Event.objects.filter(kind="plan_published").count() == 1

    services.study_mark(lesson=published, user=tree.member.user)
    page = client.get(change_url(plan)).content.decode()
    assert "Of 3 members it is meant for, 1 have finished every lesson of the plan." in page
    assert 'name="_publish"' not in page


# --- documents ----------------------------------------------------------------------------------


def test_documents_save_through_the_service(client, tree):
    client.force_login(tree.secretary)
    data = {
        "organization": tree.branch.pk,
        "category": Document.Category.PARTY_RULES,
        "title": "党章（节选）",
        "summary": "",
        "issued_on": timezone.localdate().isoformat(),
        "issuer": "",
        "body": "",
        "for_office": "on",
        "for_front_line": "on",
        "for_remote": "on",
        "for_full": "on",
        "for_probationary": "on",
        "published": "on",
    }
    response = client.post(ADD_DOCUMENT, data)
    assert response.status_code == 200  # neither a text nor a file
    assert not Document.objects.exists()
    response = client.post(
        ADD_DOCUMENT, {**data, "organization": tree.sibling.pk, "body": "<p>第一条</p>"}
    )
    assert "organization" in form_errors(response)
    response = client.post(ADD_DOCUMENT, {**data, "body": "<p>第一条</p><script>x()</script>"})
    assert response.status_code == 302
    document = Document.objects.get()
    assert (document.organization, document.published) == (tree.branch, True)
    assert "<script" not in document.body


# --- topics and study records -------------------------------------------------------------------


def test_a_secretary_may_add_a_topic(client, tree):
    client.force_login(tree.secretary)
    response = client.post(reverse("admin:lessons_topic_add"), {"name": "安全生产"})
    assert response.status_code == 302
    assert Topic.objects.filter(name="安全生产").exists()


def test_study_records_are_read_only_and_scoped(client, tree, make_lesson):
    own = make_lesson(org=tree.branch, by=tree.secretary, publish=True, title="本支部的课")
    sibling = make_lesson(org=tree.sibling, publish=True, title="兄弟支部的课")
    mine = services.study_mark(lesson=own, user=tree.member.user)
    theirs = services.study_mark(lesson=sibling, user=tree.sibling_member.user)
    client.force_login(tree.secretary)
    response = client.get(RECORDS)
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [mine]
    assert client.get(change_url(mine)).status_code == 200
    assert client.get(change_url(theirs)).status_code == 404
    assert client.get(reverse("admin:lessons_studyrecord_add")).status_code == 403
    response = client.post(change_url(mine), {"points": "99"})
    assert response.status_code == 403
    delete = reverse("admin:lessons_studyrecord_delete", args=[mine.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    mine.refresh_from_db()
    assert mine.points != 99 and StudyRecord.objects.count() == 2
    assert StudyPlanItem.objects.count() == 0
