"""Reads of the study sync, in three modules: `access` (who may study what, lookups by id),
`audiences` (registered with notifications) and `pages` (what the pages show). The names
are re-exported here, so `from lessons import selectors; selectors.lesson_detail(...)` works."""

from .access import *  # noqa: F403
from .access import COMMITTEE_ROLES, viewer  # noqa: F401
from .audiences import *  # noqa: F403
from .pages import *  # noqa: F403
from .pages import month_start, remember_member  # noqa: F401
