from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BranchesConfig(AppConfig):
    name = "branches"
    verbose_name = _("Organisations")

    def ready(self) -> None:
        from . import roles, timeline

        timeline.register_defaults()
        roles.register_defaults()
