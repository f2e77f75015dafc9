"""A stored ranking's newest engagement ids as columns (they were a JSON list), so that a
visit's one statement compares them in SQL."""

from typing import Any

from django.db import migrations, models
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Coalesce

NAMES = ("newest_like_id", "newest_collect_id", "newest_comment_id")


def copy_ids(apps: Any, schema_editor: Any) -> None:
    Ranking = apps.get_model("feed", "Ranking")
    Ranking.objects.using(schema_editor.connection.alias).update(
        **{
            name: Coalesce(Cast(KT(f"engagement_ids__{i}"), models.BigIntegerField()), 0)
            for i, name in enumerate(NAMES)
        }
    )


def forget_rankings(apps: Any, schema_editor: Any) -> None:
    """Going back: stored rankings are recomputed by the next visit, so none are kept."""
    apps.get_model("feed", "Ranking").objects.using(schema_editor.connection.alias).delete()


class Migration(migrations.Migration):
    dependencies = [("feed", "0005_ranking_items_text")]

    operations = [
        *(
            migrations.AddField(
                model_name="ranking", name=name, field=models.BigIntegerField(default=0)
            )
            for name in NAMES
        ),
        migrations.RunPython(copy_ids, forget_rankings),
        migrations.RemoveField(model_name="ranking", name="engagement_ids"),
    ]
