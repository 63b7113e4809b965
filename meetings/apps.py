from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MeetingsConfig(AppConfig):
    name = "meetings"
    verbose_name = _("Meetings")

    def ready(self) -> None:
        from branches import roles, timeline
        from notifications import audiences, kinds

        from . import selectors

        kinds.register("meeting_published", _("Meeting notice: %(subject)s"))
        kinds.register("meeting_changed", _("Meeting changed: %(subject)s"))
        kinds.register("meeting_cancelled", _("Meeting cancelled: %(subject)s"))
        kinds.register("meeting_reminder", _("Meeting soon: %(subject)s"))
        timeline.register("meeting_held", _("Meeting held: %(title)s"))
        audiences.register("meetings.attendees", selectors.audience_meeting_attendees)
        # Comments and likes on a meeting: whoever may open its page (meetings.selectors.pages).
        from discussions.registry import register_commentable

        from .models import Meeting
        from .selectors import pages as meeting_pages

        register_commentable(
            Meeting,
            can_view=meeting_pages.meeting_visible_to,
            organization_of=lambda meeting: meeting.organization,
        )
        self._register_reflections_and_cadence()
        editors = (
            roles.Role.SECRETARY,
            roles.Role.DEPUTY_SECRETARY,
            roles.Role.COMMITTEE_MEMBER,
            roles.Role.REVIEWER,
        )
        roles.grant(editors, roles.crud("meetings", "meeting", ("view", "add", "change")))
        roles.grant(editors, roles.crud("meetings", "attendance", ("view",)))
        # Minutes: attachments are added and removed in the meeting's admin page (inline).
        roles.grant(editors, roles.crud("meetings", "meetingattachment"))

    def _register_reflections_and_cadence(self) -> None:
        """Reflections (心得体会): their notices, the audience of those who have not written,
        likes and comments; the cadence warning sent to secretaries."""
        from discussions.registry import register_commentable
        from notifications import audiences, kinds

        from .models import Reflection
        from .selectors import reflections

        kinds.register("reflections_requested", _("Please write your reflection: %(subject)s"))
        kinds.register("reflections_reminder", _("Reminder, please write your reflection: %(subject)s"))  # fmt: skip
        kinds.register("cadence_warning", _("Meeting cadence: %(subject)s"))
        audiences.register("meetings.reflection_missing", reflections.audience_reflection_missing)
        register_commentable(
            Reflection,
            can_view=reflections.reflection_visible_to,
            organization_of=lambda reflection: reflection.meeting.organization,
        )
