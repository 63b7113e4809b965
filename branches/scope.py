"""Organisation scope: the one module that says which organisations a user may manage,
review or read. Every selector and every admin class goes through it.

Trees are materialised paths (treebeard): the subtree under a node is `path LIKE 'P%'` and the
path to the root is `path IN (prefixes of P)`, so both are one indexed query at any depth.
"""

from collections.abc import Callable, Iterable
from functools import reduce
from operator import or_

from django.db.models import Q, QuerySet

from .models import Organization, RoleAssignment

Role = RoleAssignment.Role
MANAGE_ROLES = (Role.SECRETARY, Role.DEPUTY_SECRETARY, Role.COMMITTEE_MEMBER, Role.REVIEWER)
REVIEW_ROLES = (Role.REVIEWER,)

_CACHE_ATTR = "_netbranch_assignments"

# A callable user -> iterable of organisation paths where the user belongs as a member
# (registered branch, participations). `members` registers it: branches knows no members.
_home_paths_resolver: Callable[[object], Iterable[str]] | None = None


def register_home_organizations(resolver: Callable[[object], Iterable[str]]) -> None:
    global _home_paths_resolver
    _home_paths_resolver = resolver


def subtree_q(paths: Iterable[str], *, prefix: str = "") -> Q:
    """Q matching every organisation in the subtrees rooted at `paths` (roots included).

    `prefix` is the lookup from another model to its organisation, e.g. "organization__".
    Nested roots are collapsed so the SQL stays short.
    """
    roots = _collapse(paths)
    if not roots:
        return Q(pk__in=[])
    return reduce(or_, (Q(**{f"{prefix}path__startswith": p}) for p in roots))


def _collapse(paths: Iterable[str]) -> list[str]:
    roots: list[str] = []
    for p in sorted(set(paths)):
        if not any(p.startswith(r) for r in roots):
            roots.append(p)
    return roots


def ancestor_paths(paths: Iterable[str], *, include_self: bool = True) -> set[str]:
    """Every path on the way from each of `paths` up to the root (no query)."""
    step = Organization.steplen
    out: set[str] = set()
    for p in paths:
        stop = len(p) + (step if include_self else 0)
        out.update(p[:end] for end in range(step, stop, step))
    return out


def path_to_root(organization: Organization, *, include_self: bool = True) -> QuerySet:
    """The organisation's ancestors, root first: one query."""
    return Organization.objects.filter(
        path__in=ancestor_paths([organization.path], include_self=include_self)
    ).order_by("depth")


def subtree(organization: Organization, *, include_self: bool = True) -> QuerySet:
    """The organisation and everything under it: one query."""
    qs = Organization.objects.filter(path__startswith=organization.path)
    if not include_self:
        qs = qs.exclude(pk=organization.pk)
    return qs


def assignments(user) -> list[tuple[str, str]]:
    """(role, organisation path) pairs of the user, cached on the user object (one query)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return []
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is None:
        cached = list(
            RoleAssignment.objects.filter(user=user).values_list("role", "organization__path")
        )
        setattr(user, _CACHE_ATTR, cached)
    return cached


def remember_assignments(user, pairs) -> None:
    """Seed the cache with (role, organisation path) pairs a page has already loaded, so the
    scope checks of the same request cost no query."""
    if getattr(user, _CACHE_ATTR, None) is None:
        setattr(user, _CACHE_ATTR, list(pairs))


def forget(user) -> None:
    """Drop the cached assignments (after a role change in the same request)."""
    for attr in (_CACHE_ATTR, "_netbranch_role_perms"):
        if hasattr(user, attr):
            delattr(user, attr)


def managed_paths(user, roles: Iterable[str] = MANAGE_ROLES) -> list[str]:
    roles = set(roles)
    return _collapse(path for role, path in assignments(user) if role in roles)


def has_role(user, roles: Iterable[str] = MANAGE_ROLES) -> bool:
    return bool(getattr(user, "is_superuser", False) and user.is_active) or bool(
        managed_paths(user, roles)
    )


def managed_organizations(user, roles: Iterable[str] = MANAGE_ROLES) -> QuerySet:
    """Organisations the user may manage: the subtrees of their role assignments
    (everything for a superuser)."""
    if getattr(user, "is_superuser", False) and user.is_active:
        return Organization.objects.all()
    return Organization.objects.filter(subtree_q(managed_paths(user, roles)))


def reviewed_organizations(user) -> QuerySet:
    """Organisations under the user's committee-reviewer assignments."""
    return managed_organizations(user, REVIEW_ROLES)


def can_manage(user, organization: Organization, roles: Iterable[str] = MANAGE_ROLES) -> bool:
    """Does one of the user's assignments cover this organisation? No query beyond the cache."""
    if getattr(user, "is_superuser", False) and user.is_active:
        return True
    return any(organization.path.startswith(p) for p in managed_paths(user, roles))


def home_paths(user) -> list[str]:
    if _home_paths_resolver is None or not getattr(user, "is_authenticated", False):
        return []
    return list(_home_paths_resolver(user))


def visible_organizations(user) -> QuerySet:
    """Organisations whose content the user may see: every organisation on the path from
    their branch (and participations) up to the root, plus the subtrees they manage."""
    if getattr(user, "is_superuser", False) and user.is_active:
        return Organization.objects.all()
    q = Q(path__in=ancestor_paths(home_paths(user)))
    managed = managed_paths(user)
    if managed:
        q |= subtree_q(managed)
    return Organization.objects.filter(q)


def can_see(user, organization: Organization) -> bool:
    if can_manage(user, organization):
        return True
    return organization.path in ancestor_paths(home_paths(user))
