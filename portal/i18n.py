"""Strings of Django and allauth templates that their own zh-Hans catalogues leave in English.

Listed here so that `makemessages` keeps them in the project's catalogue (LOCALE_PATHS comes
first when Django looks a string up); nothing imports this module.
"""

from django.utils.translation import gettext_noop

ADMIN_APP_LIST = (
    # django/contrib/admin/templates/admin/app_list.html: table headers for screen readers.
    gettext_noop("Model name"),
    gettext_noop("Add link"),
    gettext_noop("Change or view list link"),
)
