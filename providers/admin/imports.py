"""Imports in the admin: the record of every import run, and a page where curators import a file.

The upload page mirrors ``manage.py import_providers``: it always runs a dry
run first, keeps the file in the database (app servers and workers share
nothing else), and imports only when the curator who uploaded it confirms. Both
the dry run and the import are background tasks (``providers/exchange/tasks.py``):
the upload reads the file, so that one that cannot be read is refused on the
form at once, queues its dry run and sends the curator to the upload's page,
which reloads itself until the dry run has ended and then offers the import.
The confirmation records the run as queued and sends the curator to its page,
which shows the import's progress and reloads itself until it finishes.
"""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_slug
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.text import slugify
from django.views.decorators.http import require_http_methods
from django_countries import countries

from providers.admin.roles import PartnerImportsAdmin, partner_source_ids
from providers.admin.source_records import value_text
from providers.exchange.formats import FORMATS, MissingSourceError, read_file
from providers.exchange.formats.files import on_disk
from providers.exchange.importer import MISSING_ARCHIVE, MISSING_FLAG
from providers.exchange.records import ImportFileError
from providers.exchange.tasks import (
    RUN_OPTION,
    UNFINISHED,
    fail_abandoned_runs,
    queue_dry_run,
    queue_import,
    uploads_not_queued,
)
from providers.models import ImportRun, PendingImport, Provider, Source

IMPORT_PERMISSION = "providers.add_importrun"

# The run page lists at most this many errors (and warnings): enough to act on, without a page of megabytes.
MAX_ERRORS_SHOWN = 1000
ALREADY_QUEUED = "This upload was already imported or cancelled."
NOTHING_TO_IMPORT = "This upload has nothing to import, or its dry run has not ended."
# How often the page of a dry run or an import that has not ended reloads itself (a <meta> refresh: no script).
REFRESH_SECONDS = 2


def within_size_limit(upload):
    """``upload``, unless it is larger than an import may be: Django has spooled it, and it is refused before
    it is read into memory."""
    limit = settings.IMPORT_MAX_BYTES
    if upload.size > limit:
        raise ValidationError(f"{upload.name} is {upload.size:,} bytes; the limit is {limit:,} bytes.")
    return upload


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

    strict = forms.BooleanField(
        required=False,
        label="Reject invalid optional values",
        help_text="Reject a record for any invalid value; otherwise an invalid optional value (a second phone, "
        "an e-mail, a website) is set aside with a warning and the record imported.",
    )
    partial = forms.BooleanField(
        required=False,
        label="The file holds only some of the source's listings",
        help_text="Then no listing counts as missing from it.",
    )
    missing = forms.ChoiceField(
        choices=[
            (MISSING_FLAG, "Keep them and flag them for curators"),
            (MISSING_ARCHIVE, "Archive them"),
        ],
        initial=MISSING_FLAG,
        required=False,
        widget=forms.RadioSelect,
        label="The source's listings this file does not hold",
    )

    def clean_file(self):
        return within_size_limit(self.cleaned_data["file"])

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
            "strict": data["strict"],
            "partial": data["partial"],
            "missing": data["missing"] or MISSING_FLAG,
        }


def _lines(lines):
    if not lines:
        return "None."
    # One <div> a line: the admin's aligned-form CSS indents lists as if they were widgets.
    shown = format_html_join("", "<div>{}</div>", ((line,) for line in lines[:MAX_ERRORS_SHOWN]))
    more = len(lines) - MAX_ERRORS_SHOWN
    tail = format_html("<div>… and {} more.</div>", more) if more > 0 else ""
    return format_html("{}{}", shown, tail)


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
        (
            "Records",
            {
                "fields": (
                    ("created", "updated", "unchanged", "rejected"),
                    ("conflicts_kept", "missing", "archived"),
                    "changed_providers",
                )
            },
        ),
        ("Problems", {"fields": ("error_list", "conflict_list", "warning_list", "unmapped_term_list")}),
    )
    # While the import is queued or running: how far it has got.
    progress_fieldsets = (
        (None, {"fields": ("file_name", "format", "source", "outcome", "started_by_name", "started_at")}),
        (
            "Progress",
            {"fields": (("records_read", "records_planned", "records_written"), ("conflicts_kept", "warning_count"))},
        ),
    )
    readonly_fields = (
        "changed_providers",
        "error_list",
        "conflict_list",
        "warning_list",
        "unmapped_term_list",
        "warning_count",
    )

    # Runs are written by the importer only: the record of what happened must not be edited afterwards.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_fieldsets(self, request, obj=None):
        return self.progress_fieldsets if obj is not None and obj.outcome in UNFINISHED else self.fieldsets

    def changelist_view(self, request, extra_context=None):
        fail_abandoned_runs()
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        fail_abandoned_runs()
        return super().change_view(request, object_id, form_url, extra_context)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and obj.outcome in UNFINISHED:
            context["refresh_seconds"] = REFRESH_SECONDS
            context["time_limit_minutes"] = settings.IMPORT_TIME_LIMIT // 60
        return super().render_change_form(request, context, add, change, form_url, obj)

    @admin.display(description="Providers it last changed")
    def changed_providers(self, run):
        count = run.providers.count()
        if not count:
            return "None (nothing written, or later imports changed them since)."
        url = reverse("admin:providers_provider_changelist") + f"?last_import_run__id__exact={run.pk}"
        return format_html('<a href="{}">{} provider{}</a>', url, count, "" if count == 1 else "s")

    @admin.display(description="Errors")
    def error_list(self, run):
        return _lines(run.errors)

    @admin.display(description="Conflicts (the curators' values kept)")
    def conflict_list(self, run):
        conflicts = run.conflicts.select_related("provider").order_by("provider__name", "field")
        shown = list(conflicts[:MAX_ERRORS_SHOWN])
        if not shown:
            return "None."
        lines = format_html_join(
            "",
            "<div>{} (external id {}): {}: kept ours {}; the partner's was {}, now {} — {}</div>",
            (
                (
                    conflict.provider,
                    conflict.provider.external_id or "-",
                    conflict.field,
                    value_text(conflict.our_value),
                    value_text(conflict.partner_old_value),
                    value_text(conflict.partner_new_value),
                    conflict.get_resolution_display().lower(),
                )
                for conflict in shown
            ),
        )
        url = reverse("admin:providers_importconflict_changelist") + f"?import_run__id__exact={run.pk}&resolution=all"
        return format_html('{}<div><a href="{}">Settle them</a></div>', lines, url)

    @admin.display(description="Warnings (values set aside)")
    def warning_list(self, run):
        return _lines(run.warnings)

    @admin.display(description="Warnings")
    def warning_count(self, run):
        return len(run.warnings)

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
                self.admin_site.admin_view(require_http_methods(["GET", "POST"])(self.pending_view)),
                name="providers_importrun_pending",
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
        """Step one: take a file and its options, and queue its dry run."""
        self._require_import_permission(request)
        form = UploadForm(request.POST, request.FILES) if request.method == "POST" else UploadForm()
        if form.is_bound and form.is_valid():
            pending = self._keep_upload(request, form)
            if pending is not None:
                return redirect("admin:providers_importrun_pending", pending.pk)
        return self._render(
            request,
            "upload.html",
            {"title": "Import a file", "form": form, "sources": self.importable_sources(request)},
        )

    def _keep_upload(self, request, form):
        """The upload, kept with its dry run queued; or None after putting the file's problems on the form."""
        upload = form.cleaned_data["file"]
        data = upload.read()
        try:
            with on_disk(data, upload.name) as file_path:
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
        PendingImport.delete_expired()
        pending = PendingImport.objects.create(
            data=data, file_name=upload.name, options=form.import_options(chosen_format), uploaded_by=request.user
        )
        queue_dry_run(pending)
        return pending

    def pending_view(self, request, pending_id):
        """Step two: the upload's dry run (GET), then its import confirmed or the upload cancelled (POST)."""
        self._require_import_permission(request)
        if request.method == "POST":
            return self._confirm(request, pending_id)
        # The file is for the worker: the page shows what the dry run kept.
        pending = get_object_or_404(PendingImport.objects.filter(uploaded_by=request.user).defer("data"), pk=pending_id)
        if RUN_OPTION in pending.options:
            # Confirmed already (the browser went back): the run shows the import.
            return redirect("admin:providers_importrun_change", pending.options[RUN_OPTION])
        if pending.expired:
            PendingImport.delete_expired()
            return self._expired(request, pending)
        return self._render(request, "dry_run.html", self._dry_run_context(pending))

    def _dry_run_context(self, pending):
        found = pending.dry_run or {}
        failure = found.get("error")
        if pending.dry_run_lost:
            failure = (
                f"The dry run did not end within {settings.IMPORT_TIME_LIMIT // 60} minutes: "
                "its worker was stopped or lost."
            )
        checking = pending.dry_run is None and not failure
        return {
            "title": f"Dry run of {pending.file_name}",
            "pending": pending,
            "format": FORMATS[pending.options["format"]],
            "options": pending.options,
            "checking": checking,
            "refresh_seconds": REFRESH_SECONDS if checking else None,
            "failure": failure,
            "found": found,
        }

    def _expired(self, request, pending):
        messages.error(request, f"The upload of {pending.file_name} has expired; upload it again.")
        return redirect("admin:providers_importrun_upload")

    def _confirm(self, request, pending_id):
        """Queue the import of the file the same curator uploaded and dry-ran, and show its run; or cancel it."""
        waiting = uploads_not_queued().filter(uploaded_by=request.user)
        # The file itself is for the worker: this request does not read it unless a partner's rights depend on it.
        pending = get_object_or_404(waiting.defer("data"), pk=pending_id)
        if "cancel" in request.POST or pending.expired:
            if not waiting.filter(pk=pending.pk).delete()[0]:
                raise Http404(ALREADY_QUEUED)
            if "cancel" in request.POST:
                messages.info(request, f"Import of {pending.file_name} cancelled; nothing was written.")
                return redirect("admin:providers_importrun_changelist")
            return self._expired(request, pending)
        if not pending.importable:
            raise Http404(NOTHING_TO_IMPORT)
        refusal = self._refusal_now(request, pending)
        if refusal:
            waiting.filter(pk=pending.pk).delete()
            messages.error(request, f"Nothing was imported: {refusal}")
            return redirect("admin:providers_importrun_upload")
        run = queue_import(pending, request.user)
        if run is None:
            raise Http404(ALREADY_QUEUED)
        if run.outcome == ImportRun.Outcome.FAILED:
            messages.error(request, f"The import of {pending.file_name} could not be queued; nothing was written.")
        else:
            messages.success(request, f"Importing {pending.file_name}: this page shows how far the import has got.")
        return redirect("admin:providers_importrun_change", run.pk)

    def _refusal_now(self, request, pending):
        """Why this user may no longer import ``pending``, or None when they still may.

        Checked again since the dry run: a partner may have lost a source, or a shared organization gained a listing.
        """
        if partner_source_ids(request.user) is None:
            # Only partner importers' rights depend on what the file holds: nobody else's upload is read here.
            return None
        try:
            with on_disk(bytes(pending.data), pending.file_name) as file_path:
                records = read_file(file_path, pending.options["format"], pending.options["source"])[1]
        except ImportFileError as error:
            return str(error)
        refusal = self.import_refusal(request, pending.file_name, records, pending.options["source"])
        return refusal[1] if refusal else None
