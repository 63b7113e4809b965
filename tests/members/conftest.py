"""Fixtures of the transfer, join-request and /me/ tests (not autouse: the older tests of this
folder keep their own setup). Messages are asserted in English."""

import pytest
from django.utils import translation

from members import services
from tests.lessons.conftest import events_for, race, recipients_of  # noqa: F401 - re-exported


@pytest.fixture
def english(settings):
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
def request_transfer(tree):
    """request_transfer(member=tree.member, to=tree.sibling, by=None, **kw): a transfer asked
    for by the member themself (by default) through the service."""

    def make(member=None, to=None, by=None, **kw):
        member = member or tree.member
        if to is not None or "external_organization" not in kw:
            kw["to_branch"] = to or tree.sibling
        return services.transfer_request(member=member, by=by or member.user, **kw)

    return make
