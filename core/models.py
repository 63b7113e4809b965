from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class TimeStampedModel(models.Model):
    """Abstract base: when a row was created and last changed."""

    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True


class ClientAction(models.Model):
    """An action a member did in the browser while offline (finishing a lesson, answering its
    check, writing a reflection), sent later with an id the browser made. The server takes
    each once: a replay of the same (user, client id) gets the stored outcome back. Generic:
    `kind` names the handler (registered by the app that dispatches, portal.offline)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="client_actions",
        verbose_name=_("user"),
    )
    client_id = models.UUIDField(_("client id"))
    kind = models.CharField(_("kind"), max_length=40)
    happened_at = models.DateTimeField(_("happened at"))
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)
    outcome = models.JSONField(_("outcome"), default=dict, blank=True)

    class Meta:
        verbose_name = _("offline action")
        verbose_name_plural = _("offline actions")
        constraints = [
            models.UniqueConstraint(fields=["user", "client_id"], name="clientaction_once"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.client_id}"
