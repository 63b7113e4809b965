"""The admin site: its login is allauth's (so it is rate-limited like every login), access
follows role assignments, and with DJANGO_STAFF_REQUIRE_MFA=1 staff set up TOTP first."""

from functools import wraps

from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import scope


class NetBranchAdminSite(admin.AdminSite):
    site_header = gettext_lazy("NetBranch administration")
    site_title = gettext_lazy("NetBranch")
    index_title = gettext_lazy("Branch work")
    site_url = "/"

    def has_permission(self, request) -> bool:
        """Active users with a role assignment (or superusers); `is_staff` alone is not enough."""
        user = request.user
        return bool(user.is_active and user.is_staff and scope.has_role(user))

    def login(self, request, extra_context=None):
        """One login for the whole portal: allauth's, throttled by its rate limits."""
        if request.user.is_authenticated:
            if self.has_permission(request):
                target = request.GET.get("next") or ""
                if not url_has_allowed_host_and_scheme(
                    target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
                ):
                    target = reverse("admin:index")
                return redirect(target)
            raise PermissionDenied(_("Your account has no role that opens the administration."))
        return redirect_to_login(
            request.GET.get("next") or reverse("admin:index"), reverse("account_login")
        )

    def admin_view(self, view, cacheable=False):
        inner = super().admin_view(view, cacheable)

        @wraps(view)
        def wrapper(request, *args, **kwargs):
            # Straight to allauth's login, or a 403 for a logged-in user without a role,
            # instead of Django's detour through the admin's own login page.
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path(), reverse("account_login"))
            if not self.has_permission(request):
                raise PermissionDenied(_("Your account has no role that opens the administration."))
            if (
                settings.STAFF_REQUIRE_MFA
                and request.user.is_authenticated
                and self.has_permission(request)
                and not is_mfa_enabled(request.user, ["totp"])
            ):
                messages.warning(
                    request,
                    _("Set up two-factor authentication before you open the administration."),
                )
                return redirect(
                    f"{reverse('mfa_activate_totp')}?{urlencode({'next': request.get_full_path()})}"
                )
            return inner(request, *args, **kwargs)

        return wrapper
