from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    """A member's day of notes seen in parts: the existing rows become each day's part 0."""

    dependencies = [
        ("feed", "0006_ranking_newest_ids"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="shownday",
            name="part",
            field=models.PositiveSmallIntegerField(default=0),
        ),
        migrations.AddConstraint(
            model_name="shownday",
            constraint=models.UniqueConstraint(
                fields=("member", "day", "part"), name="shown_day_part_unique"
            ),
        ),
        migrations.RemoveConstraint(model_name="shownday", name="shown_day_unique"),
    ]
