"""Writes of the personal calendar feeds: a member makes a secret feed URL, makes a new one
(the old URL stops working at once) or revokes it (the row is deleted)."""

import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from ..models import CalendarFeed

#: How often a feed's "last used" time is written (calendar apps poll every few minutes).
TOUCH_EVERY = timedelta(hours=1)


def _new_token() -> str:
    return secrets.token_urlsafe(32)


@transaction.atomic
def calendar_feed_create(*, user) -> CalendarFeed:
    """Give the user a feed with a fresh secret token, replacing the one they had: the old
    URL answers 404 from now on."""
    CalendarFeed.objects.filter(user=user).delete()
    return CalendarFeed.objects.create(user=user, token=_new_token())


@transaction.atomic
def calendar_feed_revoke(*, user) -> bool:
    """Delete the user's feed; True when there was one (revoking twice is harmless)."""
    deleted, _by_model = CalendarFeed.objects.filter(user=user).delete()
    return bool(deleted)


def calendar_feed_touch(*, feed: CalendarFeed, now=None) -> None:
    """Note that the feed was read, at most once an hour (one conditional UPDATE)."""
    now = now or timezone.now()
    if feed.last_used_at is not None and now - feed.last_used_at < TOUCH_EVERY:
        return
    CalendarFeed.objects.filter(pk=feed.pk).update(last_used_at=now)
