"""The interface language: the switch in the navigation, and a signed-in user's saved choice.

Django's LocaleMiddleware picks a language from the language cookie, then Accept-Language.
The switch sets that cookie and saves the choice on the user; `UserLanguageMiddleware` (after
AuthenticationMiddleware) then uses the saved choice on any device the user signs in on.
"""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.views.decorators.http import require_POST
from django.views.i18n import set_language


@require_POST
def switch_language(request: HttpRequest) -> HttpResponse:
    """Django's set_language (cookie, safe `next` redirect), and the choice saved on the user."""
    response = set_language(request)
    code = request.POST.get("language", "")
    if request.user.is_authenticated and code in dict(settings.LANGUAGES) and request.user.language != code:
        request.user.language = code
        request.user.save(update_fields=["language"])
    return response


class UserLanguageMiddleware:
    """Activate a signed-in user's saved language for the request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response
        self.languages = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.language in self.languages:
            translation.activate(user.language)
            request.LANGUAGE_CODE = user.language
        return self.get_response(request)
