from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DecisionsConfig(AppConfig):
    name = "decisions"
    verbose_name = _("Deliberation and decisions")

    def ready(self) -> None:
        from branches import roles, timeline
        from discussions.registry import register_commentable
        from notifications import audiences, kinds

        from . import selectors
        from .models import Motion

        kinds.register("motion_opened", _("Vote open: %(subject)s"))
        kinds.register("motion_passed", _("Motion passed: %(subject)s"))
        kinds.register("motion_rejected", _("Motion rejected: %(subject)s"))
        kinds.register("motion_no_quorum", _("Vote without quorum: %(subject)s"))
        kinds.register("decision_assigned", _("You follow up a decision: %(subject)s"))
        kinds.register("decision_overdue", _("A decision you follow up is overdue: %(subject)s"))
        timeline.register("decision_passed", _("Decision: %(title)s"))
        timeline.register("decision_progress", _("Decision %(title)s: %(percent)s%% done"))
        timeline.register("decision_done", _("Decision carried out: %(title)s"))
        audiences.register("decisions.electorate", selectors.audience_electorate)
        # The motions put to a meeting's vote, on the meeting page.
        from meetings.registry import register_section

        register_section(
            template="decisions/includes/_meeting_motions.html", context=selectors.meeting_section
        )
        # Members discuss a motion (comments, likes) wherever they may open it.
        register_commentable(
            Motion,
            can_view=selectors.motion_visible_to,
            organization_of=lambda motion: motion.organization,
        )
        # The committee raises, opens and closes motions and follows decisions up (the
        # services narrow follow-up to the secretaries and the owner); reviewers look.
        committee = roles.BRANCH_ROLES
        roles.grant(committee, roles.crud("decisions", "motion", ("view", "add", "change", "delete")))  # fmt: skip
        roles.grant(committee, roles.crud("decisions", "motionattachment"))
        roles.grant(committee, roles.crud("decisions", "progressupdate", ("view",)))
        roles.grant((roles.Role.REVIEWER,), roles.crud("decisions", "motion", ("view",)))
        roles.grant((roles.Role.REVIEWER,), roles.crud("decisions", "motionattachment", ("view",)))
        roles.grant((roles.Role.REVIEWER,), roles.crud("decisions", "progressupdate", ("view",)))
