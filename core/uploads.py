"""Upload checks: size limits, real image verification, EXIF stripping, document sniffing.

`validate_image` turns an upload into a clean, re-encoded image (or refuses it);
`validate_document` checks what a document really is from its content, not its name.
`CheckedImageField` / `CheckedFileField` put those checks into every form and the admin.
Every refusal is a `ValidationError` whose message says what is wrong and what is allowed;
nothing is written to storage before a file has passed.
"""

import io
import posixpath
import uuid
import warnings
import zipfile

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import models
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageFile, ImageOps, ImageSequence, UnidentifiedImageError

# ---------------------------------------------------------------------------------------------
# Images
# ---------------------------------------------------------------------------------------------

# Pillow format name -> file extension of the cleaned file.
IMAGE_FORMATS: dict[str, str] = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "gif"}
IMAGE_MIME_TYPES = {
    "JPEG": "image/jpeg",
    "PNG": "image/png",
    "WEBP": "image/webp",
    "GIF": "image/gif",
}
IMAGE_CONTENT_TYPES = ",".join(IMAGE_MIME_TYPES.values())
ALLOWED_IMAGES_TEXT = _("Upload a JPEG, PNG, WebP or GIF image.")

IMAGE_ERRORS = {
    "empty": _("The file is empty. %(allowed)s"),
    "too_large": _("The file is too large (%(size)s). The largest file allowed is %(limit)s."),
    "markup": _(
        "SVG and other text-based images are not accepted because they can contain scripts. "
        "%(allowed)s"
    ),
    "unknown": _(
        "This file is not a JPEG, PNG, WebP or GIF image. Only those formats are accepted "
        "(not SVG, BMP, TIFF, HEIC or others); convert it, then upload it again."
    ),
    "damaged": _(
        "The image is damaged or incomplete and cannot be read. Save or export it again as a "
        "JPEG, PNG, WebP or GIF image, then upload it."
    ),
    "too_many_pixels": _(
        "The image is too big: %(width)s by %(height)s pixels. Images may have at most "
        "%(limit)s pixels (width times height); resize it and upload it again."
    ),
    "animation_too_big": _(
        "The animation is too big: %(frames)s frames of %(width)s by %(height)s pixels. "
        "Animations may have at most %(limit)s pixels in all frames together; shorten or "
        "resize it and upload it again."
    ),
    "bomb": _(
        "The image declares an enormous size and is not accepted. Images may have at most "
        "%(limit)s pixels (width times height); resize it and upload it again."
    ),
}

# Pillow's own warnings/errors for images whose declared size is absurd.
_BOMB = (Image.DecompressionBombWarning, Image.DecompressionBombError)
# What Pillow raises on damaged or truncated data.
_DAMAGED = (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError, KeyError)
# Keys of `Image.info` carried over when re-encoding; everything else (EXIF, XMP, comments,
# text chunks, ...) is dropped. ICC profiles are colour data, not personal data: kept.
_KEPT_INFO = ("transparency", "icc_profile", "duration", "loop", "background")


def _refuse(code: str, **params) -> ValidationError:
    params.setdefault("allowed", ALLOWED_IMAGES_TEXT)
    return ValidationError(IMAGE_ERRORS[code], code=code, params=params)


def _read_limited(file, *, limit: int, errors: dict, allowed) -> bytes:
    """Read the whole upload into memory, refusing it (without reading it all) past `limit`."""
    size = getattr(file, "size", None)
    if size is not None and size > limit:
        raise ValidationError(
            errors["too_large"],
            code="too_large",
            params={"size": filesizeformat(size), "limit": filesizeformat(limit)},
        )
    if hasattr(file, "seek"):
        file.seek(0)
    data = file.read(limit + 1)
    if hasattr(file, "seek"):
        file.seek(0)
    if len(data) > limit:
        raise ValidationError(
            errors["too_large"],
            code="too_large",
            params={
                "size": _("more than %s") % filesizeformat(limit),
                "limit": filesizeformat(limit),
            },
        )
    if not data:
        raise ValidationError(errors["empty"], code="empty", params={"allowed": allowed})
    return data


def _looks_like_markup(data: bytes) -> bool:
    """SVG, HTML or XML: text starting with '<' (after a BOM and white space)."""
    head = data[:512].lstrip(b"\xef\xbb\xbf").lstrip()
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):  # UTF-16 text
        head = head[2:].replace(b"\x00", b"").lstrip()
    return head.startswith(b"<")


def _check_pixels(img: Image.Image, frames: int = 1) -> None:
    limit = settings.NETBRANCH_MAX_IMAGE_PIXELS
    width, height = img.size
    if width * height * max(frames, 1) > limit:
        raise _refuse(
            "animation_too_big" if frames > 1 else "too_many_pixels",
            width=width,
            height=height,
            frames=frames,
            limit=f"{limit:,}",
        )


def _clean_info(img: Image.Image) -> Image.Image:
    img.info = {k: v for k, v in img.info.items() if k in _KEPT_INFO}
    return img


def _encode_still(img: Image.Image, fmt: str) -> bytes:
    icc = img.info.get("icc_profile")
    img = _clean_info(ImageOps.exif_transpose(img))
    out = io.BytesIO()
    options: dict = {"icc_profile": icc} if icc else {}
    if fmt == "JPEG":
        if img.mode not in ("RGB", "L", "CMYK"):
            img = _clean_info(img.convert("RGB"))
        img.save(out, "JPEG", quality=88, optimize=True, **options)
    elif fmt == "PNG":
        if "transparency" in img.info:
            options["transparency"] = img.info["transparency"]
        img.save(out, "PNG", **options)
    elif fmt == "WEBP":
        if img.mode not in ("RGB", "RGBA"):
            img = _clean_info(img.convert("RGBA" if img.has_transparency_data else "RGB"))
        img.save(out, "WEBP", quality=90, method=4, **options)
    else:  # GIF
        if "transparency" in img.info:
            options["transparency"] = img.info["transparency"]
        options.pop("icc_profile", None)
        img.save(out, "GIF", **options)
    return out.getvalue()


def _encode_animation(img: Image.Image, fmt: str) -> bytes:
    """Animated GIF/WebP: every frame copied into a fresh image, so no metadata rides along."""
    frames, durations = [], []
    for frame in ImageSequence.Iterator(img):
        durations.append(int(frame.info.get("duration", 100) or 100))
        copy = frame.convert("RGBA")
        copy.info = {}
        frames.append(copy)
    out = io.BytesIO()
    loop = int(img.info.get("loop", 0) or 0)
    if fmt == "GIF":
        frames[0].save(
            out, "GIF", save_all=True, append_images=frames[1:], duration=durations, loop=loop,
            disposal=2,
        )  # fmt: skip
    else:
        frames[0].save(
            out, "WEBP", save_all=True, append_images=frames[1:], duration=durations, loop=loop,
            quality=90, method=4,
        )  # fmt: skip
    return out.getvalue()


def validate_image(file) -> ContentFile:
    """Check an uploaded image and return a clean copy to store instead of it.

    Refuses (ValidationError) files over NETBRANCH_MAX_IMAGE_BYTES, anything that is not a
    real JPEG, PNG, WebP or GIF (SVG included: it can carry script), damaged or truncated
    images, and images over NETBRANCH_MAX_IMAGE_PIXELS (decompression bombs). Accepted
    images are turned upright (EXIF orientation) and re-encoded without EXIF (GPS, camera,
    ...) or other metadata; the returned ContentFile is named `<uuid>.<real extension>`.
    """
    # A library imported later (WeasyPrint does) may have relaxed this process-wide flag.
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    data = _read_limited(
        file,
        limit=settings.NETBRANCH_MAX_IMAGE_BYTES,
        errors=IMAGE_ERRORS,
        allowed=ALLOWED_IMAGES_TEXT,
    )
    if _looks_like_markup(data):
        raise _refuse("markup")
    formats = list(IMAGE_FORMATS)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            # 1. Structure check (verify() leaves the image unusable, hence a second open).
            with Image.open(io.BytesIO(data), formats=formats) as probe:
                _check_pixels(probe)
                probe.verify()
            # 2. Decode every pixel (catches truncated files), then re-encode.
            with Image.open(io.BytesIO(data), formats=formats) as img:
                fmt = img.format
                frames = getattr(img, "n_frames", 1) if getattr(img, "is_animated", False) else 1
                _check_pixels(img, frames)
                if frames > 1:
                    content = _encode_animation(img, fmt)
                else:
                    img.load()
                    content = _encode_still(img, fmt)
    except ValidationError:
        raise
    except _BOMB as exc:
        raise _refuse("bomb", limit=f"{settings.NETBRANCH_MAX_IMAGE_PIXELS:,}") from exc
    except UnidentifiedImageError as exc:
        raise _refuse("unknown") from exc
    except _DAMAGED as exc:
        raise _refuse("damaged") from exc
    cleaned = ContentFile(content, name=f"{uuid.uuid4().hex}.{IMAGE_FORMATS[fmt]}")
    cleaned.content_type = IMAGE_MIME_TYPES[fmt]
    return cleaned


# ---------------------------------------------------------------------------------------------
# Documents
# ---------------------------------------------------------------------------------------------

OLE2_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")
# File extension -> what its content must be.
DOCUMENT_TYPES: dict[str, str] = {
    "pdf": "pdf",
    "docx": "docx",
    "xlsx": "xlsx",
    "pptx": "pptx",
    "doc": "ole2",
    "xls": "ole2",
    "ppt": "ole2",
}
DOCUMENT_KIND_NAMES = {
    "pdf": _("PDF"),
    "docx": _("Word (.docx)"),
    "xlsx": _("Excel (.xlsx)"),
    "pptx": _("PowerPoint (.pptx)"),
    "ole2": _("legacy Office (.doc, .xls or .ppt)"),
}
DOCUMENT_ACCEPT = ",".join(f".{ext}" for ext in DOCUMENT_TYPES)
ALLOWED_DOCUMENTS_TEXT = _(
    "Upload a PDF, Word (.docx, .doc), Excel (.xlsx, .xls) or PowerPoint (.pptx, .ppt) file."
)
# Zip-bomb guards for Office Open XML files.
OOXML_MAX_ENTRIES = 5000
OOXML_MAX_UNPACKED_BYTES = 500 * 1024 * 1024
OOXML_MAX_RATIO = 200

DOCUMENT_ERRORS = {
    "empty": _("The file is empty. %(allowed)s"),
    "too_large": _("The file is too large (%(size)s). The largest file allowed is %(limit)s."),
    "unknown": _("This type of file is not accepted. %(allowed)s"),
    "extension": _("Files ending in .%(extension)s are not accepted. %(allowed)s"),
    "mismatch": _(
        "The file name ends in .%(extension)s but the file is a %(kind)s document. Give it the "
        "right extension or upload the right file."
    ),
    "damaged": _(
        "The document is damaged or incomplete and cannot be read. Save it again, then upload "
        "it. %(allowed)s"
    ),
    "unpacked_too_large": _(
        "The document unpacks to far more data than a normal Office file (it looks like a "
        "zip bomb) and is not accepted. %(allowed)s"
    ),
    "macros": _(
        "Documents with macros are not accepted. Save it as a normal .docx, .xlsx or .pptx "
        "file without macros, then upload it."
    ),
}


def _document_error(code: str, **params) -> ValidationError:
    params.setdefault("allowed", ALLOWED_DOCUMENTS_TEXT)
    return ValidationError(DOCUMENT_ERRORS[code], code=code, params=params)


def _sniff_ooxml(data: bytes) -> str:
    """'docx', 'xlsx' or 'pptx' from a zip's table of contents, or a ValidationError."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise _document_error("damaged") from exc
    with archive:
        infos = archive.infolist()
        if len(infos) > OOXML_MAX_ENTRIES:
            raise _document_error("unpacked_too_large")
        unpacked = 0
        for info in infos:
            unpacked += info.file_size
            if info.file_size > OOXML_MAX_RATIO * max(info.compress_size, 1024):
                raise _document_error("unpacked_too_large")
        if unpacked > OOXML_MAX_UNPACKED_BYTES:
            raise _document_error("unpacked_too_large")
        names = {info.filename for info in infos}
        if "[Content_Types].xml" not in names:
            raise _document_error("unknown")
        if any(posixpath.basename(n).lower() == "vbaproject.bin" for n in names):
            raise _document_error("macros")
        try:
            content_types = archive.read("[Content_Types].xml")
        except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError) as exc:
            raise _document_error("damaged") from exc
        if b"macroenabled" in content_types.lower():
            raise _document_error("macros")
    for prefix, kind in (("word/", "docx"), ("xl/", "xlsx"), ("ppt/", "pptx")):
        if any(n.startswith(prefix) for n in names):
            return kind
    raise _document_error("unknown")


def _sniff_document(data: bytes) -> str | None:
    if data.startswith(b"%PDF-"):
        if b"%%EOF" not in data[-4096:]:
            raise _document_error("damaged")
        return "pdf"
    if data.startswith(OLE2_MAGIC):
        return "ole2"
    if data.startswith(b"PK\x03\x04"):
        return _sniff_ooxml(data)
    return None


def validate_document(file) -> str:
    """Check an uploaded document by its content; return its extension ('pdf', 'docx', ...).

    Accepted: PDF, Office Open XML (.docx/.xlsx/.pptx, without macros) and legacy OLE2
    Office files (.doc/.xls/.ppt), up to NETBRANCH_MAX_DOCUMENT_BYTES, whose file name
    extension agrees with the content. Anything else (executables, HTML, archives, zip bombs,
    a file renamed to look like a document) raises ValidationError. The file is left
    rewound and unchanged.
    """
    data = _read_limited(
        file,
        limit=settings.NETBRANCH_MAX_DOCUMENT_BYTES,
        errors=DOCUMENT_ERRORS,
        allowed=ALLOWED_DOCUMENTS_TEXT,
    )
    extension = posixpath.splitext(str(getattr(file, "name", "") or ""))[1].lower().lstrip(".")
    kind = _sniff_document(data)
    if kind is None:
        raise _document_error("unknown")
    if extension not in DOCUMENT_TYPES:
        raise _document_error("extension", extension=extension or "?")
    if DOCUMENT_TYPES[extension] != kind:
        raise _document_error("mismatch", extension=extension, kind=DOCUMENT_KIND_NAMES[kind])
    return extension


# ---------------------------------------------------------------------------------------------
# Form and model fields
# ---------------------------------------------------------------------------------------------


class CheckedImageFormField(forms.ImageField):
    """A form ImageField whose cleaned value is `validate_image`'s clean copy of the upload."""

    def to_python(self, data):
        # forms.FileField's checks (name, size, empty) but not forms.ImageField's own Pillow
        # pass: validate_image does that, with clearer messages.
        upload = forms.FileField.to_python(self, data)
        if upload is None:
            return None
        return validate_image(upload)

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        if isinstance(widget, forms.FileInput) and "accept" not in widget.attrs:
            attrs["accept"] = IMAGE_CONTENT_TYPES
        return attrs


class CheckedFileFormField(forms.FileField):
    """A form FileField that accepts only documents passing `validate_document`."""

    def to_python(self, data):
        upload = super().to_python(data)
        if upload is None:
            return None
        validate_document(upload)
        return upload

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        if isinstance(widget, forms.FileInput) and "accept" not in widget.attrs:
            attrs["accept"] = DOCUMENT_ACCEPT
        return attrs


class CheckedImageField(models.ImageField):
    """An ImageField whose uploads go through `validate_image` (format, size, bomb, EXIF).

    In forms and the admin the upload is replaced by the clean copy. When a new image is
    stored, its resized renditions are scheduled (after the transaction commits).
    """

    def formfield(self, **kwargs):
        return super().formfield(**{"form_class": CheckedImageFormField, **kwargs})

    def pre_save(self, model_instance, add):
        current = getattr(model_instance, self.attname)
        is_new = bool(current) and not current._committed
        file = super().pre_save(model_instance, add)
        if is_new and file and file.name:
            from core.images import schedule_renditions

            schedule_renditions(file.name)
        return file


class CheckedFileField(models.FileField):
    """A FileField for documents: uploads through forms and the admin go through
    `validate_document` (PDF and Office files, sniffed from the content)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 255)
        super().__init__(*args, **kwargs)

    def formfield(self, **kwargs):
        return super().formfield(**{"form_class": CheckedFileFormField, **kwargs})


# ---------------------------------------------------------------------------------------------
# Videos (lessons): recognised by their container header, never read whole into memory
# ---------------------------------------------------------------------------------------------

VIDEO_ERRORS = {
    "too_large": _("The video is too large (%(size)s). The largest video allowed is %(limit)s."),
    "empty": _("The file is empty. Upload an MP4 or WebM video."),
    "unknown": _(
        "This file is not an MP4 or WebM video. Convert it to MP4 (H.264), then upload it."
    ),
    "mismatch": _(
        "The file name ends in .%(extension)s but the file is a %(kind)s video. Give it the right extension."
    ),
}
VIDEO_TYPES = {"mp4": "mp4", "m4v": "mp4", "webm": "webm"}


# ISO base media files that are not videos: audio (M4A/M4B/M4P) and still images (HEIC, AVIF).
_NOT_VIDEO_BRANDS = {
    b"M4A ",
    b"M4B ",
    b"M4P ",
    b"heic",
    b"heix",
    b"hevc",
    b"mif1",
    b"msf1",
    b"avif",
    b"avis",
}


def _sniff_video(head: bytes) -> str | None:
    if len(head) >= 12 and head[4:8] == b"ftyp":
        return None if head[8:12] in _NOT_VIDEO_BRANDS else "mp4"
    if head.startswith(b"\x1a\x45\xdf\xa3") and b"webm" in head[:64]:
        return "webm"
    return None


def validate_video(file) -> str:
    """Check an uploaded video (MP4 or WebM, up to NETBRANCH_MAX_VIDEO_BYTES) by its header and
    its name; return its extension. The file is left rewound."""
    limit = settings.NETBRANCH_MAX_VIDEO_BYTES
    size = getattr(file, "size", None)
    if size is not None and size > limit:
        raise ValidationError(
            VIDEO_ERRORS["too_large"],
            code="too_large",
            params={"size": filesizeformat(size), "limit": filesizeformat(limit)},
        )
    if size == 0:
        raise ValidationError(VIDEO_ERRORS["empty"], code="empty")
    file.seek(0)
    head = file.read(64)
    file.seek(0)
    if not head:
        raise ValidationError(VIDEO_ERRORS["empty"], code="empty")
    kind = _sniff_video(head)
    if kind is None:
        raise ValidationError(VIDEO_ERRORS["unknown"], code="unknown")
    extension = posixpath.splitext(str(getattr(file, "name", "") or ""))[1].lower().lstrip(".")
    if VIDEO_TYPES.get(extension) != kind:
        raise ValidationError(
            VIDEO_ERRORS["mismatch"],
            code="mismatch",
            params={"extension": extension or "?", "kind": kind.upper()},
        )
    return extension


class CheckedVideoFormField(forms.FileField):
    def to_python(self, data):
        upload = super().to_python(data)
        if upload is None:
            return None
        validate_video(upload)
        return upload

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        if isinstance(widget, forms.FileInput) and "accept" not in widget.attrs:
            attrs["accept"] = "video/mp4,video/webm,.mp4,.m4v,.webm"
        return attrs


class CheckedVideoField(models.FileField):
    """A FileField for lesson videos: uploads through forms and the admin go through
    `validate_video`."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 255)
        super().__init__(*args, **kwargs)

    def formfield(self, **kwargs):
        return super().formfield(**{"form_class": CheckedVideoFormField, **kwargs})
