"""The curators' form for a taxonomy term: its name in each of the site's languages."""

from django import forms
from django.conf import settings

from providers.models.taxonomy import Term


def translated_languages():
    """(code, name) of every site language but the default one, whose name is the term's own ``name``."""
    return [(code, name) for code, name in settings.LANGUAGES if code != settings.LANGUAGE_CODE]


class TermFormBase(forms.ModelForm):
    """Shows ``name_translations`` as one plain text field per language instead of raw JSON."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for code, _name in translated_languages():
            self.fields[f"name_{code}"].initial = self.instance.name_translations.get(code, "")

    def save(self, commit=True):
        self.instance.name_translations = {
            code: text for code, _name in translated_languages() if (text := self.cleaned_data[f"name_{code}"])
        }
        return super().save(commit)


# Declared when the module loads, so the admin, which lists a form's fields from its class, shows them.
TermForm = type(
    "TermForm",
    (TermFormBase,),
    {
        "Meta": type("Meta", (), {"exclude": ("name_translations",)}),
        **{
            f"name_{code}": forms.CharField(
                label=f"Name in {name}",
                required=False,
                max_length=Term._meta.get_field("name").max_length,
                help_text="Leave empty to show the English name.",
            )
            for code, name in translated_languages()
        },
    },
)
