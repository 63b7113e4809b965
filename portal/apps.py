from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _


class NetBranchAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with the scoped, allauth-guarded admin site."""

    default = False
    default_site = "branches.admin_site.NetBranchAdminSite"


class PortalConfig(AppConfig):
    default = True
    name = "portal"
    verbose_name = _("Portal")
