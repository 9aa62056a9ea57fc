"""The forms people fill in on the public site: a correction to a listing, a provider to add.

Nobody needs an account. What protects the curators' queue: Django's CSRF check, a
honeypot field, a per-address limit (providers.views.allow_suggestion), and the size
limits of the fields and of the request body (DATA_UPLOAD_MAX_MEMORY_SIZE).
"""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Div, Fieldset, Layout
from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from providers.models import Provider, Suggestion
from providers.models.phones import normalise_phone

# The honeypot: hidden from people and from screen readers, so only software that fills in every field fills it.
HONEYPOT = "homepage"


def _proposed_field(name, label, **kwargs):
    """An optional form field for a proposed listing value, with the listing field's own limits."""
    model_field = Provider._meta.get_field(name)
    if isinstance(model_field, models.URLField):
        # People type "example.org"; the link must open over HTTPS (Django 6's default).
        kwargs["assume_scheme"] = "https"
    return model_field.formfield(label=label, required=False, **kwargs)


class SuggestionForm(forms.ModelForm):
    """What both public forms share: the proposed values, the contact address and the honeypot.

    Each form says in ``phone_country`` which country a proposed phone number is read in.
    """

    # The listing fields this form proposes values for, gathered into Suggestion.proposed.
    proposed_fields = ()
    # Fields that take free text over several lines; the others are kept to one line.
    multiline_fields = ("description",)

    homepage = forms.CharField(
        label=_("Leave this field empty"),
        required=False,
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )

    class Meta:
        model = Suggestion
        fields = ("message", "contact_email")
        labels = {"contact_email": _("Your email address (optional)")}
        help_texts = {
            "contact_email": _(
                "Only if a curator may write to you with a question about this suggestion. "
                "It is never shown on the site."
            ),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper(self)
        # The template writes the <form> tag and its CSRF token.
        self.helper.form_tag = False
        self.helper.disable_csrf = True
        if "phone" in self.fields:
            self.fields["phone"].widget.input_type = "tel"

    def hidden_honeypot(self):
        # display:none keeps it from sight and from screen readers; aria-hidden covers a page read without CSS.
        return Div(HONEYPOT, css_class="d-none", aria_hidden="true")

    @property
    def is_from_a_robot(self):
        return bool(self.cleaned_data.get(HONEYPOT))

    def clean(self):
        cleaned = super().clean()
        for name in self.proposed_fields:
            value = cleaned.get(name)
            if isinstance(value, str) and name not in self.multiline_fields:
                cleaned[name] = " ".join(value.split())
        # Without a valid country, the country's own error says what to fix first.
        if cleaned.get("phone") and self.phone_country:
            try:
                normalise_phone(cleaned["phone"], self.phone_country)
            except ValidationError as error:
                self.add_error("phone", error)
        return cleaned

    def save(self, commit=True):
        data = self.cleaned_data
        self.instance.proposed = {name: data[name] for name in self.proposed_fields if data[name]}
        return super().save(commit)


class CorrectionForm(SuggestionForm):
    proposed_fields = ("name", "phone", "website", "email", "street_address", "city", "region", "postal_code")

    name = _proposed_field("name", _("Correct name"))
    phone = _proposed_field("phone", _("Correct phone number"))
    website = _proposed_field("website", _("Correct website"))
    email = _proposed_field("email", _("Provider's correct email address"))
    street_address = _proposed_field("street_address", _("Street address"))
    city = _proposed_field("city", _("Town or city"))
    region = _proposed_field("region", _("Region or state"))
    postal_code = _proposed_field("postal_code", _("Postal code"))

    class Meta(SuggestionForm.Meta):
        fields = ("problem", "message", "contact_email")
        widgets = {"problem": forms.RadioSelect}
        labels = {**SuggestionForm.Meta.labels, "message": _("What should the listing say?")}
        help_texts = {
            **SuggestionForm.Meta.help_texts,
            "message": _("What is wrong, what is right, and how you know (for example: I called them on 3 May)."),
        }

    def __init__(self, *args, provider, **kwargs):
        super().__init__(*args, instance=Suggestion(kind=Suggestion.Kind.CORRECTION, provider=provider), **kwargs)
        # Optional on the model, which new-provider suggestions share; a correction must say what is wrong.
        self.fields["problem"].required = True
        self.fields["problem"].choices = Suggestion.Problem.choices
        self.fields["message"].required = True
        self.fields["message"].widget.attrs["rows"] = 5
        self.helper.layout = Layout(
            "problem",
            "message",
            Fieldset(_("New details (optional)"), *self.proposed_fields),
            "contact_email",
            self.hidden_honeypot(),
        )

    @property
    def phone_country(self):
        return self.instance.provider.country.code


class NewProviderForm(SuggestionForm):
    proposed_fields = ("name", "country", "city", "street_address", "phone", "website", "description")

    name = forms.CharField(label=_("Name of the provider"), max_length=Provider._meta.get_field("name").max_length)
    # Choices set per form: country names in the page's language.
    country = forms.ChoiceField(label=_("Country"))
    city = _proposed_field("city", _("Town or city"))
    street_address = _proposed_field("street_address", _("Street address"))
    phone = _proposed_field("phone", _("Phone number"))
    website = _proposed_field("website", _("Website"))
    description = forms.CharField(
        label=_("What they offer"),
        required=False,
        max_length=Suggestion.MESSAGE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("For example: methadone and counselling, outpatient, free for residents."),
    )

    class Meta(SuggestionForm.Meta):
        labels = {**SuggestionForm.Meta.labels, "message": _("Anything else a curator should know (optional)")}
        help_texts = {**SuggestionForm.Meta.help_texts, "message": _("For example: how you know this provider.")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, instance=Suggestion(kind=Suggestion.Kind.NEW_PROVIDER), **kwargs)
        self.fields["country"].choices = [("", gettext("Choose a country")), *countries]
        self.fields["message"].widget.attrs["rows"] = 3
        self.helper.layout = Layout(*self.proposed_fields, "message", "contact_email", self.hidden_honeypot())

    @property
    def phone_country(self):
        return self.cleaned_data.get("country") or None
