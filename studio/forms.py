import secrets
from dataclasses import dataclass

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import URLValidator
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from accounts.models import ApiKey, Team, User
from studio import catalogue, media, usage
from studio.models import Generation, Reference

MEDIA_KINDS = {  # file field → (URL field, Reference kind, what check_upload expects)
    "images": ("image_urls", Reference.Kind.IMAGE, "image"),
    "videos": ("video_urls", Reference.Kind.VIDEO, "video"),
    "audio": ("audio_urls", Reference.Kind.AUDIO, "audio"),
}
FRAME_KINDS = {"first_frame": Reference.Kind.FIRST_FRAME, "last_frame": Reference.Kind.LAST_FRAME}


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        items = data if isinstance(data, (list, tuple)) else [data] if data else []
        return [super(MultipleFileField, self).clean(item, initial) for item in items]


class UrlLinesField(forms.CharField):
    """Public URLs, one per line."""

    widget = forms.Textarea(attrs={"rows": 2, "placeholder": "https://…"})

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, value):
        lines = [line.strip() for line in (super().clean(value) or "").splitlines() if line.strip()]
        validate = URLValidator(schemes=["https", "http"])
        for line in lines:
            try:
                validate(line)
            except ValidationError:
                raise ValidationError(_("“%(url)s” is not a public http(s) URL.") % {"url": line[:80]}) from None
        return lines


@dataclass
class RefInput:
    """One reference as the user gave it: a new upload, a public URL, or a remixed file."""

    kind: str
    position: int
    upload: UploadedFile | None = None
    url: str = ""
    source: Reference | None = None
    content_type: str = ""
    name: str = ""


class GenerationForm(forms.Form):
    """The one generation form. Rules live in `catalogue.validate_request`; this form maps
    them to fields, checks files by content, and collects references in @imageN order."""

    model = forms.ChoiceField(label=_lazy("Model"))
    prompt = forms.CharField(
        label=_lazy("Prompt"),
        max_length=catalogue.MAX_PROMPT_CHARS,
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": _lazy("Describe the shot… cite images as @image1")}),
    )
    seconds = forms.IntegerField(label=_lazy("Length (s)"), min_value=1, max_value=catalogue.HARD_MAX_SECONDS, initial=5)
    ratio = forms.ChoiceField(label=_lazy("Ratio"), choices=[(r, _lazy("adaptive") if r == "adaptive" else r) for r in catalogue.SEEDANCE_RATIOS], initial="16:9")
    resolution = forms.ChoiceField(
        label=_lazy("Resolution"), choices=[(r, r) for r in ("480p", "720p", "1080p")], initial="720p"
    )
    generate_audio = forms.BooleanField(label=_lazy("Generate audio"), required=False)
    images = MultipleFileField(label=_lazy("Reference images"), widget=MultipleFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}))
    image_urls = UrlLinesField(label=_lazy("…or image URLs"))
    videos = MultipleFileField(label=_lazy("Reference videos"), widget=MultipleFileInput(attrs={"accept": "video/mp4,video/quicktime,video/webm"}))
    video_urls = UrlLinesField(label=_lazy("…or video URLs"))
    audio = MultipleFileField(label=_lazy("Reference audio"), widget=MultipleFileInput(attrs={"accept": "audio/mpeg,audio/wav,audio/mp4"}))
    audio_urls = UrlLinesField(label=_lazy("…or audio URLs"))
    first_frame = forms.FileField(label=_lazy("First frame"), required=False, widget=forms.FileInput(attrs={"accept": "image/*"}))
    first_frame_url = forms.URLField(label=_lazy("…or first frame URL"), required=False, assume_scheme="https")
    last_frame = forms.FileField(label=_lazy("Last frame"), required=False, widget=forms.FileInput(attrs={"accept": "image/*"}))
    last_frame_url = forms.URLField(label=_lazy("…or last frame URL"), required=False, assume_scheme="https")
    keep_refs = forms.TypedMultipleChoiceField(coerce=int, required=False, widget=forms.CheckboxSelectMultiple)
    client_token = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)

    def __init__(self, *args, user: User, team: Team, **kwargs):
        super().__init__(*args, **kwargs)
        self.user, self.team = user, team
        self.api_key = ApiKey.objects.filter(user=user).first()
        self.specs = catalogue.video_models(self.api_key.model_ids if self.api_key else [])
        self.fields["model"].choices = [(spec.id, spec.display_label) for spec in self.specs]
        self.fields["model"].error_messages["invalid_choice"] = _("Your key may not use this model. Pick one from the list.")
        if self.specs and not self.is_bound:
            self.initial.setdefault("model", self.specs[0].id)
        self.initial.setdefault("client_token", secrets.token_urlsafe(16))
        self.remix_refs = {
            ref.pk: ref
            for ref in Reference.objects.filter(
                pk__in=self._keep_ref_ids(), generation__team=team
            ).select_related("generation")
        }
        self.fields["keep_refs"].choices = [(pk, ref.name or ref.url or pk) for pk, ref in self.remix_refs.items()]
        self.references: list[RefInput] = []

    def _keep_ref_ids(self) -> list[int]:
        if self.is_bound:
            raw = self.data.getlist("keep_refs") if hasattr(self.data, "getlist") else self.data.get("keep_refs", [])
        else:
            raw = self.initial.get("keep_refs", [])
        return [int(v) for v in raw if str(v).isdigit()]

    @classmethod
    def initial_from(cls, generation: Generation) -> dict:
        """Initial data that remixes `generation`, its stored references included."""
        refs = list(generation.references.all())
        lines = {kind: "\n".join(r.url for r in refs if r.kind == kind and r.url and not r.file) for kind in Reference.Kind}
        return {
            "model": generation.model, "prompt": generation.prompt, "seconds": generation.seconds,
            "ratio": generation.ratio, "resolution": generation.resolution,
            "generate_audio": generation.generate_audio,
            "image_urls": lines[Reference.Kind.IMAGE], "video_urls": lines[Reference.Kind.VIDEO],
            "audio_urls": lines[Reference.Kind.AUDIO],
            "first_frame_url": lines[Reference.Kind.FIRST_FRAME], "last_frame_url": lines[Reference.Kind.LAST_FRAME],
            "keep_refs": [r.pk for r in refs if r.file],
        }

    @property
    def no_key(self) -> bool:
        return self.api_key is None

    def quote(self) -> "usage.FormQuote":
        """The price and budget warnings for the settings on the form (the quote partial)."""
        values = [self[name].value() for name in ("model", "seconds", "resolution", "generate_audio")]
        return usage.form_quote(self.user, self.team, *values)

    def capabilities(self) -> dict:
        """Each model's limits, for the form's script to adapt the choices."""
        return {
            s.id: {"min": s.min_seconds, "max": min(s.max_seconds, catalogue.HARD_MAX_SECONDS),
                   "resolutions": s.resolutions, "default_resolution": s.default_resolution, "ratios": s.ratios, "audio": s.audio,
                   "modes": sorted(s.modes), "images": s.max_images, "videos": s.max_videos,
                   "audio_refs": s.max_audio}
            for s in self.specs
        }

    def clean_client_token(self):
        return self.cleaned_data["client_token"] or secrets.token_urlsafe(16)

    def clean(self):
        data = super().clean()
        if self.no_key:
            link = reverse("accounts:api_key")
            raise ValidationError(format_html(_('Add your RelayDance API key first: <a href="{}">API key</a>.'), link))
        refs = self._collect_references(data)
        if self.errors:
            return data
        spec = catalogue.get_spec(data["model"])
        count = {kind: [r for r in refs if r.kind == kind] for kind in Reference.Kind}
        problems = catalogue.validate_request(
            spec, prompt=data.get("prompt"), seconds=data.get("seconds"), ratio=data.get("ratio"),
            resolution=catalogue.resolution_for(spec, data.get("resolution")),
            generate_audio=data.get("generate_audio"),
            images=count[Reference.Kind.IMAGE], videos=count[Reference.Kind.VIDEO], audio=count[Reference.Kind.AUDIO],
            first_frame=count[Reference.Kind.FIRST_FRAME], last_frame=count[Reference.Kind.LAST_FRAME],
        )
        for field, message in problems.items():
            self.add_error(field if field in self.fields else None, message)
        data["resolution"] = catalogue.resolution_for(spec, data.get("resolution"))
        data["generate_audio"] = spec.audio == "always" or (spec.audio == "toggle" and bool(data.get("generate_audio")))
        if not problems:  # the quote counts: refuse when this month's spending + it passes a budget
            settings = [data[name] for name in ("model", "seconds", "resolution", "generate_audio")]
            if refusal := usage.budget_refusal(self.user, self.team, *settings):
                self.add_error(None, refusal)
        self.references = refs
        return data

    def _collect_references(self, data) -> list[RefInput]:
        kept = [self.remix_refs[pk] for pk in data.get("keep_refs", []) if pk in self.remix_refs]
        refs: list[RefInput] = []
        for field, (url_field, kind, check_kind) in MEDIA_KINDS.items():
            items = [RefInput(kind, 0, source=ref) for ref in kept if ref.kind == kind]
            items += [self._checked(field, kind, check_kind, upload) for upload in data.get(field) or []]
            items = [item for item in items if item] + [RefInput(kind, 0, url=url) for url in data.get(url_field, [])]
            for position, item in enumerate(items):
                item.position = position
            refs += items
        for field, kind in FRAME_KINDS.items():
            upload, url = data.get(field), data.get(f"{field}_url")
            source = next((ref for ref in kept if ref.kind == kind), None)
            if upload:
                refs.append(self._checked(field, kind, "image", upload))
            elif url:
                refs.append(RefInput(kind, 0, url=url))
            elif source:
                refs.append(RefInput(kind, 0, source=source))
        return [r for r in refs if r is not None]

    def _checked(self, field: str, kind: str, check_kind: str, upload) -> RefInput | None:
        try:
            checked = media.check_upload(upload, check_kind)
        except ValidationError as exc:
            self.add_error(field, exc)
            return None
        return RefInput(kind, 0, upload=upload, content_type=checked.content_type, name=upload.name[:255])
