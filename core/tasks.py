"""Celery tasks of core: thin wrappers, safe to run twice."""

from celery import shared_task

from core import images


@shared_task(acks_late=True, ignore_result=True)
def make_image_renditions(name: str) -> list[str]:
    """Make the missing WebP renditions of the stored image `name` (idempotent)."""
    return images.make_renditions(name)
