"""Actions done offline and sent later (portal.offline): each is taken once (a replay gets the
stored outcome), late or impossible ones are refused with a message, another member's or an
invisible lesson is a 404-like refusal, malformed requests are 400, CSRF and login apply; the
manifest, the service worker and the offline page are served with the right headers."""

import json
import uuid
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from core.models import ClientAction
from lessons import services as lesson_services
from lessons.models import CheckAttempt, Lesson, PointsEntry, Question, StudyRecord
from meetings.models import Meeting, Reflection
from meetings.services import reflections as reflection_services
from portal import offline
from tests.lessons.conftest import make_lesson  # noqa: F401 - the fixture, reused here
from tests.meetings.conftest import make_meeting  # noqa: F401 - the fixture, reused here

pytestmark = pytest.mark.django_db
URL = "/offline/actions/"


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    def run():
        return django_capture_on_commit_callbacks(execute=True)

    return run


@pytest.fixture
def member_client(client, tree):
    client.force_login(tree.member.user)
    client.cookies["django_language"] = "en"
    return client


def published_days_ago(lesson, days=2):
    Lesson.objects.filter(pk=lesson.pk).update(published_at=timezone.now() - timedelta(days=days))
    lesson.refresh_from_db()
    return lesson


@pytest.fixture
def lesson(make_lesson):  # noqa: F811
    return published_days_ago(make_lesson(publish=True, title="党章学习"))


@pytest.fixture
def checked_lesson(make_lesson):  # noqa: F811
    lesson = published_days_ago(make_lesson(publish=True, title="党费交纳"))
    Question.objects.create(
        lesson=lesson, order=1, text="党员应当如何交纳党费？", choice_a="想交就交",
        choice_b="按期足额交纳", choice_c="由支部代交", correct="b",
    )  # fmt: skip
    return lesson


@pytest.fixture
def themed_day(make_meeting):  # noqa: F811
    start = timezone.now() - timedelta(hours=1)
    return make_meeting(
        kind=Meeting.Kind.THEMED_DAY, starts_at=start, ends_at=start + timedelta(hours=2),
        publish=True,
    )  # fmt: skip


def action(kind, payload, *, client_id=None, happened_at=None):
    return {
        "client_id": str(client_id or uuid.uuid4()),
        "kind": kind,
        "happened_at": (happened_at or timezone.now() - timedelta(minutes=5)).isoformat(),
        "payload": payload,
    }


def send(client, body, **extra):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(URL, data=data, content_type="application/json", **extra)


# --- taken once --------------------------------------------------------------------------------


def test_finishing_a_lesson_offline_counts_once_and_a_replay_gets_the_same_answer(
    member_client, tree, lesson
):
    happened = timezone.now() - timedelta(minutes=30)
    # Opened online (the page records it), then finished offline half an hour ago.
    lesson_services.study_open(
        lesson=lesson, user=tree.member.user, at=happened - timedelta(minutes=10)
    )
    body = action("study_mark", {"lesson": lesson.pk}, happened_at=happened)
    first = send(member_client, body)
    assert first.status_code == 200, first.content
    data = first.json()
    assert data["status"] == "done" and data["replayed"] is False
    assert data["message"] == "Lesson finished. You earned 2 points."
    assert data["url"] == lesson.get_absolute_url() and data["title"] == "党章学习"

    again = send(member_client, body)
    assert again.status_code == 200
    assert again.json() == data | {"replayed": True}

    record = StudyRecord.objects.get(user=tree.member.user, lesson=lesson)
    assert record.finished_at == happened  # when it happened, not when it arrived
    assert record.points == 2
    assert PointsEntry.objects.filter(user=tree.member.user, lesson=lesson).count() == 1
    stored = ClientAction.objects.get(user=tree.member.user)
    assert str(stored.client_id) == body["client_id"] and stored.kind == "study_mark"
    assert stored.outcome["status"] == "done"


def test_happened_at_is_clamped_to_now_and_to_the_publication(member_client, tree, lesson):
    future = timezone.now() + timedelta(days=3)
    send(member_client, action("study_mark", {"lesson": lesson.pk}, happened_at=future))
    record = StudyRecord.objects.get(user=tree.member.user, lesson=lesson)
    assert record.marked_at <= timezone.now()

    other = offline._clamp(lesson.published_at - timedelta(days=9), not_before=lesson.published_at)
    assert other == lesson.published_at
    StudyRecord.objects.all().delete()
    PointsEntry.objects.all().delete()
    ancient = lesson.published_at - timedelta(days=400)
    before = timezone.now()
    send(member_client, action("study_mark", {"lesson": lesson.pk}, happened_at=ancient))
    record = StudyRecord.objects.get(user=tree.member.user, lesson=lesson)
    # Never opened online: a forged old time counts as now, not in a past period.
    assert record.marked_at >= before


def test_an_offline_action_is_not_dated_before_the_lesson_was_opened(member_client, tree, lesson):
    opened = lesson.published_at + timedelta(hours=5)
    lesson_services.study_open(lesson=lesson, user=tree.member.user, at=opened)
    earlier = lesson.published_at + timedelta(hours=1)
    send(member_client, action("study_mark", {"lesson": lesson.pk}, happened_at=earlier))
    record = StudyRecord.objects.get(user=tree.member.user, lesson=lesson)
    assert record.marked_at == opened


def test_answering_a_check_offline_uses_the_client_id_once(member_client, tree, checked_lesson):
    body = action("check_answer", {"lesson": checked_lesson.pk, "answers": {
        str(checked_lesson.questions.get().pk): "b"}})  # fmt: skip
    first = send(member_client, body)
    assert first.status_code == 200, first.content
    assert first.json()["message"] == "All answers are right. You earned 3 points."
    assert send(member_client, body).json()["replayed"] is True
    assert CheckAttempt.objects.filter(user=tree.member.user).count() == 1
    assert str(CheckAttempt.objects.get().client_id) == body["client_id"]
    record = StudyRecord.objects.get(user=tree.member.user, lesson=checked_lesson)
    assert record.points == 3 and record.check_passed_at is not None


def test_a_check_already_passed_is_refused_with_a_message(member_client, tree, checked_lesson):
    qid = str(checked_lesson.questions.get().pk)
    send(
        member_client, action("check_answer", {"lesson": checked_lesson.pk, "answers": {qid: "b"}})
    )
    late = send(
        member_client, action("check_answer", {"lesson": checked_lesson.pk, "answers": {qid: "a"}})
    )
    assert late.status_code == 409
    assert late.json()["status"] == "refused"
    assert late.json()["message"] == "You have already passed this check: points count once."
    assert PointsEntry.objects.filter(user=tree.member.user).count() == 1


def test_a_wrong_answer_is_recorded_not_refused(member_client, tree, checked_lesson):
    qid = str(checked_lesson.questions.get().pk)
    response = send(
        member_client, action("check_answer", {"lesson": checked_lesson.pk, "answers": {qid: "a"}})
    )
    assert response.status_code == 200
    assert response.json()["passed"] is False
    assert "Not all answers are right" in response.json()["message"]


def test_a_reflection_written_offline_is_saved_once(member_client, tree, themed_day):
    body = action("reflection", {"meeting": themed_day.pk, "body": "在高原上学习，收获很大。"})
    response = send(member_client, body)
    assert response.status_code == 200, response.content
    assert response.json()["message"] == "Your reflection is saved."
    assert send(member_client, body).json()["replayed"] is True
    assert Reflection.objects.get(meeting=themed_day).body == "在高原上学习，收获很大。"


def test_a_reflection_after_the_minutes_are_confirmed_is_refused(member_client, tree, themed_day):
    Meeting.objects.filter(pk=themed_day.pk).update(
        status=Meeting.Status.HELD, minutes_confirmed_at=timezone.now()
    )
    response = send(member_client, action("reflection", {"meeting": themed_day.pk, "body": "心得"}))
    assert response.status_code == 409
    assert "minutes of this meeting were confirmed" in response.json()["message"]
    assert not Reflection.objects.exists()


def test_a_reflection_on_a_cancelled_meeting_is_refused(member_client, tree, themed_day):
    Meeting.objects.filter(pk=themed_day.pk).update(status=Meeting.Status.CANCELLED)
    response = send(member_client, action("reflection", {"meeting": themed_day.pk, "body": "心得"}))
    assert response.status_code == 409
    assert response.json()["message"] == "This meeting is cancelled."


def test_an_older_offline_reflection_does_not_overwrite_a_newer_one(
    member_client, tree, themed_day
):
    written_offline = timezone.now() - timedelta(minutes=20)
    reflection_services.reflection_write(
        meeting=themed_day, author=tree.member.user, body="新写的心得"
    )
    response = send(
        member_client,
        action(
            "reflection", {"meeting": themed_day.pk, "body": "旧的"}, happened_at=written_offline
        ),
    )
    assert response.status_code == 409
    assert "newer text is kept" in response.json()["message"]
    assert Reflection.objects.get().body == "新写的心得"


# --- not this member's ---------------------------------------------------------------------------


def test_an_invisible_lesson_is_a_404_like_refusal(client, tree, make_lesson):  # noqa: F811
    hidden = make_lesson(org=tree.sibling, publish=True)  # the sibling branch's lesson
    client.force_login(tree.member.user)
    response = send(client, action("study_mark", {"lesson": hidden.pk}))
    assert response.status_code == 404
    assert response.json()["status"] == "refused"
    assert not StudyRecord.objects.exists()
    draft = make_lesson()
    assert send(client, action("study_mark", {"lesson": draft.pk})).status_code == 404
    assert send(client, action("study_mark", {"lesson": 987654})).status_code == 404


def test_a_meeting_of_another_branch_is_a_404_like_refusal(client, tree, make_meeting):  # noqa: F811
    start = timezone.now() - timedelta(hours=1)
    theirs = make_meeting(
        org=tree.sibling, by=tree.secretary2, kind=Meeting.Kind.THEMED_DAY, starts_at=start,
        ends_at=start + timedelta(hours=2), publish=True,
    )  # fmt: skip
    client.force_login(tree.member.user)
    response = send(client, action("reflection", {"meeting": theirs.pk, "body": "心得"}))
    assert response.status_code == 404
    assert not Reflection.objects.exists()


def test_the_same_client_id_from_another_user_is_their_own_action(client, tree, lesson):
    body = action("study_mark", {"lesson": lesson.pk})
    client.force_login(tree.member.user)
    assert send(client, body).status_code == 200
    other = Client()
    other.force_login(tree.office.user)
    response = send(other, body)
    assert response.status_code == 200 and response.json()["replayed"] is False
    assert StudyRecord.objects.filter(lesson=lesson, finished_at__isnull=False).count() == 2
    assert ClientAction.objects.count() == 2


# --- malformed, CSRF, anonymous -------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        "[1, 2]",
        json.dumps({"kind": "study_mark"}),
        json.dumps({"client_id": "nope", "kind": "study_mark", "happened_at": "2025-01-01T00:00Z"}),
        json.dumps({"client_id": str(uuid.uuid4()), "kind": "study_mark", "happened_at": "soon"}),
        json.dumps(  # a time without a zone
            {
                "client_id": str(uuid.uuid4()),
                "kind": "study_mark",
                "happened_at": "2025-01-01T00:00",
            }
        ),
        json.dumps(
            {
                "client_id": str(uuid.uuid4()),
                "kind": "study_mark",
                "happened_at": "2025-01-01T00:00Z",
                "payload": {"lesson": "x"},
            }
        ),
    ],
    ids=["not-json", "a-list", "no-id", "bad-id", "bad-time", "naive-time", "bad-lesson"],
)
def test_bad_json_is_400(member_client, body):
    response = send(member_client, body)
    assert response.status_code == 400
    assert response.json()["status"] == "invalid"
    assert not ClientAction.objects.exists()


def test_an_unknown_kind_is_400(member_client):
    response = send(member_client, action("vote", {"motion": 1}))
    assert response.status_code == 400
    assert response.json()["message"] == "This kind of action is not known."


def test_csrf_is_required(tree, lesson):
    client = Client(enforce_csrf_checks=True)
    client.force_login(tree.member.user)
    assert send(client, action("study_mark", {"lesson": lesson.pk})).status_code == 403
    client.get("/")  # the page sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    response = send(client, action("study_mark", {"lesson": lesson.pk}), HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 200


def test_anonymous_is_refused(client, lesson):
    response = send(client, action("study_mark", {"lesson": lesson.pk}))
    assert response.status_code == 401
    assert not StudyRecord.objects.exists()


def test_only_post(member_client):
    assert member_client.get(URL).status_code == 405


# --- the app shell ------------------------------------------------------------------------------


def test_manifest_is_served_in_the_members_language(client, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    with translation.override("zh-hans"):
        response = client.get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/manifest+json"
    data = json.loads(response.content)
    assert data["name"] == "网络党支部" and data["start_url"] == "/"
    assert data["display"] == "standalone"
    sizes = {(i["sizes"], i["purpose"]) for i in data["icons"]}
    assert sizes == {
        ("192x192", "any"), ("512x512", "any"), ("192x192", "maskable"), ("512x512", "maskable"),
    }  # fmt: skip
    for icon in data["icons"]:
        assert client.get(icon["src"]).status_code == 200


def test_service_worker_is_served_from_the_root_and_never_cached(client):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/javascript; charset=utf-8"
    assert response["Service-Worker-Allowed"] == "/"
    assert "no-cache" in response["Cache-Control"] and "no-store" in response["Cache-Control"]
    body = response.content.decode()
    assert "__VERSION__" not in body
    assert 'importScripts("/static/js/offline.js")' in body
    assert '"/offline/"' in body and "/static/css/netbranch.css" in body
    assert "/static/js/offline-page.js" in body


def test_csp_allows_the_worker_and_the_manifest(member_client):
    policy = member_client.get("/")["Content-Security-Policy"]
    assert "worker-src 'self'" in policy and "manifest-src 'self'" in policy


def test_offline_page_reads_without_anything_saved(member_client):
    response = Client().get("/offline/")  # open to anyone: the service worker stores it
    assert response.status_code == 200
    text = response.content.decode()
    assert "Nothing is saved on this phone yet" in text
    assert "data-offline-list" in text
    assert "/static/js/offline.js" not in text  # nothing to keep for an anonymous visitor
    member_page = member_client.get("/offline/").content.decode()
    assert 'id="nb-offline"' in member_page and "/offline/actions/" in member_page
    assert 'id="nb-offline-page"' in member_page and "/static/js/offline-page.js" in member_page


def test_pages_link_the_manifest_and_the_offline_script(member_client, lesson):
    page = member_client.get(lesson.get_absolute_url()).content.decode()
    assert 'rel="manifest" href="/manifest.webmanifest"' in page
    assert "/static/js/offline.js" in page
    assert "data-offline-save" in page and 'href="/offline/"' in page
    assert "<script>" not in page  # CSP: no inline script, the config is a JSON data block


def test_the_queued_forms_post_where_offline_js_expects(lesson, themed_day):
    """static/js/offline.js recognises these paths; a renamed URL would silently stop queuing."""
    assert reverse("lessons:mark", args=[7]) == "/lessons/7/studied/"
    assert reverse("lessons:check", args=[7]) == "/lessons/7/check/"
    assert reverse("meetings:reflection_write", args=[7]) == "/meetings/7/reflections/write/"
    assert set(offline.HANDLERS) == {"study_mark", "check_answer", "reflection"}


def test_logout_clears_the_site_data(member_client):
    response = member_client.post("/accounts/logout/")
    assert response.status_code == 302
    assert response["Clear-Site-Data"] == '"cache", "storage"'
    assert "_auth_user_id" not in member_client.session
    assert "Clear-Site-Data" not in member_client.get("/accounts/logout/")


def test_an_action_costs_the_same_queries_whatever_the_history(
    member_client,
    tree,
    make_lesson,  # noqa: F811
):
    """One action's queries do not grow with the member's history of offline actions."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    lessons = [published_days_ago(make_lesson(publish=True)) for _ in range(22)]

    def cost(lesson) -> int:
        with CaptureQueriesContext(connection) as queries:
            response = send(member_client, action("study_mark", {"lesson": lesson.pk}))
        assert response.status_code == 200
        return len(queries)

    small = cost(lessons[0])
    for lesson in lessons[1:21]:
        send(member_client, action("study_mark", {"lesson": lesson.pk}))
    large = cost(lessons[21])
    print(f"queries per offline study_mark: {small} (1st), {large} (after 20 more)")
    assert small == large
    with CaptureQueriesContext(connection) as queries:
        member_client.get("/offline/")
    print(f"queries of /offline/: {len(queries)}")
    assert len(queries) <= 6
