"""Accessibility and phones (issue 11): the twelve member pages, opened by `member` on a
360 x 740 phone, have no serious or critical axe-core violation and no sideways scrolling;
a lesson's text shows while its pictures are still on their way, in a place kept for them.

axe-core comes with axe-playwright-python (a dev dependency) and runs in Debian's Chromium.
Every violation found is printed per page (`pytest -s` shows them); only the serious and
critical ones fail the test.
"""

import datetime

import pytest
from django.utils import timezone

from discussions import services as discussions
from lessons import services as lessons
from notifications import services as notifications
from tests.browser.conftest import PHONE, BrowserLog
from tests.browser.test_login_flow import log_in
from tests.browser.test_meetings_flow import themed_day
from tests.browser.test_study_flow import micro_lesson
from welfare import services as welfare
from welfare.models import WelfareActivity

pytestmark = pytest.mark.browser

FAILING_IMPACTS = {"serious", "critical"}
MEMBER_PAGES = (
    "home", "lessons", "lesson", "documents", "meetings", "meeting", "notices", "notice",
    "board", "welfare", "study", "me",
)  # fmt: skip


def member_content(tree) -> dict[str, str]:
    """What the member pages show, made through the services: a micro-lesson with a cover
    in a study plan, a document, a notice with a comment, an announced themed day, board
    posts (one answered and resolved), a welfare activity. Returns page name -> URL."""
    lesson = micro_lesson(tree)
    discussions.comment_create(target=lesson, author=tree.member.user, body="学习了，受益匪浅。")
    document = lessons.document_save(
        document=None,
        by=tree.secretary,
        fields={
            "title": "中国共产党支部工作条例（试行）",
            "category": "party_rules",
            "organization": tree.branch,
            "summary": "支部工作的基本遵循",
            "body": "<h2>第一章 总则</h2><p>" + "党支部是党的基础组织。" * 30 + "</p>",
            "issued_on": timezone.localdate() - datetime.timedelta(days=30),
            "issuer": "中共中央",
            "published": True,
        },
    )
    notice = notifications.notice_create(
        by=tree.secretary,
        organization=tree.branch,
        title="关于按期交纳党费的通知",
        summary="请于本月底前交纳",
        body="<p>" + "请各位党员按期足额交纳党费。" * 10 + "</p>",
    )
    notice = notifications.notice_publish(notice=notice, by=tree.secretary)
    discussions.comment_create(target=notice, author=tree.member.user, body="收到，马上交纳。")
    meeting = themed_day(tree)
    question = discussions.board_post_create(
        organization=tree.branch, author=tree.member.user, kind="question",
        body="项目部信号差，党费可以线上交纳吗？",
    )  # fmt: skip
    discussions.board_post_answer(post=question, by=tree.secretary, answer="可以，支部已开通。")
    discussions.board_post_resolve(post=question, by=tree.member.user)
    discussions.board_post_create(
        organization=tree.branch, author=tree.member.user, kind="suggestion",
        body="建议每月组织一次线上学习交流。", anonymous=True,
    )  # fmt: skip
    activity = welfare.activity_create(
        by=tree.secretary,
        organization=tree.branch,
        kind=WelfareActivity.Kind.DONATION,
        title="冬衣捐赠",
        description="<p>每人带一件冬衣。</p>",
        held_on=timezone.localdate() + datetime.timedelta(days=5),
        place="那曲镇中心小学",
        places=10,
    )
    welfare.activity_publish(activity=activity, by=tree.secretary)
    return {
        "home": "/",
        "lessons": "/lessons/",
        "lesson": lesson.get_absolute_url(),
        "documents": "/documents/",
        "document": document.get_absolute_url(),
        "meetings": "/meetings/",
        "meeting": meeting.get_absolute_url(),
        "notices": "/notices/",
        "notice": notice.get_absolute_url(),
        "board": "/board/",
        "welfare": "/welfare/",
        "study": "/study/",
        "me": "/me/",
    }


def axe_violations(page) -> list[dict]:
    from axe_playwright_python.sync_playwright import Axe

    return Axe().run(page).response["violations"]


def summary(url: str, violations: list[dict], scroll_width: int) -> str:
    lines = [f"{url}: {len(violations)} axe violation(s), scrollWidth {scroll_width}px"]
    for v in violations:
        lines.append(f"  {v['id']} ({v['impact']}) x{len(v['nodes'])}: {v['help']}")
        for node in v["nodes"][:3]:
            checks = node.get("any", []) + node.get("all", []) + node.get("none", [])
            why = checks[0]["message"] if checks else ""
            lines.append(f"    {', '.join(map(str, node['target']))}: {why}")
    return "\n".join(lines)


def test_member_pages_have_no_serious_axe_violation_and_fit_a_phone(phone, tree):
    page, log = phone
    urls = member_content(tree)
    assert set(MEMBER_PAGES) <= set(urls)

    page.goto("/accounts/login/")
    log_in(page, "member")
    reports, failures = [], []
    for name, url in urls.items():
        response = page.goto(url)
        assert response is not None and response.status == 200, (name, url)
        assert page.url.endswith(url), f"{name}: {url} went to {page.url}"
        page.wait_for_load_state("networkidle")
        violations = axe_violations(page)
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        reports.append(summary(f"{name} {url}", violations, scroll_width))
        for v in violations:
            if v["impact"] in FAILING_IMPACTS:
                failures.append(f"{name} {url}: {v['id']} ({v['impact']}) x{len(v['nodes'])}")
        if scroll_width > PHONE["width"]:
            failures.append(f"{name} {url}: scrollWidth {scroll_width}px > {PHONE['width']}px")
    print("\n" + "\n".join(reports))
    assert not failures, "\n".join(failures) + "\n\n" + "\n".join(reports)
    log.assert_clean()


@pytest.fixture
def phone_without_service_worker(browser, live_server, transactional_db):
    """A phone whose every request goes through Playwright's routes: the offline service
    worker, which would answer from its cache, is kept out."""
    context = browser.new_context(
        viewport=PHONE, base_url=live_server.url, locale="zh-CN", service_workers="block"
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    log = BrowserLog()
    log.attach(page)
    try:
        yield page, log
    finally:
        context.close()


def test_lesson_text_shows_before_its_pictures_arrive(phone_without_service_worker, tree):
    """On a throttled connection: every image request is held (never answered until the text
    has been checked); the lesson's title and text are already shown, the cover is lazy and
    keeps its place (width and height), so the text does not move when the picture comes."""
    page, log = phone_without_service_worker
    lesson = micro_lesson(tree)
    page.goto("/accounts/login/")
    log_in(page, "member")

    held, released = [], []

    def hold_images(route):
        if route.request.resource_type == "image" and not released:
            held.append(route)  # answered only after the assertions below
        else:
            route.continue_()

    page.route("**/*", hold_images)
    page.goto(lesson.get_absolute_url(), wait_until="domcontentloaded")
    page.wait_for_function("() => document.readyState !== 'loading'")
    title = page.locator("article.lesson h1")
    text = page.locator("article.lesson .rich").first
    assert title.is_visible() and title.inner_text().strip() == lesson.title
    assert text.is_visible() and "全心全意为人民服务" in text.inner_text()

    cover = page.locator("img.cover")
    assert cover.get_attribute("loading") == "lazy"
    assert (cover.get_attribute("width"), cover.get_attribute("height")) == ("960", "540")
    # The picture was asked for and is still on its way while the text is shown.
    for _ in range(100):
        if held:
            break
        page.wait_for_timeout(100)
    assert held, "the cover was never requested"
    assert page.evaluate("document.querySelector('img.cover').complete") is False
    box = cover.bounding_box()
    assert box is not None and box["height"] > 100, f"no place kept for the cover: {box}"
    text_top = text.bounding_box()["y"]

    # Now let the pictures through: the text stays where it was.
    released.append(True)
    for route in held:
        route.continue_()
    page.wait_for_function("() => document.querySelector('img.cover').complete")
    assert page.evaluate("document.querySelector('img.cover').naturalWidth") > 0
    assert text.bounding_box()["y"] == text_top, "the text moved when the cover arrived"
    log.assert_clean()
