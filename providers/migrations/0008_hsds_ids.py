import json
import uuid

from django.db import migrations, models

# The ids the HSDS export already published for these rows (providers.models.hsds_ids, frozen here as migrations must be).
NAMESPACE = uuid.UUID("1fe6c795-841b-45e8-b778-c7fe5a618af9")


def stable_id(*parts):
    return uuid.uuid5(NAMESPACE, json.dumps(parts))


def assign_ids(apps, schema_editor):
    Provider = apps.get_model("providers", "Provider")
    Organization = apps.get_model("providers", "Organization")
    providers = list(Provider.objects.select_related("source").only("source__slug", "external_id", "slug"))
    for provider in providers:
        source_slug = provider.source.slug if provider.source_id else ""
        provider.hsds_id = stable_id("provider", source_slug, provider.external_id or provider.slug)
        provider.hsds_service_at_location_id = stable_id(str(provider.hsds_id), "service_at_location")
    Provider.objects.bulk_update(providers, ["hsds_id", "hsds_service_at_location_id"], batch_size=1000)
    organizations = list(Organization.objects.only("slug"))
    for organization in organizations:
        organization.hsds_id = stable_id("organization", organization.slug)
    Organization.objects.bulk_update(organizations, ["hsds_id"], batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [
        ("providers", "0007_places_and_opening_hours"),
    ]

    operations = [
        migrations.AddField(
            model_name="organization",
            name="hsds_id",
            field=models.UUIDField(editable=False, null=True, unique=True, verbose_name="HSDS organization id"),
        ),
        migrations.AddField(
            model_name="provider",
            name="hsds_id",
            field=models.UUIDField(editable=False, null=True, unique=True, verbose_name="HSDS service id"),
        ),
        migrations.AddField(
            model_name="provider",
            name="hsds_service_at_location_id",
            field=models.UUIDField(editable=False, null=True, unique=True, verbose_name="HSDS service-at-location id"),
        ),
        migrations.RunPython(assign_ids, migrations.RunPython.noop, elidable=True),
    ]
