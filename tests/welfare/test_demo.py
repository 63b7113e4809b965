"""The welfare demo: what the demo accounts find (a coming activity joined to a themed day to
sign up for, one waiting to be recorded, cases in `member`'s care with a reminder sent, one
case handed over after its site closed), idempotency, and the bulk share."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from branches.models import TimelineEntry
from notifications.models import Event
from welfare import services
from welfare.models import (
    FollowUpPhoto,
    PairingCase,
    WelfareActivity,
    WelfareFeature,
    WelfareParticipant,
    WelfarePhoto,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def debug(settings):
    settings.DEBUG = True


def seed(**options) -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out, stderr=StringIO(), **options)
    return out.getvalue()


def test_the_demo_shows_the_service_sync_and_is_idempotent(debug, client):
    seed()
    today = timezone.localdate()
    done = WelfareActivity.objects.filter(status="done")
    assert done.count() >= 12
    assert {a.held_on.month for a in done} >= set(range(1, 13)) - {
        today.month
    } or done.count() >= 12
    assert (today - min(a.held_on for a in done)).days <= 366
    assert WelfarePhoto.objects.filter(cleared=False).exists() and WelfarePhoto.objects.filter(cleared=True).exists()  # fmt: skip
    assert WelfareParticipant.objects.filter(member__user__username="member").count() >= 2
    assert TimelineEntry.objects.filter(kind="welfare_activity_done").count() == done.count()
    assert WelfareFeature.objects.filter(organization__depth=1).exists()

    joined = WelfareActivity.objects.get(meeting__isnull=False)
    assert joined.meeting.kind == "themed_day" and joined.held_on >= today
    member = joined.organization.registered_members.get(user__username="member").user
    assert services.activity_sign_up(activity=joined, user=member).member.user == member

    waiting = WelfareActivity.objects.get(status="planned", held_on__lt=today)
    assert waiting.sign_ups.filter(member__user__username="member").exists()
    assert services.activity_record_done(activity=waiting, by=waiting.organization.role_assignments.get(role="secretary").user).is_done  # fmt: skip

    mine = PairingCase.objects.filter(paired_members__user__username="member")
    assert mine.count() == 2 and all(c.is_open for c in mine)
    due = Event.objects.filter(kind="welfare_follow_up_due")  # fanned out after the commit
    assert any(member.pk in e.audience_params["users"] for e in due)
    handed = PairingCase.objects.get(status="handed_over")
    assert handed.project_site.closed_on == handed.handed_over_on
    assert handed.handover_to_kind == "village_committee" and handed.handover_document
    assert FollowUpPhoto.objects.filter(cleared=False).exists()

    client.force_login(member)
    assert client.get("/welfare/").status_code == 200
    assert client.get(mine.first().get_absolute_url()).status_code == 200

    # Again, with the bulk share: the small demo changes nothing, the bulk adds activities in
    # proportion, and a third run adds nothing.
    small = (WelfareActivity.objects.count(), PairingCase.objects.count(), Event.objects.count())
    seed(members=300)
    assert (PairingCase.objects.count(), Event.objects.count()) == small[1:]
    bulk = WelfareActivity.objects.count() - small[0]
    assert bulk >= 10
    assert WelfareParticipant.objects.filter(member__user__username__startswith="m0").exists()
    seed(members=300)
    assert WelfareActivity.objects.count() == small[0] + bulk
