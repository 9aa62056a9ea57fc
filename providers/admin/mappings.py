"""The mapping builder: curators turn a sample of a partner's own export into the mapping saved on its source.

Four plain forms, one request each and no script: upload a sample and say how to read it; pick our field
for each of its columns and the column(s) that identify a record; pick our term for each value of the
columns that hold terms; preview the first records as the import would take them, and save. The sample
and the mapping being built live in the database between the steps (``MappingSample``), because app
servers share nothing else. A draft is checked by the same ``parse_mapping`` and ``check_terms`` the
importer uses, so a saved mapping imports as it previewed; the upload page then reads the source's files
through it (``read_file`` picks a source's saved mapping). A mapping can also be downloaded as JSON and a
hand-written one uploaded, checked the same way.
"""

import codecs
import json
from collections import Counter
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.views.decorators.http import require_GET, require_http_methods
from django_countries import countries

from providers.admin.imports import within_size_limit
from providers.exchange.formats.files import DELIMITERS, Archive, is_zip, on_disk
from providers.exchange.formats.mapped import (
    FIELDS,
    Export,
    cell_text,
    check_terms,
    fold,
    parse_mapping,
    records,
)
from providers.exchange.importer import ImportOptions, import_records
from providers.exchange.records import TERM_FIELDS, ImportFileError
from providers.models import MappingSample, Source
from providers.search.vocabulary import all_terms

# The preview dry-runs this many records: enough to judge the mapping, quick enough for a request.
PREVIEW_RECORDS = 20
# A term column lists at most this many of its values, the most common first.
MAX_VALUES_SHOWN = 200
# Fields Django's request parsing leaves to the other inputs of the terms page.
OTHER_INPUTS = 100
EXAMPLES = 3
# The choice mapping a partner's value to no term on purpose (null in the mapping); no slug has brackets.
NONE = "(none)"
READING_KEYS = ("format", "encoding", "delimiter", "file", "records")
DELIMITER_NAMES = {",": "comma ,", ";": "semicolon ;", "\t": "tab", "|": "bar |", "\u00ac": "not sign ¬"}


# --- Drafts: the mapping document being built ---------------------------------------------------


def term_names() -> dict[str, dict[str, str]]:
    """{taxonomy: {slug: name}}, each taxonomy in its own order."""
    return {
        field: {slug: name for slug, name, _order, _names in sorted(terms.values(), key=lambda t: (t[2], t[1]))}
        for field, terms in all_terms().items()
    }


def columns_of(spec) -> list[str]:
    """The columns a mapping's column spec names (a column, a list, or {"first_of": [...]})."""
    if isinstance(spec, dict):
        spec = spec.get("first_of", [])
    if isinstance(spec, str):
        return [spec]
    return [column for column in spec if isinstance(column, str)] if isinstance(spec, list) else []


def one_or_list(columns: list[str]):
    """A spec in the mapping's plainest form: one column as text, several as a list (joined with a space)."""
    return columns[0] if len(columns) == 1 else list(columns)


def term_columns(draft) -> list[tuple[str, dict]]:
    """The draft's term columns, flat: (taxonomy, entry) in the order the draft lists them."""
    found = []
    for taxonomy, entries in (draft.get("terms") or {}).items():
        for entry in entries if isinstance(entries, list) else [entries]:
            if isinstance(entry, dict):
                found.append((taxonomy, entry))
    return found


def with_term_columns(draft, flat) -> dict:
    """``draft`` holding the term columns ``flat``, grouped by taxonomy as the mapping writes them."""
    grouped: dict[str, list] = {}
    for taxonomy, entry in flat:
        grouped.setdefault(taxonomy, []).append(entry)
    draft = {key: value for key, value in draft.items() if key != "terms"}
    if grouped:
        draft["terms"] = {
            taxonomy: entries[0] if len(entries) == 1 else entries for taxonomy, entries in grouped.items()
        }
    return draft


def reading_mapping(draft, tables=True):
    """A mapping that reads the sample as ``draft`` says, whatever its fields and terms are so far."""
    document = {key: draft[key] for key in READING_KEYS if draft.get(key)}
    if tables and draft.get("tables"):
        document["tables"] = draft["tables"]
    return parse_mapping({**document, "id": "-", "fields": {"name": "-"}}, "How the sample is read")


def read_sample(sample, draft=None, tables=True) -> Export:
    """The sample's export, read as ``draft`` (the sample's own by default) says; ImportFileError if it cannot be."""
    with on_disk(bytes(sample.data), sample.file_name) as file_path:
        return Export(file_path, reading_mapping(sample.draft if draft is None else draft, tables))


def other_files(sample, export) -> list[tuple[str, list[str]]]:
    """For a .zip sample: its files other than the main one, each with its columns (read as the main one is)."""
    data = bytes(sample.data)
    if not is_zip(data):
        return []
    found = []
    with on_disk(data, sample.file_name) as file_path:
        archive = Archive(file_path)
        try:
            members = [member for member in archive.members if member != export.name]
        finally:
            archive.close()
        for member in members:
            draft = {**sample.draft, "file": Path(member).name}
            try:
                columns = Export(file_path, reading_mapping(draft, tables=False)).columns
            except ImportFileError:
                # Not a table of the export (a readme, a licence): nothing to join.
                continue
            found.append((member, columns))
    return found


def examples(export, column) -> list[str]:
    values = dict.fromkeys(cell_text(row.get(column)) for row in export.rows[:500])
    return [value for value in values if value][:EXAMPLES]


# --- Forms --------------------------------------------------------------------------------------


class SampleForm(forms.Form):
    file = forms.FileField(
        help_text="A sample of the partner's export: CSV, JSON, or a .zip holding the files (tables) of one export. "
        "A few hundred rows are plenty."
    )
    format = forms.ChoiceField(choices=[("csv", "CSV"), ("json", "JSON")])
    encoding = forms.CharField(
        required=False, max_length=40, help_text="Blank: UTF-8, else Windows-1252 or Latin-1, whichever reads it."
    )
    delimiter = forms.ChoiceField(
        required=False,
        choices=[("", "Detect from the header line")] + [(item, DELIMITER_NAMES[item]) for item in DELIMITERS],
        help_text="For CSV.",
    )
    main_file = forms.CharField(
        required=False, max_length=255, label="Main file", help_text="For a .zip: the file of the listings."
    )
    records = forms.CharField(
        required=False,
        max_length=255,
        label="JSON records path",
        help_text="For JSON: where the list of records is, keys joined with dots (data.items); blank: the file is it.",
    )
    start_from_saved = forms.BooleanField(
        required=False,
        initial=True,
        label="Start from the source's saved mapping",
        help_text="Its fields, terms, tables and opening hours are carried over; untick to start afresh.",
    )

    def __init__(self, source, *args, **kwargs):
        super().__init__(*args, **kwargs)
        saved = source.mapping or {}
        if not saved:
            del self.fields["start_from_saved"]
        delimiter = saved.get("delimiter", "")
        if delimiter and delimiter not in DELIMITER_NAMES:
            self.fields["delimiter"].choices += [(delimiter, repr(delimiter))]
        for name, key in (("format", "format"), ("encoding", "encoding"), ("delimiter", "delimiter")):
            self.fields[name].initial = saved.get(key, "")
        self.fields["main_file"].initial = saved.get("file", "")
        self.fields["records"].initial = saved.get("records", "")

    def clean_file(self):
        return within_size_limit(self.cleaned_data["file"])

    def clean_encoding(self):
        encoding = self.cleaned_data["encoding"].strip()
        if encoding:
            try:
                codecs.lookup(encoding)
            except LookupError:
                raise ValidationError(
                    f"{encoding!r} is not an encoding we know: try utf-8, cp1252 or latin-1."
                ) from None
        return encoding

    def draft(self, saved) -> dict:
        """The draft mapping this sample starts: the saved one, or nothing, read as the form says."""
        data = self.cleaned_data
        draft = dict(saved) if saved and data.get("start_from_saved") else {}
        chosen = {
            "format": data["format"],
            "encoding": data["encoding"],
            "delimiter": data["delimiter"] if data["format"] == "csv" else "",
            "file": data["main_file"].strip(),
            "records": data["records"].strip() if data["format"] == "json" else "",
        }
        for key, value in chosen.items():
            if value:
                draft[key] = value
            else:
                draft.pop(key, None)
        return draft


FIELD_CHOICES = [("", "—")] + [(name, name) for name in FIELDS]


class FieldsForm(forms.Form):
    """Our field for each of the sample's columns, the id column(s), the default country and the other tables."""

    country = forms.ChoiceField(
        choices=[("", "---------")] + list(countries), required=False, label="Country of rows that name none"
    )

    def __init__(self, columns, files, draft, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.columns, self.files, self.draft = columns, files, draft
        fields = draft.get("fields") or {}
        # What a drop-down a column cannot say is kept as written: a "first of" choice, a column feeding two
        # fields, or columns the sample lacks.
        used = Counter(column for spec in fields.values() for column in columns_of(spec))
        self.kept = {
            name: spec
            for name, spec in fields.items()
            if isinstance(spec, dict) or any(used[column] > 1 or column not in columns for column in columns_of(spec))
        }
        picked = {column: name for name, spec in fields.items() if name not in self.kept for column in columns_of(spec)}
        ids = set(columns_of(draft.get("id", [])))
        for number, column in enumerate(columns):
            self.fields[f"field_{number}"] = forms.ChoiceField(
                choices=FIELD_CHOICES, required=False, initial=picked.get(column, ""), label=column
            )
            self.fields[f"id_{number}"] = forms.BooleanField(required=False, initial=column in ids, label="id")
        for name in self.kept:
            self.fields[f"drop_{name}"] = forms.BooleanField(required=False, label=f"Forget {name}")
        self.fields["country"].initial = draft.get("country", "")
        declared = {
            table.get("file"): table for table in (draft.get("tables") or {}).values() if isinstance(table, dict)
        }
        for number, (member, member_columns) in enumerate(files):
            table = declared.get(Path(member).name, {})
            initial = columns_of(table.get("id", []))
            self.fields[f"table_{number}"] = forms.ChoiceField(
                choices=[("", "not used")] + [(column, column) for column in member_columns],
                required=False,
                initial=initial[0] if initial else "",
                label=member,
            )

    def rows(self):
        """(column, bound field drop-down, bound id checkbox) for each column of the sample."""
        return [(column, self[f"field_{n}"], self[f"id_{n}"]) for n, column in enumerate(self.columns)]

    def kept_rows(self):
        return [(name, json.dumps(spec, ensure_ascii=False), self[f"drop_{name}"]) for name, spec in self.kept.items()]

    def table_rows(self):
        return [self[f"table_{n}"] for n in range(len(self.files))]

    def clean(self):
        data = super().clean()
        picked: dict[str, list[str]] = {}
        for number, column in enumerate(self.columns):
            if data.get(f"field_{number}"):
                picked.setdefault(data[f"field_{number}"], []).append(column)
        self.picked = picked
        self.ids = [column for number, column in enumerate(self.columns) if data.get(f"id_{number}")]
        kept = [name for name in self.kept if not data.get(f"drop_{name}")]
        if "name" not in picked and "name" not in kept:
            raise ValidationError("Pick the column that holds the name.")
        if not self.ids:
            raise ValidationError("Tick the column, or columns, that identify a record from one file to the next.")
        return data

    def updated_draft(self) -> dict:
        data = self.cleaned_data
        fields = {name: spec for name, spec in self.kept.items() if not data.get(f"drop_{name}")}
        # A field picked from the drop-downs replaces what was kept for it.
        fields.update({name: one_or_list(columns) for name, columns in self.picked.items()})
        draft = {
            **self.draft,
            "id": one_or_list(self.ids),
            "fields": {name: fields[name] for name in FIELDS if name in fields},
        }
        if data["country"]:
            draft["country"] = data["country"]
        else:
            draft.pop("country", None)
        if self.files:
            names = {table.get("file"): name for name, table in (self.draft.get("tables") or {}).items()}
            tables = {}
            for number, (member, _columns) in enumerate(self.files):
                if data.get(f"table_{number}"):
                    file_name = Path(member).name
                    name = names.get(file_name) or Path(member).stem
                    tables[name] = {"file": file_name, "id": data[f"table_{number}"]}
            if tables:
                draft["tables"] = tables
            else:
                draft.pop("tables", None)
        return draft


class TermColumnForm(forms.Form):
    """A column of the sample that holds one of our taxonomies' terms."""

    taxonomy = forms.ChoiceField(choices=[(name, name.replace("_", " ")) for name in TERM_FIELDS])
    column = forms.ChoiceField(choices=())
    split = forms.CharField(
        required=False,
        strip=False,
        max_length=5,
        label="Separator",
        help_text="Between several values in one cell, e.g. ; or a space; blank: one value a cell.",
    )

    def __init__(self, export, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(json.dumps(["", column]), column) for column in export.columns]
        for table in export.tables:
            choices += [(json.dumps([table, column]), f"{table} → {column}") for column in export.table_columns(table)]
        self.fields["column"].choices = choices

    def entry(self) -> tuple[str, dict]:
        data = self.cleaned_data
        table, column = json.loads(data["column"])
        entry = {
            "column": column,
            **({"table": table} if table else {}),
            **({"split": data["split"]} if data["split"] else {}),
        }
        return data["taxonomy"], {**entry, "values": {}}


def value_choice(slugs) -> str:
    if slugs is None or slugs == []:
        return NONE
    return slugs if isinstance(slugs, str) else "|".join(slugs)


class TermValuesForm(forms.Form):
    """Our term for each value of each term column, which columns to drop, and which taxonomies a row must have."""

    only_with_terms = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Import only rows that have a term of",
        help_text="Rows with none of these are left out (a pharmacy list of which only some offer our services).",
    )

    def __init__(self, export, draft, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.draft = draft
        self.columns = term_columns(draft)
        names = term_names()
        limit = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
        cap = MAX_VALUES_SHOWN
        if limit and self.columns:
            cap = max(1, min(cap, (limit - OTHER_INPUTS) // len(self.columns)))
        self.shown = []
        for index, (taxonomy, entry) in enumerate(self.columns):
            counts = export.distinct_values(entry["column"], entry.get("split", ""), entry.get("table", ""))
            values = counts.most_common(cap)
            mapped = {fold(value): slugs for value, slugs in (entry.get("values") or {}).items()}
            terms = names.get(taxonomy, {})
            rows = []
            for number, (value, count) in enumerate(values):
                choices = [("", "— not mapped (reported) —"), (NONE, "— none (ignore) —")]
                choices += [(slug, name) for slug, name in terms.items()]
                initial = value_choice(mapped[fold(value)]) if fold(value) in mapped else ""
                if initial and initial not in dict(choices):
                    # Several terms, or a slug we do not have: offered as it is, so saving changes nothing.
                    choices.append((initial, f"{initial.replace('|', ' + ')} (as the mapping says)"))
                name = f"value_{index}_{number}"
                self.fields[name] = forms.ChoiceField(choices=choices, required=False, initial=initial, label=value)
                rows.append((value, count, name))
            self.fields[f"split_{index}"] = forms.CharField(
                required=False, strip=False, max_length=5, initial=entry.get("split", ""), label="Separator"
            )
            self.fields[f"remove_{index}"] = forms.BooleanField(required=False, label="Remove this column")
            self.shown.append((taxonomy, entry, rows, len(counts) - len(values)))
        mapped_taxonomies = list(dict.fromkeys(taxonomy for taxonomy, _entry in self.columns))
        self.fields["only_with_terms"].choices = [(name, name.replace("_", " ")) for name in mapped_taxonomies]
        self.fields["only_with_terms"].initial = [
            name for name in draft.get("only_with_terms", []) if name in mapped_taxonomies
        ]

    def sections(self):
        """For each term column: its taxonomy, entry, separator and remove fields, rows (value, count, field), more."""
        return [
            {
                "taxonomy": taxonomy,
                "entry": entry,
                "split": self[f"split_{index}"],
                "remove": self[f"remove_{index}"],
                "rows": [(value, count, self[name]) for value, count, name in rows],
                "more": more,
            }
            for index, (taxonomy, entry, rows, more) in enumerate(self.shown)
        ]

    def updated_draft(self) -> dict:
        data = self.cleaned_data
        flat = []
        for index, (taxonomy, entry, rows, _more) in enumerate(self.shown):
            if data.get(f"remove_{index}"):
                continue
            values = dict(entry.get("values") or {})
            for value, _count, name in rows:
                for written in [key for key in values if fold(key) == fold(value)]:
                    del values[written]
                choice = data.get(name, "")
                if choice == NONE:
                    values[value] = None
                elif choice:
                    slugs = choice.split("|")
                    values[value] = slugs[0] if len(slugs) == 1 else slugs
            entry = {key: item for key, item in entry.items() if key not in ("values", "split")}
            if data[f"split_{index}"]:
                entry["split"] = data[f"split_{index}"]
            flat.append((taxonomy, {**entry, "values": values}))
        draft = with_term_columns(self.draft, flat)
        still_mapped = {taxonomy for taxonomy, _entry in flat}
        only = [name for name in data["only_with_terms"] if name in still_mapped]
        if only:
            draft["only_with_terms"] = only
        else:
            draft.pop("only_with_terms", None)
        return draft


class MappingFileForm(forms.Form):
    file = forms.FileField(label="Mapping", help_text="A mapping as JSON (docs/IMPORT.md, Mappings).")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > settings.IMPORT_MAX_BYTES:
            raise ValidationError(f"{upload.name} is {upload.size:,} bytes: a mapping is a small file.")
        try:
            document = json.loads(upload.read().decode("utf-8-sig"))
        except UnicodeDecodeError:
            raise ValidationError(f"{upload.name} is not UTF-8 text.") from None
        except json.JSONDecodeError as error:
            raise ValidationError(f"{upload.name} is not valid JSON: {error.msg} (line {error.lineno}).") from None
        try:
            check_terms(parse_mapping(document, upload.name))
        except ImportFileError as error:
            raise ValidationError(str(error)) from None
        self.document = document
        return upload


# --- The views, on the source admin ---------------------------------------------------------------


class SourceMappingsAdmin:
    """For the source admin: build, preview, save, download and upload a source's mapping."""

    def get_urls(self):
        def view(function, methods=("GET", "POST")):
            return self.admin_site.admin_view(require_http_methods(list(methods))(function))

        sample = "<int:source_id>/mapping/<int:sample_id>"
        return [
            path("<int:source_id>/mapping/", view(self.mapping_sample_view), name="providers_source_mapping"),
            path(f"{sample}/fields/", view(self.mapping_fields_view), name="providers_source_mapping_fields"),
            path(f"{sample}/terms/", view(self.mapping_terms_view), name="providers_source_mapping_terms"),
            path(f"{sample}/preview/", view(self.mapping_preview_view), name="providers_source_mapping_preview"),
            path(
                "<int:source_id>/mapping/download/",
                self.admin_site.admin_view(require_GET(self.mapping_download_view)),
                name="providers_source_mapping_download",
            ),
            path(
                "<int:source_id>/mapping/upload/",
                view(self.mapping_upload_view),
                name="providers_source_mapping_upload",
            ),
            *super().get_urls(),
        ]

    # Shown read-only on the source's change form: the mapping is changed through the pages here only,
    # so it is always one parse_mapping and check_terms accepted.
    @admin.display(description="Mapping")
    def mapping_summary(self, source):
        if source is None or source.pk is None:
            return "Save the source first; then build or upload its mapping here."
        build = reverse("admin:providers_source_mapping", args=[source.pk])
        upload = reverse("admin:providers_source_mapping_upload", args=[source.pk])
        links = format_html(
            '<a href="{}">Build a mapping from a sample</a> · <a href="{}">Upload a mapping file</a>', build, upload
        )
        if not source.mapping:
            return format_html("<p>None: this source's files are read as one of our formats.</p><p>{}</p>", links)
        download = reverse("admin:providers_source_mapping_download", args=[source.pk])
        return format_html(
            '<pre class="mapping">{}</pre><p>{} · <a href="{}">Download it</a></p>',
            json.dumps(source.mapping, indent=2, ensure_ascii=False),
            links,
            download,
        )

    def _mapping_source(self, request, source_id, change=True):
        allowed = self.has_change_permission if change else self.has_view_permission
        if not allowed(request):
            raise PermissionDenied
        source = get_object_or_404(Source, pk=source_id)
        if not allowed(request, source):
            raise PermissionDenied
        return source

    def _mapping_sample(self, request, source, sample_id):
        """The user's sample for ``source``; None (with a message) once it has expired."""
        sample = get_object_or_404(MappingSample.objects.filter(source=source, uploaded_by=request.user), pk=sample_id)
        if sample.expired:
            sample.delete()
            messages.error(request, f"The sample {sample.file_name} has expired; upload it again.")
            return None
        return sample

    def _mapping_render(self, request, template, source, context):
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "has_view_permission": self.has_view_permission(request),
            "original": source,
            "source": source,
            **context,
        }
        return TemplateResponse(request, f"admin/providers/source/{template}", context)

    def _unreadable(self, request, source, error):
        messages.error(request, f"The sample cannot be read as the mapping says: {error} Upload it again.")
        return redirect("admin:providers_source_mapping", source.pk)

    def mapping_sample_view(self, request, source_id):
        """Step one: a sample of the partner's export, and how to read it."""
        source = self._mapping_source(request, source_id)
        form = SampleForm(source, request.POST, request.FILES) if request.method == "POST" else SampleForm(source)
        if form.is_bound and form.is_valid():
            upload = form.cleaned_data["file"]
            data = upload.read()
            draft = form.draft(source.mapping)
            try:
                with on_disk(data, upload.name) as file_path:
                    export = Export(file_path, reading_mapping(draft))
                if not export.rows:
                    raise ImportFileError(f"{upload.name} holds no rows.")
            except ImportFileError as error:
                form.add_error("file", str(error))
            else:
                sample = MappingSample.keep(
                    source=source, uploaded_by=request.user, file_name=upload.name, data=data, draft=draft
                )
                return redirect("admin:providers_source_mapping_fields", source.pk, sample.pk)
        return self._mapping_render(
            request, "mapping_sample.html", source, {"title": f"Build a mapping for {source}", "form": form, "step": 1}
        )

    def mapping_fields_view(self, request, source_id, sample_id):
        """Step two: our field for each column, the id column(s), and the export's other tables."""
        source = self._mapping_source(request, source_id)
        sample = self._mapping_sample(request, source, sample_id)
        if sample is None:
            return redirect("admin:providers_source_mapping", source.pk)
        try:
            export = read_sample(sample, tables=False)
            files = other_files(sample, export)
        except ImportFileError as error:
            return self._unreadable(request, source, error)
        form = FieldsForm(export.columns, files, sample.draft, request.POST or None)
        if form.is_bound and form.is_valid():
            sample.draft = form.updated_draft()
            sample.save(update_fields=["draft"])
            return redirect("admin:providers_source_mapping_terms", source.pk, sample.pk)
        return self._mapping_render(
            request,
            "mapping_fields.html",
            source,
            {
                "title": f"Fields of {sample.file_name}",
                "form": form,
                "sample": sample,
                "main_file": export.name,
                "rows": [(column, examples(export, column), field, id) for column, field, id in form.rows()],
                "step": 2,
            },
        )

    def mapping_terms_view(self, request, source_id, sample_id):
        """Step three: which columns hold our terms, and our term for each of their values."""
        source = self._mapping_source(request, source_id)
        sample = self._mapping_sample(request, source, sample_id)
        if sample is None:
            return redirect("admin:providers_source_mapping", source.pk)
        try:
            export = read_sample(sample)
        except ImportFileError as error:
            return self._unreadable(request, source, error)
        adding = request.method == "POST" and "add" in request.POST
        column_form = TermColumnForm(export, request.POST if adding else None, prefix="add")
        values_form = TermValuesForm(
            export, sample.draft, request.POST if request.method == "POST" and not adding else None
        )
        if adding and column_form.is_valid():
            sample.draft = with_term_columns(sample.draft, [*term_columns(sample.draft), column_form.entry()])
            sample.save(update_fields=["draft"])
            return redirect("admin:providers_source_mapping_terms", source.pk, sample.pk)
        if values_form.is_bound and values_form.is_valid():
            sample.draft = values_form.updated_draft()
            sample.save(update_fields=["draft"])
            if "preview" in request.POST:
                return redirect("admin:providers_source_mapping_preview", source.pk, sample.pk)
            messages.success(request, "The terms are saved in the draft.")
            return redirect("admin:providers_source_mapping_terms", source.pk, sample.pk)
        return self._mapping_render(
            request,
            "mapping_terms.html",
            source,
            {
                "title": f"Terms of {sample.file_name}",
                "column_form": column_form,
                "values_form": values_form,
                "sample": sample,
                "step": 3,
            },
        )

    def mapping_preview_view(self, request, source_id, sample_id):
        """Step four: the first records as the import would take them (GET); the mapping saved (POST)."""
        source = self._mapping_source(request, source_id)
        sample = self._mapping_sample(request, source, sample_id)
        if sample is None:
            return redirect("admin:providers_source_mapping", source.pk)
        context = {"title": f"Preview of {sample.file_name}", "sample": sample, "step": 4}
        try:
            mapping = parse_mapping(sample.draft, "This mapping")
            check_terms(mapping)
            with on_disk(bytes(sample.data), sample.file_name) as file_path:
                export = Export(file_path, mapping)
            found = records(export)
        except ImportFileError as error:
            context["problem"] = str(error)
            if request.method == "POST":
                messages.error(request, "The mapping was not saved: it needs the changes below.")
        else:
            if request.method == "POST":
                source.mapping = sample.draft
                source.save(update_fields=["mapping"])
                messages.success(
                    request,
                    f"The mapping is saved on {source}: its files now import through it (Import a file, "
                    f"with the source {source.slug}).",
                )
                return redirect("admin:providers_source_change", source.pk)
            context.update(self._preview(source, sample, export, found))
        context["document"] = json.dumps(sample.draft, indent=2, ensure_ascii=False)
        return self._mapping_render(request, "mapping_preview.html", source, context)

    def _preview(self, source, sample, export, found):
        shown = found[:PREVIEW_RECORDS]
        options = ImportOptions(
            source=source.slug, dry_run=True, partial=True, file_name=sample.file_name, format="mapped"
        )
        report = import_records(shown, options)
        outcomes = {}
        for change in report.created:
            outcomes[id(change.record)] = ("new", change.warnings)
        for change in report.updated:
            outcomes[id(change.record)] = ("changed", change.warnings)
        for change in report.remembered:
            outcomes[id(change.record)] = ("unchanged", change.warnings)
        refused = {id(record): errors for record, errors in report.rejected}
        names = term_names()
        rows = []
        for record in shown:
            outcome, warnings = outcomes.get(id(record), ("unchanged", []))
            rows.append(
                {
                    "record": record,
                    "values": record.values,
                    "outcome": "refused" if id(record) in refused else outcome,
                    "terms": [
                        (taxonomy.replace("_", " "), [names.get(taxonomy, {}).get(slug, slug) for slug in slugs])
                        for taxonomy, slugs in record.terms.items()
                        if slugs
                    ],
                    "warnings": [f"{field}: {message} ({value!r} set aside)" for field, value, message in warnings],
                    "errors": [f"{field}: {message}" for field, message in refused.get(id(record), [])],
                }
            )
        unmapped = Counter(value for record in found for value in record.unmapped)
        return {
            "rows": rows,
            "total_rows": len(export.rows),
            "total_records": len(found),
            "left_out": found.left_out,
            "unmapped": unmapped.most_common(),
        }

    def mapping_download_view(self, request, source_id):
        source = self._mapping_source(request, source_id, change=False)
        if not source.mapping:
            messages.info(request, f"{source} has no mapping to download.")
            return redirect("admin:providers_source_change", source.pk)
        response = HttpResponse(
            json.dumps(source.mapping, indent=2, ensure_ascii=False) + "\n",
            content_type="application/json; charset=utf-8",
        )
        response["Content-Disposition"] = f'attachment; filename="{source.slug}-mapping.json"'
        return response

    def mapping_upload_view(self, request, source_id):
        """A mapping written by hand, or downloaded and changed, saved on the source once it checks out."""
        source = self._mapping_source(request, source_id)
        form = MappingFileForm(request.POST, request.FILES) if request.method == "POST" else MappingFileForm()
        if form.is_bound and form.is_valid():
            source.mapping = form.document
            source.save(update_fields=["mapping"])
            messages.success(request, f"The mapping in {form.cleaned_data['file'].name} is saved on {source}.")
            return redirect("admin:providers_source_change", source.pk)
        return self._mapping_render(
            request, "mapping_upload.html", source, {"title": f"Upload a mapping for {source}", "form": form}
        )
