"""core.uploads for videos: validate_video recognises MP4 and WebM by their header (never
reading the file whole), checks the name agrees and the size limit; CheckedVideoField puts it
into model forms and the admin."""

import io

import pytest
from django import forms
from django.contrib.admin.widgets import AdminFileWidget
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from core.uploads import CheckedVideoField, CheckedVideoFormField, validate_video
from lessons.models import Lesson
from tests import factories
from tests.core.media_helpers import ELF, EXE, HTML, MINIMAL_PDF, OLE2, image_bytes, stored_files

# The smallest headers the sniffer accepts: an ISO BMFF box "ftyp" at offset 4, and an EBML
# header declaring the "webm" doctype.
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 200
WEBM = (
    b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01\x42\xf2\x81\x04\x42\xf3\x81\x08"
    b"\x42\x82\x84webm\x42\x87\x81\x04\x42\x85\x81\x02"
) + b"\x00" * 200
MATROSKA = WEBM.replace(b"\x84webm", b"\x88matroska")
ZIP = b"PK\x03\x04" + b"\x00" * 200


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content)


def refusal(file) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        validate_video(file)
    return info.value


@pytest.mark.parametrize(
    ("name", "content", "extension"),
    [
        ("党课.mp4", MP4, "mp4"),
        ("LESSON.MP4", MP4, "mp4"),
        ("clip.m4v", MP4, "m4v"),
        ("党课.webm", WEBM, "webm"),
    ],
)
def test_accepted_videos(name, content, extension):
    file = upload(name, content)
    assert validate_video(file) == extension
    assert file.tell() == 0  # left rewound for storage


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("setup.mp4", EXE),  # a renamed executable
        ("setup.webm", ELF),
        ("rules.mp4", MINIMAL_PDF),  # a renamed PDF
        ("old.mp4", OLE2),
        ("page.mp4", HTML),
        ("photo.mp4", image_bytes("PNG")),
        ("archive.mp4", ZIP),
        ("film.webm", MATROSKA),  # Matroska, but not WebM
        ("short.mp4", MP4[:8]),  # "ftyp" without a brand
    ],
)
def test_other_files_are_refused_by_their_content(name, content):
    error = refusal(upload(name, content))
    assert error.code == "unknown"
    assert "MP4 or WebM" in error.messages[0]


@pytest.mark.parametrize(
    ("name", "content", "extension"),
    [
        ("党课.webm", MP4, "webm"),
        ("党课.mp4", WEBM, "mp4"),
        ("党课.exe", MP4, "exe"),
        ("党课.pdf", MP4, "pdf"),
        ("党课.mov", MP4, "mov"),
        ("党课", WEBM, "?"),
    ],
)
def test_the_name_must_agree_with_the_content(name, content, extension):
    error = refusal(upload(name, content))
    assert error.code == "mismatch"
    assert f".{extension}" in error.messages[0]


def test_empty_file_is_refused():
    assert refusal(upload("a.mp4", b"")).code == "empty"


def test_size_limit_from_settings(settings):
    settings.NETBRANCH_MAX_VIDEO_BYTES = 1000
    big = MP4 + b"\x00" * 1000
    error = refusal(upload("big.mp4", big))
    assert error.code == "too_large"
    assert "1000\xa0bytes" in error.messages[0] or "1000 bytes" in error.messages[0]
    assert validate_video(upload("small.mp4", MP4)) == "mp4"
    settings.NETBRANCH_MAX_VIDEO_BYTES = len(big)
    assert validate_video(upload("big.mp4", big)) == "mp4"  # the limit itself is allowed


def test_the_file_is_never_read_whole():
    class Recording(io.BytesIO):
        largest = 0

        def read(self, size=-1):
            type(self).largest = max(type(self).largest, size if size >= 0 else 10**12)
            return super().read(size)

    file = Recording(MP4 + b"\x00" * 100_000)
    file.name, file.size = "a.mp4", len(file.getvalue())
    assert validate_video(file) == "mp4"
    assert 0 < Recording.largest <= 64


# --- the model field in forms and the admin ------------------------------------------------


class LessonVideoForm(forms.ModelForm):
    class Meta:
        model = Lesson
        fields = ["video_file"]


@pytest.fixture
def lesson(db):
    org = factories.OrganizationFactory()
    return Lesson.objects.create(kind=Lesson.Kind.ONLINE, title="视频党课", organization=org)


@pytest.mark.parametrize(
    ("name", "content", "says"),
    [
        ("党课.mp4", EXE, "MP4 or WebM"),
        ("党课.mp4", MINIMAL_PDF, "MP4 or WebM"),
        ("党课.webm", MP4, ".webm"),
    ],
)
def test_model_form_refuses_and_stores_nothing(lesson, name, content, says):
    form = LessonVideoForm(data={}, files={"video_file": upload(name, content)}, instance=lesson)
    assert not form.is_valid()
    assert says in form.errors["video_file"][0]
    assert stored_files() == []
    lesson.refresh_from_db()
    assert not lesson.video_file


def test_model_form_refuses_a_video_over_the_limit(lesson, settings):
    settings.NETBRANCH_MAX_VIDEO_BYTES = 100
    form = LessonVideoForm(data={}, files={"video_file": upload("a.mp4", MP4)}, instance=lesson)
    assert not form.is_valid()
    assert "too large" in form.errors["video_file"][0]
    assert stored_files() == []


def test_model_form_stores_an_accepted_video(lesson):
    form = LessonVideoForm(data={}, files={"video_file": upload("党课.mp4", MP4)}, instance=lesson)
    assert form.is_valid(), form.errors
    form.save()
    lesson.refresh_from_db()
    assert lesson.video_file.name.startswith("lessons/videos/")
    with lesson.video_file.open("rb") as fh:
        assert fh.read() == MP4


def test_video_field_in_forms_and_admin():
    model_field = CheckedVideoField("video_file", upload_to="lessons/videos/")
    for kwargs in ({}, {"widget": AdminFileWidget}):
        field = model_field.formfield(**kwargs)
        assert isinstance(field, CheckedVideoFormField)
        assert "video/mp4" in field.widget.attrs["accept"]
        good = upload("党课.webm", WEBM)
        assert field.clean(good) is good
        with pytest.raises(ValidationError):
            field.clean(upload("党课.mp4", EXE))
    _name, path, _args, kw = model_field.deconstruct()
    assert path == "core.uploads.CheckedVideoField"
    assert kw["max_length"] == 255


@pytest.mark.parametrize("brand", [b"M4A ", b"heic", b"avif"])
def test_iso_media_files_that_are_not_videos_are_refused(brand):
    """Audio (M4A) and still images (HEIC, AVIF) share MP4's container: refused by brand."""
    content = b"\x00\x00\x00\x18ftyp" + brand + b"\x00\x00\x00\x00" + b"\x00" * 64
    with pytest.raises(ValidationError):
        validate_video(upload("clip.mp4", content))
