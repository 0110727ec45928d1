"""Forms of the people and invitation pages (shape only; actions check the rules)."""

from __future__ import annotations

from django import forms

from tidings.accounts.forms import TimeZoneField, TimeZoneInput, password_field
from tidings.workspaces.forms import GUESS_ZONE
from tidings.workspaces.models import Role


class AcceptInviteForm(forms.Form):
    name = forms.CharField(
        label="Your name", max_length=120, widget=forms.TextInput(attrs={"autofocus": True})
    )
    password = password_field(help_text="At least 10 characters; a short sentence works well.")
    time_zone = TimeZoneField(widget=TimeZoneInput(attrs=GUESS_ZONE))


INVITE_ROLE_CHOICES = [
    (Role.MEMBER, "Member · all open spaces"),
    (Role.ADMIN, "Admin · also manages people"),
    (Role.GUEST, "Guest · only chosen spaces"),
]


class InviteForm(forms.Form):
    email = forms.EmailField(
        label="Email",
        widget=forms.EmailInput(attrs={"placeholder": "name@example.com"}),
        error_messages={"required": "Enter the email address to send the invitation to."},
    )
    role = forms.ChoiceField(label="Role", choices=INVITE_ROLE_CHOICES, initial=Role.MEMBER)
    spaces = forms.TypedMultipleChoiceField(
        label="Spaces the guest joins",
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "Pick spaces from the list."},
    )

    def __init__(self, *args, spaces=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["spaces"].choices = [(space.pk, space.name) for space in spaces]


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)
