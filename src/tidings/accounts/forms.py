"""Forms of the people pages: they check the shape of input; actions check the rules."""

from __future__ import annotations

import datetime
import zoneinfo

from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm, SetPasswordForm

from tidings.accounts.models import (
    WEEKDAY_NAMES,
    WEEKDAYS,
    DeliverySettings,
    EmailCadence,
    TokenScope,
    default_token_scopes,
)
from tidings.accounts.time_zones import canonical_time_zones, canonical_zone


class TimeZoneInput(forms.TextInput):
    """A text box that suggests the canonical zones as one types (a native datalist)."""

    template_name = "accounts/widgets/time_zone.html"

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["widget"]["zones"] = canonical_time_zones()
        return context


class TimeZoneField(forms.CharField):
    """A time zone, typed or picked from the suggestions, stored by its canonical name (an old
    name like Asia/Calcutta becomes Asia/Kolkata, also when shown); an unknown one gets a
    sentence, not a crash."""

    widget = TimeZoneInput(
        attrs={"autocomplete": "off", "spellcheck": "false", "placeholder": "Start typing a city"}
    )

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("label", "Time zone")
        kwargs.setdefault("initial", "UTC")
        kwargs.setdefault("help_text", "Times are shown in this zone; snoozes follow its clock.")
        kwargs.setdefault("max_length", 64)
        super().__init__(error_messages={"required": "Pick your time zone."}, **kwargs)

    def prepare_value(self, value):
        return canonical_zone(value) if isinstance(value, str) and value else value

    def to_python(self, value) -> str:
        value = canonical_zone(super().to_python(value))
        if value and value not in zoneinfo.available_timezones():
            raise forms.ValidationError(
                f"“{value}” is not a known time zone. Pick one from the list, like Europe/Berlin."
            )
        return value


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


REVOKE_TOKENS_LABEL = "Also revoke my access tokens"
REVOKE_TOKENS_HELP = "Scripts using them stop working until you give them new ones."


def revoke_tokens_field() -> forms.BooleanField:
    """The box, checked unless unticked, on the forms that end other sessions."""
    return forms.BooleanField(
        label=REVOKE_TOKENS_LABEL, required=False, initial=True, help_text=REVOKE_TOKENS_HELP
    )


class ChangePasswordForm(forms.Form):
    old_password = forms.CharField(
        label="Current password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    new_password = password_field("New password", help_text="At least 10 characters.")
    revoke_tokens = revoke_tokens_field()

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
    scopes = forms.MultipleChoiceField(
        label="It may",
        choices=TokenScope.choices,
        initial=default_token_scopes,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Pick at least one thing the token may do."},
    )
    expires_in_days = forms.TypedChoiceField(
        label="Works for",
        choices=[("30", "30 days"), ("90", "90 days"), ("365", "A year"), ("", "Until revoked")],
        coerce=int,
        empty_value=None,
        required=False,
        initial="90",
        error_messages={"invalid_choice": "Pick how long the token works from the list."},
    )


class SignOutEverywhereForm(forms.Form):
    revoke_tokens = revoke_tokens_field()


class NewPasswordForm(SetPasswordForm):
    """The reset link's form: a new password, and whether tokens stop working too."""

    revoke_tokens = revoke_tokens_field()


class ClockField(forms.TimeField):
    """An HH:MM time in a native time input; a bad value gets a sentence, not a crash."""

    widget = forms.TimeInput(format="%H:%M", attrs={"type": "time", "step": "60"})

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("error_messages", {"invalid": "Write the time as HH:MM, like 08:30."})
        super().__init__(input_formats=["%H:%M", "%H:%M:%S"], **kwargs)


class DeliveryForm(forms.Form):
    """When Tidings may email me. Rules across fields live in update_delivery_settings."""

    time_zone = TimeZoneField(help_text="Working hours, quiet hours and digests follow this clock.")
    quiet_start = ClockField(label="Quiet from", required=False)
    quiet_end = ClockField(label="Quiet until", required=False)
    away_until = forms.DateField(
        label="Away until",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        input_formats=["%Y-%m-%d"],
        error_messages={"invalid": "Write the date as YYYY-MM-DD, like 2026-08-31."},
        help_text="No emails through this day, except your digest. Leave empty when you are in.",
    )
    cadence = forms.ChoiceField(
        label="Email me",
        choices=[
            (EmailCadence.IMMEDIATELY, "Immediately, outside quiet hours"),
            (EmailCadence.HOURLY, "In an hourly batch, outside quiet hours"),
            (EmailCadence.DAILY, "In a daily digest"),
            (EmailCadence.WEEKLY, "In a weekly digest"),
            (EmailCadence.NEVER, "Never: I read Tidings on the web"),
        ],
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": "Choose how often Tidings may email you."},
    )
    digest_time = ClockField(
        label="Digest at", help_text="Digests come at this time even in quiet hours."
    )
    digest_weekday = forms.TypedChoiceField(
        label="Weekly digest on",
        coerce=int,
        choices=list(enumerate(WEEKDAY_NAMES)),
        error_messages={"invalid_choice": "Pick a day of the week."},
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # One row per weekday: a "working" box and the hours, named mon_on, mon_start, ...
        for day, name in zip(WEEKDAYS, WEEKDAY_NAMES, strict=True):
            self.fields[f"{day}_on"] = forms.BooleanField(label=name, required=False)
            self.fields[f"{day}_start"] = ClockField(label=f"{name} from", required=False)
            self.fields[f"{day}_end"] = ClockField(label=f"{name} until", required=False)

    @classmethod
    def initial_for(cls, settings: DeliverySettings) -> dict[str, object]:
        initial: dict[str, object] = {
            "time_zone": settings.user.time_zone,
            "quiet_start": settings.quiet_start,
            "quiet_end": settings.quiet_end,
            "away_until": settings.away_until,
            "cadence": settings.cadence,
            "digest_time": settings.digest_time,
            "digest_weekday": settings.digest_weekday,
        }
        for index, day in enumerate(WEEKDAYS):
            window = settings.working_window(index)
            initial[f"{day}_on"] = window is not None
            start, end = window or (datetime.time(9), datetime.time(17))
            initial[f"{day}_start"], initial[f"{day}_end"] = start, end
        return initial

    def weekdays(self) -> list[tuple[forms.BoundField, forms.BoundField, forms.BoundField]]:
        return [(self[f"{day}_on"], self[f"{day}_start"], self[f"{day}_end"]) for day in WEEKDAYS]

    def clean(self) -> dict[str, object]:
        data = super().clean()
        hours: dict[str, list[str] | None] = {}
        for day, name in zip(WEEKDAYS, WEEKDAY_NAMES, strict=True):
            start, end = data.get(f"{day}_start"), data.get(f"{day}_end")
            if not data.get(f"{day}_on"):
                hours[day] = None
            elif f"{day}_start" in self.errors or f"{day}_end" in self.errors:
                continue
            elif start is None or end is None:
                self.add_error(f"{day}_end", f"{name}: give a start and an end time.")
            elif end <= start:
                self.add_error(f"{day}_end", f"{name}: the end must be after the start.")
            else:
                hours[day] = [start.strftime("%H:%M"), end.strftime("%H:%M")]
        data["working_hours"] = hours
        return data

    def delivery_fields(self) -> dict[str, object]:
        """The cleaned values as update_delivery_settings takes them."""
        data = self.cleaned_data
        names = ("time_zone", "quiet_start", "quiet_end", "away_until", "cadence")
        fields = {name: data.get(name) for name in names}
        fields |= {
            "working_hours": data["working_hours"],
            "digest_time": data.get("digest_time"),
            "digest_weekday": data.get("digest_weekday"),
        }
        return fields
