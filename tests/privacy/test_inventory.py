"""Nothing personal is stored without being declared in the data inventory: every model that
refers to a member, or holds an address or a browser's user agent, is one of its holders."""

from __future__ import annotations

import re

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.db.models import Model

from papercrane.privacy import inventory

PERSONAL_FIELD = re.compile(r"(^|_)(ip|ip_address|ip_addr|remote_addr|user_agent|useragent)$")


def personal_fields(model: type[Model]) -> list[str]:
    """The fields of ``model`` that point at a member or hold an address or user agent."""
    member = get_user_model()
    found = []
    for field in model._meta.get_fields():
        if not field.concrete:
            continue
        points_at_member = field.is_relation and field.related_model is member
        if points_at_member or PERSONAL_FIELD.search(field.name):
            found.append(field.name)
    return found


def undeclared(declared: set[str]) -> list[str]:
    """Papercrane models that keep personal data and are not in ``declared``."""
    missing = []
    for model in apps.get_models():  # auto-created M2M tables go with their model's field
        if not model.__module__.startswith("papercrane."):
            continue
        personal = model is get_user_model() or personal_fields(model)
        if personal and model._meta.label not in declared:
            missing.append(model._meta.label)
    return sorted(missing)


def test_every_model_with_personal_data_is_declared_in_the_inventory() -> None:
    missing = undeclared(inventory.declared_models())
    assert missing == [], f"declare these in privacy.inventory.CATEGORIES: {missing}"


def test_the_check_notices_a_model_left_out() -> None:
    declared = inventory.declared_models() - {"privacy.SignIn", "feed.Impression"}
    assert undeclared(declared) == ["feed.Impression", "privacy.SignIn"]


def test_sign_ins_count_as_personal_for_their_address_too() -> None:
    assert {"ip_address", "user_agent"} <= set(personal_fields(apps.get_model("privacy.SignIn")))


@pytest.mark.django_db
def test_every_holder_names_real_lookups_to_the_member() -> None:
    for holder in inventory.holders():
        assert holder.rows_of(1).count() == 0  # a bad lookup raises FieldError here


def test_every_category_says_everything_a_reader_needs() -> None:
    keys = [category.key for category in inventory.categories()]
    assert len(keys) == len(set(keys))
    for category in inventory.categories():
        for text in (
            category.title,
            category.what,
            category.purpose,
            category.retention,
            category.legal_basis,
            category.visible_to,
        ):
            assert str(text).strip()
        assert category.holders
