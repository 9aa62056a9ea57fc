from datetime import timedelta

from django.contrib import admin, messages
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import ngettext
from django_countries.filters import CountryFilter

from providers.filters import forget_filter_choices
from providers.models import (
    CareSetting,
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


class DirectoryAdmin(admin.ModelAdmin):
    # Curators type "example.org"; the link must open over HTTPS (Django 6's default).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


class VerificationAgeFilter(admin.SimpleListFilter):
    title = "last verified"
    parameter_name = "verified"

    # (parameter value, label, lower bound in days, upper bound in days)
    AGES = (
        ("6m", "Within 6 months", None, 183),
        ("12m", "6 to 12 months ago", 183, 365),
        ("old", "Over a year ago", 365, None),
    )

    def lookups(self, request, model_admin):
        return [(value, label) for value, label, _newest, _oldest in self.AGES] + [("never", "Never")]

    def queryset(self, request, queryset):
        if self.value() == "never":
            return queryset.filter(last_verified__isnull=True)
        today = timezone.localdate()
        for value, _label, newest, oldest in self.AGES:
            if self.value() == value:
                condition = Q()
                if newest is not None:
                    condition &= Q(last_verified__lte=today - timedelta(days=newest))
                if oldest is not None:
                    condition &= Q(last_verified__gt=today - timedelta(days=oldest))
                return queryset.filter(condition)
        return queryset


class OpeningIntervalInline(admin.TabularInline):
    model = OpeningInterval
    fields = ("weekday", "opens", "closes")
    extra = 1


@admin.register(Provider)
class ProviderAdmin(DirectoryAdmin):
    inlines = [OpeningIntervalInline]
    list_display = ("name", "city", "region", "country", "status", "last_verified", "source", "updated_at")
    list_display_links = ("name",)
    list_filter = (
        "status",
        VerificationAgeFilter,
        ("country", CountryFilter),
        "modalities",
        "care_settings",
        "source",
        "telehealth",
    )
    list_select_related = ("source",)
    search_fields = ("name", "organization__name", "city", "region", "postal_code", "external_id", "phone", "slug")
    actions = ("publish", "unpublish", "archive", "mark_verified_today")
    autocomplete_fields = ("organization",)
    filter_horizontal = ("modalities", "care_settings", "medications", "payment_options", "populations", "languages")
    readonly_fields = ("created_at", "updated_at", "last_import_run")
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
                )
            },
        ),
        (
            "Services",
            {
                "fields": (
                    "modalities",
                    "care_settings",
                    "medications",
                    "payment_options",
                    "populations",
                    "languages",
                    "telehealth",
                    "accepting_new_clients",
                )
            },
        ),
        (
            "Provenance",
            {"fields": ("last_verified", "source", "external_id", "last_import_run", "created_at", "updated_at")},
        ),
    )

    def _set_status(self, request, queryset, status, verb):
        updated = queryset.update(status=status, updated_at=timezone.now())
        forget_filter_choices()  # update() sends no signals, and the published set changed
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
        updated = queryset.update(last_verified=timezone.localdate(), updated_at=timezone.now())
        message = ngettext("%(count)d provider marked verified today.", "%(count)d providers marked verified today.", updated)
        self.message_user(request, message % {"count": updated}, messages.SUCCESS)


@admin.register(Organization)
class OrganizationAdmin(DirectoryAdmin):
    list_display = ("name", "website")
    search_fields = ("name",)
    prepopulated_fields = {"slug": ("name",)}


@admin.register(Source)
class SourceAdmin(DirectoryAdmin):
    list_display = ("name", "slug", "url")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}


class TermAdmin(DirectoryAdmin):
    list_display = ("name", "slug", "order")
    list_editable = ("order",)
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}


for term_model in (Modality, CareSetting, Medication, PaymentOption, Population):
    admin.site.register(term_model, TermAdmin)


@admin.register(Language)
class LanguageAdmin(TermAdmin):
    prepopulated_fields = {}


from providers import admin_imports  # noqa: E402,F401
