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
        editors = (
            roles.Role.SECRETARY,
            roles.Role.DEPUTY_SECRETARY,
            roles.Role.COMMITTEE_MEMBER,
            roles.Role.REVIEWER,
        )
        roles.grant(editors, roles.crud("meetings", "meeting", ("view", "add", "change")))
        roles.grant(editors, roles.crud("meetings", "attendance", ("view",)))
