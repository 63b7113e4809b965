"""Minutes (会议记录): marking a meeting held, the recorder's minutes (sanitised), attachments and
the sign-in sheet checked by `core`, the secretary's confirmation after which everything is
read-only (services, pages), the offline entry with a photo, the minutes block of the meeting
page (who sees what, a fixed number of queries) and the minutes pages' permissions."""

import json
import re
import threading
import time
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.template import Context, Template
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from branches.models import TimelineEntry
from meetings import services
from meetings.models import Attendance, Meeting, MeetingAttachment
from meetings.services import minutes as minutes_services
from tests.core.media_helpers import EXE, MINIMAL_PDF, SVG, image_bytes, stored_files
from tests.lessons.conftest import race

pytestmark = pytest.mark.django_db

HOSTILE = (
    '<p onclick="steal()">议程一</p><script>alert(document.cookie)</script>'
    '<img src="x" onerror="alert(1)"><a href="javascript:alert(1)">链接</a>'
    '<iframe src="https://evil.example"></iframe><p>议程二</p>'
)


def pdf(name="会议纪要.pdf", data=MINIMAL_PDF):
    return SimpleUploadedFile(name, data, content_type="application/pdf")


def png(name="签到表.png", size=(64, 48)):
    return SimpleUploadedFile(name, image_bytes("PNG", size=size), content_type="image/png")


@pytest.fixture
def started(tree, make_meeting):
    """An announced branch meeting that started two hours ago, with `member` as its recorder
    (a plain member: not staff, not a manager)."""

    def make(**fields):
        fields.setdefault("starts_at", timezone.now() - timedelta(hours=2))
        fields.setdefault("recorder", tree.member.user)
        return make_meeting(publish=True, **fields)

    return make


@pytest.fixture
def held(tree, started):
    def make(**fields):
        meeting = started(**fields)
        return minutes_services.meeting_mark_held(meeting=meeting, by=tree.secretary)

    return make


@pytest.fixture
def confirmed(tree, held):
    def make(**fields):
        meeting = held(**fields)
        minutes_services.minutes_save(meeting=meeting, by=tree.member.user, minutes="<p>纪要</p>")
        return minutes_services.minutes_confirm(meeting=meeting, by=tree.secretary)

    return make


def fresh(meeting) -> Meeting:
    return Meeting.objects.get(pk=meeting.pk)


# --- marking held ---------------------------------------------------------------------------


def test_mark_held_by_the_recorder_once(tree, started, make_meeting):
    meeting = started()
    with pytest.raises(PermissionDenied):
        minutes_services.meeting_mark_held(meeting=meeting, by=tree.office.user)
    with pytest.raises(PermissionDenied):
        minutes_services.meeting_mark_held(meeting=meeting, by=tree.secretary2)
    minutes_services.meeting_mark_held(meeting=meeting, by=tree.member.user)
    minutes_services.meeting_mark_held(meeting=meeting, by=tree.secretary)  # twice: harmless
    assert fresh(meeting).status == Meeting.Status.HELD
    assert not fresh(meeting).held_offline
    assert TimelineEntry.objects.filter(organization=tree.branch, kind="meeting_held").count() == 1


def test_mark_held_refuses_future_unannounced_and_cancelled_meetings(tree, make_meeting):
    future = make_meeting(publish=True)
    draft = make_meeting(starts_at=timezone.now() - timedelta(hours=1))
    cancelled = make_meeting(starts_at=timezone.now() - timedelta(hours=1), publish=True)
    services.meeting_cancel(meeting=cancelled, by=tree.secretary, reason="暴雪")
    for meeting, message in (
        (future, "not started"),
        (draft, "never announced"),
        (cancelled, "cancelled"),
    ):
        with pytest.raises(ValidationError, match=message):
            minutes_services.meeting_mark_held(meeting=meeting, by=tree.secretary)
        assert fresh(meeting).status != Meeting.Status.HELD
    assert not TimelineEntry.objects.filter(kind="meeting_held").exists()


# --- writing the minutes --------------------------------------------------------------------


def test_the_recorder_writes_sanitised_minutes(tree, held):
    meeting = held()
    minutes_services.minutes_save(meeting=meeting, by=tree.member.user, minutes=HOSTILE)
    stored = fresh(meeting)
    assert "议程一" in stored.minutes and "议程二" in stored.minutes
    for bad in ("<script", "onerror", "onclick", "javascript:", "<iframe", "document.cookie"):
        assert bad not in stored.minutes
    assert stored.minutes_written_by == tree.member.user
    assert stored.minutes_confirmed_at is None


@pytest.mark.parametrize("who", ["office", "secretary2", "outsider", "sibling_member"])
def test_only_the_recorder_or_a_manager_writes_minutes(tree, held, who):
    meeting = held()
    user = getattr(tree, who)
    user = getattr(user, "user", user)
    with pytest.raises(PermissionDenied):
        minutes_services.minutes_save(meeting=meeting, by=user, minutes="<p>改</p>")
    assert fresh(meeting).minutes == ""


def test_no_minutes_before_the_meeting_is_held(tree, started):
    meeting = started()
    with pytest.raises(ValidationError, match="held"):
        minutes_services.minutes_save(meeting=meeting, by=tree.secretary, minutes="<p>早</p>")
    with pytest.raises(ValidationError, match="held"):
        minutes_services.minutes_attachment_add(meeting=meeting, by=tree.secretary, file=pdf())
    assert fresh(meeting).minutes == "" and not MeetingAttachment.objects.exists()


# --- confirming -----------------------------------------------------------------------------


def test_only_a_manager_confirms_non_empty_minutes(tree, held):
    meeting = held()
    with pytest.raises(ValidationError, match="Write the minutes"):
        minutes_services.minutes_confirm(meeting=meeting, by=tree.secretary)
    minutes_services.minutes_save(
        meeting=meeting, by=tree.member.user, minutes="<p>&nbsp;</p><p> </p>"
    )
    with pytest.raises(ValidationError, match="Write the minutes"):
        minutes_services.minutes_confirm(meeting=meeting, by=tree.secretary)
    minutes_services.minutes_save(meeting=meeting, by=tree.member.user, minutes="<p>纪要</p>")
    # The recorder is not a manager; another branch's secretary is out of scope.
    for user in (tree.member.user, tree.secretary2, tree.office.user):
        with pytest.raises(PermissionDenied):
            minutes_services.minutes_confirm(meeting=meeting, by=user)
    assert fresh(meeting).minutes_confirmed_at is None
    minutes_services.minutes_confirm(meeting=meeting, by=tree.reviewer)  # over the subtree
    first = fresh(meeting)
    assert first.minutes_confirmed_by == tree.reviewer and first.minutes_confirmed_at
    minutes_services.minutes_confirm(meeting=meeting, by=tree.secretary)  # again: harmless
    again = fresh(meeting)
    assert (again.minutes_confirmed_at, again.minutes_confirmed_by) == (
        first.minutes_confirmed_at,
        tree.reviewer,
    )


def test_a_planned_meeting_cannot_be_confirmed(tree, started):
    meeting = started()
    with pytest.raises(ValidationError):
        minutes_services.minutes_confirm(meeting=meeting, by=tree.secretary)


def test_confirmed_minutes_cannot_be_changed_in_any_way(tree, held):
    meeting = held()
    minutes_services.minutes_save(meeting=meeting, by=tree.member.user, minutes="<p>纪要</p>")
    kept = minutes_services.minutes_attachment_add(meeting=meeting, by=tree.secretary, file=pdf())
    stale = fresh(meeting)  # loaded before the confirmation: the service re-reads under lock
    minutes_services.minutes_confirm(meeting=meeting, by=tree.secretary)
    files_before = stored_files()
    attempts = [
        lambda: minutes_services.minutes_save(
            meeting=stale, by=tree.secretary, minutes="<p>改</p>"
        ),
        lambda: minutes_services.minutes_save(
            meeting=stale, by=tree.member.user, minutes="<p>纪要</p>", sign_in_sheet=png()
        ),
        lambda: minutes_services.minutes_attachment_add(
            meeting=stale, by=tree.secretary, file=pdf("b.pdf")
        ),
        lambda: minutes_services.minutes_attachment_remove(
            meeting=stale, by=tree.secretary, attachment_id=kept.pk
        ),
        lambda: services.meeting_record_offline(
            meeting=stale,
            by=tree.secretary,
            present_user_ids=[tree.office.user.pk],
            minutes="<p>改</p>",
        ),
    ]
    for attempt in attempts:
        with pytest.raises(ValidationError, match="confirmed"):
            attempt()
    stored = fresh(meeting)
    assert stored.minutes == "<p>纪要</p>" and not stored.held_offline and not stored.sign_in_sheet
    assert list(MeetingAttachment.objects.values_list("pk", flat=True)) == [kept.pk]
    assert not Attendance.objects.filter(meeting=meeting, user=tree.office.user).exists()
    assert stored_files() == files_before


# --- attachments and the sign-in sheet ------------------------------------------------------


def test_attachments_are_checked_and_removed_after_commit(tree, held, committed):
    meeting = held()
    attachment = minutes_services.minutes_attachment_add(
        meeting=meeting, by=tree.member.user, file=pdf(), title=""
    )
    assert attachment.title == "会议纪要" and attachment.file.name.endswith(".pdf")
    assert len(stored_files()) == 1
    with committed():
        minutes_services.minutes_attachment_remove(
            meeting=meeting, by=tree.member.user, attachment_id=attachment.pk
        )
    assert not MeetingAttachment.objects.exists() and stored_files() == []
    with pytest.raises(ValidationError, match="does not exist"):
        minutes_services.minutes_attachment_remove(
            meeting=meeting, by=tree.member.user, attachment_id=attachment.pk
        )


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (lambda: pdf("报告.pdf", EXE), "not accepted"),
        (lambda: pdf("报告.pdf", b"%PDF-1.7\n<html><script>x</script>"), "damaged"),
        (lambda: pdf("签到.svg", SVG), "not accepted"),
        (lambda: pdf("报告.exe", MINIMAL_PDF), "not accepted"),
        (lambda: pdf("大文件.pdf", MINIMAL_PDF + b"x" * 2048), "too large"),
    ],
)
def test_fake_or_oversized_attachments_are_refused(tree, held, settings, upload, message):
    settings.NETBRANCH_MAX_DOCUMENT_BYTES = 1024
    meeting = held()
    with pytest.raises(ValidationError, match=message) as error:
        minutes_services.minutes_attachment_add(meeting=meeting, by=tree.secretary, file=upload())
    assert "file" in error.value.message_dict
    assert not MeetingAttachment.objects.exists() and stored_files() == []


def test_a_sign_in_sheet_with_the_minutes(tree, held):
    meeting = held()
    minutes_services.minutes_save(
        meeting=meeting, by=tree.member.user, minutes="<p>纪要</p>", sign_in_sheet=png()
    )
    stored = fresh(meeting)
    assert stored.sign_in_sheet.name.startswith("meetings/sheets/")
    assert stored.sign_in_sheet.name.endswith(".png") and "签到表" not in stored.sign_in_sheet.name  # fmt: skip
    with pytest.raises(ValidationError, match="SVG"):
        minutes_services.minutes_save(
            meeting=meeting,
            by=tree.member.user,
            minutes="<p>改</p>",
            sign_in_sheet=SimpleUploadedFile("a.svg", SVG),
        )
    assert fresh(meeting).minutes == "<p>纪要</p>"
    assert fresh(meeting).sign_in_sheet.name == stored.sign_in_sheet.name


# --- the offline entry ----------------------------------------------------------------------


def test_offline_entry_with_minutes_and_a_photo(tree, make_meeting, committed):
    start = timezone.now() - timedelta(days=3)
    meeting = make_meeting(starts_at=start, kind=Meeting.Kind.PARTY_LESSON)  # never announced
    present = [tree.member.user.pk, tree.office.user.pk]
    with committed():
        services.meeting_record_offline(
            meeting=meeting,
            by=tree.secretary,
            present_user_ids=present,
            minutes=HOSTILE,
            sign_in_sheet=png(size=(600, 400)),
        )
    stored = fresh(meeting)
    assert (stored.status, stored.held_offline) == (Meeting.Status.HELD, True)
    assert stored.entered_at is not None and stored.minutes_written_by == tree.secretary
    assert "议程一" in stored.minutes and "<script" not in stored.minutes
    assert "onerror" not in stored.minutes
    assert stored.sign_in_sheet.name.endswith(".png")
    assert set(
        Attendance.objects.filter(meeting=meeting, signed_in_at=start).values_list(
            "user", flat=True
        )
    ) == set(present)
    old_sheet = stored.sign_in_sheet.name.rsplit("/", 1)[-1]
    old_stem = old_sheet.rsplit(".", 1)[0]
    assert {p.name for p in stored_files()} == {old_sheet, f"{old_stem}.w480.webp"}
    # Entered again (a correction before confirmation): a new photo replaces the old one and
    # the old one goes with its rendition.
    with committed():
        services.meeting_record_offline(
            meeting=meeting, by=tree.secretary, present_user_ids=present, sign_in_sheet=png()
        )
    new_sheet = fresh(meeting).sign_in_sheet.name.rsplit("/", 1)[-1]
    assert new_sheet != old_sheet
    assert [p.name for p in stored_files()] == [new_sheet]
    assert fresh(meeting).minutes == stored.minutes  # minutes not given: kept
    assert TimelineEntry.objects.filter(kind="meeting_held").count() == 1


def test_offline_entry_refuses_a_fake_photo_and_changes_nothing(tree, make_meeting):
    meeting = make_meeting(starts_at=timezone.now() - timedelta(days=3))
    with pytest.raises(ValidationError) as error:
        services.meeting_record_offline(
            meeting=meeting,
            by=tree.secretary,
            present_user_ids=[tree.member.user.pk],
            sign_in_sheet=SimpleUploadedFile("sheet.jpg", EXE),
        )
    assert "sign_in_sheet" in error.value.message_dict
    assert fresh(meeting).status == Meeting.Status.PLANNED
    assert not Attendance.objects.exists() and stored_files() == []


# --- the pages ------------------------------------------------------------------------------


def minutes_url(meeting):
    return reverse("meetings:minutes", args=[meeting.pk])


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("member", 200),  # the recorder
        ("secretary", 200),
        ("reviewer", 200),
        ("admin", 200),
        ("office", 403),  # expected, sees the meeting, does not keep its minutes
        ("secretary2", 404),
        ("sibling_member", 404),
        ("outsider", 404),
    ],
)
def test_minutes_page_permissions(client, tree, held, who, status):
    meeting = held()
    user = getattr(tree, who)
    client.force_login(getattr(user, "user", user))
    assert client.get(minutes_url(meeting)).status_code == status
    response = client.post(minutes_url(meeting), {"minutes": "<p>改</p>"})
    assert response.status_code == (302 if status == 200 else status)
    assert (fresh(meeting).minutes == "<p>改</p>") is (status == 200)


def test_minutes_pages_need_a_login(client, held):
    meeting = held()
    response = client.get(minutes_url(meeting))
    assert response.status_code == 302 and "login" in response.url
    assert client.get(reverse("meetings:minutes", args=[999_999])).status_code == 302


def test_unknown_meeting_is_404(client, tree):
    client.force_login(tree.secretary)
    assert client.get(reverse("meetings:minutes", args=[999_999])).status_code == 404
    assert client.post(reverse("meetings:minutes_confirm", args=[999_999])).status_code == 404


def test_the_editor_offers_picture_upload_only_to_staff(client, tree, held):
    meeting = held()

    def toolbar(user):
        client.force_login(user)
        page = client.get(minutes_url(meeting)).content.decode()
        config = re.search(r'<script id="id_minutes_script" type="application/json">(.*?)</script>', page)  # fmt: skip
        assert config, "the CKEditor config is on the page"
        assert "django_ckeditor_5/dist/bundle.js" in page
        return json.loads(config.group(1))["toolbar"]["items"]

    assert "imageUpload" not in toolbar(tree.member.user)  # the recorder, not staff
    assert "imageUpload" in toolbar(tree.secretary)


def test_write_and_confirm_through_the_pages(client, tree, held):
    meeting = held()
    client.force_login(tree.member.user)
    response = client.post(minutes_url(meeting), {"minutes": HOSTILE}, follow=True)
    assert "The minutes are saved." in response.content.decode()
    assert "<script" not in fresh(meeting).minutes
    # The recorder cannot confirm: a message, nothing confirmed.
    response = client.post(reverse("meetings:minutes_confirm", args=[meeting.pk]), follow=True)
    assert "Only the secretary confirms the minutes." in response.content.decode()
    assert fresh(meeting).minutes_confirmed_at is None
    client.force_login(tree.secretary)
    page = client.get(minutes_url(meeting)).content.decode()
    assert reverse("meetings:minutes_confirm", args=[meeting.pk]) in page
    client.post(reverse("meetings:minutes_confirm", args=[meeting.pk]))
    assert fresh(meeting).minutes_confirmed_by == tree.secretary
    # Confirmed: the page shows them read-only, a stale form's POST changes nothing.
    page = client.get(minutes_url(meeting)).content.decode()
    assert 'name="minutes"' not in page and "read-only" in page
    response = client.post(minutes_url(meeting), {"minutes": "<p>改</p>"}, follow=True)
    assert response.redirect_chain == [(minutes_url(meeting), 302)]
    assert "can no longer be changed" in response.content.decode()
    assert "改" not in fresh(meeting).minutes
    response = client.post(
        reverse("meetings:minutes_attach", args=[meeting.pk]), {"file": pdf()}, follow=True
    )
    assert "can no longer be changed" in response.content.decode()
    assert not MeetingAttachment.objects.exists()


def test_attachment_upload_through_the_page(client, tree, held):
    meeting = held()
    client.force_login(tree.member.user)
    url = reverse("meetings:minutes_attach", args=[meeting.pk])
    response = client.post(url, {"file": pdf("报告.pdf", EXE), "title": "假"}, follow=True)
    assert "Files ending in" in response.content.decode() or "not accepted" in response.content.decode()  # fmt: skip
    assert not MeetingAttachment.objects.exists() and stored_files() == []
    client.post(url, {"file": pdf(), "title": "=cmd|' /C calc'!A0"})
    attachment = MeetingAttachment.objects.get()
    page = client.get(minutes_url(meeting)).content.decode()
    assert attachment.file.url in page
    # Another branch's secretary cannot add or remove.
    client.force_login(tree.secretary2)
    assert client.post(url, {"file": pdf()}).status_code == 404
    remove = reverse("meetings:minutes_detach", args=[meeting.pk, attachment.pk])
    assert client.post(remove).status_code == 404
    client.force_login(tree.member.user)
    client.post(remove)
    assert not MeetingAttachment.objects.exists()


def test_mark_held_through_the_page(client, tree, started):
    meeting = started()
    url = reverse("meetings:mark_held", args=[meeting.pk])
    client.force_login(tree.office.user)
    assert client.post(url).status_code == 403
    client.force_login(tree.member.user)
    assert client.get(url).status_code == 405  # GET never writes
    response = client.post(url, {"next": "https://evil.example/"})
    assert response.status_code == 302 and response.url == minutes_url(meeting)
    assert fresh(meeting).status == Meeting.Status.HELD


def test_offline_entry_page(client, tree, make_meeting):
    meeting = make_meeting(starts_at=timezone.now() - timedelta(days=1), recorder=tree.member.user)
    url = reverse("meetings:offline", args=[meeting.pk])
    client.force_login(tree.secretary2)
    assert client.get(url).status_code == 404
    client.force_login(tree.member.user)  # the recorder
    page = client.get(url).content.decode()
    assert page.count('name="present"') == 3  # member, office, secretary are expected
    response = client.post(
        url,
        {"present": [tree.office.user.pk], "minutes": "<p>离线</p>", "sign_in_sheet": png()},
    )
    assert response.status_code == 302
    stored = fresh(meeting)
    assert stored.held_offline and stored.minutes == "<p>离线</p>" and stored.sign_in_sheet
    # An image that is not one: a form error, nothing changed.
    response = client.post(
        url,
        {
            "present": [tree.member.user.pk],
            "minutes": "<p>改</p>",
            "sign_in_sheet": SimpleUploadedFile("s.png", b"not an image"),
        },
    )
    assert response.status_code == 200 and "sign_in_sheet" in response.context["form"].errors
    assert fresh(meeting).minutes == "<p>离线</p>"
    # Someone not expected: refused by the form.
    response = client.post(url, {"present": [tree.sibling_member.user.pk]})
    assert response.status_code == 200 and "present" in response.context["form"].errors


# --- the block on the meeting page ----------------------------------------------------------

BLOCK = Template("{% load meetings_minutes %}{% meeting_minutes meeting %}")


def render_block(meeting, user) -> str:
    request = RequestFactory().get("/meetings/1/")
    request.user = user
    meeting = Meeting.objects.select_related("organization").get(pk=meeting.pk)
    return BLOCK.render(Context({"meeting": meeting, "request": request, "user": user}))


def test_the_block_shows_confirmed_minutes_to_attendees_only(tree, held):
    meeting = held()
    minutes_services.minutes_save(meeting=meeting, by=tree.member.user, minutes="<p>草稿纪要</p>")
    minutes_services.minutes_attachment_add(meeting=meeting, by=tree.member.user, file=pdf())
    draft_for = {
        "member": True,  # the recorder
        "secretary": True,
        "office": False,
        "sibling_member": False,
        "secretary2": False,
    }
    for who, sees in draft_for.items():
        user = getattr(tree, who)
        html = render_block(meeting, getattr(user, "user", user))
        assert ("草稿纪要" in html) is sees, who
        assert ("会议纪要" in html) is sees, who  # the attachment
    html = render_block(meeting, tree.secretary)
    assert "Confirm the minutes" in html and "Edit the minutes" in html
    html = render_block(meeting, tree.member.user)
    assert "Confirm the minutes" not in html and "Edit the minutes" in html

    minutes_services.minutes_confirm(meeting=meeting, by=tree.secretary)
    confirmed_for = {"member": True, "office": True, "sibling_member": False, "secretary2": False}
    for who, sees in confirmed_for.items():
        user = getattr(tree, who)
        html = render_block(meeting, getattr(user, "user", user))
        assert ("草稿纪要" in html) is sees, who
    html = render_block(meeting, tree.secretary)
    assert "Confirm the minutes" not in html and "Edit the minutes" not in html


def test_the_block_offers_mark_held_once_started(tree, started, make_meeting):
    meeting = started()
    assert "Mark as held" in render_block(meeting, tree.member.user)
    assert "Mark as held" not in render_block(meeting, tree.office.user)
    assert "Mark as held" not in render_block(make_meeting(publish=True), tree.secretary)


def test_the_block_costs_a_fixed_number_of_queries(tree, held):
    small, big = held(), held()
    for meeting, files in ((small, 1), (big, 12)):
        minutes_services.minutes_save(meeting=meeting, by=tree.member.user, minutes="<p>纪要</p>")
        for i in range(files):
            minutes_services.minutes_attachment_add(
                meeting=meeting, by=tree.member.user, file=pdf(f"附件{i}.pdf")
            )
        minutes_services.minutes_confirm(meeting=meeting, by=tree.secretary)
    counts = {}
    for label, meeting in (("small", small), ("big", big)):
        user = type(tree.office.user).objects.get(pk=tree.office.user.pk)
        loaded = Meeting.objects.select_related("organization").get(pk=meeting.pk)
        request = RequestFactory().get("/")
        request.user = user
        with CaptureQueriesContext(connection) as queries:
            html = BLOCK.render(Context({"meeting": loaded, "request": request, "user": user}))
        assert "附件0" in html
        counts[label] = len(queries)
    assert counts["small"] == counts["big"] <= 5, counts


def test_confirmed_minutes_of_an_offline_meeting_reach_its_attendees(tree, make_meeting):
    meeting = make_meeting(starts_at=timezone.now() - timedelta(days=2))  # never announced
    services.meeting_record_offline(
        meeting=meeting, by=tree.secretary, present_user_ids=[], minutes="<p>离线纪要</p>"
    )
    assert "离线纪要" not in render_block(meeting, tree.office.user)  # not confirmed yet
    minutes_services.minutes_confirm(meeting=meeting, by=tree.secretary)
    html = render_block(meeting, tree.office.user)
    assert "离线纪要" in html and "held offline" in html
    assert "离线纪要" not in render_block(meeting, tree.sibling_member.user)


# --- really concurrent (PostgreSQL) ---------------------------------------------------------


@pytest.mark.django_db(transaction=True)
class TestConcurrency:
    @pytest.fixture(autouse=True)
    def _postgres(self, require_postgres):
        pass

    def test_a_save_waiting_on_a_confirmation_is_refused(self, tree, held):
        meeting = held()
        minutes_services.minutes_save(meeting=meeting, by=tree.member.user, minutes="<p>纪要</p>")
        stale = fresh(meeting)
        confirmed = threading.Event()
        results = {}

        def confirm_slowly():
            try:
                with transaction.atomic():
                    minutes_services.minutes_confirm(meeting=meeting, by=tree.secretary)
                    confirmed.set()
                    time.sleep(0.5)  # the row stays locked: the save below has to wait
            finally:
                connection.close()

        def save_meanwhile():
            try:
                confirmed.wait(5)
                minutes_services.minutes_save(
                    meeting=stale, by=tree.member.user, minutes="<p>改</p>"
                )
                results["save"] = "saved"
            except Exception as exc:
                results["save"] = exc
            finally:
                connection.close()

        threads = [threading.Thread(target=confirm_slowly), threading.Thread(target=save_meanwhile)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert isinstance(results["save"], ValidationError), results
        stored = fresh(meeting)
        assert stored.minutes == "<p>纪要</p>" and stored.minutes_confirmed_at is not None

    def test_a_double_click_on_confirm_confirms_once(self, tree, held):
        meeting = held()
        minutes_services.minutes_save(meeting=meeting, by=tree.member.user, minutes="<p>纪要</p>")
        results = race(lambda: minutes_services.minutes_confirm(meeting=meeting, by=tree.secretary), n=3)  # fmt: skip
        assert not [r for r in results if isinstance(r, Exception)], results
        assert len({r.minutes_confirmed_at for r in results}) == 1
