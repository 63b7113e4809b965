"""The decision pages: who sees what, the vote on a phone (plain form and htmx), hidden
results until the close, the follow-up visible to members and written only by the owner and
the secretaries, and a fixed number of queries whatever the data."""

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from decisions import services
from decisions.models import Motion, ProgressPhoto, ProgressUpdate, Vote
from tests import factories
from tests.core.media_helpers import image_bytes
from tests.decisions.conftest import close_at_end

pytestmark = pytest.mark.django_db

LIST = reverse("decisions:list")


def detail(motion):
    return reverse("decisions:detail", args=[motion.pk])


def vote_url(motion):
    return reverse("decisions:vote", args=[motion.pk])


def message_of(response) -> str:
    """The message the last request added (earlier ones wait, unread, in the session)."""
    return [str(m) for m in get_messages(response.wsgi_request)][-1]


# --- who sees what ---------------------------------------------------------------------------


def test_members_see_their_branchs_motions_not_drafts_nor_other_branches(client, tree, make_motion):
    open_ = make_motion(open=True, title="支部的议案")
    draft = make_motion(title="还是草稿")
    sibling = make_motion(open=True, org=tree.sibling, by=tree.secretary2, title="兄弟支部的议案")
    client.force_login(tree.member.user)
    html = client.get(LIST).content.decode()
    assert "支部的议案" in html and "兄弟支部的议案" not in html and "还是草稿" not in html
    assert client.get(detail(open_)).status_code == 200
    assert client.get(detail(draft)).status_code == 404
    assert client.get(detail(sibling)).status_code == 404
    client.force_login(tree.secretary)
    html = client.get(LIST).content.decode()
    assert "还是草稿" in html and "Drafts in my care" in html
    assert client.get(detail(draft)).status_code == 200
    client.force_login(tree.reviewer)
    assert client.get(detail(open_)).status_code == 200
    client.force_login(tree.outsider.user)
    assert client.get(detail(open_)).status_code == 404


# --- the vote --------------------------------------------------------------------------------


def test_a_member_votes_on_the_phone_page_once(client, tree, make_motion):
    motion = make_motion(open=True)
    client.force_login(tree.member.user)
    html = client.get(detail(motion)).content.decode()
    assert 'name="viewport"' in html and 'type="radio"' in html and 'value="abstain"' in html
    response = client.post(vote_url(motion), {"choice": "for"})
    assert response.status_code == 302 and response.url.endswith("#vote")
    assert message_of(response) == "Your vote is recorded."
    response = client.post(vote_url(motion), {"choice": "for"})  # a double submit
    assert message_of(response) == "Your vote was already recorded."
    response = client.post(vote_url(motion), {"choice": "against"})
    assert "cannot be changed" in message_of(response)
    assert list(Vote.objects.values_list("choice", flat=True)) == ["for"]
    html = client.get(detail(motion)).content.decode()
    assert "You voted: for." in html and 'type="radio"' not in html


def test_htmx_swaps_the_vote_panel(client, tree, make_motion):
    motion = make_motion(open=True, secret=True)
    client.force_login(tree.member.user)
    response = client.post(vote_url(motion), {"choice": "against"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200 and html.lstrip().startswith('<section id="vote"')
    assert "Your ballot is in the box" in html and "You have voted." in html
    response = client.post(vote_url(motion), {"choice": "for"}, HTTP_HX_REQUEST="true")
    assert "You have already voted" in response.content.decode()
    response = client.post(vote_url(motion), {"choice": "nonsense"}, HTTP_HX_REQUEST="true")
    assert "Choose for, against or abstain." in response.content.decode()


def test_probationary_members_and_other_branches_cannot_vote(client, tree, make_motion, probationary):  # fmt: skip
    motion = make_motion(open=True, org=tree.company, by=tree.admin)
    client.force_login(probationary)
    html = client.get(detail(motion)).content.decode()
    assert "Probationary members have no vote." in html and 'type="radio"' not in html
    response = client.post(vote_url(motion), {"choice": "for"})
    assert "not entitled" in message_of(response)
    branch_motion = make_motion(open=True)
    client.force_login(tree.sibling_member.user)
    assert client.post(vote_url(branch_motion), {"choice": "for"}).status_code == 404
    assert not Vote.objects.exists()


def test_results_stay_hidden_until_the_close_unless_shown_live(client, tree, make_motion):
    hidden = make_motion(open=True, title="隐藏")
    live = make_motion(open=True, title="实时", results_hidden=False)
    for motion in (hidden, live):
        services.vote_cast(motion=motion, user=tree.member.user, choice="against")
    client.force_login(tree.secretary)
    html = client.get(detail(hidden)).content.decode()
    assert "The count is hidden until the vote closes." in html and "Count so far" not in html
    assert "1 of 3 entitled has voted so far." in html  # turnout, not the count
    html = client.get(detail(live)).content.decode()
    assert "Count so far" in html and 'value="1">1</progress>' in html
    close_at_end(hidden)
    html = client.get(detail(hidden)).content.decode()
    assert "Result" in html and "no quorum" in html and "1 of 3 entitled voted" in html


def test_voting_ended_but_not_counted_yet(client, tree, make_motion):
    motion = make_motion(open=True)
    Motion.objects.filter(pk=motion.pk).update(closes_at=timezone.now() - timedelta(seconds=1))
    client.force_login(tree.member.user)
    html = client.get(detail(motion)).content.decode()
    assert "Voting has ended; the result is being counted." in html and 'type="radio"' not in html


# --- managing from the page ------------------------------------------------------------------


def test_the_committee_opens_and_closes_from_the_page(client, tree, make_motion):
    motion = make_motion()
    client.force_login(tree.member.user)
    assert client.post(reverse("decisions:open", args=[motion.pk])).status_code == 404  # a draft
    client.force_login(tree.secretary)
    client.post(reverse("decisions:open", args=[motion.pk]))
    assert Motion.objects.get(pk=motion.pk).status == Motion.Status.OPEN
    client.force_login(tree.member.user)
    response = client.post(reverse("decisions:close", args=[motion.pk]))
    assert "may not" in message_of(response)
    client.force_login(tree.secretary)
    client.post(reverse("decisions:close", args=[motion.pk]))
    assert Motion.objects.get(pk=motion.pk).result == Motion.Result.NO_QUORUM


# --- follow-up -------------------------------------------------------------------------------


@pytest.fixture
def decision(tree, make_motion):
    motion = make_motion(open=True, title="关于设立那曲党员先锋岗的决议")
    for user in (tree.member.user, tree.office.user):
        services.vote_cast(motion=motion, user=user, choice="for")
    motion = services.motion_close(motion=motion, by=tree.secretary)
    return services.decision_assign(
        motion=motion, by=tree.secretary, owner=tree.office.user,
        due_on=timezone.localdate() + timedelta(days=20),
    )  # fmt: skip


def progress_url(motion):
    return reverse("decisions:progress", args=[motion.pk])


def test_follow_up_is_visible_to_members_and_written_by_the_owner(client, tree, decision):
    photo = SimpleUploadedFile("现场.png", image_bytes("PNG"), content_type="image/png")
    client.force_login(tree.office.user)  # the owner
    response = client.post(progress_url(decision), {"body": "已选定岗位", "percent": "40", "photo_1": photo})  # fmt: skip
    assert response.status_code == 302
    update = ProgressUpdate.objects.get()
    assert update.percent == 40 and ProgressPhoto.objects.filter(update=update).count() == 1
    # Every member of the branch sees it: the list, the page, the branch timeline.
    client.force_login(tree.member.user)
    html = client.get(LIST + "?show=in_progress").content.decode()
    assert "关于设立那曲党员先锋岗的决议" in html and 'value="40"' in html
    html = client.get(detail(decision)).content.decode()
    assert "已选定岗位" in html and "Report progress" not in html
    html = client.get(reverse("branches:detail", args=[tree.branch.pk])).content.decode()
    assert "关于设立那曲党员先锋岗的决议" in html
    # Not the owner, not a secretary: refused, nothing written.
    response = client.post(progress_url(decision), {"body": "我也写", "percent": "50"})
    assert "Only the owner" in message_of(response)
    client.force_login(tree.secretary2)
    assert client.post(progress_url(decision), {"body": "x", "percent": "50"}).status_code == 404
    assert ProgressUpdate.objects.count() == 1
    # A bad report comes back with its errors and the text kept.
    client.force_login(tree.secretary)
    response = client.post(progress_url(decision), {"body": "挂牌", "percent": "120"})
    assert response.status_code == 400 and "挂牌" in response.content.decode()
    bad = SimpleUploadedFile("x.png", b"not an image", content_type="image/png")
    response = client.post(progress_url(decision), {"body": "挂牌", "percent": "90", "photo_1": bad})  # fmt: skip
    assert response.status_code == 400
    client.post(progress_url(decision), {"body": "挂牌完成", "percent": "100"})
    assert Motion.objects.get(pk=decision.pk).done_at is not None


# --- queries ---------------------------------------------------------------------------------


def _count(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def _more_members(tree, n):
    return [factories.MemberFactory(branch=tree.branch).user for _ in range(n)]


def test_the_motion_page_costs_the_same_whatever_the_votes(client, tree, make_motion):
    small = make_motion(open=True, results_hidden=False)
    large = make_motion(open=True, results_hidden=False)
    voters = _more_members(tree, 30)
    services.vote_cast(motion=small, user=voters[0], choice="for")
    for i, user in enumerate(voters):
        services.vote_cast(motion=large, user=user, choice=["for", "against", "abstain"][i % 3])
    client.force_login(tree.member.user)
    _count(client, detail(small))  # warm the per-process caches (content types)
    assert _count(client, detail(small)) == _count(client, detail(large))


def test_a_decision_page_costs_the_same_whatever_the_updates(client, tree, make_motion):
    def decision(n_updates):
        motion = make_motion(open=True)
        for user in (tree.member.user, tree.office.user):
            services.vote_cast(motion=motion, user=user, choice="for")
        motion = services.motion_close(motion=motion, by=tree.secretary)
        for i in range(n_updates):
            photos = [SimpleUploadedFile(f"{i}.png", image_bytes("PNG"), content_type="image/png")]  # fmt: skip
            services.progress_add(motion=motion, by=tree.secretary, body=f"进展{i}", percent=i, photos=photos)  # fmt: skip
        return motion

    small, large = decision(1), decision(8)
    client.force_login(tree.member.user)
    _count(client, detail(small))
    assert _count(client, detail(small)) == _count(client, detail(large))


def test_the_list_costs_the_same_whatever_the_motions(client, tree, make_motion):
    make_motion(open=True)
    close_at_end(make_motion(open=True))
    client.force_login(tree.member.user)
    _count(client, LIST)
    small = _count(client, LIST)
    for _ in range(8):
        make_motion(open=True, secret=True)
        close_at_end(make_motion(open=True))
    assert _count(client, LIST) == small


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_every_decision_page_renders_for_every_role(client, tree, make_motion, language):
    draft = make_motion()
    secret = make_motion(open=True, secret=True)
    services.vote_cast(motion=secret, user=tree.member.user, choice="for")
    public = make_motion(open=True, results_hidden=False, changeable=True)
    services.vote_cast(motion=public, user=tree.member.user, choice="against")
    decided = make_motion(open=True)
    for user in (tree.member.user, tree.office.user, tree.secretary):
        services.vote_cast(motion=decided, user=user, choice="for")
    decided = services.motion_close(motion=decided, by=tree.secretary)
    services.decision_assign(motion=decided, by=tree.secretary, owner=tree.office.user, due_on=None)
    client.cookies["django_language"] = language
    pages = [LIST, LIST + "?show=decisions", detail(secret), detail(public), detail(decided)]
    for user in (tree.member.user, tree.office.user, tree.secretary, tree.reviewer, tree.admin):
        client.force_login(user)
        for url in pages:
            assert client.get(url).status_code == 200, (user, url)
    for user in (tree.secretary, tree.admin):
        client.force_login(user)
        assert client.get(detail(draft)).status_code == 200
        assert client.get(reverse("decisions:export", args=[decided.pk])).status_code == 200


def test_the_meeting_page_lists_the_motions_put_to_its_vote(client, tree, make_motion):
    from meetings import services as meeting_services

    meeting = meeting_services.meeting_create(
        by=tree.secretary, organization=tree.branch, kind="general_meeting", title="党员大会",
        starts_at=timezone.now() + timedelta(days=1), ends_at=timezone.now() + timedelta(days=1, hours=2),
    )  # fmt: skip
    meeting_services.meeting_publish(meeting=meeting, by=tree.secretary)
    shown = make_motion(open=True, meeting=meeting, title="关于评选优秀党员的议案")
    make_motion(meeting=meeting, title="尚未提交的草案")  # a draft: only the committee sees it
    make_motion(open=True, title="与本次会议无关的议案")

    client.force_login(tree.member.user)
    page = client.get(meeting.get_absolute_url()).content.decode()
    assert shown.title in page and shown.get_absolute_url() in page
    assert "尚未提交的草案" not in page and "与本次会议无关的议案" not in page
    client.force_login(tree.secretary)
    assert "尚未提交的草案" in client.get(meeting.get_absolute_url()).content.decode()
