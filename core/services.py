"""Helpers for writing services (HackSoft styleguide's `model_update`)."""

from collections.abc import Iterable

from django.db import models


def model_update(
    *, instance: models.Model, fields: dict, allowed: Iterable[str], clean: bool = True
) -> list[str]:
    """Set `fields` on `instance`, validate it and save only the fields that changed.

    Returns the names of the changed fields. A name outside `allowed` is a programming error.
    """
    unknown = set(fields) - set(allowed)
    if unknown:
        raise TypeError(f"{type(instance).__name__}: cannot update {sorted(unknown)}")
    changed = [name for name, value in fields.items() if getattr(instance, name) != value]
    for name in changed:
        setattr(instance, name, fields[name])
    if changed:
        if clean:
            instance.full_clean()
        update_fields = list(changed)
        if any(f.name == "updated_at" for f in instance._meta.concrete_fields):
            update_fields.append("updated_at")
        instance.save(update_fields=update_fields)
    return changed
