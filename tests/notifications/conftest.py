"""Helpers for the notifications tests: notices made through the services, on-commit work
(the fan-out, e-mail) run as it would after a real commit."""

import pytest

from notifications import services
from notifications.models import Notice, Notification


def inbox_of(user) -> set[str]:
    """Subjects in a user's inbox."""
    return set(Notification.objects.filter(recipient=user).values_list("event__subject", flat=True))


def recipients_of(event) -> set[str]:
    return set(
        Notification.objects.filter(event=event).values_list("recipient__username", flat=True)
    )


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """`with committed():` runs what the block schedules on commit (the fan-out, its e-mail),
    the way the end of a real transaction would."""

    def run():
        return django_capture_on_commit_callbacks(execute=True)

    return run


@pytest.fixture
def make_notice(tree, committed):
    """make_notice(org=None, by=None, publish=False, **fields): a notice created through
    `notice_create` (a draft) and, with publish=True, published with its fan-out run."""
    counter = iter(range(1, 10_000))

    def make(org=None, by=None, publish=False, **fields) -> Notice:
        org = org or tree.branch
        by = by or tree.admin
        fields.setdefault("title", f"通知{next(counter)}")
        fields.setdefault("body", "<p>请各位党员按时参加学习。</p>")
        notice = services.notice_create(by=by, organization=org, **fields)
        if publish:
            with committed():
                notice = services.notice_publish(notice=notice, by=by)
        return notice

    return make
