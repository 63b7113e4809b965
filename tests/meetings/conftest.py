"""Fixtures of the meetings tests. Messages are asserted in English (their Chinese is in the
catalogue and checked by tests/test_i18n.py)."""

from datetime import timedelta

import pytest
from django.utils import timezone, translation

from meetings import services
from meetings.models import Meeting
from tests.lessons.conftest import make_lesson  # noqa: F401 - the fixture, reused here


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """`with committed():` runs what the block schedules on commit (the fan-out)."""

    def run():
        return django_capture_on_commit_callbacks(execute=True)

    return run


@pytest.fixture
def make_meeting(tree, committed):
    """make_meeting(org=None, by=None, publish=False, **fields): a planned meeting of
    tree.branch (by default) created through `meeting_create` by the secretary, starting in
    two days for two hours; with publish=True announced, its fan-out run."""
    counter = iter(range(1, 10_000))

    def make(org=None, by=None, publish=False, **fields) -> Meeting:
        by = by or tree.secretary
        fields.setdefault("title", f"主题党日{next(counter)}")
        fields.setdefault("kind", Meeting.Kind.THEMED_DAY)
        fields.setdefault("starts_at", timezone.now() + timedelta(days=2))
        fields.setdefault("ends_at", fields["starts_at"] + timedelta(hours=2))
        fields.setdefault("place", "项目部会议室")
        meeting = services.meeting_create(by=by, organization=org or tree.branch, **fields)
        if publish:
            with committed():
                meeting = services.meeting_publish(meeting=meeting, by=by)
        return meeting

    return make
