"""Reflections (心得体会): who may write them and when, one per member whatever the double
submits, hostile text shown escaped, the manager's request and once-a-day reminder reaching
only those who have not written, likes and comments through `discussions`, 404 for other
branches, and pages whose query count does not grow with the number of reflections."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.template import Context, Template
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from discussions.models import Comment, Like
from meetings.models import Meeting, Reflection, ReflectionReminder
from meetings.selectors import reflections as selectors
from meetings.services import reflections as services
from members.models import Member
from notifications.models import Event, Notification

pytestmark = pytest.mark.django_db
User = get_user_model()


@pytest.fixture
def lesson(make_meeting):
    """A Party lesson of tree.branch, announced, started an hour ago."""
    start = timezone.now() - timedelta(hours=1)
    return make_meeting(
        kind=Meeting.Kind.PARTY_LESSON, starts_at=start, ends_at=start + timedelta(hours=2),
        publish=True,
    )  # fmt: skip


def started(make_meeting, kind=Meeting.Kind.THEMED_DAY, **fields):
    start = timezone.now() - timedelta(hours=1)
    return make_meeting(kind=kind, starts_at=start, ends_at=start + timedelta(hours=2), **fields)


def list_url(meeting) -> str:
    return reverse("meetings:reflections", args=[meeting.pk])


def write_url(meeting) -> str:
    return reverse("meetings:reflection_write", args=[meeting.pk])


def page_url(reflection) -> str:
    return reverse("meetings:reflection", args=[reflection.pk])


def write(meeting, member, body="学习了党的二十大精神，很有收获。"):
    user = member.user if isinstance(member, Member) else member
    return services.reflection_write(meeting=meeting, author=user, body=body)


# --- the rules of writing ---------------------------------------------------------------------


@pytest.mark.parametrize("kind", [Meeting.Kind.PARTY_LESSON, Meeting.Kind.THEMED_DAY])
def test_an_expected_member_writes_after_a_lesson_or_themed_day(tree, make_meeting, kind):
    meeting = started(make_meeting, kind=kind, publish=True)
    reflection = write(meeting, tree.member, "  很有收获。\r\n第二段。  ")
    assert reflection.author == tree.member.user
    assert reflection.body == "很有收获。\n第二段。"  # stripped, newlines normalised


@pytest.mark.parametrize(
    "kind",
    [
        Meeting.Kind.GENERAL_MEETING,
        Meeting.Kind.COMMITTEE_MEETING,
        Meeting.Kind.GROUP_MEETING,
        Meeting.Kind.OTHER,
    ],
)
def test_other_kinds_take_no_reflection(tree, make_meeting, kind):
    meeting = started(make_meeting, kind=kind, publish=True)
    with pytest.raises(ValidationError, match="Party lesson or a themed Party day"):
        write(meeting, tree.secretary)
    assert not Reflection.objects.exists()


@pytest.mark.parametrize("who", ["sibling_member", "outsider", "secretary2", "reviewer"])
def test_only_the_expected_write(tree, lesson, who):
    user = getattr(tree, who)
    user = user.user if isinstance(user, Member) else user
    with pytest.raises(PermissionDenied):
        write(lesson, user)
    assert not Reflection.objects.exists()


def test_a_member_of_the_company_writes_on_its_themed_day(tree, make_meeting):
    """A themed day of the company committee expects the members of its whole subtree."""
    meeting = started(make_meeting, org=tree.company, by=tree.reviewer, publish=True)
    assert write(meeting, tree.sibling_member).pk


def test_refused_before_the_start(tree, make_meeting):
    meeting = make_meeting(kind=Meeting.Kind.PARTY_LESSON, publish=True)  # in two days
    with pytest.raises(ValidationError, match="once the meeting has started"):
        write(meeting, tree.member)


def test_refused_on_a_cancelled_meeting(tree, make_meeting):
    meeting = make_meeting(kind=Meeting.Kind.PARTY_LESSON, publish=True)
    meeting = services_cancel(meeting, tree.secretary)
    Meeting.objects.filter(pk=meeting.pk).update(starts_at=timezone.now() - timedelta(hours=1))
    meeting.refresh_from_db()
    with pytest.raises(ValidationError, match="cancelled"):
        write(meeting, tree.member)


def services_cancel(meeting, by):
    from meetings.services import meeting_cancel

    return meeting_cancel(meeting=meeting, by=by, reason="暴雨")


@pytest.mark.parametrize("body", ["", "   \n\t  ", None])
def test_empty_refused(tree, lesson, body):
    with pytest.raises(ValidationError, match="Write your reflection first"):
        write(lesson, tree.member, body)
    assert not Reflection.objects.exists()


def test_length_limit(tree, lesson, settings):
    settings.NETBRANCH_REFLECTION_MAX_LENGTH = 20
    with pytest.raises(ValidationError, match="at most 20 characters"):
        write(lesson, tree.member, "长" * 21)
    assert write(lesson, tree.member, "长" * 20).body == "长" * 20


def test_default_limit_is_5000(tree, lesson):
    with pytest.raises(ValidationError):
        write(lesson, tree.member, "x" * 5001)
    assert len(write(lesson, tree.member, "x" * 5000).body) == 5000


def test_writing_again_edits_the_same_row(tree, lesson):
    first = write(lesson, tree.member, "第一稿")
    second = write(lesson, tree.member, "第二稿")
    assert first.pk == second.pk
    assert Reflection.objects.get().body == "第二稿"


def test_a_lost_race_edits_the_winners_row(tree, lesson, monkeypatch):
    """Two first submits at once: the second insert hits the unique constraint and edits."""
    Reflection.objects.create(meeting=lesson, author=tree.member.user, body="先到")
    real_filter = Reflection.objects.select_for_update().filter

    class Missing:
        def filter(self, *args, **kwargs):
            return Reflection.objects.none()

        def get(self, *args, **kwargs):
            return real_filter(*args, **kwargs).get()

    monkeypatch.setattr(Reflection.objects, "select_for_update", lambda: Missing())
    reflection = write(lesson, tree.member, "后到")
    assert Reflection.objects.count() == 1
    assert reflection.body == "后到"
    assert Reflection.objects.get().body == "后到"


# --- pages ------------------------------------------------------------------------------------


def test_write_through_the_page_then_double_submit(client, tree, lesson):
    client.force_login(tree.member.user)
    for _ in range(2):
        response = client.post(write_url(lesson), {"body": "收获很大", "next": list_url(lesson)})
        assert response.status_code == 302
        assert response["Location"] == f"{list_url(lesson)}#reflections"
    assert Reflection.objects.filter(meeting=lesson).count() == 1
    page = client.get(list_url(lesson)).content.decode()
    assert "收获很大" in page
    assert "My reflection" in page


def test_next_to_another_site_is_ignored(client, tree, lesson):
    client.force_login(tree.member.user)
    response = client.post(write_url(lesson), {"body": "收获", "next": "https://evil.example/"})
    assert response["Location"] == f"{list_url(lesson)}#reflections"


def test_a_refused_reflection_is_shown_again_with_its_text(client, tree, lesson, settings):
    settings.NETBRANCH_REFLECTION_MAX_LENGTH = 10
    client.force_login(tree.member.user)
    response = client.post(write_url(lesson), {"body": "这是一段超过十个字的很长的心得体会"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "at most 10 characters" in page
    assert "这是一段超过十个字的很长的心得体会</textarea>" in page
    assert not Reflection.objects.exists()


def test_hostile_html_is_shown_escaped(client, tree, lesson):
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    reflection = write(lesson, tree.member, hostile)
    client.force_login(tree.office.user)
    for url in (list_url(lesson), page_url(reflection)):
        page = client.get(url).content.decode()
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
        assert "<script>alert" not in page
        assert "<img src=x" not in page


def test_edit_link_shows_the_form_with_my_text(client, tree, lesson):
    write(lesson, tree.member, "原来的心得")
    client.force_login(tree.member.user)
    page = client.get(list_url(lesson) + "?edit=1").content.decode()
    assert "Edit my reflection" in page
    assert "原来的心得</textarea>" in page


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("member", 200),
        ("office", 200),
        ("secretary", 200),
        ("reviewer", 200),
        ("admin", 200),
        ("sibling_member", 404),
        ("participant", 404),
        ("outsider", 404),
        ("secretary2", 404),
    ],
)
def test_who_sees_the_reflections(client, tree, lesson, who, status):
    reflection = write(lesson, tree.member)
    user = getattr(tree, who)
    client.force_login(user.user if isinstance(user, Member) else user)
    assert client.get(list_url(lesson)).status_code == status
    assert client.get(page_url(reflection)).status_code == status


@pytest.mark.parametrize("who", ["sibling_member", "outsider", "secretary2"])
def test_another_branch_cannot_post(client, tree, lesson, who):
    reflection = write(lesson, tree.member)
    user = getattr(tree, who)
    client.force_login(user.user if isinstance(user, Member) else user)
    assert client.post(write_url(lesson), {"body": "混进来"}).status_code == 404
    for name in ("reflections_request", "reflections_remind"):
        assert client.post(reverse(f"meetings:{name}", args=[lesson.pk])).status_code == 404
    ct = ContentType.objects.get_for_model(Reflection)
    like = {"content_type": ct.pk, "object_id": reflection.pk, "want": "1"}
    assert client.post(reverse("discussions:like_toggle"), like).status_code == 404
    comment = {"content_type": ct.pk, "object_id": reflection.pk, "body": "混进来"}
    assert client.post(reverse("discussions:comment_create"), comment).status_code == 404
    assert Reflection.objects.count() == 1
    assert not Like.objects.exists() and not Comment.objects.exists()
    lesson.refresh_from_db()
    assert lesson.reflections_requested_at is None


def test_unknown_ids_and_kinds_without_reflections_are_404(client, tree, make_meeting):
    client.force_login(tree.secretary)
    assert client.get(reverse("meetings:reflections", args=[999_999])).status_code == 404
    assert client.get(reverse("meetings:reflection", args=[999_999])).status_code == 404
    general = started(make_meeting, kind=Meeting.Kind.GENERAL_MEETING, publish=True)
    assert client.get(list_url(general)).status_code == 404


def test_a_draft_is_hidden_from_members(client, tree, make_meeting):
    draft = started(make_meeting)  # not announced
    client.force_login(tree.member.user)
    assert client.get(list_url(draft)).status_code == 404
    client.force_login(tree.secretary)
    assert client.get(list_url(draft)).status_code == 200


def test_a_meeting_entered_offline_is_open_to_its_members(client, tree, make_meeting):
    from meetings.services import meeting_record_offline

    meeting = started(make_meeting)  # never announced: held where there is no network
    meeting_record_offline(meeting=meeting, by=tree.secretary, present_user_ids=[tree.member.user.pk])  # fmt: skip
    client.force_login(tree.member.user)
    assert client.get(list_url(meeting)).status_code == 200
    assert write(meeting, tree.member).pk


def test_a_member_cannot_ask_or_remind(client, tree, lesson):
    client.force_login(tree.member.user)
    response = client.post(reverse("meetings:reflections_request", args=[lesson.pk]), follow=True)
    assert "You may not manage meetings" in response.content.decode()
    lesson.refresh_from_db()
    assert lesson.reflections_requested_at is None
    with pytest.raises(PermissionDenied):
        services.reflections_remind(meeting=lesson, by=tree.member.user)
    assert not ReflectionReminder.objects.exists()


# --- asking and reminding ---------------------------------------------------------------------


def recipients(kind: str) -> set[str]:
    return set(
        Notification.objects.filter(event__kind=kind).values_list("recipient__username", flat=True)
    )


EXPECTED_AT_BRANCH = {"member", "office", "secretary"}


def test_asking_notifies_the_attendees_once(tree, lesson, committed):
    with committed():
        assert services.reflections_request(meeting=lesson, by=tree.secretary) is True
    lesson.refresh_from_db()
    asked_at = lesson.reflections_requested_at
    assert asked_at is not None
    assert recipients("reflections_requested") == EXPECTED_AT_BRANCH
    event = Event.objects.get(kind="reflections_requested")
    assert event.url == list_url(lesson)
    with committed():
        assert services.reflections_request(meeting=lesson, by=tree.secretary) is False
    lesson.refresh_from_db()
    assert lesson.reflections_requested_at == asked_at
    assert Event.objects.filter(kind="reflections_requested").count() == 1


def test_asking_through_the_page(client, tree, lesson, committed):
    client.force_login(tree.secretary)
    with committed():
        response = client.post(
            reverse("meetings:reflections_request", args=[lesson.pk]), follow=True
        )
    assert "asked for their reflections" in response.content.decode()
    assert recipients("reflections_requested") == EXPECTED_AT_BRANCH
    response = client.post(reverse("meetings:reflections_request", args=[lesson.pk]), follow=True)
    assert "already asked for" in response.content.decode()


def test_asking_before_the_start_is_refused(tree, make_meeting):
    meeting = make_meeting(kind=Meeting.Kind.THEMED_DAY, publish=True)
    with pytest.raises(ValidationError):
        services.reflections_request(meeting=meeting, by=tree.secretary)


def test_remind_reaches_only_those_without_a_reflection_once_a_day(tree, lesson, committed):
    write(lesson, tree.member)
    with committed():
        assert services.reflections_remind(meeting=lesson, by=tree.secretary) == 2
    assert recipients("reflections_reminder") == {"office", "secretary"}
    with committed():
        assert services.reflections_remind(meeting=lesson, by=tree.secretary) == 0
    assert Event.objects.filter(kind="reflections_reminder").count() == 1
    # The next day (yesterday's claim), after the office member wrote: the secretary only.
    ReflectionReminder.objects.update(day=timezone.localdate() - timedelta(days=1))
    write(lesson, tree.office)
    with committed():
        assert services.reflections_remind(meeting=lesson, by=tree.secretary) == 1
    latest = Event.objects.filter(kind="reflections_reminder").latest("pk")
    assert set(latest.notifications.values_list("recipient__username", flat=True)) == {"secretary"}  # fmt: skip


def test_remind_when_everyone_wrote_sends_nothing(tree, lesson, committed):
    for who in (tree.member, tree.office, tree.secretary):
        write(lesson, who)
    with committed():
        assert services.reflections_remind(meeting=lesson, by=tree.secretary) == 0
    assert not Event.objects.filter(kind="reflections_reminder").exists()


def test_remind_through_the_page(client, tree, lesson, committed):
    client.force_login(tree.secretary)
    with committed():
        response = client.post(
            reverse("meetings:reflections_remind", args=[lesson.pk]),
            {"next": list_url(lesson)},
            follow=True,
        )
    assert "3 members are reminded" in response.content.decode()
    response = client.post(reverse("meetings:reflections_remind", args=[lesson.pk]), follow=True)
    assert "today&#x27;s reminder has gone out" in response.content.decode()


def test_the_missing_audience(tree, lesson):
    write(lesson, tree.member)
    inactive = tree.office.user
    inactive.is_active = False
    inactive.save(update_fields=["is_active"])
    users = selectors.audience_reflection_missing(meeting=lesson.pk)
    assert set(users.values_list("username", flat=True)) == {"secretary"}
    assert not selectors.audience_reflection_missing(meeting=999_999).exists()


def test_the_manager_sees_who_has_not_written(client, tree, lesson):
    write(lesson, tree.member)
    client.force_login(tree.secretary)
    page = client.get(list_url(lesson)).content.decode()
    assert "2 have not written yet" in page
    names = {tree.office.real_name, Member.objects.get(user=tree.secretary).real_name}
    assert all(name in page for name in names)
    client.force_login(tree.office.user)
    page = client.get(list_url(lesson)).content.decode()
    assert "have not written yet" not in page
    assert "Ask for reflections" not in page


# --- likes and comments -----------------------------------------------------------------------


def test_like_and_comment_on_a_reflection(client, tree, lesson):
    reflection = write(lesson, tree.member)
    ct = ContentType.objects.get_for_model(Reflection)
    client.force_login(tree.office.user)
    response = client.post(
        reverse("discussions:like_toggle"),
        {"content_type": ct.pk, "object_id": reflection.pk, "want": "1", "next": page_url(reflection)},
    )  # fmt: skip
    assert response.status_code == 302
    assert Like.objects.filter(content_type=ct, object_id=reflection.pk).count() == 1
    response = client.post(
        reverse("discussions:comment_create"),
        {"content_type": ct.pk, "object_id": reflection.pk, "body": "写得好！", "next": page_url(reflection)},
    )  # fmt: skip
    assert response.status_code == 302
    comment = Comment.objects.get()
    assert comment.target == reflection
    assert comment.organization == tree.branch  # the branch's secretary moderates it
    page = client.get(page_url(reflection)).content.decode()
    assert "写得好！" in page
    listing = client.get(list_url(lesson)).content.decode()
    assert "1 comment" in listing
    assert 'class="like-count">1<' in listing


def test_deleting_a_reflection_deletes_its_discussion(tree, lesson):
    reflection = write(lesson, tree.member)
    ct = ContentType.objects.get_for_model(Reflection)
    Like.objects.create(content_type=ct, object_id=reflection.pk, user=tree.office.user)
    reflection.delete()
    assert not Like.objects.exists()


# --- the block of the meeting page and query counts -----------------------------------------


def bulk_authors(tree, n: int) -> list:
    """n members of tree.branch (bulk: no password hashing)."""
    users = User.objects.bulk_create([User(username=f"bulk{i}") for i in range(n)])
    users = list(User.objects.filter(username__startswith="bulk").order_by("pk"))
    Member.objects.bulk_create(
        [Member(user=u, real_name=f"党员{i}", branch=tree.branch) for i, u in enumerate(users)]
    )
    return users


def bulk_reflections(meeting, users) -> None:
    Reflection.objects.bulk_create(
        [Reflection(meeting=meeting, author=u, body=f"心得{u.pk}") for u in users]
    )
    ct = ContentType.objects.get_for_model(Reflection)
    Like.objects.bulk_create(
        [Like(content_type=ct, object_id=r.pk, user=users[0]) for r in Reflection.objects.all()]
    )


def render_block(meeting, user) -> str:
    request = RequestFactory().get(f"/meetings/{meeting.pk}/")
    request.user = user
    template = Template("{% load meetings_reflections %}{% meeting_reflections meeting %}")
    return template.render(Context({"meeting": meeting, "request": request, "user": user}))


def count_queries(fn) -> tuple[int, list[str]]:
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries), [q["sql"] for q in ctx.captured_queries]


@pytest.mark.parametrize("who", ["member", "secretary"])
def test_block_and_list_cost_the_same_for_10_and_200_reflections(client, tree, make_meeting, who):
    users = bulk_authors(tree, 210)
    small = started(make_meeting, kind=Meeting.Kind.PARTY_LESSON, publish=True)
    large = started(make_meeting, kind=Meeting.Kind.PARTY_LESSON, publish=True)
    bulk_reflections(small, users[:10])
    Reflection.objects.bulk_create([Reflection(meeting=large, author=u, body="心得") for u in users[:200]])  # fmt: skip
    viewer = getattr(tree, who)
    viewer = viewer.user if isinstance(viewer, Member) else viewer
    viewer = User.objects.get(pk=viewer.pk)  # a fresh user: no cached scope

    counts = {}
    for name, meeting in (("small", small), ("large", large)):
        fresh = User.objects.get(pk=viewer.pk)
        counts[name] = count_queries(lambda m=meeting, u=fresh: render_block(m, u))
    assert counts["small"][0] == counts["large"][0], "\n".join(counts["large"][1])
    assert counts["small"][0] <= 8, "\n".join(counts["small"][1])

    client.force_login(viewer)
    pages = {}
    for name, meeting in (("small", small), ("large", large)):
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(list_url(meeting)).status_code == 200
        pages[name] = ctx
    assert len(pages["small"]) == len(pages["large"]), "\n".join(
        q["sql"] for q in pages["large"].captured_queries
    )

    reflection = Reflection.objects.filter(meeting=large).first()
    ct = ContentType.objects.get_for_model(Reflection)

    def comments(authors):
        Comment.objects.bulk_create(
            [
                Comment(content_type=ct, object_id=reflection.pk, author=u, body=f"评论{u.pk}",
                        organization=tree.branch)
                for u in authors
            ]
        )  # fmt: skip

    comments(users[:1])
    with CaptureQueriesContext(connection) as one:
        assert client.get(page_url(reflection)).status_code == 200
    comments(users[1:60])
    with CaptureQueriesContext(connection) as sixty:
        assert client.get(page_url(reflection)).status_code == 200
    assert len(one) == len(sixty), "\n".join(q["sql"] for q in sixty.captured_queries)


def test_block_shows_latest_and_link_to_all(tree, make_meeting):
    users = bulk_authors(tree, 7)
    meeting = started(make_meeting, kind=Meeting.Kind.PARTY_LESSON, publish=True)
    bulk_reflections(meeting, users)
    html = render_block(meeting, User.objects.get(pk=tree.member.user.pk))
    assert html.count('class="reflection"') == selectors.BLOCK_LATEST
    assert "All 7 reflections" in html
    assert "Write my reflection" in html


def test_block_is_empty_for_other_kinds(tree, make_meeting):
    meeting = started(make_meeting, kind=Meeting.Kind.GENERAL_MEETING, publish=True)
    assert render_block(meeting, tree.member.user).strip() == ""


def test_block_before_the_start(tree, make_meeting):
    meeting = make_meeting(kind=Meeting.Kind.THEMED_DAY, publish=True)
    html = render_block(meeting, tree.member.user)
    assert "once the meeting has started" in html
    assert "<textarea" not in html
    manager = render_block(meeting, tree.secretary)
    assert "Ask for reflections" not in manager


def test_block_escapes_and_truncates(tree, lesson):
    write(lesson, tree.office, "<b>粗体</b>" + "长" * 400)
    html = render_block(lesson, tree.member.user)
    assert "&lt;b&gt;粗体&lt;/b&gt;" in html
    assert "长" * 400 not in html  # the block shows the beginning; the page the whole
