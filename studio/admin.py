from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from studio.models import Generation, Reference
from studio.pipeline import delete_generation
from studio.pricing import Price


@admin.register(Price)
class PriceAdmin(admin.ModelAdmin):
    """The price table: estimates staff keep in line with RelayDance's pricing page. An edit
    applies to new generations only; each one keeps the estimate it was made with."""

    list_display = ["model_label", "resolution_label", "audio", "unit", "amount", "updated"]
    list_editable = ["unit", "amount"]
    list_filter = ["unit", "audio"]
    search_fields = ["model"]
    fields = ["model", "resolution", "audio", "unit", "amount"]

    @admin.display(description=_("model id"), ordering="model")
    def model_label(self, price: Price) -> str:
        return price.model or _("(any other model)")

    @admin.display(description=_("resolution"), ordering="resolution")
    def resolution_label(self, price: Price) -> str:
        return price.resolution or _("(any)")


class ReferenceInline(admin.TabularInline):
    model = Reference
    extra = 0
    can_delete = False
    fields = ["kind", "position", "name", "url", "file", "content_type", "size"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Generation)
class GenerationAdmin(admin.ModelAdmin):
    """Read-only for support, except delete (files included): what was sent and billed
    stays as it was. The webhook and form tokens are never shown."""

    list_display = ["code", "team", "creator", "model", "seconds", "resolution", "status", "estimated_cost", "created"]
    list_filter = ["status", "model", "mode", "generate_audio"]
    list_select_related = ["team", "creator"]
    search_fields = ["code", "task_id", "prompt", "creator__email", "team__name"]
    date_hierarchy = "created"
    show_full_result_count = False  # no COUNT(*) over every generation on each page
    inlines = [ReferenceInline]
    fieldsets = [
        (None, {"fields": ["code", "team", "creator", "retry_of", "prompt", "favourite"]}),
        (_("Settings and cost"), {"fields": ["model", "mode", "seconds", "ratio", "resolution", "generate_audio", "estimated_cost"]}),
        (_("Status"), {"fields": ["status", "upstream_status", "task_id", "error", "error_args", "video", "poster",
                                  "video_bytes", "duration"]}),
        (_("Timeline"), {"fields": ["created", "submitted_at", "create_sent_at", "finished_at", "stored_at",
                                    "claimed_at", "polls", "poll_failures", "next_poll_at", "fetch_attempts"]}),
    ]
    readonly_fields = [name for section in fieldsets for name in section[1]["fields"]]

    def has_add_permission(self, request) -> bool:
        return False

    def delete_model(self, request, obj: Generation) -> None:
        delete_generation(obj)

    def delete_queryset(self, request, queryset) -> None:
        for generation in queryset.prefetch_related("references"):
            delete_generation(generation)
