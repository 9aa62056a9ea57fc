import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("providers", "0011_partner_importers"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="NotDuplicate",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("decided_at", models.DateTimeField(auto_now_add=True)),
                (
                    "decided_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "first",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="+", to="providers.provider"
                    ),
                ),
                (
                    "second",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="+", to="providers.provider"
                    ),
                ),
            ],
            options={
                "verbose_name": "pair of listings that are not duplicates",
                "verbose_name_plural": "pairs of listings that are not duplicates",
                "constraints": [
                    models.UniqueConstraint(fields=("first", "second"), name="notduplicate_unique_pair"),
                    models.CheckConstraint(
                        condition=models.Q(("first__lt", models.F("second"))), name="notduplicate_ordered_pair"
                    ),
                ],
            },
        ),
    ]
