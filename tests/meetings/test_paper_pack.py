"""Paper packs for sites without network: the pack (HTML and the server's PDF), its scope and
query count, the short code, and the entry of the paper sheet by that code (validation, scope,
double submits, refused photos, reflections once)."""

import io
from datetime import timedelta

import pypdf
import pytest
from django.apps import apps as django_apps
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from branches.models import ProjectSite
from lessons import services as lesson_services
from lessons.models import StudyPlanItem
from meetings import services
from meetings.models import SHORT_CODE_ALPHABET, SHORT_CODE_LENGTH, Attendance, Meeting, Reflection
from meetings.services.packs import meeting_ensure_short_code
from tests import factories
from tests.lessons.conftest import make_plan  # noqa: F401 - the fixture, reused here

pytestmark = pytest.mark.django_db

LESSON_TEXT = "那曲项目部的党员在帐篷里坚持学习党章"


def jpeg(size=(80, 60), color=(180, 40, 40)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="JPEG")
    return buffer.getvalue()


def upload(name="sheet.jpg", data=None, content_type="image/jpeg"):
    return SimpleUploadedFile(name, data if data is not None else jpeg(), content_type=content_type)


def media_files(root) -> list:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


@pytest.fixture
def pack(tree, make_lesson, make_plan, make_meeting, committed):  # noqa: F811
    """tree.branch runs a site without coverage; a published plan with a lesson whose text
    has a picture; a Party lesson held there two days ago, not entered yet."""
    ProjectSite.objects.filter(pk=tree.site.pk).update(coverage=ProjectSite.Coverage.NONE)
    picture = default_storage.save("lessons/body/naqu.jpg", ContentFile(jpeg((320, 200))))
    lesson = make_lesson(
        publish=True,
        title="高原先锋",
        body=f'<p>{LESSON_TEXT}</p><figure class="image"><img src="/media/{picture}" alt="营地"></figure>',
    )
    plan = make_plan(items=[lesson])
    with committed():
        lesson_services.plan_publish(plan=plan, by=tree.admin)
    starts = timezone.now() - timedelta(days=2)
    meeting = make_meeting(
        kind=Meeting.Kind.PARTY_LESSON,
        title="那曲项目部党课",
        starts_at=starts,
        ends_at=starts + timedelta(hours=2),
        agenda="<p>学习安全生产责任制</p>",
    )
    return meeting


def pack_url(meeting, pdf=False) -> str:
    name = "meetings:pack_pdf" if pdf else "meetings:pack"
    return f"{reverse(name, args=[meeting.organization_id])}?meeting={meeting.pk}"


# --- the short code -------------------------------------------------------------------------


def test_every_meeting_saved_gets_a_unique_short_code_without_look_alikes(pack, make_meeting):
    other = make_meeting()
    codes = {pack.short_code, other.short_code}
    assert len(codes) == 2
    for code in codes:
        assert len(code) == SHORT_CODE_LENGTH and set(code) <= set(SHORT_CODE_ALPHABET)
        assert not set(code) & set("01OI")


def test_rows_made_in_bulk_get_a_code_when_printed_and_the_migration_backfills(tree, pack):
    start = timezone.now() + timedelta(days=3)
    made = Meeting.objects.bulk_create(
        Meeting(organization=tree.branch, kind=Meeting.Kind.THEMED_DAY, title=f"批量{i}",
                starts_at=start, ends_at=start + timedelta(hours=1))
        for i in range(3)
    )  # fmt: skip
    assert Meeting.objects.filter(short_code=None).count() == 3
    code = meeting_ensure_short_code(meeting=made[0])
    assert Meeting.objects.get(pk=made[0].pk).short_code == code
    assert meeting_ensure_short_code(meeting=Meeting.objects.get(pk=made[0].pk)) == code

    from importlib import import_module

    migration = import_module("meetings.migrations.0004_short_code")
    migration.backfill_short_codes(django_apps, None)
    codes = list(Meeting.objects.values_list("short_code", flat=True))
    assert None not in codes and len(set(codes)) == len(codes)


# --- the pack -------------------------------------------------------------------------------


def test_the_pdf_has_the_lessons_chinese_text_as_text_its_picture_and_the_short_code(client, tree, pack):  # fmt: skip
    client.force_login(tree.secretary)
    response = client.get(pack_url(pack, pdf=True))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    reader = pypdf.PdfReader(io.BytesIO(response.content))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert LESSON_TEXT in text  # real text in Noto Sans CJK, not boxes
    assert pack.short_code in text
    assert "学习安全生产责任制" in text  # the agenda
    assert tree.member.real_name in text  # the sign-in sheet
    assert sum(len(page.images) for page in reader.pages) >= 1  # the lesson's picture
    fonts = {
        str(font["/BaseFont"])
        for page in reader.pages
        for font in page["/Resources"]["/Font"].values()
    }
    assert any("NotoSansCJKSC" in f.replace("-", "") for f in fonts), fonts


def test_the_pdf_never_fetches_over_the_network(tree, pack):
    from meetings.pdf import BASE_URL, LocalFilesFetcher

    fetcher = LocalFilesFetcher()
    for url in ("http://example.com/a.jpg", "https://example.com/media/a.jpg", "file:///etc/passwd",
                f"{BASE_URL}media/../../etc/passwd", f"{BASE_URL}other/a.jpg"):  # fmt: skip
        with pytest.raises((ValueError, FileNotFoundError)):
            fetcher.fetch(url)
    assert fetcher.fetch(f"{BASE_URL}static/css/print-pack.css").read().startswith(b"/*")


def test_the_html_pack_prints_notice_plan_and_one_sheet_line_per_member(client, tree, pack):
    client.force_login(tree.secretary)
    response = client.get(pack_url(pack))
    assert response.status_code == 200
    html = response.content.decode()
    assert LESSON_TEXT in html and "<img" in html and 'loading="lazy"' not in html
    assert pack.short_code in html and "print-pack.css" in html
    assert reverse("meetings:offline_code") in html
    from meetings.selectors import expected_attendees

    assert html.count('<td class="sign">') == expected_attendees(pack).count()


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("member", 404),
        ("secretary2", 404),
        ("outsider", 404),
        ("secretary", 200),
        ("reviewer", 200),
        ("admin", 200),
    ],
)
def test_only_managers_of_the_organisation_or_above_open_its_pack(client, tree, pack, who, status):
    user = getattr(tree, who)
    client.force_login(getattr(user, "user", user))
    assert client.get(pack_url(pack)).status_code == status
    assert client.get(reverse("meetings:pack", args=[tree.branch.pk])).status_code == status


def test_a_meeting_of_another_organisation_is_not_in_the_pack(client, tree, pack, make_meeting):
    other = make_meeting(org=tree.sibling, by=tree.secretary2)
    client.force_login(tree.secretary)
    url = f"{reverse('meetings:pack', args=[tree.branch.pk])}?meeting={other.pk}"
    assert client.get(url).status_code == 404
    assert client.get(f"{reverse('meetings:pack', args=[tree.branch.pk])}?meeting=x").status_code == 404  # fmt: skip


def test_the_pack_costs_the_same_queries_for_3_or_30_members_and_lessons(
    client, tree, pack, make_lesson, django_assert_num_queries, django_assert_max_num_queries
):
    client.force_login(tree.secretary)
    client.get(pack_url(pack))  # the session, the code
    with django_assert_max_num_queries(12) as small:
        assert client.get(pack_url(pack)).status_code == 200
    plan = StudyPlanItem.objects.get(lesson__title="高原先锋").plan
    for _i in range(27):
        factories.MemberFactory(branch=tree.branch, project_site=tree.site)
    for order in range(2, 12):
        StudyPlanItem.objects.create(plan=plan, order=order, lesson=make_lesson(publish=True))
    with django_assert_num_queries(len(small.captured_queries)):
        response = client.get(pack_url(pack))
    assert response.content.decode().count('<td class="sign">') >= 30
    print("pack page queries:", len(small.captured_queries))


# --- the entry of the paper sheet -----------------------------------------------------------


def code_url(code: str) -> str:
    return f"{reverse('meetings:offline_code')}?code={code}"


UNKNOWN = "No meeting you keep the minutes of has this code"


def test_a_good_code_typed_loosely_opens_the_sheet(client, tree, pack):
    client.force_login(tree.secretary)
    typed = f" {pack.short_code[:3].lower()}-{pack.short_code[3:].lower()} "
    response = client.get(reverse("meetings:offline_code"), {"code": typed})
    assert response.status_code == 302
    assert response["Location"] == reverse("meetings:offline_sheet", args=[pack.short_code])
    assert client.get(response["Location"]).status_code == 200


def test_an_unknown_code_and_another_branchs_code_get_the_same_error(client, tree, pack, make_meeting):  # fmt: skip
    starts = timezone.now() - timedelta(days=1)
    theirs = make_meeting(org=tree.sibling, by=tree.secretary2, starts_at=starts, ends_at=starts + timedelta(hours=1))  # fmt: skip
    client.force_login(tree.secretary)
    unknown = client.get(code_url("ZZZZZZ" if pack.short_code != "ZZZZZZ" else "YYYYYY"))
    other = client.get(code_url(theirs.short_code))
    assert unknown.status_code == other.status_code == 200
    assert UNKNOWN in unknown.content.decode() and UNKNOWN in other.content.decode()
    assert theirs.title not in other.content.decode()
    assert (
        client.get(reverse("meetings:offline_sheet", args=[theirs.short_code])).status_code == 404
    )
    assert client.get(reverse("meetings:offline_sheet", args=["ZZZZZ9"])).status_code == 404
    client.force_login(tree.member.user)
    assert UNKNOWN in client.get(code_url(pack.short_code)).content.decode()
    assert client.get(reverse("meetings:offline_sheet", args=[pack.short_code])).status_code == 404


def test_a_confirmed_or_future_meeting_is_refused_with_a_message(client, tree, pack, make_meeting):
    client.force_login(tree.secretary)
    later = make_meeting()
    response = client.get(code_url(later.short_code))
    assert "only after it took place" in response.content.decode()
    services.meeting_record_offline(meeting=pack, by=tree.secretary, present_user_ids=[tree.member.user.pk], minutes="<p>记录</p>")  # fmt: skip
    from meetings.services import minutes as minutes_services

    minutes_services.minutes_confirm(meeting=pack, by=tree.secretary)
    response = client.get(code_url(pack.short_code))
    assert "its sheet can no longer be entered" in response.content.decode()
    response = client.post(reverse("meetings:offline_sheet", args=[pack.short_code]), {"present": [tree.office.user.pk]})  # fmt: skip
    assert response.status_code == 302
    assert not Attendance.objects.filter(meeting=pack, user=tree.office.user).exists()


def sheet_post(tree, pack, **extra):
    data = {
        "present": [tree.member.user.pk, tree.office.user.pk],
        "minutes": "<p>在板房里学习了安全生产责任制。</p>",
        f"reflection_{tree.member.user.pk}": "条件再苦，组织生活不能少。",
        f"reflection_photo_{tree.office.user.pk}": upload("office.jpg"),
        "sign_in_sheet": upload(),
    }
    data.update(extra)
    return data


def test_the_sheet_enters_the_meeting_held_offline_with_each_reflection_once(client, tree, pack):
    client.force_login(tree.secretary)
    url = reverse("meetings:offline_sheet", args=[pack.short_code])
    for _attempt in range(2):  # a double submit changes nothing more
        response = client.post(url, sheet_post(tree, pack))
        assert response.status_code == 302, response.content.decode()[:2000]
    pack.refresh_from_db()
    assert pack.status == Meeting.Status.HELD and pack.held_offline and pack.entered_at
    assert pack.sign_in_sheet and "板房" in pack.minutes
    present = Attendance.objects.filter(meeting=pack, signed_in_at__isnull=False)
    assert set(present.values_list("user_id", flat=True)) == {tree.member.user.pk, tree.office.user.pk}  # fmt: skip
    reflections = Reflection.objects.filter(meeting=pack)
    assert reflections.count() == 2
    typed = reflections.get(author=tree.member.user)
    assert typed.body == "条件再苦，组织生活不能少。" and typed.entered_by == tree.secretary
    photographed = reflections.get(author=tree.office.user)
    assert photographed.body == "" and photographed.photo.name.endswith(".jpg")
    assert photographed.photo.storage.exists(photographed.photo.name)
    # The reflections show once on the meeting's reflection list.
    page = client.get(reverse("meetings:reflections", args=[pack.pk])).content.decode()
    assert page.count("条件再苦，组织生活不能少。") == 1


def test_a_members_own_reflection_is_kept(client, tree, pack):
    services_reflections = __import__("meetings.services.reflections", fromlist=["x"])
    services_reflections.reflection_write(meeting=pack, author=tree.member.user, body="我自己写的心得")  # fmt: skip
    client.force_login(tree.secretary)
    client.post(reverse("meetings:offline_sheet", args=[pack.short_code]), sheet_post(tree, pack))
    assert Reflection.objects.get(meeting=pack, author=tree.member.user).body == "我自己写的心得"
    assert Reflection.objects.filter(meeting=pack).count() == 2


@pytest.mark.parametrize("bad", ["fake", "oversized"])
def test_a_fake_or_oversized_photo_is_refused_and_nothing_is_stored(client, tree, pack, settings, bad):  # fmt: skip
    if bad == "fake":
        photo = upload("office.jpg", b"<svg onload=alert(1)></svg>")
    else:
        settings.NETBRANCH_MAX_IMAGE_BYTES = 1000
        photo = upload("office.jpg", jpeg((900, 900)))
    before = media_files(settings.MEDIA_ROOT)
    client.force_login(tree.secretary)
    data = sheet_post(tree, pack, **{f"reflection_photo_{tree.office.user.pk}": photo})
    data.pop("sign_in_sheet")
    response = client.post(reverse("meetings:offline_sheet", args=[pack.short_code]), data)
    assert response.status_code == 200
    assert response.context["form"].errors.get(f"reflection_photo_{tree.office.user.pk}")
    pack.refresh_from_db()
    assert pack.status == Meeting.Status.PLANNED and not pack.held_offline
    assert not Reflection.objects.filter(meeting=pack).exists()
    assert not Attendance.objects.filter(meeting=pack).exists()
    assert media_files(settings.MEDIA_ROOT) == before


def test_a_reflection_for_someone_not_ticked_present_is_refused(client, tree, pack):
    client.force_login(tree.secretary)
    data = sheet_post(tree, pack, present=[tree.member.user.pk])
    data.pop("sign_in_sheet")
    response = client.post(reverse("meetings:offline_sheet", args=[pack.short_code]), data)
    assert response.status_code == 200
    assert "ticked present only" in response.content.decode()
    assert not Reflection.objects.filter(meeting=pack).exists()
    pack.refresh_from_db()
    assert pack.status == Meeting.Status.PLANNED


def test_a_kind_without_reflections_has_no_reflection_boxes(client, tree, make_meeting):
    starts = timezone.now() - timedelta(days=1)
    meeting = make_meeting(kind=Meeting.Kind.OTHER, starts_at=starts, ends_at=starts + timedelta(hours=1))  # fmt: skip
    client.force_login(tree.secretary)
    url = reverse("meetings:offline_sheet", args=[meeting.short_code])
    assert "reflection_" not in client.get(url).content.decode()
    response = client.post(url, {"present": [tree.member.user.pk]})
    assert response.status_code == 302
    meeting.refresh_from_db()
    assert meeting.held_offline


# --- links ----------------------------------------------------------------------------------


def test_the_home_worklist_links_the_pack_of_a_site_without_coverage(client, tree, pack):
    client.force_login(tree.secretary)
    html = client.get(reverse("home")).content.decode()
    assert reverse("meetings:pack", args=[tree.branch.pk]) in html
    client.force_login(tree.secretary2)
    assert reverse("meetings:pack", args=[tree.branch.pk]) not in client.get(reverse("home")).content.decode()  # fmt: skip


def test_the_hub_and_the_meeting_page_link_the_pack(client, tree, pack):
    client.force_login(tree.secretary)
    hub = client.get(reverse("meetings:offline_code")).content.decode()
    assert reverse("meetings:pack", args=[tree.branch.pk]) in hub
    detail = client.get(reverse("meetings:detail", args=[pack.pk])).content.decode()
    assert pack_url(pack).replace("&", "&amp;") in detail or pack_url(pack) in detail
    assert reverse("meetings:offline_code") in client.get(reverse("meetings:list")).content.decode()
