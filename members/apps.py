from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MembersConfig(AppConfig):
    name = "members"
    verbose_name = _("Members")

    def ready(self) -> None:
        from branches import roles, scope, timeline
        from notifications import audiences

        from . import selectors

        scope.register_home_organizations(selectors.home_organization_paths)
        audiences.register("members.of_organizations", selectors.audience_members_of_organizations)
        audiences.register_viewer_category(selectors.viewer_category)
        timeline.register("member_registered", _("%(person)s registered with the branch"))
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
