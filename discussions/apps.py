from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DiscussionsConfig(AppConfig):
    name = "discussions"
    verbose_name = _("Discussions")

    def ready(self) -> None:
        from branches import roles
        from notifications import kinds
        from notifications import selectors as notice_selectors
        from notifications.models import Notice

        from . import selectors
        from .models import BoardPost
        from .registry import register_commentable

        register_commentable(
            Notice,
            can_view=notice_selectors.notice_visible_to,
            organization_of=lambda notice: notice.organization,
        )
        register_commentable(
            BoardPost,
            can_view=selectors.board_post_visible_to,
            organization_of=lambda post: post.organization,
        )
        kinds.register("board_answered", _("Your post was answered: %(subject)s"))
        moderators = (
            roles.Role.SECRETARY,
            roles.Role.DEPUTY_SECRETARY,
            roles.Role.COMMITTEE_MEMBER,
            roles.Role.REVIEWER,
        )
        roles.grant(moderators, roles.crud("discussions", "comment", ("view", "change")))
        roles.grant(moderators, roles.crud("discussions", "boardpost", ("view", "change")))
