"""What a listing's source last delivered, on the listing's page: the fields curators lock against
the partner's updates, whether the source's last complete file still held the listing, and the
conflicts its imports recorded (providers.exchange.three_way explains the merge)."""

from django import forms
from django.contrib import admin
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.text import capfirst
from django.utils.timezone import localtime

from providers.curation.history import hours_label
from providers.exchange.records import SCALAR_FIELDS, TERM_FIELDS
from providers.exchange.three_way import ORGANIZATION
from providers.models import HOURS_FIELDS, ImportConflict, Provider, SourceRecord

MERGED_FIELDS = (*SCALAR_FIELDS, *TERM_FIELDS, *HOURS_FIELDS, ORGANIZATION)


def field_label(name):
    if name in HOURS_FIELDS:
        return hours_label(name)
    return capfirst(Provider._meta.get_field(name).verbose_name)


def missing_note(source_record, source):
    """ "Not in <source>'s file since <date>", or "" while the source's files hold the listing."""
    if source_record is None or source_record.missing_since is None:
        return ""
    when = date_format(localtime(source_record.missing_since), "DATE_FORMAT")
    return f"Not in {source or 'its source'}’s file since {when}."


class SourceRecordForm(forms.ModelForm):
    locked_fields = forms.MultipleChoiceField(
        choices=[(name, field_label(name)) for name in MERGED_FIELDS],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Locked fields",
        help_text="The source's values for these fields never apply to this listing, and raise no conflict.",
    )

    class Meta:
        model = SourceRecord
        fields = ("locked_fields",)


class SourceRecordInline(admin.StackedInline):
    model = SourceRecord
    form = SourceRecordForm
    verbose_name = verbose_name_plural = "What the source delivered"
    can_delete = False
    max_num = 1
    fields = ("locked_fields", "missing", "delivered", "open_conflicts")
    readonly_fields = ("missing", "delivered", "open_conflicts")

    # Part of the listing: whoever may change the listing may lock its fields.
    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("providers.view_provider")

    def has_add_permission(self, request, obj=None):
        return request.user.has_perm("providers.change_provider")

    def has_change_permission(self, request, obj=None):
        return request.user.has_perm("providers.change_provider")

    @admin.display(description="In the source's file")
    def missing(self, record):
        return missing_note(record, record.provider.source) or "Yes, in its last complete file."

    @admin.display(description="Last delivered")
    def delivered(self, record):
        if not record.values:
            return "Nothing remembered yet (see the first-import rule in docs/IMPORT.md)."
        rows = ((field_label(name), value_text(record.values[name])) for name in MERGED_FIELDS if name in record.values)
        body = format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", rows)
        return format_html("<table>{}</table>", body)

    @admin.display(description="Open conflicts")
    def open_conflicts(self, record):
        count = ImportConflict.objects.open().filter(provider_id=record.provider_id).count()
        if not count:
            return "None."
        url = reverse("admin:providers_importconflict_changelist") + f"?provider__id__exact={record.provider_id}"
        return format_html('<a href="{}">{} open conflict{}</a>', url, count, "" if count == 1 else "s")


class MissingFromSourceFilter(admin.SimpleListFilter):
    title = "in its source's file"
    parameter_name = "in_source_file"

    def lookups(self, request, model_admin):
        return [("no", "Missing from its source's last file"), ("yes", "In its source's last file")]

    def queryset(self, request, queryset):
        if self.value() == "no":
            return queryset.filter(source_record__missing_since__isnull=False)
        if self.value() == "yes":
            return queryset.filter(source__isnull=False, source_record__missing_since__isnull=True)
        return queryset


def value_text(value):
    """A remembered or conflicting value as a curator reads it."""
    if value in (None, "", []):
        return "(blank)"
    if isinstance(value, list):
        # Opening hours are [weekday, opens, closes] lists; terms are slugs.
        parts = (" ".join(map(str, item)) if isinstance(item, list) else str(item) for item in value)
        return "; ".join(parts)
    return str(value)
