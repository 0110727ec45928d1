"""Stored time zones by the names the world uses today (Asia/Calcutta -> Asia/Kolkata), as the
settings page now stores them."""

from django.db import migrations

from tidings.accounts.time_zones import canonical_zone


def canonical_names(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    for zone in User.objects.values_list("time_zone", flat=True).distinct():
        canonical = canonical_zone(zone)
        if canonical != zone:
            User.objects.filter(time_zone=zone).update(time_zone=canonical)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0003_token_scopes_and_expiry")]

    operations = [migrations.RunPython(canonical_names, migrations.RunPython.noop)]
