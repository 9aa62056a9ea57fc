"""Let curators work the queue of suggestions from the public: read them, and accept or reject them.

Accepting and rejecting need change_suggestion; nobody adds suggestions in the
admin (they come from the public site), and deleting stays with administrators.
"""

from django.db import migrations

from providers.migrations._grants import curators_may


class Migration(migrations.Migration):
    dependencies = [
        ("providers", "0009_curation"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [curators_may("view_suggestion", "change_suggestion")]
