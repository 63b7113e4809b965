from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = _("Committee review")

    def ready(self) -> None:
        self._ready_rating()
        self._ready_reports()

    def _ready_reports(self) -> None:
        """The activity reports: their notifications and who sees them in the admin."""
        from branches import roles
        from notifications import kinds

        kinds.register("report_submitted", _("Activity report to review: %(subject)s"))
        kinds.register("report_approved", _("Activity report approved: %(subject)s"))
        kinds.register("report_returned", _("Activity report returned with comments: %(subject)s"))
        kinds.register("report_due_soon", _("Activity report due soon: %(subject)s"))
        kinds.register("report_overdue", _("Activity report overdue: %(subject)s"))
        kinds.register("reports_overdue", _("Branches' activity reports overdue: %(subject)s"))
        roles.grant(roles.ALL_ROLES, roles.crud("reports", "activityreport", ("view",)))
        roles.grant((roles.Role.REVIEWER,), roles.crud("reports", "activityreport", ("change",)))

    def _ready_rating(self) -> None:
        """The five-star rating: its notifications, its section on the branch page and who
        may see and act on ratings and practice accounts in the admin."""
        from branches import roles
        from branches.registry import register_section
        from notifications import kinds

        from .selectors import rating as rating_selectors

        kinds.register(
            "rating_decided", _("The committee decided your branch's rating: %(subject)s")
        )
        kinds.register("practice_shared", _("A five-star branch shares its practice: %(subject)s"))
        register_section(
            template="reports/rating_branch_section.html", context=rating_selectors.branch_section
        )
        roles.grant(roles.ALL_ROLES, roles.crud("reports", "branchrating", ("view",)))
        roles.grant(roles.ALL_ROLES, roles.crud("reports", "practiceaccount", ("view",)))
        roles.grant((roles.Role.REVIEWER,), roles.crud("reports", "branchrating", ("change",)))
        roles.grant((roles.Role.REVIEWER,), roles.crud("reports", "practiceaccount", ("change",)))
