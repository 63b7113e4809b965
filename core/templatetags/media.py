"""`{% picture %}`: an <img> with the WebP renditions in srcset, lazy-loaded.

    {% load media %}
    {% picture site.photo alt=site.name sizes="(max-width: 760px) 100vw, 760px" class="photo" %}

Renders nothing for an empty file. Touches storage (which renditions exist), never the
database.
"""

from django import template
from django.core.files.storage import default_storage
from django.db.models.fields.files import FieldFile, ImageFieldFile
from django.utils.html import format_html, format_html_join

from core.images import rendition_urls, rendition_widths

register = template.Library()

DEFAULT_SIZES = "(max-width: 760px) 100vw, 760px"
# Extra attributes a template may set; anything else is a template error.
EXTRA_ATTRIBUTES = ("class", "width", "height", "loading", "title")


def _original_size(image) -> tuple[int, int] | None:
    if not isinstance(image, ImageFieldFile):
        return None
    try:
        return image.width, image.height  # one header read, cached on the FieldFile
    except (OSError, ValueError, TypeError):
        return None


@register.simple_tag
def picture(image, *, alt: str = "", sizes: str = DEFAULT_SIZES, **attrs) -> str:
    unknown = set(attrs) - set(EXTRA_ATTRIBUTES)
    if unknown:
        raise template.TemplateSyntaxError(
            f"picture: unknown argument(s) {', '.join(sorted(unknown))}; "
            f"allowed: alt, sizes, {', '.join(EXTRA_ATTRIBUTES)}"
        )
    if isinstance(image, FieldFile):
        if not image:
            return ""
        name, storage = image.name, image.storage
    elif isinstance(image, str) and image:
        name, storage = image, default_storage
    else:
        return ""
    original_url = storage.url(name)
    size = _original_size(image)  # None for a name given as a string

    candidates = sorted(rendition_urls(name, storage=storage).items())
    # The widest rendition is missing (original narrower than it): offer the original.
    widest = candidates[-1][0] if candidates else None
    if widest and widest < max(rendition_widths()) and size and size[0] > widest:
        candidates.append((size[0], original_url))

    html_attrs: list[tuple[str, str]] = []
    if candidates:
        html_attrs += [
            ("src", candidates[-1][1]),
            ("srcset", ", ".join(f"{url} {width}w" for width, url in candidates)),
            ("sizes", sizes),
        ]
    else:
        html_attrs.append(("src", original_url))
    html_attrs.append(("alt", alt or ""))
    if size and all(size) and not attrs.get("width") and not attrs.get("height"):
        # The intrinsic size, so the browser keeps the image's place before it arrives.
        attrs = {**attrs, "width": size[0], "height": size[1]}
    for key in ("class", "width", "height", "title"):
        if attrs.get(key) not in (None, ""):
            html_attrs.append((key, str(attrs[key])))
    loading = "eager" if attrs.get("loading") == "eager" else "lazy"
    html_attrs += [("loading", loading), ("decoding", "async")]
    return format_html("<img {}>", format_html_join(" ", '{}="{}"', html_attrs))
