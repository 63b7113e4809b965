"""On a phone: a member likes and comments on a notice and asks the branch board a question;
the secretary answers it; the member finds the answer in the inbox. htmx does the posting
(no reload), under the strict CSP, with no console error."""

import pytest
from django.utils import timezone

from discussions.models import BoardPost, Comment, Like
from notifications.models import Notice, Notification
from tests.browser.test_login_flow import assert_fits_phone, log_in

pytestmark = pytest.mark.browser


def log_out(page) -> None:
    page.locator("header form button[type=submit]").click()
    page.wait_for_url("**/accounts/login/**")


def test_member_likes_and_comments_then_the_secretary_answers_the_board(phone, tree, tmp_path):
    page, log = phone
    notice = Notice.objects.create(
        organization=tree.branch,
        title="支部主题党日安排",
        body="<p>本月主题党日在项目部会议室开展。</p>",
        status=Notice.Status.PUBLISHED,
        published_at=timezone.now(),
    )

    # The member: like and comment on the notice, with htmx (the page is not reloaded).
    page.goto("/")
    log_in(page, "member")
    page.locator(f"a[href='{notice.get_absolute_url()}']").first.click()
    page.wait_for_url(f"**{notice.get_absolute_url()}")
    assert page.locator("h1").inner_text().strip() == notice.title
    page.evaluate("window.__marker = 'same page'")

    like = page.locator("form.like-form button.like").first
    like.click()
    page.wait_for_selector("form.like-form button.like.is-liked")
    assert page.locator("form.like-form .like-count").first.inner_text().strip() == "1"
    assert Like.objects.filter(user=tree.member.user).count() == 1

    page.fill("textarea[name=body]", "收到，<b>按时</b>参加！")
    page.get_by_role("button", name="发表评论").click()
    page.wait_for_selector("text=收到，<b>按时</b>参加！")  # shown as text, not as HTML
    assert page.evaluate("window.__marker") == "same page"  # htmx swapped, no reload
    assert (
        Comment.objects.filter(author=tree.member.user, body="收到，<b>按时</b>参加！").count() == 1
    )
    assert_fits_phone(page)
    page.screenshot(path=str(tmp_path / "notice-360.png"), full_page=True)

    # The member asks the board a question.
    page.goto("/board/")
    page.check("input[name=kind][value=question]")
    page.fill("textarea[name=body]", "那曲项目部没有网络，学习资料怎么领取？")
    page.get_by_role("button", name="发布", exact=True).click()
    page.wait_for_selector("text=那曲项目部没有网络，学习资料怎么领取？")
    post = BoardPost.objects.get(author=tree.member.user)
    assert post.status == BoardPost.Status.OPEN
    assert_fits_phone(page)
    log_out(page)

    # The secretary answers it on the board.
    log_in(page, "secretary")
    page.goto(f"/board/?org={tree.branch.pk}")
    card = page.locator(f"#post-{post.pk}")
    card.locator("summary", has_text="答复").click()
    card.locator("textarea[name=answer]").fill("由支部书记进场时带纸质学习包，月底前送到。")
    card.get_by_role("button", name="发布答复").click()
    page.wait_for_selector(f"#post-{post.pk} >> text=由支部书记进场时带纸质学习包，月底前送到。")
    post.refresh_from_db()
    assert post.status == BoardPost.Status.ANSWERED and post.answered_by == tree.secretary
    log_out(page)

    # The member is told: the inbox has the answer, the home page has the card.
    assert (
        Notification.objects.filter(
            recipient=tree.member.user, event__kind="board_answered"
        ).count()
        == 1
    )
    log_in(page, "member")
    badge = page.locator("header .inbox-link .count")
    assert badge.inner_text().strip() != ""
    page.locator("header .inbox-link").click()
    page.wait_for_url("**/notifications/")
    page.locator("ul.inbox a").first.click()
    page.wait_for_selector("text=由支部书记进场时带纸质学习包，月底前送到。")
    log.assert_clean()
