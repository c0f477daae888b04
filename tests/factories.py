"""Plain-Python factories for tests."""

from accounts.models import ApiKey
from studio.models import Generation


def give_key(user, raw="sk-sandbox-test-key", model_ids=None) -> ApiKey:
    api_key = ApiKey(user=user)
    api_key.set_key(raw)
    api_key.model_ids = model_ids or ["doubao-seedance-2-0-720p", "seedance-1-5-pro-no-audio", "happyhorse-1.0-i2v"]
    api_key.save()
    return api_key


def make_generation(team, creator, **fields) -> Generation:
    defaults = dict(model="doubao-seedance-2-0-720p", prompt="A red fox in the snow", seconds=5,
                    ratio="16:9", resolution="720p")
    return Generation.objects.create(team=team, creator=creator, **{**defaults, **fields})
