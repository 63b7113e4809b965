"""core.uploads: what images and documents are refused, what comes out of the accepted ones."""

import io
import re
import zipfile

import pytest
from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AdminFileWidget
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory
from PIL import Image, ImageFile

from branches.models import ProjectSite
from core.images import rendition_name
from core.uploads import (
    CheckedFileField,
    CheckedFileFormField,
    CheckedImageFormField,
    validate_document,
    validate_image,
)
from tests import factories
from tests.core.media_helpers import (
    ELF,
    EXE,
    HTML,
    MINIMAL_PDF,
    OLE2,
    SVG,
    image_bytes,
    ooxml_bytes,
    png_declaring,
    stored_files,
)

ALLOWED_IMAGES = "JPEG, PNG, WebP or GIF"
UUID_NAME = re.compile(r"^[0-9a-f]{32}\.(jpg|png|webp|gif)$")


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content)


def refusal(check, file) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        check(file)
    return info.value


def reopen(cleaned) -> Image.Image:
    cleaned.seek(0)
    return Image.open(io.BytesIO(cleaned.read()))


# --- images: refused ----------------------------------------------------------------------


def test_pillow_is_not_told_to_accept_truncated_images():
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


def test_oversized_image_is_refused(settings):
    settings.NETBRANCH_MAX_IMAGE_BYTES = 1000
    error = refusal(validate_image, upload("big.png", image_bytes("BMP", size=(40, 40))))
    assert error.code == "too_large"
    assert "1000" in error.messages[0] or "KB" in error.messages[0]
    assert "largest file allowed" in error.messages[0]


@pytest.mark.parametrize(
    ("name", "content"),
    [("photo.jpg", EXE), ("photo.jpg", ELF), ("photo.png", HTML), ("photo.gif", b"GIF87a" + EXE)],
)
def test_renamed_executables_and_html_are_refused(name, content):
    error = refusal(validate_image, upload(name, content))
    assert error.code in {"unknown", "markup", "damaged"}
    assert ALLOWED_IMAGES in error.messages[0]


def test_svg_with_script_is_refused_with_a_clear_reason():
    error = refusal(validate_image, upload("logo.svg", SVG))
    assert error.code == "markup"
    assert "SVG" in error.messages[0]
    assert ALLOWED_IMAGES in error.messages[0]
    # Renamed to .png it is still SVG.
    assert refusal(validate_image, upload("logo.png", b"\xef\xbb\xbf  " + SVG)).code == "markup"


@pytest.mark.parametrize("fmt", ["BMP", "TIFF", "ICO"])
def test_other_image_formats_are_refused(fmt):
    error = refusal(validate_image, upload(f"x.{fmt.lower()}", image_bytes(fmt, size=(16, 16))))
    assert error.code == "unknown"
    assert ALLOWED_IMAGES in error.messages[0]


def test_decompression_bomb_made_by_pillow_is_refused():
    # 10,000 x 10,000 one-bit pixels: a 12 KB file that would decode to 100 megapixels.
    out = io.BytesIO()
    Image.new("1", (10_000, 10_000)).save(out, "PNG")
    assert len(out.getvalue()) < 50_000
    error = refusal(validate_image, upload("bomb.png", out.getvalue()))
    assert error.code in {"bomb", "too_many_pixels"}
    assert "40,000,000" in error.messages[0]


def test_png_declaring_an_absurd_size_is_refused():
    error = refusal(validate_image, upload("bomb.png", png_declaring(100_000, 100_000)))
    assert error.code in {"bomb", "too_many_pixels"}


def test_pixel_limit_comes_from_settings(settings):
    settings.NETBRANCH_MAX_IMAGE_PIXELS = 1000
    error = refusal(validate_image, upload("wide.png", image_bytes("PNG", size=(50, 50))))
    assert error.code == "too_many_pixels"
    assert "50 by 50" in error.messages[0]
    assert "1,000" in error.messages[0]


def test_truncated_jpeg_is_refused():
    whole = image_bytes("JPEG", size=(200, 150), quality=95)
    error = refusal(validate_image, upload("cut.jpg", whole[: len(whole) // 2]))
    assert error.code == "damaged"
    assert "damaged or incomplete" in error.messages[0]


def test_empty_file_is_refused():
    assert refusal(validate_image, upload("e.jpg", b"")).code == "empty"


# --- images: accepted and cleaned ---------------------------------------------------------


def test_jpeg_with_exif_gps_comes_out_upright_and_without_exif():
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0112] = 6  # Orientation: rotate 90 degrees
    exif[0x8825] = {1: "N", 2: (29.0, 39.0, 1.5), 3: "E", 4: (91.0, 7.0, 2.5)}  # GPS
    original = image_bytes("JPEG", size=(60, 40), exif=exif.tobytes(), comment=b"secret")
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825)

    cleaned = validate_image(upload("IMG_0001.JPG", original))
    assert UUID_NAME.match(cleaned.name) and cleaned.name.endswith(".jpg")
    img = reopen(cleaned)
    assert img.format == "JPEG"
    assert img.size == (40, 60)  # turned upright
    assert not img.getexif()
    assert "exif" not in img.info and "comment" not in img.info
    cleaned.seek(0)
    raw = cleaned.read()
    assert b"Exif" not in raw and b"PhoneMaker" not in raw and b"secret" not in raw


@pytest.mark.parametrize(
    ("fmt", "mode", "ext"),
    [("PNG", "RGBA", "png"), ("PNG", "P", "png"), ("WEBP", "RGB", "webp"), ("GIF", "P", "gif")],
)
def test_valid_images_are_accepted_under_a_safe_name(fmt, mode, ext):
    cleaned = validate_image(upload("../../etc/passwd<script>.exe", image_bytes(fmt, mode=mode)))
    assert UUID_NAME.match(cleaned.name)
    assert cleaned.name.endswith("." + ext)
    img = reopen(cleaned)
    assert img.format == fmt
    assert img.size == (64, 48)


def test_extension_follows_the_real_format():
    cleaned = validate_image(upload("photo.jpg", image_bytes("PNG")))
    assert cleaned.name.endswith(".png")


def test_png_text_chunks_are_dropped():
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "someone@example.com")
    cleaned = validate_image(upload("a.png", image_bytes("PNG", pnginfo=info)))
    cleaned.seek(0)
    assert b"someone@example.com" not in cleaned.read()


def test_animated_gif_keeps_its_frames():
    frames = [Image.new("RGB", (16, 16), (i * 60, 0, 0)) for i in range(3)]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=80, comment=b"c")
    cleaned = validate_image(upload("a.gif", out.getvalue()))
    img = reopen(cleaned)
    assert img.n_frames == 3
    assert "comment" not in img.info


def test_validate_image_stores_nothing():
    validate_image(upload("a.png", image_bytes()))
    assert stored_files() == []


# --- documents ----------------------------------------------------------------------------


def test_minimal_pdf_is_accepted():
    assert validate_document(upload("党章.pdf", MINIMAL_PDF)) == "pdf"


@pytest.mark.parametrize(
    ("kind", "name"), [("word", "a.docx"), ("xl", "b.XLSX"), ("ppt", "c.pptx")]
)
def test_minimal_ooxml_is_accepted(kind, name):
    assert validate_document(upload(name, ooxml_bytes(kind))) == name.rsplit(".", 1)[1].lower()


@pytest.mark.parametrize("name", ["old.doc", "old.xls", "old.ppt"])
def test_legacy_office_is_accepted(name):
    assert validate_document(upload(name, OLE2)) == name.rsplit(".", 1)[1]


def test_document_is_left_rewound():
    file = upload("a.pdf", MINIMAL_PDF)
    validate_document(file)
    assert file.read() == MINIMAL_PDF


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("report.pdf", EXE),
        ("report.pdf", ELF),
        ("report.docx", EXE),
        ("report.doc", HTML),
        ("report.pdf", b"This is just text pretending to be a PDF."),
        ("report.pdf", SVG),
        ("report.pdf", image_bytes("PNG")),
    ],
)
def test_non_documents_are_refused(name, content):
    error = refusal(validate_document, upload(name, content))
    assert error.code == "unknown"
    assert "PDF, Word (.docx, .doc), Excel (.xlsx, .xls) or PowerPoint" in error.messages[0]


def test_fake_pdf_with_only_a_header_is_refused():
    error = refusal(validate_document, upload("fake.pdf", b"%PDF-1.7\n<html><script>x</script>"))
    assert error.code == "damaged"


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("report.docx", MINIMAL_PDF),
        ("report.pdf", ooxml_bytes("word")),
        ("sheet.xlsx", ooxml_bytes("word")),
        ("slides.pptx", ooxml_bytes("xl")),
        ("report.doc", MINIMAL_PDF),
        ("report.docx", OLE2),
    ],
)
def test_extension_must_agree_with_content(name, content):
    error = refusal(validate_document, upload(name, content))
    assert error.code == "mismatch"
    assert "." + name.rsplit(".", 1)[1] in error.messages[0]


@pytest.mark.parametrize("name", ["report.exe", "report.html", "report.zip", "report", "a.pdf.exe"])
def test_other_extensions_are_refused_even_with_good_content(name):
    error = refusal(validate_document, upload(name, MINIMAL_PDF))
    assert error.code == "extension"


def test_plain_zip_and_jar_are_refused():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("META-INF/MANIFEST.MF", "Main-Class: Evil\n")
        archive.writestr("Evil.class", b"\xca\xfe\xba\xbe")
    assert refusal(validate_document, upload("a.docx", out.getvalue())).code == "unknown"


def test_zip_bomb_is_refused():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", b"\x00" * (10 * 1024 * 1024))
    assert len(out.getvalue()) < 100_000
    error = refusal(validate_document, upload("bomb.docx", out.getvalue()))
    assert error.code == "unpacked_too_large"


def test_macros_are_refused():
    content = ooxml_bytes("word", extra={"word/vbaProject.bin": b"\x00" * 64})
    assert refusal(validate_document, upload("a.docx", content)).code == "macros"


def test_damaged_zip_is_refused():
    content = ooxml_bytes("word")
    assert refusal(validate_document, upload("a.docx", content[:100])).code == "damaged"


def test_oversized_document_is_refused(settings):
    settings.NETBRANCH_MAX_DOCUMENT_BYTES = 100
    error = refusal(validate_document, upload("a.pdf", MINIMAL_PDF))
    assert error.code == "too_large"


# --- form fields, model forms and the admin ---------------------------------------------


class SitePhotoForm(forms.ModelForm):
    class Meta:
        model = ProjectSite
        fields = ["photo"]


@pytest.fixture
def site(db):
    return factories.ProjectSiteFactory()


@pytest.mark.parametrize(
    ("name", "content", "says"),
    [
        ("a.jpg", EXE, ALLOWED_IMAGES),
        ("a.svg", SVG, "SVG"),
        ("a.png", png_declaring(100_000, 100_000), "40,000,000 pixels"),
        ("a.jpg", image_bytes("JPEG")[:200], "damaged"),
        ("a.bmp", image_bytes("BMP"), ALLOWED_IMAGES),
    ],
)
def test_model_form_refuses_and_stores_nothing(site, name, content, says):
    form = SitePhotoForm(data={}, files={"photo": upload(name, content)}, instance=site)
    assert not form.is_valid()
    assert says in form.errors["photo"][0]
    assert stored_files() == []
    site.refresh_from_db()
    assert not site.photo


def test_model_form_stores_the_cleaned_image_and_schedules_renditions(
    site, django_capture_on_commit_callbacks
):
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (29.0, 39.0, 1.5)}
    content = image_bytes("JPEG", size=(600, 400), exif=exif.tobytes())
    form = SitePhotoForm(data={}, files={"photo": upload("IMG_1.jpg", content)}, instance=site)
    assert form.is_valid(), form.errors
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        form.save()
    assert len(callbacks) == 1
    site.refresh_from_db()
    assert re.fullmatch(r"sites/\d{4}/\d{2}/[0-9a-f]{32}\.jpg", site.photo.name)
    with site.photo.open("rb") as fh:
        assert not Image.open(fh).getexif()
    assert site.photo.storage.exists(rendition_name(site.photo.name, 480))
    assert not site.photo.storage.exists(rendition_name(site.photo.name, 1080))  # no upscaling


def test_admin_form_uses_the_checked_field(db):
    user = factories.UserFactory(username="root", is_superuser=True, is_staff=True)
    request = RequestFactory().get("/admin/")
    request.user = user
    form_class = admin.ModelAdmin(ProjectSite, admin.site).get_form(request)
    field = form_class.base_fields["photo"]
    assert isinstance(field, CheckedImageFormField)
    assert isinstance(field.widget, AdminFileWidget)
    assert field.widget.attrs["accept"] == "image/jpeg,image/png,image/webp,image/gif"
    with pytest.raises(ValidationError):
        field.clean(upload("a.jpg", EXE))
    cleaned = field.clean(upload("a.png", image_bytes()))
    assert UUID_NAME.match(cleaned.name)


def test_document_field_in_forms_and_admin():
    model_field = CheckedFileField("file", upload_to="documents/%Y/")
    for kwargs in ({}, {"widget": AdminFileWidget}):
        field = model_field.formfield(**kwargs)
        assert isinstance(field, CheckedFileFormField)
        assert ".pdf" in field.widget.attrs["accept"]
        good = upload("学习材料.pdf", MINIMAL_PDF)
        assert field.clean(good) is good
        with pytest.raises(ValidationError) as info:
            field.clean(upload("学习材料.pdf", EXE))
        assert "PDF" in info.value.messages[0]
    assert stored_files() == []


def test_document_field_deconstructs():
    _name, path, _args, kwargs = CheckedFileField("file", upload_to="documents/").deconstruct()
    assert path == "core.uploads.CheckedFileField"
    assert kwargs["max_length"] == 255


def test_a_truncated_image_is_refused_even_after_weasyprint_relaxed_pillow():
    """WeasyPrint's import sets Pillow's LOAD_TRUNCATED_IMAGES; the checks must not follow."""
    ImageFile.LOAD_TRUNCATED_IMAGES = True
    try:
        whole = image_bytes("JPEG", size=(256, 256))
        error = refusal(validate_image, upload("cut.jpg", whole[: len(whole) * 2 // 3]))
        assert error.code in {"damaged", "invalid", "not_image"}
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = False


def test_the_pdf_module_leaves_pillow_strict():
    import meetings.pdf  # noqa: F401

    assert ImageFile.LOAD_TRUNCATED_IMAGES is False
