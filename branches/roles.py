"""Which model permissions each role grants. Apps register their own in AppConfig.ready(),
so that `branches` never imports them; `RolePermissionBackend` reads this registry."""

from collections import defaultdict
from collections.abc import Iterable

from .models import RoleAssignment

Role = RoleAssignment.Role
ALL_ROLES = tuple(Role)
BRANCH_ROLES = (Role.SECRETARY, Role.DEPUTY_SECRETARY, Role.COMMITTEE_MEMBER)

_granted: dict[str, set[str]] = defaultdict(set)


def grant(roles: Iterable[str], perms: Iterable[str]) -> None:
    """Give every role in `roles` the permissions `perms` ("app_label.codename")."""
    perms = set(perms)
    for role in roles:
        _granted[role] |= perms


def crud(
    app_label: str, model: str, actions: Iterable[str] = ("view", "add", "change", "delete")
) -> list[str]:
    return [f"{app_label}.{action}_{model}" for action in actions]


def permissions_for(roles: Iterable[str]) -> set[str]:
    out: set[str] = set()
    for role in roles:
        out |= _granted.get(role, set())
    return out


def register_defaults() -> None:
    grant(ALL_ROLES, crud("branches", "organization", ("view",)))
    grant(ALL_ROLES, crud("branches", "projectsite", ("view",)))
    grant(ALL_ROLES, crud("branches", "roleassignment", ("view",)))
    # Secretaries keep their branch's details and sites up to date and create party groups
    # and micro-branches under it; reviewers also assign roles in their subtree.
    grant(
        (Role.SECRETARY, Role.DEPUTY_SECRETARY, Role.REVIEWER),
        crud("branches", "organization", ("add", "change")),
    )
    grant(
        (Role.SECRETARY, Role.DEPUTY_SECRETARY, Role.REVIEWER),
        crud("branches", "projectsite", ("add", "change")),
    )
    grant((Role.REVIEWER,), crud("branches", "roleassignment"))
