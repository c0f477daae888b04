"""Views that start generations: the form post, retry and remix."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers

from studio import limits, usage
from studio.forms import GenerationForm
from studio.gallery import prepare_cards
from studio.models import Generation
from studio.pipeline import create_generation, retry_generation
from studio.views import _get_generation_for_user, render_studio_page


@login_required
@require_POST
@vary_on_headers("HX-Request")
def create(request: HttpRequest) -> HttpResponse:
    team = request.user.get_current_team()
    form = GenerationForm(request.POST, request.FILES, user=request.user, team=team)
    wait = limits.seconds_until_next_submit(request.user)
    if wait:
        form.add_error(None, limits.too_many_message(wait))
    if not form.is_valid():
        status = 429 if wait else 422
        if request.htmx:
            response = render(request, "studio/_form.html", {"form": form}, status=status)
            response["HX-Retarget"] = "#generate-form"
            response["HX-Reswap"] = "outerHTML"
            return response
        return render_studio_page(request, form=form, status=status)
    generation, created = create_generation(request.user, team, form)
    if not request.htmx:
        if created:
            messages.success(request, _("Queued. Your video will appear in the gallery when it is ready."))
        return redirect("studio:home")
    prepare_cards([generation], request.user, is_owner=True)  # the creator may delete it
    fresh = GenerationForm(user=request.user, team=team, initial=_sticky(form.cleaned_data))
    ctx = {"generation": generation, "form": fresh, "created": created}
    return render(request, "studio/_created.html", ctx, status=201 if created else 200)


def _sticky(data) -> dict:
    """Settings worth keeping for the next generation (not the prompt or references)."""
    return {k: data[k] for k in ("model", "seconds", "ratio", "resolution", "generate_audio") if k in data}


@login_required
@require_POST
@vary_on_headers("HX-Request")
def retry(request: HttpRequest, code) -> HttpResponse:
    generation = _get_generation_for_user(request, code)
    if generation.status != Generation.Status.FAILED:
        return redirect("studio:home")
    if wait := limits.seconds_until_next_submit(request.user):
        return _retry_refused(request, generation, limits.too_many_message(wait))
    team = generation.team
    if refusal := usage.budget_refusal(request.user, team, generation.model, generation.seconds,
                                       generation.resolution, generation.generate_audio):
        return _retry_refused(request, generation, refusal, status=422)
    new = retry_generation(generation, request.user)
    if request.htmx:
        prepare_cards([new], request.user, is_owner=True)
        return render(request, "studio/_created.html", {"generation": new, "created": True}, status=201)
    messages.success(request, _("Retrying as a new generation."))
    return redirect("studio:home")


def _retry_refused(request: HttpRequest, generation: Generation, message: str, status: int = 429) -> HttpResponse:
    """The reason (429 too fast, 422 over budget): above the card's retry button for htmx,
    else as a message."""
    if request.htmx:
        response = HttpResponse(format_html('<p class="form-error" role="alert">{}</p>', message), status=status)
        response["HX-Retarget"] = f"#card-{generation.code} .retry-row"
        response["HX-Reswap"] = "beforebegin"
        return response
    messages.error(request, message)
    return redirect("studio:home")


@login_required
def remix(request: HttpRequest, code) -> HttpResponse:
    generation = _get_generation_for_user(request, code)
    form = GenerationForm(user=request.user, team=generation.team, initial=GenerationForm.initial_from(generation))
    return render_studio_page(request, form=form)
