"""`{% offline_config %}`: what static/js/offline.js needs on a logged-in member's page (the
URLs and its few sentences, translated), as a JSON data block (no inline script: CSP)."""

from django import template
from django.urls import reverse
from django.utils.html import json_script
from django.utils.translation import gettext as _

register = template.Library()


@register.simple_tag(takes_context=True)
def offline_config(context) -> str:
    user = context.get("user")
    if user is None or not user.is_authenticated:
        return ""
    config = {
        "user": str(user.pk),
        "sw": reverse("service_worker"),
        "actions": reverse("offline_actions"),
        "logout": reverse("account_logout"),
        "t": {
            "saved": _("You are offline: this page was saved on %s."),
            "kept": _("Saved for offline"),
            "notSaved": _("Could not save this page: is the network there?"),
            "queued": _("Kept on this phone: it will be sent when the network is back."),
            "logoutOffline": _(
                "You are offline: log out when the network is back, so that what you did "
                "offline is sent first."
            ),
            "login": _("Log in again to send what you did offline."),
            "unreadable": _("The server answered something unexpected."),
            "sent": _("What you did offline has been sent:"),
            "yourText": _("Your text"),
            "waiting": _("Done offline, waiting to be sent: %s."),
        },
    }
    return json_script(config, "nb-offline")
