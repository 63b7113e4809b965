from branches import scope


def navigation(request) -> dict:
    """What the header needs: whether to show the admin link (no query for anonymous users;
    one cached query otherwise, shared with every scope check of the request)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_can_admin": False}
    return {"nav_can_admin": user.is_staff and scope.has_role(user)}
