"""Which models take comments and likes. Content apps register theirs in `AppConfig.ready()`:

    register_commentable(
        Lesson,
        can_view=lambda user, lesson: lesson_visible_to(user, lesson),
        organization_of=lambda lesson: lesson.organization,
    )

`discussions` never imports the apps above it: it only knows what they registered. Deleting a
registered object deletes its comments (with their replies and likes) and its likes.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.db.models import Model
from django.db.models.signals import post_delete

from branches.models import Organization


@dataclass(frozen=True)
class Commentable:
    model: type[Model]
    can_view: Callable[[object, Model], bool]
    organization_of: Callable[[Model], Organization]


_registry: dict[type[Model], Commentable] = {}


def _concrete(model: type[Model]) -> type[Model]:
    return model._meta.concrete_model or model


def register_commentable(
    model: type[Model],
    *,
    can_view: Callable[[object, Model], bool],
    organization_of: Callable[[Model], Organization],
) -> None:
    """Let members comment on and like `model`'s objects.

    `can_view(user, obj)`: may this user see the object (then they may comment and like)?
    `organization_of(obj)`: the organisation whose secretary moderates its comments.
    """
    model = _concrete(model)
    _registry[model] = Commentable(model=model, can_view=can_view, organization_of=organization_of)
    post_delete.connect(
        _delete_discussion_of,
        sender=model,
        dispatch_uid=f"discussions-cleanup-{model._meta.label_lower}",
    )


def entry_for(obj_or_model) -> Commentable | None:
    model = obj_or_model if isinstance(obj_or_model, type) else type(obj_or_model)
    return _registry.get(_concrete(model))


def is_commentable(obj_or_model) -> bool:
    return entry_for(obj_or_model) is not None


def registered_models() -> list[type[Model]]:
    return list(_registry)


def _delete_discussion_of(sender, instance, **kwargs) -> None:
    """post_delete of a registered object: its comments (replies and their likes follow by
    cascade and the generic relation) and its likes, in a few set-based statements."""
    from .models import Comment, Like

    content_type = ContentType.objects.get_for_model(sender)
    Like.objects.filter(content_type=content_type, object_id=instance.pk).delete()
    Comment.objects.filter(content_type=content_type, object_id=instance.pk).delete()
