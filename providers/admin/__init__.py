import itertools
from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import models, transaction
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import ngettext
from django_countries.filters import CountryFilter
from simple_history.admin import SimpleHistoryAdmin

from providers.admin.mappings import SourceMappingsAdmin
from providers.admin.roles import (
    PartnerListingsAdmin,
    PartnerOrganizationsAdmin,
    SourcePartnersAdmin,
    partner_source_ids,
)
from providers.admin.source_records import MissingFromSourceFilter, SourceRecordInline, missing_note
from providers.admin.term_forms import TermForm
from providers.curation import history, stale_edits
from providers.exchange.feeds import pull_feed
from providers.models import (
    TAXONOMY_FIELDS,
    CareSetting,
    CrisisLine,
    EntryRoute,
    Language,
    Medication,
    Modality,
    OpeningInterval,
    Organization,
    PaymentOption,
    Population,
    Provider,
    Source,
)
from providers.models.provider import stale_cutoff, stale_period

Channel = history.Channel


class DirectoryAdmin(admin.ModelAdmin):
    # Curators type "example.org"; the link must open over HTTPS (Django 6's default).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


class VerificationAgeFilter(admin.SimpleListFilter):
    """How long ago listings were verified; "old" and "stale" follow VERIFICATION_STALE_MONTHS."""

    title = "last verified"
    parameter_name = "verified"
    RECENT_DAYS = 183  # six months

    def lookups(self, request, model_admin):
        period = stale_period()
        if settings.VERIFICATION_STALE_MONTHS <= 6:
            recent = [("6m", f"Within {period}")]
        else:
            recent = [("6m", "Within 6 months"), ("12m", f"6 months to {period} ago")]
        return recent + [
            ("old", f"Over {period} ago"),
            ("never", "Never"),
            ("stale", f"Stale: over {period} ago, or never"),
        ]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        cutoff = stale_cutoff(today)
        recent = max(today - timedelta(days=self.RECENT_DAYS), cutoff)
        match self.value():
            case "6m":
                return queryset.filter(last_verified__gt=recent)
            case "12m":
                return queryset.filter(last_verified__gt=cutoff, last_verified__lte=recent)
            case "old":
                return queryset.filter(last_verified__lte=cutoff)
            case "never":
                return queryset.filter(last_verified__isnull=True)
            case "stale":
                return queryset.stale(today)
        return queryset


class OpeningIntervalInline(admin.TabularInline):
    model = OpeningInterval
    fields = ("weekday", "opens", "closes", "walk_in")
    extra = 1


class ProviderForm(stale_edits.ListingVersionForm):
    reopen_url_name = "admin:providers_provider_change"

    verified_today = forms.BooleanField(
        label="Verified today",
        required=False,
        help_text="Tick after confirming the details with the provider: sets “last verified” to today and records you.",
    )


@admin.register(Provider)
class ProviderAdmin(PartnerListingsAdmin, SimpleHistoryAdmin, DirectoryAdmin):
    form = ProviderForm
    inlines = [OpeningIntervalInline, SourceRecordInline]
    list_display = ("name", "city", "region", "country", "status", "last_verified", "source", "updated_at")
    list_display_links = ("name",)
    list_filter = (
        "status",
        VerificationAgeFilter,
        ("country", CountryFilter),
        "modalities",
        "care_settings",
        "source",
        MissingFromSourceFilter,
        "telehealth",
    )
    list_select_related = ("source",)
    search_fields = ("name", "organization__name", "city", "region", "postal_code", "external_id", "phone", "slug")
    actions = ("publish", "unpublish", "archive", "mark_verified_today")
    autocomplete_fields = ("organization",)
    filter_horizontal = tuple(TAXONOMY_FIELDS.values())
    readonly_fields = ("verified_by", "created_at", "updated_at", "last_import_run")
    history_list_display = ["channel"]
    show_facets = admin.ShowFacets.NEVER
    fieldsets = (
        (None, {"fields": ("name", "slug", "organization", "status", "description")}),
        (
            "Contact",
            {"fields": ("phone", "intake_phone", "hotline_phone", "email", "website")},
        ),
        (
            "Location",
            {
                "fields": (
                    "street_address",
                    "street_address_2",
                    "city",
                    "region",
                    "postal_code",
                    "country",
                    ("latitude", "longitude"),
                    "time_zone",
                    "address_hidden",
                )
            },
        ),
        (
            "Services",
            {"fields": (*TAXONOMY_FIELDS.values(), "telehealth", "accepting_new_clients")},
        ),
        (
            "Provenance",
            {
                "fields": (
                    ("last_verified", "verified_today"),
                    "verified_by",
                    "source",
                    "external_id",
                    "last_import_run",
                    "created_at",
                    "updated_at",
                    stale_edits.FIELD_NAME,
                )
            },
        ),
    )

    def get_inline_instances(self, request, obj=None):
        # What a source delivered matters for listings that have one; locking against it is the curators' call.
        return [
            inline
            for inline in super().get_inline_instances(request, obj)
            if not isinstance(inline, SourceRecordInline)
            or (obj is not None and obj.source_id and partner_source_ids(request.user) is None)
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        provider = self.get_object(request, unquote(object_id)) if request.method == "GET" else None
        if provider is not None and provider.source_id:
            note = missing_note(getattr(provider, "source_record", None), provider.source)
            if note:
                self.message_user(request, f"{note} Check whether it still exists.", messages.WARNING)
        return super().change_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        obj._history_channel = Channel.ADMIN
        if form.cleaned_data.get("verified_today"):
            obj.mark_verified(request.user, timezone.localdate())
        elif "last_verified" in form.changed_data:
            # Whoever types the date vouches for it.
            obj.verified_by = request.user if obj.last_verified else None
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # The version saved with the listing was taken before its terms and hours were saved.
        history.record_terms_and_hours(form.instance)

    @admin.display(description="through")
    def channel(self, record):
        return record.get_history_channel_display()

    def set_history_delta_changes(self, request, historical_records, foreign_keys_are_objs=True):
        """Give each version the changes from the one before it, terms and opening hours included."""
        names = history.term_names()
        records = list(historical_records)
        for newer, older in itertools.pairwise(records):
            newer.history_delta_changes = self._changes(request, newer, older, names, foreign_keys_are_objs)

    def _changes(self, request, newer, older, names, foreign_keys_are_objs=True):
        """[{"field", "old", "new"}] for each field, taxonomy and the hours that differ between two versions."""
        delta = newer.diff_against(older, foreign_keys_are_objs=foreign_keys_are_objs)
        changes = self.get_historical_record_context_helper(request, newer).context_for_delta_changes(delta)
        snapshot = history.snapshot_changes(newer, older, names)
        return changes + [{"field": field, "old": old, "new": new} for field, old, new in snapshot]

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        """What reverting to a version would change, and on POST the revert itself."""
        provider = self.get_object(request, unquote(object_id))
        if provider is None:
            raise Http404
        if not self.has_change_history_permission(request, provider):
            raise PermissionDenied
        versions = Provider.history.select_related("history_user")
        record = get_object_or_404(versions, id=provider.pk, history_id=version_id)
        errors = []
        refusal = ""
        if request.method == "POST":
            with transaction.atomic():
                changed = stale_edits.changes_since(provider, request.POST.get(stale_edits.FIELD_NAME))
                if changed:
                    refusal = (
                        f"Since you opened this page, {changed}. Nothing was changed: the table below now compares "
                        "this version with the listing as it is; check it and revert again."
                    )
                else:
                    errors = self._revert(request, record)
            if not (refusal or errors):
                message = f"“{provider}” was reverted to the version of {history.when(record)}."
                self.message_user(request, message, messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:providers_provider_change", args=[provider.pk]))
        current = history.version(provider, *history.snapshots([provider.pk])[provider.pk])
        context = {
            **self.admin_site.each_context(request),
            "title": f"Revert “{provider}” to the version of {history.when(record)}",
            "opts": self.model._meta,
            "provider": provider,
            "record": record,
            "changes": self._changes(request, record, current, history.term_names()),
            "errors": errors,
            "refusal": refusal,
            "opened_version": stale_edits.opened_version(provider),
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/providers/provider/revert.html", context)

    def _revert(self, request, record):
        """Revert the listing to ``record``; the reasons it cannot be, if any, each naming its field."""
        try:
            history.revert(record, request.user)
        except ValidationError as error:
            return [_error_text(field, text) for field, texts in error.message_dict.items() for text in texts]
        return []

    def _set_status(self, request, queryset, status, verb):
        updated = history.update_with_history(
            queryset,
            user=request.user,
            channel=Channel.ADMIN,
            reason=f"{verb.capitalize()} (bulk action)",
            status=status,
        )
        message = ngettext("%(count)d provider %(verb)s.", "%(count)d providers %(verb)s.", updated)
        self.message_user(request, message % {"count": updated, "verb": verb}, messages.SUCCESS)

    @admin.action(description="Publish selected providers", permissions=["change"])
    def publish(self, request, queryset):
        self._set_status(request, queryset, Provider.Status.PUBLISHED, "published")

    @admin.action(description="Unpublish selected providers (back to draft)", permissions=["change"])
    def unpublish(self, request, queryset):
        self._set_status(request, queryset, Provider.Status.DRAFT, "unpublished")

    @admin.action(description="Archive selected providers (closed or gone)", permissions=["change"])
    def archive(self, request, queryset):
        self._set_status(request, queryset, Provider.Status.ARCHIVED, "archived")

    @admin.action(description="Mark selected providers verified today", permissions=["change"])
    def mark_verified_today(self, request, queryset):
        updated = history.update_with_history(
            queryset,
            user=request.user,
            channel=Channel.ADMIN,
            reason="Marked verified (bulk action)",
            last_verified=timezone.localdate(),
            verified_by=request.user,
        )
        message = ngettext(
            "%(count)d provider marked verified today.", "%(count)d providers marked verified today.", updated
        )
        self.message_user(request, message % {"count": updated}, messages.SUCCESS)


def _error_text(field, message):
    """A validation message with the name of the field it is about."""
    if field == NON_FIELD_ERRORS:
        return message
    return f"{capfirst(Provider._meta.get_field(field).verbose_name)}: {message}"


@admin.register(Organization)
class OrganizationAdmin(PartnerOrganizationsAdmin, DirectoryAdmin):
    list_display = ("name", "website")
    search_fields = ("name",)
    prepopulated_fields = {"slug": ("name",)}


@admin.register(Source)
class SourceAdmin(SourceMappingsAdmin, SourcePartnersAdmin, DirectoryAdmin):
    list_display = ("name", "slug", "url", "feed_schedule", "feed_next_pull", "feed_failures")
    list_filter = ("feed_schedule",)
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    # The mapping is shown, with links to build, upload and download it; it changes through those pages only.
    exclude = ("mapping",)
    readonly_fields = ("mapping_summary", "feed_failures", "feed_modified_through")
    actions = ["pull_feeds_now"]

    @admin.action(description="Pull the selected sources' feeds now", permissions=["change"])
    def pull_feeds_now(self, request, queryset):
        with_feed = list(queryset.exclude(feed_url=""))
        for source in with_feed:
            pull_feed.enqueue(source.pk)
        message = f"Queued {len(with_feed)} feed(s); a pull that brings something is listed under Import runs."
        if without := len(queryset) - len(with_feed):
            message += f" {without} of the selected sources have no feed."
        self.message_user(request, message)


class TermAdmin(DirectoryAdmin):
    form = TermForm
    list_display = ("name", "slug", "order")
    list_editable = ("order",)
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}


for term_model in (Modality, CareSetting, EntryRoute, Medication, PaymentOption, Population):
    admin.site.register(term_model, TermAdmin)


@admin.register(Language)
class LanguageAdmin(TermAdmin):
    prepopulated_fields = {}


@admin.register(CrisisLine)
class CrisisLineAdmin(DirectoryAdmin):
    list_display = ("name", "country", "kind", "phone", "checked_on", "order")
    list_editable = ("order",)
    list_filter = ("kind", ("country", CountryFilter), "checked_on")
    search_fields = ("name", "phone", "country")


# Registered with the admin site after ProviderAdmin, which they extend.
from providers.admin import conflicts, imports, suggestions  # noqa: E402, F401
