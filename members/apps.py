from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MembersConfig(AppConfig):
    name = "members"
    verbose_name = _("Members")

    def ready(self) -> None:
        from branches import roles, scope, timeline
        from notifications import audiences, kinds

        from . import selectors

        scope.register_home_organizations(selectors.home_organization_paths)
        audiences.register("members.of_organizations", selectors.audience_members_of_organizations)
        audiences.register_viewer_category(selectors.viewer_category)
        timeline.register("member_registered", _("%(person)s registered with the branch"))
        timeline.register("member_transferred_out", _("%(person)s transferred to %(to)s"))
        timeline.register("member_transferred_in", _("%(person)s transferred in from %(from)s"))
        kinds.register("transfer_requested", _("Transfer requested: %(subject)s"))
        kinds.register("transfer_released", _("Transfer released: %(subject)s"))
        kinds.register("transfer_accepted", _("Transfer accepted: %(subject)s"))
        kinds.register("transfer_refused", _("Transfer refused: %(subject)s"))
        kinds.register("transfer_withdrawn", _("Transfer withdrawn: %(subject)s"))
        kinds.register("transfer_overdue", _("Transfer overdue: %(subject)s"))
        kinds.register("join_requested", _("Join request: %(subject)s"))
        kinds.register("join_approved", _("Welcome, your join request is approved: %(subject)s"))
        kinds.register("join_refused", _("Join request refused: %(subject)s"))
        kinds.register(
            "site_members_participate",
            _("Your project site closed; you now take part in a branch: %(subject)s"),
        )
        kinds.register("site_members_attached", _("You are attached to a site: %(subject)s"))
        timeline.register(
            "site_members_transferred",
            _("Closed site %(site)s: %(n)s transfers to %(to)s released"),
        )
        timeline.register(
            "site_members_participate",
            _("Closed site %(site)s: %(n)s members now take part in %(to)s"),
        )
        timeline.register(
            "site_members_attached",
            _("Site %(site)s: %(n)s members attached, taking part in %(to)s"),
        )
        kinds.register("invitation_accepted", _("Invitation accepted: %(subject)s"))
        kinds.register("invitation_welcome", _("Welcome to %(subject)s"))
        roles.grant(roles.ALL_ROLES, roles.crud("members", "member", ("view",)))
        roles.grant(roles.ALL_ROLES, roles.crud("members", "participation", ("view",)))
        roles.grant(roles.ALL_ROLES, roles.crud("members", "activityfact", ("view",)))
        roles.grant(
            (
                roles.Role.SECRETARY,
                roles.Role.DEPUTY_SECRETARY,
                roles.Role.COMMITTEE_MEMBER,
                roles.Role.REVIEWER,
            ),
            roles.crud("members", "member", ("add", "change"))
            + roles.crud("members", "participation"),
        )
        roles.grant(roles.ALL_ROLES, ["auth.view_user"])
        roles.grant(
            roles.ALL_ROLES,
            roles.crud("members", "transfer", ("view", "add", "change"))
            + roles.crud("members", "joinrequest", ("view", "change")),
        )
        roles.grant(roles.ALL_ROLES, roles.crud("members", "invitation", ("view", "change")))
        roles.grant(
            roles.ALL_ROLES,
            roles.crud("members", "outreachcase", ("view",))
            + roles.crud("members", "contactattempt", ("view",)),
        )
