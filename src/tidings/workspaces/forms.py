"""Form of the first setup page (shape only; actions check the rules)."""

from __future__ import annotations

from django import forms

from tidings.accounts.forms import TimeZoneField, TimeZoneInput, password_field

# Zone pickers on sign-up pages start at the browser's zone (static/js/timezone.js).
GUESS_ZONE = {"data-guess-zone": "true"}


class SetupForm(forms.Form):
    name = forms.CharField(
        label="Your name", max_length=120, widget=forms.TextInput(attrs={"autofocus": True})
    )
    email = forms.EmailField(
        label="Email", widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    password = password_field(help_text="At least 10 characters; a short sentence works well.")
    time_zone = TimeZoneField(widget=TimeZoneInput(attrs=GUESS_ZONE))
    workspace_name = forms.CharField(
        label="Workspace name",
        max_length=120,
        help_text="Usually your team or company name. You can add more spaces inside it later.",
    )
