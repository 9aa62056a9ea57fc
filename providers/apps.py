from django.apps import AppConfig
from django.db.models.signals import m2m_changed, post_delete, post_save


class ProvidersConfig(AppConfig):
    name = "providers"
    verbose_name = "Treatment directory"

    def ready(self):
        from providers.filters import forget_filter_choices
        from providers.models import TAXONOMY_FIELDS, Provider

        # Search choices list the countries and languages of published listings and every term.
        changes = [Provider] + [Provider._meta.get_field(field).related_model for field in TAXONOMY_FIELDS.values()]
        for model in changes:
            post_save.connect(forget_filter_choices, sender=model, dispatch_uid=f"choices-save-{model.__name__}")
            post_delete.connect(forget_filter_choices, sender=model, dispatch_uid=f"choices-delete-{model.__name__}")
        m2m_changed.connect(forget_filter_choices, sender=Provider.languages.through, dispatch_uid="choices-languages")
