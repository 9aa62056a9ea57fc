"""Imports in the admin: the record of every import run, and a page where curators import a file.

The upload page mirrors ``manage.py import_providers``: it always runs a dry
run first, keeps the file in the database (app servers share nothing else), and
imports only when the curator who uploaded it confirms.
"""

import tempfile
from contextlib import contextmanager
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, SuspiciousFileOperation, ValidationError
from django.core.validators import validate_slug
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.text import get_valid_filename, slugify
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST
from django_countries import countries

from providers.admin.roles import PartnerImportsAdmin
from providers.exchange.formats import FORMATS, MissingSourceError, read_file
from providers.exchange.importer import ImportOptions, import_records
from providers.exchange.records import ImportFileError
from providers.exchange.report import MAX_LISTED, describe_report
from providers.models import ImportRun, PendingImport, Provider, Source

IMPORT_PERMISSION = "providers.add_importrun"

# The run page lists at most this many errors: enough to act on, without a page of megabytes.
MAX_ERRORS_SHOWN = 1000


class UploadForm(forms.Form):
    file = forms.FileField(help_text="Our CSV or JSON, an HSDS .zip, FindTreatment.gov JSON or the SAMHSA 2015 CSV.")
    format = forms.ChoiceField(
        choices=[("", "Detect from the file")] + [(item.name, item.label) for item in FORMATS.values()],
        required=False,
    )
    source = forms.CharField(
        required=False,
        max_length=Source._meta.get_field("slug").max_length,
        validators=[validate_slug],
        widget=forms.TextInput(attrs={"list": "known-sources"}),
        help_text="Slug of the source of every record, e.g. samhsa-2015. Required when the format names none "
        "(FindTreatment.gov, SAMHSA); a new slug creates a new source.",
    )
    country = forms.ChoiceField(
        choices=[("", "---------")] + list(countries),
        required=False,
        help_text="For records that carry no country.",
    )
    status = forms.ChoiceField(
        choices=[("", "As in the file (new listings: published)")] + Provider.Status.choices,
        required=False,
        help_text="Status of every imported listing.",
    )
    skip_invalid = forms.BooleanField(
        required=False,
        label="Skip invalid records",
        help_text="Import the valid records and list the rejected ones; otherwise one invalid record stops the import.",
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        # Django has already spooled the upload; refuse it before reading it into memory.
        limit = settings.IMPORT_MAX_BYTES
        if upload.size > limit:
            raise ValidationError(f"{upload.name} is {upload.size:,} bytes; the limit is {limit:,} bytes.")
        return upload

    def clean_source(self):
        source = self.cleaned_data["source"].strip()
        # validate_slug allows capitals, which the importer rejects record by record; say it once, here.
        if source and slugify(source) != source:
            raise ValidationError("Use lowercase letters, numbers, hyphens and underscores only, e.g. samhsa-2015.")
        return source

    def import_options(self, chosen_format):
        """The ImportOptions fields this form decides, as stored with a pending import."""
        data = self.cleaned_data
        return {
            "format": chosen_format.name,
            "source": data["source"],
            "country": data["country"],
            "status": data["status"],
            "skip_invalid": data["skip_invalid"],
        }


def _disk_name(file_name):
    """A safe name for the temporary copy, so that the readers' messages name the file the curator chose."""
    try:
        name = get_valid_filename(Path(file_name).name)
    except SuspiciousFileOperation:
        return "upload"
    if len(name.encode()) > 200:
        return "upload" + Path(name).suffix[:20]
    return name


@contextmanager
def _on_disk(data, file_name):
    """The upload as a file for the format readers, which take a path; gone again when the block ends."""
    with tempfile.TemporaryDirectory(prefix="import-") as folder:
        file_path = Path(folder) / _disk_name(file_name)
        file_path.write_bytes(data)
        yield file_path


@admin.register(ImportRun)
class ImportRunAdmin(PartnerImportsAdmin, admin.ModelAdmin):
    list_display = (
        "started_at",
        "file_name",
        "format",
        "source",
        "outcome",
        "created",
        "updated",
        "unchanged",
        "rejected",
        "started_by_name",
    )
    list_filter = ("outcome", "format", "source")
    list_select_related = ("source",)
    search_fields = ("file_name", "started_by_name")
    show_facets = admin.ShowFacets.NEVER
    fieldsets = (
        (
            None,
            {"fields": ("file_name", "format", "source", "outcome", "started_by_name", "started_at", "finished_at")},
        ),
        ("Records", {"fields": (("created", "updated", "unchanged", "rejected"), "changed_providers")}),
        ("Problems", {"fields": ("error_list", "unmapped_term_list")}),
    )
    readonly_fields = ("changed_providers", "error_list", "unmapped_term_list")

    # Runs are written by the importer only: the record of what happened must not be edited afterwards.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="Providers it last changed")
    def changed_providers(self, run):
        count = run.providers.count()
        if not count:
            return "None (nothing written, or later imports changed them since)."
        url = reverse("admin:providers_provider_changelist") + f"?last_import_run__id__exact={run.pk}"
        return format_html('<a href="{}">{} provider{}</a>', url, count, "" if count == 1 else "s")

    @admin.display(description="Errors")
    def error_list(self, run):
        if not run.errors:
            return "None."
        # One <div> a line: the admin's aligned-form CSS indents lists as if they were widgets.
        lines = format_html_join("", "<div>{}</div>", ((line,) for line in run.errors[:MAX_ERRORS_SHOWN]))
        more = len(run.errors) - MAX_ERRORS_SHOWN
        tail = format_html("<div>… and {} more.</div>", more) if more > 0 else ""
        return format_html("{}{}", lines, tail)

    @admin.display(description="Unmapped terms (not imported)")
    def unmapped_term_list(self, run):
        if not run.unmapped_terms:
            return "None."
        rows = format_html_join("", "<tr><td>{}</td><td>{}</td></tr>", run.unmapped_terms.items())
        return format_html("<table><thead><tr><th>Term</th><th>Times</th></tr></thead><tbody>{}</tbody></table>", rows)

    def get_urls(self):
        # Before the default patterns: their "<path:object_id>/" would take "upload/" for an object id.
        return [
            path("upload/", self.admin_site.admin_view(self.upload_view), name="providers_importrun_upload"),
            path(
                "upload/<int:pending_id>/",
                self.admin_site.admin_view(require_POST(self.confirm_view)),
                name="providers_importrun_confirm",
            ),
            *super().get_urls(),
        ]

    def _require_import_permission(self, request):
        if not request.user.has_perm(IMPORT_PERMISSION):
            raise PermissionDenied

    def _render(self, request, template, context):
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "has_view_permission": self.has_view_permission(request),
            **context,
        }
        return TemplateResponse(request, f"admin/providers/importrun/{template}", context)

    def upload_view(self, request):
        """Step one: take a file and its options, and show what importing it would do."""
        self._require_import_permission(request)
        form = UploadForm(request.POST, request.FILES) if request.method == "POST" else UploadForm()
        if form.is_bound and form.is_valid():
            response = self._dry_run(request, form)
            if response is not None:
                return response
        return self._render(
            request,
            "upload.html",
            {"title": "Import a file", "form": form, "sources": self.importable_sources(request)},
        )

    def _dry_run(self, request, form):
        """The dry-run summary page, or None after putting the file's problems on the form."""
        upload = form.cleaned_data["file"]
        data = upload.read()
        try:
            with _on_disk(data, upload.name) as file_path:
                chosen_format, records = read_file(file_path, form.cleaned_data["format"], form.cleaned_data["source"])
        except MissingSourceError as error:
            form.add_error("source", f"The {error.format.label} format names no source: enter one.")
            return None
        except ImportFileError as error:
            form.add_error("file", str(error))
            return None
        refusal = self.import_refusal(request, upload.name, records, form.cleaned_data["source"])
        if refusal:
            form.add_error(*refusal)
            return None
        options = form.import_options(chosen_format)
        report = import_records(
            records, ImportOptions(**options, dry_run=True, file_name=upload.name, user=request.user)
        )
        blocked = bool(report.rejected) and not options["skip_invalid"]
        pending = None
        if report.has_changes and not blocked:
            PendingImport.delete_expired()
            pending = PendingImport.objects.create(
                data=data, file_name=upload.name, options=options, uploaded_by=request.user
            )
        return self._render(
            request,
            "dry_run.html",
            {
                "title": f"Dry run of {upload.name}",
                "file_name": upload.name,
                "format": chosen_format,
                "options": options,
                "report": report,
                "lines": describe_report(report, dry_run=True),
                "created": report.created[:MAX_LISTED],
                "blocked": blocked,
                "pending": pending,
            },
        )

    def confirm_view(self, request, pending_id):
        """Step two: import the file the same curator uploaded and dry-ran."""
        self._require_import_permission(request)
        pending = get_object_or_404(PendingImport.objects.filter(uploaded_by=request.user), pk=pending_id)
        # Claiming the upload by deleting it makes a double-clicked button import the file once.
        claimed, _ = PendingImport.objects.filter(pk=pending.pk).delete()
        if not claimed:
            raise Http404("This upload was already imported or cancelled.")
        if "cancel" in request.POST:
            messages.info(request, f"Import of {pending.file_name} cancelled; nothing was written.")
            return redirect("admin:providers_importrun_changelist")
        if pending.expired:
            messages.error(request, f"The upload of {pending.file_name} has expired; upload it again.")
            return redirect("admin:providers_importrun_upload")
        options = pending.options
        try:
            with _on_disk(bytes(pending.data), pending.file_name) as file_path:
                records = FORMATS[options["format"]].read(file_path)
        except ImportFileError as error:
            messages.error(request, f"Nothing was imported: {error}")
            return redirect("admin:providers_importrun_upload")
        # Checked again: a partner may have lost a source, or a shared organization gained a listing, since the dry run.
        refusal = self.import_refusal(request, pending.file_name, records, options["source"])
        if refusal:
            messages.error(request, f"Nothing was imported: {refusal[1]}")
            return redirect("admin:providers_importrun_upload")
        report = import_records(records, ImportOptions(**options, file_name=pending.file_name, user=request.user))
        if report.written:
            counts = (
                f"{len(report.created)} created, {len(report.updated)} updated, "
                f"{report.unchanged} unchanged, {len(report.rejected)} rejected."
            )
            messages.success(request, f"Imported {pending.file_name}: {counts}")
        else:
            # The directory changed since the dry run (a term removed, say): the run's page lists why.
            count = len(report.rejected)
            invalid = ngettext("%(count)d record is invalid now.", "%(count)d records are invalid now.", count)
            messages.error(request, f"Nothing was imported from {pending.file_name}: " + invalid % {"count": count})
        return redirect("admin:providers_importrun_change", report.run.pk)
