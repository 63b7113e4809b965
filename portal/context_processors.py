from branches import scope
from notifications import selectors as notification_selectors


def navigation(request) -> dict:
    """What the header needs: the admin link and the unread badge. Nothing for anonymous
    visitors; for a user one cached scope query (shared with the rest of the request) and one
    indexed count."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_can_admin": False, "nav_unread": 0, "nav_can_review": False}
    return {
        "nav_can_admin": user.is_staff and scope.has_role(user),
        "nav_can_review": user.is_staff and scope.has_role(user, scope.REVIEW_ROLES),
        "nav_unread": notification_selectors.unread_count(user=user),
    }
