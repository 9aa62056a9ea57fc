"""The queue of suggestions from the public, where curators accept or reject each one.

A suggestion's page shows it beside the current listing; Accept applies it
through Suggestion.accept (the listing's own validation decides), unless the
listing changed since the page showed it (providers.curation.stale_edits); Reject
records a note. Suggestions are never edited: they are what a visitor sent.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Case, IntegerField, Value, When
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from providers.curation import stale_edits
from providers.models import Provider, Suggestion


class AcceptForm(forms.Form):
    note = forms.CharField(
        label="Note for other curators (optional)", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class RejectForm(forms.Form):
    note = forms.CharField(
        label="Why it is rejected",
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "Say why, so other curators know it was looked at."},
    )


def error_lines(error):
    """A ValidationError from a listing as lines a curator can act on, each naming the field it is about."""
    if not hasattr(error, "error_dict"):
        return error.messages
    lines = []
    for field, field_messages in error.message_dict.items():
        label = "" if field == NON_FIELD_ERRORS else f"{Provider._meta.get_field(field).verbose_name.capitalize()}: "
        lines += [label + message for message in field_messages]
    return lines


@admin.register(Suggestion)
class SuggestionAdmin(admin.ModelAdmin):
    list_display = ("created_at", "kind", "subject", "problem", "status")
    list_filter = ("status", "kind", "problem")
    list_select_related = ("provider",)
    search_fields = ("provider__name", "message")
    # Waiting suggestions first, newest first within each group.
    ordering = (
        Case(When(status=Suggestion.Status.PENDING, then=Value(0)), default=Value(1), output_field=IntegerField()),
        "-created_at",
    )
    show_facets = admin.ShowFacets.NEVER

    @admin.display(description="About")
    def subject(self, suggestion):
        if suggestion.provider_id:
            return suggestion.provider.name
        return f"New: {suggestion.proposed.get('name', '')}"

    # Suggestions come from the public site only, and say what the visitor sent.
    def has_add_permission(self, request):
        return False

    def get_urls(self):
        # Before the default patterns: their "<path:object_id>/" would take these too.
        return [
            path(
                "<path:object_id>/accept/",
                self.admin_site.admin_view(require_POST(self.accept_view)),
                name="providers_suggestion_accept",
            ),
            path(
                "<path:object_id>/reject/",
                self.admin_site.admin_view(require_POST(self.reject_view)),
                name="providers_suggestion_reject",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """The suggestion beside the listing, with Accept and Reject, in place of an edit form."""
        suggestion = self.get_object(request, unquote(object_id))
        if suggestion is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_view_or_change_permission(request, suggestion):
            raise PermissionDenied
        return self._review_page(request, suggestion)

    def accept_view(self, request, object_id):
        suggestion = self._suggestion_to_review(request, object_id)
        permission = "add_provider" if suggestion.kind == Suggestion.Kind.NEW_PROVIDER else "change_provider"
        if not request.user.has_perm(f"providers.{permission}"):
            raise PermissionDenied
        form = AcceptForm(request.POST)
        form.is_valid()  # the note is optional: a valid form, always
        try:
            with transaction.atomic():
                self._refuse_if_changed(request, suggestion)
                provider = suggestion.accept(request.user, form.cleaned_data["note"])
        except ValidationError as error:
            return self._review_page(request, suggestion, accept_form=form, errors=error_lines(error))
        provider_url = reverse("admin:providers_provider_change", args=[provider.pk])
        if suggestion.kind == Suggestion.Kind.NEW_PROVIDER:
            done = 'Accepted: <a href="{}">{}</a> is a new draft listing; complete it, then publish it.'
        else:
            done = 'Accepted: <a href="{}">{}</a> is updated.'
        messages.success(request, format_html(done, provider_url, provider))
        return redirect("admin:providers_suggestion_changelist")

    def reject_view(self, request, object_id):
        suggestion = self._suggestion_to_review(request, object_id)
        form = RejectForm(request.POST)
        if not form.is_valid():
            return self._review_page(request, suggestion, reject_form=form)
        try:
            suggestion.reject(request.user, form.cleaned_data["note"])
        except ValidationError as error:
            return self._review_page(request, suggestion, reject_form=form, errors=error_lines(error))
        messages.success(request, f"Rejected: {suggestion}.")
        return redirect("admin:providers_suggestion_changelist")

    def _refuse_if_changed(self, request, suggestion):
        """Raise ValidationError if the listing changed since the page comparing it with the suggestion was shown."""
        if suggestion.provider is None:
            return
        changed = stale_edits.changes_since(suggestion.provider, request.POST.get(stale_edits.FIELD_NAME))
        if changed:
            raise ValidationError(
                f"Since you opened this page, {changed}. The table below now shows the listing as it is: "
                "compare again, then accept or reject."
            )

    def _suggestion_to_review(self, request, object_id):
        suggestion = self.get_object(request, unquote(object_id))
        if suggestion is None:
            raise Http404("No such suggestion.")
        if not self.has_change_permission(request, suggestion):
            raise PermissionDenied
        return suggestion

    def _review_page(self, request, suggestion, accept_form=None, reject_form=None, errors=()):
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": str(suggestion),
            "suggestion": suggestion,
            "comparison": suggestion.comparison(),
            "can_review": suggestion.status == Suggestion.Status.PENDING
            and self.has_change_permission(request, suggestion),
            "accept_form": accept_form or AcceptForm(),
            "reject_form": reject_form or RejectForm(),
            "errors": errors,
            # The page shows the listing as it is now, so a refused accept's page carries this version, not the old one.
            "opened_version": stale_edits.opened_version(suggestion.provider) if suggestion.provider else "",
            "has_view_permission": self.has_view_permission(request, suggestion),
        }
        return TemplateResponse(request, "admin/providers/suggestion/review.html", context)
