"""Audiences are registered, not imported. An event stores a registered name and JSON
parameters; the app that owns those people registers the resolver in its ready():

    audiences.register("members.of_organizations", resolve_members)

A resolver takes the parameters and returns a queryset of active users, evaluated in the
database by the fan-out (never loaded into Python whole)."""

from collections.abc import Callable

from django.contrib.auth import get_user_model
from django.db.models import QuerySet

Resolver = Callable[..., QuerySet]
_resolvers: dict[str, Resolver] = {}
_viewer_category: Callable[[object], str | None] | None = None


class UnknownAudience(LookupError):
    pass


def register(name: str, resolver: Resolver) -> None:
    _resolvers[name] = resolver


def resolve(name: str, params: dict | None = None) -> QuerySet:
    """The users of an audience, as a queryset of User."""
    try:
        resolver = _resolvers[name]
    except KeyError:
        raise UnknownAudience(name) from None
    return resolver(**(params or {}))


def registered() -> list[str]:
    return sorted(_resolvers)


def users(*, users: list[int]) -> QuerySet:
    """Built in: explicit users by id."""
    return get_user_model().objects.filter(pk__in=users, is_active=True)


register("users", users)


def register_viewer_category(resolver: Callable[[object], str | None]) -> None:
    """`members` tells which member category (office / front line / remote site) a user is,
    so that category-filtered content can be listed without importing members."""
    global _viewer_category
    _viewer_category = resolver


def viewer_category(user) -> str | None:
    return _viewer_category(user) if _viewer_category else None
