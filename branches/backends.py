from django.contrib.auth.backends import BaseBackend

from . import roles, scope


class RolePermissionBackend(BaseBackend):
    """Model permissions follow role assignments: remove the assignment and the access goes.

    It authenticates nobody (allauth's backend does that); it only answers permission checks.
    """

    _cache = "_netbranch_role_perms"

    def get_all_permissions(self, user_obj, obj=None) -> set[str]:
        if not getattr(user_obj, "is_active", False) or user_obj.is_anonymous:
            return set()
        perms = getattr(user_obj, self._cache, None)
        if perms is None:
            perms = roles.permissions_for({role for role, _ in scope.assignments(user_obj)})
            setattr(user_obj, self._cache, perms)
        return perms

    def has_perm(self, user_obj, perm, obj=None) -> bool:
        return perm in self.get_all_permissions(user_obj)

    def has_module_perms(self, user_obj, app_label) -> bool:
        prefix = f"{app_label}."
        return any(p.startswith(prefix) for p in self.get_all_permissions(user_obj))
