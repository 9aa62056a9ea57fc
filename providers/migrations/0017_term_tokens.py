"""Several term filters (and the country) at once through the full-text index.

Fills ``term_tokens`` (see providers.models.term_tokens) for the listings already
stored, in one statement over the term tables (0018 indexes it).
"""

from django.db import migrations, models

TAXONOMIES = {
    "modality": ("providers_provider_modalities", "modality_id"),
    "setting": ("providers_provider_care_settings", "caresetting_id"),
    "medication": ("providers_provider_medications", "medication_id"),
    "payment": ("providers_provider_payment_options", "paymentoption_id"),
    "population": ("providers_provider_populations", "population_id"),
    "language": ("providers_provider_languages", "language_id"),
}


def fill_term_tokens(apps, schema_editor):
    connection = schema_editor.connection
    held = " UNION ALL ".join(
        f"SELECT '{param}' || {column} AS token FROM {table} WHERE provider_id = providers_provider.id"
        for param, (table, column) in TAXONOMIES.items()
    )
    # Code-point order, as providers.models.term_tokens.tokens_text writes them.
    if connection.vendor == "postgresql":
        tokens = f"""SELECT string_agg(token, ' ' ORDER BY token COLLATE "C") FROM ({held}) held"""
    else:
        tokens = f"SELECT group_concat(token, ' ') FROM (SELECT token FROM ({held}) ORDER BY token)"
    # The country's token first (see providers.models.term_tokens.tokens_text).
    with connection.cursor() as cursor:
        cursor.execute(
            f"""UPDATE providers_provider SET term_tokens = CASE WHEN country = '' THEN COALESCE(({tokens}), '')
            ELSE 'country' || LOWER(country) || COALESCE(' ' || ({tokens}), '') END"""
        )


class Migration(migrations.Migration):
    dependencies = [("providers", "0016_country_name_index")]

    operations = [
        migrations.AddField(
            model_name="provider",
            name="term_tokens",
            field=models.TextField(default="", editable=False),
        ),
        migrations.RunPython(fill_term_tokens, migrations.RunPython.noop, elidable=True),
    ]
