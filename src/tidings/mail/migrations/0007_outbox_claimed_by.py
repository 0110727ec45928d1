from django.db import migrations, models


class Migration(migrations.Migration):
    """An email's claim names its worker, as a digest's does (rows claimed before keep an
    empty name: their lease decides)."""

    dependencies = [
        ("mail", "0006_unknown_senders_not_told"),
    ]

    operations = [
        migrations.AddField(
            model_name="outboxemail",
            name="claimed_by",
            field=models.CharField(blank=True, max_length=32),
        ),
    ]
