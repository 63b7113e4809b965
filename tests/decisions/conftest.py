"""Fixtures of the decisions tests: motions made through the services, a committee member of
tree.branch, and English messages (their Chinese is in the catalogue)."""

from datetime import timedelta

import pytest
from django.utils import timezone, translation

from branches.models import RoleAssignment
from decisions import services
from decisions.models import Motion
from members.models import Member
from tests import factories
from tests.lessons.conftest import committed  # noqa: F401 - the fixture, reused here
from tests.meetings.conftest import make_meeting  # noqa: F401 - the fixture, reused here


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def make_motion(tree, committed):  # noqa: F811 - the fixture imported above
    """make_motion(org=None, by=None, open=False, **fields): a draft motion of tree.branch (by
    default) raised by its secretary through `motion_create`, voting from five minutes ago
    for a day; with open=True opened, the notice's fan-out run."""
    counter = iter(range(1, 10_000))

    def make(org=None, by=None, open=False, **fields) -> Motion:
        by = by or tree.secretary
        now = timezone.now()
        fields.setdefault("title", f"关于设立党员先锋岗的议案{next(counter)}")
        fields.setdefault("body", "<p>提请支部党员大会表决。</p>")
        fields.setdefault("opens_at", now - timedelta(minutes=5))
        fields.setdefault("closes_at", now + timedelta(days=1))
        motion = services.motion_create(by=by, organization=org or tree.branch, **fields)
        if open:
            with committed():
                motion = services.motion_open(motion=motion, by=by)
        return motion

    return make


@pytest.fixture
def committee_member(tree):
    """A full member of tree.branch on its committee (支委), not its secretary."""
    member = factories.MemberFactory(user__username="committee", branch=tree.branch)
    factories.RoleAssignmentFactory(
        user=member.user, organization=tree.branch, role=RoleAssignment.Role.COMMITTEE_MEMBER
    )
    return member.user


@pytest.fixture
def probationary(tree):
    """A probationary member registered in tree.branch: no vote."""
    return factories.MemberFactory(
        user__username="probationary", branch=tree.branch, status=Member.Status.PROBATIONARY
    ).user


def close_at_end(motion: Motion) -> Motion:
    """Close as the beat does once the window has ended."""
    return services.motion_close(motion=motion, now=motion.closes_at + timedelta(seconds=1))
