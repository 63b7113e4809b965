from allauth.account.adapter import DefaultAccountAdapter


class AccountAdapter(DefaultAccountAdapter):
    """No open sign-up: accounts come from secretaries, imports and invitations."""

    def is_open_for_signup(self, request) -> bool:
        return False
