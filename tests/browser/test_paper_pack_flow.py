"""On a phone: the secretary of a branch running a site without network (the Tibet site) opens
the paper pack from the home worklist, finds the lesson's Chinese text, the meeting's short
code and one sign-in line per expected member; printed (print media), the site's navigation is
hidden and nothing is wider than the page; the PDF holds the same text. After the meeting the
secretary types the code from the sheet (lower case, with a space), ticks two members present,
types one reflection and uploads a photographed one: the meeting is held offline, and the
same form submitted again adds nothing. A wrong code is refused with its message."""

import datetime
import io

import pypdf
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone, translation
from django.utils.translation import gettext
from PIL import Image

from branches.models import ProjectSite
from lessons import services as lesson_services
from lessons.models import StudyPlanItem
from meetings import services
from meetings.models import Attendance, Meeting, Reflection
from meetings.selectors import expected_attendees
from tests.browser.test_login_flow import assert_fits_phone, log_in

pytestmark = pytest.mark.browser

LESSON_TEXT = "海拔四千六百米的那曲项目部坚持学习党章"
REFLECTION = "条件再艰苦，组织生活也不能少。"


def png_bytes(size=(320, 200), color=(179, 18, 27)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return buffer.getvalue()


def tibet_pack(tree) -> Meeting:
    """tree.site runs without coverage; a current published plan with a lesson whose body has
    Chinese text and a picture; a Party lesson of tree.branch starting in two hours."""
    ProjectSite.objects.filter(pk=tree.site.pk).update(
        coverage=ProjectSite.Coverage.NONE, name="那曲项目部", altitude_m=4600
    )
    picture = default_storage.save("lessons/body/naqu.png", ContentFile(png_bytes()))
    lesson = lesson_services.lesson_create(
        by=tree.secretary,
        organization=tree.branch,
        title="高原先锋：在帐篷里学党章",
        body=f'<p>{LESSON_TEXT}</p><figure class="image"><img src="/media/{picture}" alt="营地"></figure>',
    )
    lesson_services.lesson_publish(lesson=lesson, by=tree.secretary)
    today = timezone.localdate()
    plan = lesson_services.plan_save(
        plan=None,
        by=tree.secretary,
        fields={
            "title": "七月学习计划",
            "organization": tree.branch,
            "starts_on": today - datetime.timedelta(days=5),
            "due_on": today + datetime.timedelta(days=25),
        },
    )
    StudyPlanItem.objects.create(plan=plan, order=1, lesson=lesson)
    lesson_services.plan_publish(plan=plan, by=tree.secretary)
    start = timezone.now() + datetime.timedelta(hours=2)
    meeting = services.meeting_create(
        by=tree.secretary,
        organization=tree.branch,
        kind=Meeting.Kind.PARTY_LESSON,
        title="那曲项目部七月党课",
        agenda="<p>学习安全生产责任制。</p>",
        starts_at=start,
        ends_at=start + datetime.timedelta(hours=2),
        place="那曲项目部板房",
        host=tree.secretary,
        recorder=tree.secretary,
    )
    return services.meeting_publish(meeting=meeting, by=tree.secretary)


def widest_elements(page) -> list[str]:
    """Elements whose box reaches past the page's right edge (none on a page that fits)."""
    return page.evaluate(
        """() => {
            const limit = document.documentElement.clientWidth + 1;
            const out = [];
            for (const el of document.querySelectorAll('body *')) {
                const box = el.getBoundingClientRect();
                if (box.width > 0 && box.right > limit) {
                    out.push(`${el.tagName.toLowerCase()}.${el.className} right=${Math.round(box.right)}`);
                }
            }
            return out.slice(0, 10);
        }"""
    )


def zh(text: str) -> str:
    with translation.override("zh-hans"):
        return gettext(text)


def test_secretary_prints_the_pack_then_enters_the_sheet(phone, tree, tmp_path, settings):
    page, log = phone
    meeting = tibet_pack(tree)
    code = meeting.short_code
    expected = list(expected_attendees(meeting).select_related("member"))
    assert len(expected) >= 3

    # The home worklist links the pack of the site without network.
    page.goto("/")
    log_in(page, "secretary")
    page.locator(f".worklist a[href='/meetings/pack/{tree.branch.pk}/']").click()
    page.wait_for_url(f"**/meetings/pack/{tree.branch.pk}/")
    pack = page.locator(".pack")
    assert LESSON_TEXT in pack.inner_text()
    page.wait_for_function(
        "() => [...document.querySelectorAll('.pack img')].every(i => i.complete && i.naturalWidth > 0)"
    )
    assert page.locator(".pack-sheet-section .pack-code").inner_text().strip() == code
    assert meeting.title in page.locator(".pack-notice").inner_text()
    rows = page.locator("table.pack-sheet tbody tr")
    assert rows.count() == len(expected)
    names = rows.locator("td.name").all_inner_texts()
    assert sorted(n.strip() for n in names) == sorted(u.member.real_name for u in expected)
    assert_fits_phone(page)
    page.screenshot(path=str(tmp_path / "pack-360.png"), full_page=True)

    # Printed: no navigation, no tools, nothing wider than the page.
    page.emulate_media(media="print")
    assert not page.locator("header.topbar").is_visible()
    assert not page.locator("header.topbar nav").is_visible()
    assert not page.locator(".pack-tools").is_visible()
    assert page.locator("table.pack-sheet").is_visible()
    assert widest_elements(page) == []
    assert_fits_phone(page)
    page.emulate_media(media="screen")

    # The PDF the server renders has the same Chinese text (as text) and the short code.
    with page.expect_download() as download_info:
        page.locator(".pack-tools a.button").click()
    download = download_info.value
    # Chromium turns the navigation into a download and reports the navigation as aborted.
    pdf_path = f"/meetings/pack/{tree.branch.pk}.pdf"
    log.failed_loads.remove(f"net::ERR_ABORTED GET {pdf_path}")
    assert download.suggested_filename == f"pack-{tree.branch.pk}-{code}.pdf"
    reader = pypdf.PdfReader(download.path())
    text = "\n".join(p.extract_text() for p in reader.pages)
    assert LESSON_TEXT in text
    assert code in text
    assert tree.member.real_name in text

    # The meeting took place at the site; back on the network the secretary enters the sheet.
    start = timezone.now() - datetime.timedelta(hours=3)
    Meeting.objects.filter(pk=meeting.pk).update(
        starts_at=start, ends_at=start + datetime.timedelta(hours=2)
    )
    page.goto("/meetings/offline/")
    wrong = "ZZZZZZ" if code != "ZZZZZZ" else "YYYYYY"
    page.fill("input[name=code]", wrong)
    page.locator("form.form button[type=submit]").click()
    page.wait_for_url(f"**/meetings/offline/?code={wrong}")
    refused = zh("No meeting you keep the minutes of has this code. Check the code on the sheet.")
    assert refused in page.locator("form.form .errorlist").inner_text()
    assert_fits_phone(page)

    page.fill("input[name=code]", f"{code[:3].lower()} {code[3:].lower()}")
    page.locator("form.form button[type=submit]").click()
    page.wait_for_url(f"**/meetings/offline/{code}/")
    assert code in page.locator("main").inner_text()
    assert page.locator("input[name=present]").count() == len(expected)
    assert_fits_phone(page)

    member, office = tree.member.user, tree.office.user
    page.check(f"input[name=present][value='{member.pk}']")
    page.check(f"input[name=present][value='{office.pk}']")
    page.fill(f"textarea[name=reflection_{member.pk}]", REFLECTION)
    photo = tmp_path / "reflection.png"
    photo.write_bytes(png_bytes((400, 300), (240, 240, 230)))
    page.set_input_files(f"input[name=reflection_photo_{office.pk}]", str(photo))
    page.screenshot(path=str(tmp_path / "sheet-360.png"), full_page=True)
    page.locator("form.sheet-form button[type=submit]").click()
    page.wait_for_url(f"**/meetings/{meeting.pk}/minutes/")

    with translation.override("zh-hans"):
        entered = gettext(
            "The sheet is entered: the meeting counts as held offline, %(present)s present, %(written)s reflections entered."
        ) % {"present": 2, "written": 2}
    assert entered in page.locator(".messages .msg-success").inner_text()
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.HELD and meeting.held_offline
    present = Attendance.objects.filter(meeting=meeting, signed_in_at__isnull=False)
    assert set(present.values_list("user_id", flat=True)) == {member.pk, office.pk}
    reflections = Reflection.objects.filter(meeting=meeting)
    assert reflections.count() == 2
    assert reflections.get(author=member).body == REFLECTION
    photographed = reflections.get(author=office)
    assert photographed.photo and photographed.photo.storage.exists(photographed.photo.name)
    assert_fits_phone(page)

    # Back to the form and submitted again: nothing more.
    page.go_back()
    page.wait_for_url(f"**/meetings/offline/{code}/")
    page.locator("form.sheet-form button[type=submit]").click()
    page.wait_for_url(f"**/meetings/{meeting.pk}/minutes/")
    assert Attendance.objects.filter(meeting=meeting, signed_in_at__isnull=False).count() == 2
    assert (
        Attendance.objects.filter(meeting=meeting)
        .exclude(user__in=[member, office])
        .filter(signed_in_at__isnull=False)
        .count()
        == 0
    )
    assert Reflection.objects.filter(meeting=meeting).count() == 2
    assert Reflection.objects.get(meeting=meeting, author=member).body == REFLECTION
    # The browser kept the chosen file: the photo is replaced, the old file deleted.
    again = Reflection.objects.get(meeting=meeting, author=office)
    assert again.photo and again.photo.storage.exists(again.photo.name)
    stored = [p for p in (settings.MEDIA_ROOT / "meetings").rglob("*") if p.is_file()]
    assert len(stored) == 1, stored

    log.assert_clean()
