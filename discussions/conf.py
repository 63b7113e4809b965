"""The app's settings, with their defaults (override them in portal/settings.py or the
environment there):

- NETBRANCH_COMMENT_MAX_LENGTH: characters in a comment (1000).
- NETBRANCH_BOARD_POST_MAX_LENGTH: characters in a board post and in an official answer (2000).
- NETBRANCH_POST_RATE: comments and board posts one person may write per period, "N/seconds"
  ("5/60": five a minute).
"""

from django.conf import settings


def comment_max_length() -> int:
    return int(getattr(settings, "NETBRANCH_COMMENT_MAX_LENGTH", 1000))


def board_post_max_length() -> int:
    return int(getattr(settings, "NETBRANCH_BOARD_POST_MAX_LENGTH", 2000))


def post_rate() -> tuple[int, int]:
    """(how many, per how many seconds)."""
    raw = str(getattr(settings, "NETBRANCH_POST_RATE", "5/60"))
    count, _sep, seconds = raw.partition("/")
    return int(count), int(seconds or 60)


def page_size() -> int:
    return int(getattr(settings, "NETBRANCH_PAGE_SIZE", 20))
