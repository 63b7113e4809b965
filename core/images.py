"""Resized WebP renditions of stored images, for phones on weak mobile data.

`foo/bar.jpg` gets `foo/bar.w480.webp` and `foo/bar.w1080.webp` (NETBRANCH_RENDITION_WIDTHS)
beside it in the same storage, never wider than the original. They are made by a Celery task
(`core.tasks.make_image_renditions`) that `schedule_renditions` enqueues once the current
transaction commits; `rendition_urls` tells which of them exist, for `{% picture %}`.
"""

import io
import logging
import posixpath
import warnings

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import Storage, default_storage
from django.db import transaction
from PIL import Image, ImageOps

logger = logging.getLogger(__name__)

RENDITION_FORMAT = "WEBP"
RENDITION_EXTENSION = "webp"
RENDITION_QUALITY = 80
# Only the formats validate_image lets in are decoded (no EPS, PSD, ... parsers on stored files).
SOURCE_FORMATS = ("JPEG", "PNG", "WEBP", "GIF")


def rendition_widths() -> tuple[int, ...]:
    return tuple(sorted(int(w) for w in settings.NETBRANCH_RENDITION_WIDTHS))


def rendition_name(name: str, width: int) -> str:
    """The storage name of an image's rendition: `a/foo.jpg` -> `a/foo.w480.webp`."""
    root, _ext = posixpath.splitext(name)
    return f"{root}.w{int(width)}.{RENDITION_EXTENSION}"


def rendition_urls(name: str, *, storage: Storage | None = None) -> dict[int, str]:
    """{width: url} of the renditions of `name` that exist in storage (none before the task
    has run, and none wider than the original)."""
    if not name:
        return {}
    storage = storage or default_storage
    urls = {}
    for width in rendition_widths():
        target = rendition_name(name, width)
        if storage.exists(target):
            urls[width] = storage.url(target)
    return urls


def _rendition_image(img: Image.Image, width: int) -> Image.Image:
    height = max(1, round(img.height * width / img.width))
    resized = img.resize((width, height), Image.Resampling.LANCZOS)
    wanted = "RGBA" if resized.has_transparency_data else "RGB"
    if resized.mode != wanted:
        resized = resized.convert(wanted)
    resized.info = {}
    return resized


def make_renditions(name: str, *, storage: Storage | None = None) -> list[str]:
    """Make the missing renditions of the stored image `name`; return the names written.

    Idempotent: existing renditions are left alone. Never upscales (a width above the
    original's is skipped). Animated images, missing files and unreadable images get no
    renditions (logged, not raised): pages then show the original.
    """
    if not name:
        return []
    storage = storage or default_storage
    missing = [w for w in rendition_widths() if not storage.exists(rendition_name(name, w))]
    if not missing:
        return []
    try:
        with storage.open(name, "rb") as fh:
            data = fh.read()
    except (FileNotFoundError, OSError):
        logger.warning("renditions: %s is not in storage", name)
        return []

    written = []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=SOURCE_FORMATS) as original:
                width, height = original.size
                if width * height > settings.NETBRANCH_MAX_IMAGE_PIXELS:
                    logger.warning("renditions: %s is too big (%sx%s)", name, width, height)
                    return []
                if getattr(original, "is_animated", False):
                    return []
                original.load()
                upright = ImageOps.exif_transpose(original)
                for target_width in missing:
                    if target_width > upright.width:
                        continue  # never upscale
                    out = io.BytesIO()
                    _rendition_image(upright, target_width).save(
                        out, RENDITION_FORMAT, quality=RENDITION_QUALITY, method=4
                    )
                    target = rendition_name(name, target_width)
                    saved = storage.save(target, ContentFile(out.getvalue()))
                    if saved != target:
                        # Another worker wrote it meanwhile: keep theirs, drop ours.
                        storage.delete(saved)
                        continue
                    written.append(saved)
    except (Image.DecompressionBombWarning, Image.DecompressionBombError, OSError, SyntaxError,
            ValueError) as exc:  # fmt: skip
        logger.warning("renditions: cannot read %s: %s", name, exc)
    return written


def schedule_renditions(name: str) -> None:
    """Enqueue `make_image_renditions(name)` once the current transaction commits (at once
    outside a transaction). A broker failure is logged, not raised: the page falls back to
    the original image."""
    if not name:
        return
    from core.tasks import make_image_renditions

    transaction.on_commit(lambda: make_image_renditions.delay(name), robust=True)
