from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.exceptions import ImmediateHttpResponse
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import redirect
from django.utils.translation import gettext as _


class AccountAdapter(DefaultAccountAdapter):
    """No open sign-up: accounts come from secretaries, imports and invitations. Sign-up opens
    only while a valid invitation's token sits in the session (put there by the invitation's
    landing page), and the new account uses it in the transaction that creates it."""

    def is_open_for_signup(self, request) -> bool:
        from members.services import INVITATION_SESSION_KEY, invitation_pending

        session = getattr(request, "session", None)
        raw_token = session.get(INVITATION_SESSION_KEY) if session is not None else None
        return bool(raw_token) and invitation_pending(raw_token) is not None

    def save_user(self, request, user, form, commit=True):
        from members.services import INVITATION_SESSION_KEY, invitation_accept, invitation_path

        raw_token = request.session.get(INVITATION_SESSION_KEY)
        if not raw_token:  # sign-up is closed without one: nothing reaches here
            raise ImmediateHttpResponse(redirect("account_signup"))
        try:
            with transaction.atomic():
                user = super().save_user(request, user, form, commit=True)
                member = invitation_accept(
                    raw_token=raw_token,
                    user=user,
                    real_name=form.cleaned_data.get("real_name", ""),
                    phone=form.cleaned_data.get("phone", ""),
                )
        except ValidationError as exc:  # the account is rolled back with the invitation
            messages.error(request, " ".join(exc.messages))
            raise ImmediateHttpResponse(redirect(invitation_path(raw_token))) from exc
        request.session.pop(INVITATION_SESSION_KEY, None)
        messages.success(
            request,
            _("Welcome, %(name)s: you are registered with %(branch)s.")
            % {"name": member.real_name, "branch": member.branch},
        )
        return user
