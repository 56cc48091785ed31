"""The system accounts of the unattended ways in (the public form, the mailbox).

Feedback that no signed-in user registered is audited with `by=None` and the channel named as
the audit source; the files that came with it still need an uploader (core.Attachment), which
is this inactive account with an unusable password: it can never sign in, sign or approve."""

from __future__ import annotations

from typing import Any

CHANNEL_ACCOUNTS = {
    "public_form": ("system-public-form", "Public feedback form"),
    "mailbox": ("system-mailbox", "Feedback mailbox"),
}


def channel_account(channel: str) -> Any:
    """The inactive system account of `channel` ("public_form" or "mailbox"), made once."""
    from medvigil.accounts.models import User

    username, name = CHANNEL_ACCOUNTS[channel]
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User(username=username, display_name=name, is_active=False)
        user.set_unusable_password()
        user.save()
    return user
