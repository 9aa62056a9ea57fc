import django.core.validators
import django.db.models.deletion
import simple_history.models
from django.conf import settings
from django.db import migrations, models

import providers.models.fields
import providers.models.validators


class Migration(migrations.Migration):
    dependencies = [
        ("providers", "0008_hsds_ids"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="provider",
            name="merged_into",
            field=models.ForeignKey(
                blank=True,
                editable=False,
                help_text="The listing this duplicate was merged into; its address redirects there.",
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="merged",
                to="providers.provider",
            ),
        ),
        migrations.AddField(
            model_name="provider",
            name="verified_by",
            field=models.ForeignKey(
                blank=True,
                editable=False,
                help_text="The curator who last confirmed the listing.",
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="verified_providers",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="source",
            name="partner_users",
            field=models.ManyToManyField(
                blank=True,
                help_text="Partner importers who may import this source's files and edit its listings.",
                related_name="partner_sources",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.CreateModel(
            name="HistoricalProvider",
            fields=[
                ("id", models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name="ID")),
                (
                    "history_channel",
                    models.CharField(
                        choices=[
                            ("admin", "Admin"),
                            ("import", "Import"),
                            ("suggestion", "Suggestion"),
                            ("merge", "Merge"),
                            ("revert", "Revert"),
                            ("other", "Other"),
                        ],
                        default="other",
                        max_length=12,
                        verbose_name="through",
                    ),
                ),
                ("history_terms", models.JSONField(blank=True, default=dict, verbose_name="terms")),
                ("history_opening_hours", models.JSONField(blank=True, default=list, verbose_name="opening hours")),
                ("name", models.CharField(max_length=200)),
                (
                    "slug",
                    models.SlugField(
                        allow_unicode=True,
                        blank=True,
                        help_text="Part of the listing's address. Leave empty to build it from the name; do not change it once published.",
                        max_length=120,
                    ),
                ),
                ("description", models.TextField(blank=True)),
                (
                    "status",
                    models.CharField(
                        choices=[("draft", "Draft"), ("published", "Published"), ("archived", "Archived")],
                        default="draft",
                        max_length=10,
                    ),
                ),
                ("country", providers.models.fields.CountryCodeField(max_length=2)),
                ("region", models.CharField(blank=True, max_length=100, verbose_name="region or state")),
                ("city", models.CharField(blank=True, max_length=100)),
                ("street_address", models.CharField(blank=True, max_length=200)),
                (
                    "street_address_2",
                    models.CharField(blank=True, max_length=200, verbose_name="street address, line 2"),
                ),
                ("postal_code", models.CharField(blank=True, max_length=20)),
                (
                    "latitude",
                    models.FloatField(
                        blank=True,
                        null=True,
                        validators=[
                            providers.models.validators.validate_finite,
                            django.core.validators.MinValueValidator(-90.0),
                            django.core.validators.MaxValueValidator(90.0),
                        ],
                    ),
                ),
                (
                    "longitude",
                    models.FloatField(
                        blank=True,
                        null=True,
                        validators=[
                            providers.models.validators.validate_finite,
                            django.core.validators.MinValueValidator(-180.0),
                            django.core.validators.MaxValueValidator(180.0),
                        ],
                    ),
                ),
                (
                    "time_zone",
                    models.CharField(
                        blank=True,
                        help_text="IANA time zone for opening hours, e.g. Africa/Nairobi. Left empty, it is filled from the coordinates.",
                        max_length=64,
                        validators=[providers.models.validators.validate_time_zone],
                    ),
                ),
                ("phone", models.CharField(blank=True, max_length=40, verbose_name="main phone")),
                ("intake_phone", models.CharField(blank=True, max_length=40)),
                ("hotline_phone", models.CharField(blank=True, max_length=40)),
                ("email", models.EmailField(blank=True, max_length=254)),
                ("website", models.URLField(blank=True, max_length=300)),
                ("telehealth", models.BooleanField(blank=True, null=True, verbose_name="offers telehealth")),
                ("accepting_new_clients", models.BooleanField(blank=True, null=True)),
                (
                    "last_verified",
                    models.DateField(blank=True, help_text="When a curator last confirmed the listing.", null=True),
                ),
                (
                    "external_id",
                    models.CharField(
                        blank=True,
                        help_text="The record's identifier in its source; unique within the source.",
                        max_length=100,
                    ),
                ),
                ("hsds_id", models.UUIDField(db_index=True, editable=False, null=True, verbose_name="HSDS service id")),
                (
                    "hsds_service_at_location_id",
                    models.UUIDField(
                        db_index=True, editable=False, null=True, verbose_name="HSDS service-at-location id"
                    ),
                ),
                ("created_at", models.DateTimeField(blank=True, editable=False)),
                ("history_id", models.AutoField(primary_key=True, serialize=False)),
                ("history_date", models.DateTimeField(db_index=True)),
                ("history_change_reason", models.CharField(max_length=100, null=True)),
                (
                    "history_type",
                    models.CharField(choices=[("+", "Created"), ("~", "Changed"), ("-", "Deleted")], max_length=1),
                ),
                (
                    "history_user",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "last_import_run",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        editable=False,
                        help_text="The import that last created or changed this listing.",
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="providers.importrun",
                    ),
                ),
                (
                    "merged_into",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        editable=False,
                        help_text="The listing this duplicate was merged into; its address redirects there.",
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="providers.provider",
                    ),
                ),
                (
                    "organization",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="providers.organization",
                    ),
                ),
                (
                    "source",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="providers.source",
                    ),
                ),
                (
                    "verified_by",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        editable=False,
                        help_text="The curator who last confirmed the listing.",
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "historical provider",
                "verbose_name_plural": "historical providers",
                "ordering": ("-history_date", "-history_id"),
                "get_latest_by": ("history_date", "history_id"),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.CreateModel(
            name="Suggestion",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "kind",
                    models.CharField(
                        choices=[("correction", "Correction to a listing"), ("new-provider", "New provider")],
                        max_length=20,
                    ),
                ),
                (
                    "problem",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("closed", "It has closed or moved away"),
                            ("phone", "The phone number is wrong"),
                            ("address", "The address is wrong"),
                            ("services", "The services or hours are wrong"),
                            ("other", "Something else"),
                        ],
                        max_length=20,
                        verbose_name="what is wrong",
                    ),
                ),
                ("message", models.TextField(blank=True, max_length=2000)),
                (
                    "proposed",
                    models.JSONField(
                        blank=True, default=dict, help_text="Proposed values by field name (PROPOSABLE_FIELDS)."
                    ),
                ),
                (
                    "contact_email",
                    models.EmailField(
                        blank=True, help_text="Only for a curator's question; never shown publicly.", max_length=254
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[("pending", "Waiting"), ("accepted", "Accepted"), ("rejected", "Rejected")],
                        default="pending",
                        max_length=10,
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("reviewed_at", models.DateTimeField(blank=True, null=True)),
                ("review_note", models.TextField(blank=True)),
                (
                    "created_provider",
                    models.ForeignKey(
                        blank=True,
                        help_text="The draft listing an accepted new-provider suggestion became.",
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="providers.provider",
                    ),
                ),
                (
                    "provider",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="suggestions",
                        to="providers.provider",
                    ),
                ),
                (
                    "reviewed_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="reviewed_suggestions",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["-created_at", "-pk"],
                "indexes": [models.Index(fields=["status", "created_at"], name="suggestion_status_created")],
            },
        ),
    ]
