from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = _("Notifications and notices")

    def ready(self) -> None:
        from branches import roles, timeline

        from . import audiences, kinds, selectors

        kinds.register_defaults()
        audiences.register("notifications.notice_unread", selectors.notice_unread_audience)
        timeline.register("news_published", _("News: %(title)s"))
        timeline.register("notice_published", _("Notice: %(title)s"))
        editors = (
            roles.Role.SECRETARY,
            roles.Role.DEPUTY_SECRETARY,
            roles.Role.COMMITTEE_MEMBER,
            roles.Role.REVIEWER,
        )
        roles.grant(editors, roles.crud("notifications", "notice", ("view", "add", "change")))
        roles.grant(editors, roles.crud("notifications", "noticeattachment"))
        roles.grant(
            (roles.Role.SECRETARY, roles.Role.DEPUTY_SECRETARY, roles.Role.REVIEWER),
            ["notifications.delete_notice"],
        )
