"""Conflicts imports recorded: fields both a partner and curators changed, where the import kept ours.

Curators list them per source and per listing and settle each with an action: take the
partner's value or keep ours (providers.curation.conflicts; both record a version). Partner
importers see none: deciding between a partner's value and a curator's is the curators' call.
"""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import format_html

from providers.admin.roles import PartnerScopedAdmin
from providers.admin.source_records import value_text
from providers.curation import conflicts
from providers.models import ImportConflict


class OpenFilter(admin.SimpleListFilter):
    """Open conflicts unless asked otherwise: they are the work to do."""

    title = "resolution"
    parameter_name = "resolution"

    def lookups(self, request, model_admin):
        return [("all", "All"), *[(value or "open", label) for value, label in ImportConflict.Resolution.choices]]

    def choices(self, changelist):
        for lookup, title in self.lookup_choices:
            yield {
                "selected": (self.value() or "open") == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request, queryset):
        value = self.value() or "open"
        if value == "all":
            return queryset
        return queryset.filter(resolution="" if value == "open" else value)


@admin.register(ImportConflict)
class ImportConflictAdmin(PartnerScopedAdmin, admin.ModelAdmin):
    list_display = ("listing", "field", "ours", "partner_old", "partner_new", "run", "resolution")
    list_filter = (OpenFilter, "provider__source", "field")
    list_select_related = ("provider", "provider__source", "import_run")
    search_fields = ("provider__name", "provider__external_id")
    show_facets = admin.ShowFacets.NEVER
    actions = ("take_partner_values", "keep_our_values")
    fields = (
        "listing",
        "field",
        "ours",
        "partner_old",
        "partner_new",
        "run",
        "resolution",
        "resolved_by",
        "resolved_at",
    )
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="Listing", ordering="provider__name")
    def listing(self, conflict):
        url = reverse("admin:providers_provider_change", args=[conflict.provider_id])
        source = conflict.provider.source
        return format_html(
            '<a href="{}">{}</a> ({} {})', url, conflict.provider, source or "no source", conflict.provider.external_id
        )

    @admin.display(description="Ours (kept)")
    def ours(self, conflict):
        return value_text(conflict.our_value)

    @admin.display(description="Partner's before")
    def partner_old(self, conflict):
        return value_text(conflict.partner_old_value)

    @admin.display(description="Partner's now")
    def partner_new(self, conflict):
        return value_text(conflict.partner_new_value)

    @admin.display(description="Import run", ordering="import_run__started_at")
    def run(self, conflict):
        url = reverse("admin:providers_importrun_change", args=[conflict.import_run_id])
        return format_html('<a href="{}">#{}</a>', url, conflict.import_run_id)

    @admin.action(description="Take the partner's value", permissions=["change"])
    def take_partner_values(self, request, queryset):
        self._settle(request, queryset, conflicts.take_partner_value, "took the partner's value")

    @admin.action(description="Keep ours", permissions=["change"])
    def keep_our_values(self, request, queryset):
        self._settle(request, queryset, conflicts.keep_ours, "kept ours")

    def _settle(self, request, queryset, settle, done):
        settled = 0
        for conflict in queryset.open().select_related("provider"):
            try:
                settle(conflict, request.user)
            except ValidationError as error:
                messages.error(request, f"{conflict.provider}, {conflict.field}: {' '.join(error.messages)}")
            else:
                settled += 1
        skipped = queryset.exclude(resolution=ImportConflict.Resolution.OPEN).count()
        if settled:
            messages.success(request, f"{settled} conflict{'s' if settled != 1 else ''}: {done}.")
        if skipped:
            messages.info(request, f"{skipped} conflict{'s were' if skipped != 1 else ' was'} already settled.")
