"""Reads of the activity sync: who is expected at a meeting."""

from django.contrib.auth import get_user_model
from django.db.models import QuerySet

from branches.models import RoleAssignment
from members.selectors import members_of_organizations

from ..models import Meeting


def expected_attendees(meeting: Meeting) -> QuerySet:
    """Active users expected at the meeting: the members of its organisation as `members`
    defines them (registered or taking part, the subtree included); for a committee meeting,
    the organisation's committee (secretary, deputies, committee members)."""
    users = get_user_model().objects.filter(is_active=True)
    if meeting.kind == Meeting.Kind.COMMITTEE_MEETING:
        committee = RoleAssignment.objects.filter(
            organization_id=meeting.organization_id,
            role__in=RoleAssignment.BRANCH_COMMITTEE_ROLES,
        )
        return users.filter(pk__in=committee.values("user_id"))
    members = members_of_organizations(organizations=[meeting.organization])
    return users.filter(pk__in=members.values("user_id"))


def is_expected(meeting: Meeting, user) -> bool:
    return expected_attendees(meeting).filter(pk=user.pk).exists()


def audience_meeting_attendees(*, meeting: int) -> QuerySet:
    """The audience "meetings.attendees" (registered with notifications)."""
    stored = Meeting.objects.select_related("organization").get(pk=meeting)
    return expected_attendees(stored)
