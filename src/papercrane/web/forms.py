"""Web forms. They only parse and show; the rules live in accounts.services."""

from __future__ import annotations

import zoneinfo

from django import forms
from django.utils.translation import gettext_lazy as _

from papercrane.accounts.models import Audience, Language

TIME_ZONE_CHOICES = [(zone, zone) for zone in sorted(zoneinfo.available_timezones())]


class SignupForm(forms.Form):
    username = forms.CharField(
        label=_("Username"),
        max_length=30,
        help_text=_("English letters, digits and underscores. You can't change it later."),
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none"}),
    )
    display_name = forms.CharField(
        label=_("Display name"),
        max_length=50,
        required=False,
        help_text=_("Any language, any script. Shown on your notes."),
    )
    password = forms.CharField(
        label=_("Password"),
        max_length=1024,
        help_text=_("At least 8 characters, not a common password."),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    language = forms.ChoiceField(label=_("Language"), choices=Language.choices)


class LoginForm(forms.Form):
    username = forms.CharField(
        label=_("Username"),
        max_length=64,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none"}),
    )
    password = forms.CharField(
        label=_("Password"),
        max_length=1024,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class ProfileForm(forms.Form):
    display_name = forms.CharField(label=_("Display name"), max_length=50, required=False)
    bio = forms.CharField(
        label=_("Bio"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    avatar = forms.FileField(
        label=_("Avatar"),
        required=False,
        help_text=_("JPEG, PNG or WebP, up to 5 MB."),
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
    )
    language = forms.ChoiceField(label=_("Language"), choices=Language.choices)
    time_zone = forms.ChoiceField(label=_("Time zone"), choices=TIME_ZONE_CHOICES)
    is_private = forms.BooleanField(
        label=_("Private account"),
        required=False,
        help_text=_("Only followers you approve can see your notes."),
    )
    likes_public = forms.BooleanField(
        label=_("Show my likes"),
        required=False,
        help_text=_("Others can see which notes you liked."),
    )
    feed_personalized = forms.BooleanField(
        label=_("Personalized Explore"),
        required=False,
        help_text=_(
            "Explore learns from what you like, collect and read. Off: it shows trending and "
            "new notes, and what it learned about you is deleted."
        ),
    )
    auto_translate = forms.BooleanField(
        label=_("Translate automatically"),
        required=False,
        help_text=_("Notes and comments in other languages are shown in your language."),
    )
    records_reading = forms.BooleanField(
        label=_("Remember what I read"),
        required=False,
        help_text=_(
            "Explore records which notes it showed you and how long you read them, to choose "
            "better. Off: nothing about your reading is stored."
        ),
    )
    keeps_search_history = forms.BooleanField(
        label=_("Keep my search history"),
        required=False,
        help_text=_("Your recent searches are kept for you alone; clear them at any time."),
    )
    discoverable = forms.BooleanField(
        label=_("Findable in search"),
        required=False,
        help_text=_(
            "Others can find your profile in member search. Off: only someone who types your "
            "exact username finds you."
        ),
    )
    comments_from = forms.ChoiceField(
        required=False,  # left out: unchanged
        label=_("Who can comment on my notes"),
        choices=Audience.choices,
        help_text=_("Others can still read the comments already there."),
    )
    mentions_from = forms.ChoiceField(
        required=False,  # left out: unchanged
        label=_("Who can mention me"),
        choices=Audience.choices,
        help_text=_("A mention from anyone else is not linked to you and you are not told."),
    )
    city = forms.CharField(
        label=_("City for Nearby"),
        required=False,
        max_length=100,
        help_text=_("Only the city, and only if you fill it in: Nearby shows notes placed there."),
    )


class TokenForm(forms.Form):
    name = forms.CharField(label=_("Token name"), max_length=100)


class DeleteAccountForm(forms.Form):
    password = forms.CharField(
        label=_("Your password"),
        max_length=1024,
        help_text=_("To make sure it is you."),
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
