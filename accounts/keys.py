"""Checking and storing a user's RelayDance key."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import ApiKey, User
from studio import relaydance


class KeyCheckFailed(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def check_key(raw: str) -> list[str]:
    """The model ids the key may use, or KeyCheckFailed with a message for the user."""
    try:
        return relaydance.get_client(raw).list_models(raw, attempts=1)
    except relaydance.KeyRejected as exc:
        if exc.status_code == 403:
            raise KeyCheckFailed(_("RelayDance knows this key but refused it: %(reason)s") % {"reason": exc.message}) from None
        raise KeyCheckFailed(_("This key was rejected by RelayDance. Check that you copied all of it.")) from None
    except relaydance.Unavailable:
        raise KeyCheckFailed(_("RelayDance could not be reached, so the key was not saved. Try again in a minute.")) from None
    except relaydance.RelayDanceError:
        raise KeyCheckFailed(_("RelayDance gave an answer Studio did not understand; the key was not saved.")) from None


@transaction.atomic
def save_key(user: User, raw: str, model_ids: list[str]) -> ApiKey:
    api_key = ApiKey.objects.select_for_update().filter(user=user).first() or ApiKey(user=user)
    api_key.set_key(raw)
    api_key.model_ids = model_ids
    api_key.verified_at = timezone.now()
    api_key.save()
    return api_key
