"""Rich text: CKEditor 5 for editing, nh3 for sanitising on save and again on display.

The allow-list below is what CKEditor 5's toolbar (see CKEDITOR_5_CONFIGS) can produce and
nothing more: no `style`, no `class` except CKEditor's own figure classes, no event handlers,
no scripts, frames, forms, SVG or MathML, no `javascript:`/`data:` URLs. Images may only come
from this site (`/media/...`) or over https.
"""

import copy
import re

import nh3
from django.db import models
from django_ckeditor_5.widgets import CKEditor5Widget

ALLOWED_TAGS: frozenset[str] = frozenset(
    {
        "p", "br", "strong", "b", "em", "i", "u", "s", "a", "ul", "ol", "li", "h2", "h3", "h4",
        "blockquote", "figure", "figcaption", "img", "table", "thead", "tbody", "tr", "th", "td",
        "hr", "code", "pre",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES: dict[str, set[str]] = {
    "*": set(),  # no generic attributes (nh3 would otherwise keep `lang` and `title` anywhere)
    "a": {"href", "title"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
}
# CKEditor 5 wraps images and tables in <figure class="image ...">/<figure class="table">.
ALLOWED_CLASSES: dict[str, set[str]] = {
    "figure": {
        "image", "table", "image-style-side", "image-style-align-left",
        "image-style-align-center", "image-style-align-right", "image-style-block-align-left",
        "image-style-block-align-right", "image_resized",
    },
}  # fmt: skip
URL_SCHEMES: frozenset[str] = frozenset({"http", "https", "mailto", "tel"})
# Tags dropped together with everything inside them (the others are unwrapped, text kept).
CLEAN_CONTENT_TAGS: frozenset[str] = frozenset(
    {
        "script", "style", "iframe", "frame", "frameset", "object", "embed", "applet",
        "noscript", "noembed", "noframes", "template", "svg", "math", "textarea", "select",
        "title", "xmp",
    }
)  # fmt: skip
LINK_REL = "noopener noreferrer"

_NUMBER = re.compile(r"\d{1,4}")
_NUMERIC_ATTRIBUTES = frozenset({"width", "height", "colspan", "rowspan"})


def _image_source_allowed(value: str) -> bool:
    """Only this site's own paths (`/media/...`) or https images: no `//host` or `/\\host`
    (protocol-relative), no plain http, no data: or other schemes."""
    value = value.strip()
    if "\\" in value or any(ord(ch) < 0x20 for ch in value):
        return False
    if value.startswith("/"):
        return not value.startswith("//")
    return value.lower().startswith("https://")


def _attribute_filter(tag: str, attribute: str, value: str) -> str | None:
    if attribute in _NUMERIC_ATTRIBUTES:
        return value.strip() if _NUMBER.fullmatch(value.strip()) else None
    if tag == "img" and attribute == "src":
        return value.strip() if _image_source_allowed(value) else None
    return value


_cleaner = nh3.Cleaner(
    tags=set(ALLOWED_TAGS),
    clean_content_tags=set(CLEAN_CONTENT_TAGS),
    attributes=ALLOWED_ATTRIBUTES,
    attribute_filter=_attribute_filter,
    allowed_classes=ALLOWED_CLASSES,
    url_schemes=set(URL_SCHEMES),
    link_rel=LINK_REL,
    strip_comments=True,
)


def sanitize_html(value) -> str:
    """Return `value` reduced to the allow-list. Idempotent: sanitising twice changes nothing."""
    if not value:
        return ""
    return _cleaner.clean(str(value))


class RichTextField(models.TextField):
    """A TextField edited with CKEditor 5 whose value is sanitised with nh3 before it is saved."""

    def __init__(self, *args, config_name: str = "default", **kwargs):
        self.config_name = config_name
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        if self.config_name != "default":
            kwargs["config_name"] = self.config_name
        return name, path, args, kwargs

    def pre_save(self, model_instance, add):
        value = sanitize_html(getattr(model_instance, self.attname) or "")
        setattr(model_instance, self.attname, value)
        return value

    def formfield(self, **kwargs):
        kwargs.setdefault("widget", CKEditor5Widget(config_name=self.config_name))
        return super().formfield(**kwargs)


def editor_widget(*, user=None) -> CKEditor5Widget:
    """CKEditor 5 for a front-end form. `core`'s image upload endpoint takes images from staff
    only, so for anyone else the toolbar has no image button (their pictures go in through a
    secretary or the admin) rather than a button that fails."""
    widget = CKEditor5Widget(config_name="default")
    if not (user is not None and user.is_staff):
        config = copy.deepcopy(widget.config)
        toolbar = config.get("toolbar")
        if isinstance(toolbar, dict):
            toolbar["items"] = [i for i in toolbar.get("items", []) if i != "imageUpload"]
        elif isinstance(toolbar, list):
            config["toolbar"] = [i for i in toolbar if i != "imageUpload"]
        widget.config = config
    return widget
