"""Rich text: CKEditor 5 for editing, nh3 for sanitising on save and again on display."""

import nh3
from django.db import models
from django_ckeditor_5.widgets import CKEditor5Widget

# Allow-list (filled in by core's issue work; see tests/core/test_richtext.py).
ALLOWED_TAGS: set[str] = {"p", "br", "strong", "em", "a", "ul", "ol", "li", "h2", "h3", "blockquote"}
ALLOWED_ATTRIBUTES: dict[str, set[str]] = {"a": {"href", "title"}}


def sanitize_html(value: str) -> str:
    if not value:
        return ""
    return nh3.clean(value, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, link_rel="noopener noreferrer")


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
