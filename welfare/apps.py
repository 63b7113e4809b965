from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WelfareConfig(AppConfig):
    name = "welfare"
    verbose_name = _("Service")

    def ready(self) -> None:
        from branches import roles, timeline
        from discussions.registry import register_commentable
        from notifications import kinds

        from .models import WelfareActivity
        from .selectors import activity_visible_to

        kinds.register("welfare_activity_published", _("Welfare activity: %(subject)s"))
        kinds.register(
            "welfare_follow_up_due", _("A pairing case is waiting for a visit: %(subject)s")
        )
        kinds.register(
            "welfare_follow_up_overdue",
            _("A pairing case has gone long without a visit: %(subject)s"),
        )
        timeline.register("welfare_activity_done", _("Welfare activity: %(title)s"))
        # Activities take likes and comments; pairing cases never do (personal data).
        register_commentable(
            WelfareActivity,
            can_view=activity_visible_to,
            organization_of=lambda activity: activity.organization,
        )
        editors = (
            roles.Role.SECRETARY,
            roles.Role.DEPUTY_SECRETARY,
            roles.Role.COMMITTEE_MEMBER,
            roles.Role.REVIEWER,
        )
        for model in ("welfareactivity", "welfarephoto", "welfareparticipant", "pairingcase"):
            roles.grant(editors, roles.crud("welfare", model, ("view", "add", "change")))
        roles.grant(
            editors,
            roles.crud("welfare", "welfarephoto", ("delete",))
            + roles.crud("welfare", "welfareparticipant", ("delete",))
            + roles.crud("welfare", "welfaresignup", ("view",))
            + roles.crud("welfare", "followup", ("view",))
            + roles.crud("welfare", "welfarefeature", ("view",)),
        )
        roles.grant((roles.Role.REVIEWER,), roles.crud("welfare", "welfarefeature", ("delete",)))
