"""On a phone: `member` opens the micro-lesson the home card suggests, reads it, answers its
check (the right answers are not in the page before), marks it studied and sees the points
on /study/. htmx swaps the study panel without a reload; without JavaScript the same flow
works with plain form posts. No console error, no CSP violation, nothing wider than 360 px."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from lessons import services
from lessons.models import PointsEntry, Question, StudyPlanItem, StudyRecord
from tests.browser.conftest import PHONE
from tests.browser.test_login_flow import assert_fits_phone, log_in
from tests.core.media_helpers import image_bytes

pytestmark = pytest.mark.browser

EXPLANATION = "党员要按期足额交纳党费，这是党员的基本义务。"


def micro_lesson(tree):
    """A published micro-lesson with a cover and a two-question check, in a current plan of
    the member's branch."""
    lesson = services.lesson_create(
        by=tree.secretary,
        organization=tree.branch,
        kind="micro",
        title="学习党章党规：党员的义务",
        summary="五分钟读懂党员的八项义务",
        body="<p>" + "党员必须认真学习党的理论，全心全意为人民服务。" * 20 + "</p>",
        cover=SimpleUploadedFile(
            "cover.png", image_bytes("PNG", size=(960, 540)), content_type="image/png"
        ),
    )
    lesson = services.lesson_publish(lesson=lesson, by=tree.secretary)
    Question.objects.create(
        lesson=lesson, order=1, text="党员应当如何交纳党费？", choice_a="想交就交",
        choice_b="按期足额交纳", choice_c="由支部代交", correct="b", explanation=EXPLANATION,
    )  # fmt: skip
    Question.objects.create(
        lesson=lesson, order=2, text="微党课最长多少分钟？", choice_a="10 分钟",
        choice_b="60 分钟", choice_c="20 分钟", correct="c", explanation="微党课不超过20分钟。",
    )  # fmt: skip
    today = timezone.localdate()
    plan = services.plan_save(
        plan=None,
        by=tree.secretary,
        fields={
            "title": "本月学习计划",
            "organization": tree.branch,
            "starts_on": today - datetime.timedelta(days=3),
            "due_on": today + datetime.timedelta(days=20),
        },
    )
    StudyPlanItem.objects.create(plan=plan, order=1, lesson=lesson)
    services.plan_publish(plan=plan, by=tree.secretary)
    return lesson


def test_member_studies_a_micro_lesson_passes_the_check_and_sees_the_points(phone, tree, tmp_path):
    page, log = phone
    lesson = micro_lesson(tree)
    questions = list(lesson.questions.order_by("order"))

    page.goto("/")
    log_in(page, "member")
    card = page.locator("section.study-card")
    assert card.locator("progress").count() == 1  # the plan's progress, 0 of 1
    assert card.locator("progress").get_attribute("value") == "0"
    assert_fits_phone(page)
    card.locator(f"a[href='{lesson.get_absolute_url()}']").click()
    page.wait_for_url(f"**{lesson.get_absolute_url()}")
    assert page.locator("h1").inner_text().strip() == lesson.title
    assert page.locator(".reading").first.inner_text().strip() != ""
    cover = page.locator("img.cover")
    assert cover.get_attribute("loading") == "lazy"
    cover.scroll_into_view_if_needed()
    page.wait_for_function("document.querySelector('img.cover').complete")
    assert page.evaluate("document.querySelector('img.cover').naturalWidth") > 0
    # Read to the end; the right answers are not in the page yet.
    assert EXPLANATION not in page.content()
    assert page.locator(".answer-key").count() == 0
    assert_fits_phone(page)
    page.screenshot(path=str(tmp_path / "lesson-360.png"), full_page=True)
    page.evaluate("window.__marker = 'same page'")

    # A wrong answer first: the explanations appear, the form stays.
    page.check(f"input[name=q{questions[0].pk}][value=a]")
    page.check(f"input[name=q{questions[1].pk}][value=c]")
    page.locator(".check-form button[type=submit]").click()
    page.wait_for_selector("#study .answer-feedback.wrong")
    assert EXPLANATION in page.content()
    assert not PointsEntry.objects.exists()

    # Then right: points for the check, the form is gone.
    page.check(f"input[name=q{questions[0].pk}][value=b]")
    page.locator(".check-form button[type=submit]").click()
    page.wait_for_selector("#study .check .ok")
    assert page.locator(".check-form").count() == 0
    assert page.locator("#study .answer-feedback.right").count() == 2

    # Mark it studied: finished, with the points for finishing too.
    page.locator(".mark-form button[type=submit]").click()
    page.wait_for_selector("#study .progress p.ok")
    assert page.locator(".mark-form").count() == 0
    assert page.locator("#study .steps li.done").count() == 3
    assert page.evaluate("window.__marker") == "same page"  # htmx swapped, no reload
    assert_fits_phone(page)
    record = StudyRecord.objects.get(user=tree.member.user, lesson=lesson)
    assert record.finished_at is not None and record.points == 5

    # /study/ shows the points, the finished lesson and the plan done.
    page.locator("header a[href='/study/']").click()
    page.wait_for_url("**/study/")
    assert page.locator(".points-total").inner_text().strip().startswith("5")
    assert page.locator(f"ul.history a[href='{lesson.get_absolute_url()}']").count() == 1
    assert page.locator("li.plan-row progress").get_attribute("value") == "1"
    assert page.locator("ol.ranking li.me").count() == 1
    assert_fits_phone(page)
    page.screenshot(path=str(tmp_path / "study-360.png"), full_page=True)

    # The lesson list shows it studied; nothing on the way was wider than the phone.
    page.locator("header a[href='/lessons/']").click()
    page.wait_for_url("**/lessons/")
    assert page.locator("li.lesson-row.is-done").count() == 1
    assert_fits_phone(page)

    # In English (longer words) the header and the lesson still fit the phone.
    page.select_option("select[name=language]", "en")
    page.locator("form:has(select[name=language]) button").click()
    page.wait_for_function("document.documentElement.lang === 'en'")
    page.goto(lesson.get_absolute_url())
    assert_fits_phone(page)
    page.screenshot(path=str(tmp_path / "lesson-en-360.png"), full_page=True)
    log.assert_clean()


def test_without_javascript_the_study_forms_still_work(
    browser, live_server, transactional_db, tree
):
    lesson = micro_lesson(tree)
    questions = list(lesson.questions.order_by("order"))
    context = browser.new_context(
        viewport=PHONE, base_url=live_server.url, locale="zh-CN", java_script_enabled=False
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        page.goto("/lessons/")
        log_in(page, "member")
        page.goto("/lessons/?q=党规")
        page.locator(f"a[href='{lesson.get_absolute_url()}']").first.click()
        page.wait_for_url(f"**{lesson.get_absolute_url()}")
        page.check(f"input[name=q{questions[0].pk}][value=b]")
        page.check(f"input[name=q{questions[1].pk}][value=c]")
        page.locator(".check-form button[type=submit]").click()
        page.wait_for_selector("ul.messages .msg-success")
        assert "#study" in page.url
        page.locator(".mark-form button[type=submit]").click()
        page.wait_for_selector("#study .progress p.ok")
        assert_fits_phone(page)
    finally:
        context.close()
    assert StudyRecord.objects.get(user=tree.member.user, lesson=lesson).points == 5
