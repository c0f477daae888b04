"""The studio page, the team's gallery, live cards, card actions and team-private media."""

import hashlib
import mimetypes
import random

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import get_template
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.text import slugify
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST, require_safe
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HTMX_STOP_POLLING, push_url

from accounts.models import Membership
from studio import catalogue
from studio import health as studio_health
from studio.activity import seen_changes
from studio.forms import GenerationForm
from studio.gallery import (
    GalleryFilters,
    live_changes,
    model_choices,
    page,
    parse_code,
    parse_states,
    prepare_cards,
)
from studio.models import Generation, Reference
from studio.pipeline import bump, delete_generation
from studio.serve import serve_file

CARD_CACHE_SECONDS = 3600
_CSRF_SLOT = "csrf-slot-5b1d9e"
# A new template or catalogue (a deploy) must not reuse cards rendered by the old one.
_CARD_STAMP = hashlib.sha1(  # cached cards change with their template, labels and translations
    (settings.BASE_DIR / "templates/studio/home.html").read_bytes()
    + b"".join(path.read_bytes() for path in sorted(settings.BASE_DIR.glob("locale/*/LC_MESSAGES/django.mo")))
    + repr(sorted((spec.id, spec.label) for spec in catalogue.CATALOGUE.values())).encode()
).hexdigest()[:10]


def _get_generation_for_user(request: HttpRequest, code) -> Generation:
    """A generation of one of the user's teams, or 404: outsiders learn nothing."""
    return get_object_or_404(
        Generation.objects.select_related("creator", "team"), code=code, team__memberships__user=request.user
    )


def _current_role(request: HttpRequest) -> tuple[int, str]:
    """The user's current team (its id) and their role in it, in one small query (fragments)."""
    user = request.user
    role = Membership.objects.filter(user=user, team_id=user.current_team_id).values_list("role", flat=True)[:1]
    if not role:  # no team chosen yet, or no longer a member of it
        membership = _current_membership(request)
        return membership.team_id, membership.role
    return user.current_team_id, role[0]


def _current_membership(request: HttpRequest) -> Membership:
    """The user's membership of their current team, with the team, in one query (pages)."""
    user = request.user
    memberships = Membership.objects.select_related("team")
    membership = memberships.filter(user=user, team_id=user.current_team_id).first()
    if membership is None:  # no team chosen yet, or no longer a member of it
        membership = memberships.get(user=user, team=user.get_current_team())
    user.current_team = membership.team  # the navigation's context processor reuses it
    return membership


def _is_owner(user, team_id: int) -> bool:
    return Membership.objects.filter(user=user, team_id=team_id, role=Membership.Role.OWNER).exists()


def _wants_fragment(request: HttpRequest) -> bool:
    # A history restore carries HX-Request too, but needs the whole page.
    return bool(request.htmx) and not request.htmx.history_restore_request


def _after_action(request: HttpRequest, generation: Generation) -> str:
    """Where a form post without htmx returns to: a safe `next`, else the card on the studio page."""
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return reverse("studio:home") + f"#card-{generation.code}"


def _fragment(request: HttpRequest, template_name: str, context: dict, status: int = 200) -> HttpResponse:
    """A partial for htmx, rendered without context processors: fragments have no navigation,
    and its context processor would cost two queries. The forms need only the CSRF token."""
    context = {"csrf_token": get_token(request), **context, "request": request}
    return HttpResponse(get_template(template_name).render(context), status=status)


def _render_card(request: HttpRequest, generation: Generation) -> HttpResponse:
    prepare_cards([generation], request.user, is_owner=_is_owner(request.user, generation.team_id))
    return _fragment(request, "studio/home.html#card", {"generation": generation})


def _render_cards(request: HttpRequest, rows: list, is_owner: bool) -> tuple[str, list[str]]:
    """The HTML of a page of cards (rows from `gallery.page`), from the cache where it can.

    A card's HTML changes only when its `version` moves (the workers and the favourite view
    bump it on every visible change), with the viewer's right to delete it and with the
    language. The CSRF token is filled in per request and times are written by studio.js.
    Whole rows (creator, references) are read only for the cards missing from the cache.
    Returns the CSRF token used and the cards' HTML.
    """
    language, user = get_language(), request.user
    keys = {
        row.pk: f"card:{_CARD_STAMP}:{row.code}:{row.version}:{is_owner or row.creator_id == user.pk:d}:{language}"
        for row in rows
    }
    cached = cache.get_many(list(keys.values()))
    html = {pk: cached[key] for pk, key in keys.items() if key in cached}
    missing = [row.pk for row in rows if row.pk not in html]
    if missing:
        found = Generation.objects.filter(pk__in=missing).select_related("creator").prefetch_related("references")
        template = get_template("studio/home.html#card")
        for card in prepare_cards(list(found), user, is_owner=is_owner):
            html[card.pk] = template.render({"generation": card, "csrf_token": _CSRF_SLOT})
        cache.set_many({keys[pk]: html[pk] for pk in missing if pk in html}, CARD_CACHE_SECONDS)
    token = get_token(request)  # masking it costs: the fragment reuses it
    return token, [mark_safe(html[row.pk].replace(_CSRF_SLOT, token)) for row in rows if row.pk in html]


def _gallery_context(request: HttpRequest, team_id: int, role: str, filters: GalleryFilters) -> dict:
    since = seen_changes(request.user)  # loaded with the user, before the cards are read
    rows, next_cursor = page(team_id, filters)
    token, card_html = _render_cards(request, rows, is_owner=role == Membership.Role.OWNER)
    return {
        "cards": rows,
        "card_html": card_html,
        "csrf_token": token,
        "next_cursor": next_cursor,
        "query": filters.query_string(),
        "filters": filters,
        "pending": any(row.status in Generation.PENDING for row in rows),
        "since": since,
    }


def render_studio_page(request: HttpRequest, form=None, status: int = 200, **extra) -> HttpResponse:
    """The studio page: the generation form beside the current team's gallery.

    `form` (and `extra` context) let another view (remix, a create without htmx) use the page.
    """
    membership = _current_membership(request)
    team = membership.team
    filters = GalleryFilters(request.GET)
    context = _gallery_context(request, team.pk, membership.role, filters)
    members = team.memberships.select_related("user").order_by("user__first_name", "user__email")
    form = form if form is not None else GenerationForm(user=request.user, team=team)
    context.update(
        form=form,
        team=team,
        has_key=not form.no_key,  # the form has read the user's key already
        members=[m.user for m in members],
        model_choices=model_choices(filters.value("model")),
        status_choices=GalleryFilters.STATUS_CHOICES[1:],
        **extra,
    )
    return render(request, "studio/home.html", context, status=status)


@login_required
@require_GET
@vary_on_headers("HX-Request")
def home(request: HttpRequest) -> HttpResponse:
    return render_studio_page(request)


@login_required
@require_GET
@vary_on_headers("HX-Request")
def gallery(request: HttpRequest) -> HttpResponse:
    """The gallery alone for htmx: filtered (`#gallery`, URL pushed) or the next page (`#page`)."""
    if not _wants_fragment(request):
        return render_studio_page(request)
    filters = GalleryFilters(request.GET)
    context = _gallery_context(request, *_current_role(request), filters)
    if filters.cursor:
        return _fragment(request, "studio/home.html#page", {**context, "appending": True})
    response = _fragment(request, "studio/home.html#gallery", context)
    query = context["query"]
    return push_url(response, reverse("studio:home") + (f"?{query}" if query else ""))


@login_required
@require_GET
@never_cache
@vary_on_headers("HX-Request")
def live(request: HttpRequest) -> HttpResponse:
    """One poll for the whole page: changed cards and new team cards, as out-of-band swaps.

    204 when nothing changed; 286 (htmx stops this poller) once nothing on the page is pending,
    with a slow poller swapped in that only looks for team-mates' new cards. A page that has
    seen its team's current change count (`since`, see studio.activity) gets its 204 without a
    query; one poll in LIVE_RECHECK_ONE_IN checks anyway, in case a count was lost.
    """
    seen = request.GET.get("since", "")
    since = seen_changes(request.user)
    if since and seen == since and random.randrange(settings.LIVE_RECHECK_ONE_IN):
        return HttpResponse(status=204)
    states = parse_states(request.GET.getlist("s"))
    fast = request.GET.get("fast") == "1"
    top = parse_code(request.GET.get("top"))
    filtered = any(request.GET.get(name) for name in GalleryFilters.FIELDS)
    changes = live_changes(request.user, states, top, filtered)
    keep_fast = changes.pending or changes.more_new
    if not changes.changed and not changes.new and not changes.gone and keep_fast == fast and seen == since:
        return HttpResponse(status=204)
    cards = {}
    if changes.changed or changes.new:
        found = Generation.objects.filter(pk__in=changes.changed + changes.new).select_related("creator")
        cards = {card.pk: card for card in found.prefetch_related("references")}
        prepare_cards(cards.values(), request.user, is_owner=_is_owner(request.user, request.user.current_team_id))
    context = {
        "changed": [cards[pk] for pk in changes.changed if pk in cards],
        "new_cards": [cards[pk] for pk in reversed(changes.new) if pk in cards],  # newest first
        "gone": changes.gone,
        "swap_poller": keep_fast != fast,
        "pending": keep_fast,
        # With more new cards to come the page must check again, whatever the count says.
        "since": "" if changes.more_new else since,
    }
    stop = fast and not keep_fast
    return _fragment(request, "studio/home.html#live", context, status=HTMX_STOP_POLLING if stop else 200)


@login_required
@require_GET
@vary_on_headers("HX-Request")
def detail(request: HttpRequest, code) -> HttpResponse:
    """One generation on its own page; while pending, its main section refreshes itself."""
    generation = _get_generation_for_user(request, code)
    prepare_cards([generation], request.user, is_owner=_is_owner(request.user, generation.team_id))
    context = {"generation": generation, "references": list(generation.references.all())}
    if _wants_fragment(request):
        return _fragment(request, "studio/detail.html#main", context)
    return render(request, "studio/detail.html", context)


def download_name(generation: Generation) -> str:
    """A file name that says what the video is: the prompt's first words and a short code."""
    words = slugify(generation.prompt[:80], allow_unicode=True)[:60].strip("-") or "video"
    return f"{words}-{str(generation.code)[:8]}.mp4"


@login_required
@require_safe
def video(request: HttpRequest, code) -> HttpResponse:
    generation = _get_generation_for_user(request, code)
    if not generation.video:
        raise Http404
    name = download_name(generation) if request.GET.get("download") else None
    return serve_file(request, generation.video, content_type="video/mp4", download_name=name)


@login_required
@require_safe
def poster(request: HttpRequest, code) -> HttpResponse:
    generation = _get_generation_for_user(request, code)
    if not generation.poster:
        raise Http404
    return serve_file(request, generation.poster, content_type="image/jpeg")


@login_required
@require_safe
def reference_file(request: HttpRequest, code, pk: int) -> HttpResponse:
    generation = _get_generation_for_user(request, code)
    reference = get_object_or_404(Reference, pk=pk, generation=generation)
    if not reference.file:
        if reference.url:  # a public URL the user gave: nothing private to guard
            return redirect(reference.url)
        raise Http404
    content_type = reference.content_type or mimetypes.guess_type(reference.file.name)[0] or "application/octet-stream"
    return serve_file(request, reference.file, content_type=content_type)


@login_required
@require_POST
@vary_on_headers("HX-Request")
def favourite(request: HttpRequest, code) -> HttpResponse:
    """Mark or unmark a card as a team favourite; htmx gets the card back."""
    generation = _get_generation_for_user(request, code)
    wanted = request.POST.get("favourite") == "1"
    bump(Generation.objects.filter(pk=generation.pk), favourite=wanted)
    generation.refresh_from_db(fields=["favourite", "version"])
    if _wants_fragment(request):
        return _render_card(request, generation)
    return redirect(_after_action(request, generation))


@login_required
@require_POST
@vary_on_headers("HX-Request")
def delete(request: HttpRequest, code) -> HttpResponse:
    """Delete a generation and its files: its creator or a team owner only."""
    generation = _get_generation_for_user(request, code)
    if generation.creator_id != request.user.pk and not _is_owner(request.user, generation.team_id):
        raise PermissionDenied
    delete_generation(generation)
    if _wants_fragment(request):
        return HttpResponse()  # htmx swaps the card for nothing
    messages.success(request, _("The video was deleted."))
    return redirect("studio:home")


@require_GET
@never_cache
def health(request: HttpRequest) -> HttpResponse:
    """For the PaaS's health check (no login, no secrets): the database and the broker answer."""
    parts = studio_health.report()
    ok = all(state == "ok" for state in parts.values())
    return JsonResponse({"ok": ok, **parts}, status=200 if ok else 503)
