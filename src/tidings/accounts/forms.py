"""Forms of the people pages: they check the shape of input; actions check the rules."""

from __future__ import annotations

import zoneinfo
from functools import cache

from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm


@cache
def time_zone_choices() -> list[tuple[str, str]]:
    zones = sorted(zoneinfo.available_timezones() - {"localtime", "posixrules", "Factory"})
    return [(zone, zone.replace("_", " ")) for zone in zones]


class TimeZoneField(forms.ChoiceField):
    """A <select> of every known time zone; an unknown one gets a sentence, not a crash."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("label", "Time zone")
        kwargs.setdefault("initial", "UTC")
        kwargs.setdefault("help_text", "Times are shown in this zone; snoozes follow its clock.")
        super().__init__(
            choices=time_zone_choices,
            error_messages={
                "invalid_choice": "“%(value)s” is not a known time zone. Pick one from the list.",
                "required": "Pick your time zone.",
            },
            **kwargs,
        )


def password_field(label: str = "Password", **kwargs) -> forms.CharField:
    return forms.CharField(
        label=label,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        **kwargs,
    )


class SignInForm(AuthenticationForm):
    error_messages = {
        "invalid_login": "That email and password do not match an account. Check them and try "
        "again, or reset your password.",
        "inactive": "This account is deactivated. Ask an owner of your workspace for help.",
    }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"] = forms.EmailField(
            label="Email",
            widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
        )

    def clean_username(self) -> str:
        return self.cleaned_data["username"].strip().lower()


class ResetPasswordForm(PasswordResetForm):
    email = forms.EmailField(
        label="Email", widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True})
    )


class ProfileForm(forms.Form):
    name = forms.CharField(label="Name", max_length=120)
    time_zone = TimeZoneField()


class ChangePasswordForm(forms.Form):
    old_password = forms.CharField(
        label="Current password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    new_password = password_field("New password", help_text="At least 10 characters.")

    def __init__(self, person, *args, **kwargs) -> None:
        self.person = person
        super().__init__(*args, **kwargs)

    def clean_old_password(self) -> str:
        value = self.cleaned_data["old_password"]
        if not self.person.check_password(value):
            raise forms.ValidationError("That is not your current password.")
        return value


class AccessTokenForm(forms.Form):
    name = forms.CharField(
        label="Token name",
        max_length=100,
        help_text="What the token is for, like “Laptop scripts”.",
    )
