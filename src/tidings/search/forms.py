from __future__ import annotations

from typing import TYPE_CHECKING

from django import forms

from tidings.search.queries import author_choices
from tidings.threads.models import ThreadKind
from tidings.workspaces.access import visible_spaces

if TYPE_CHECKING:
    from tidings.accounts.models import User

DATE_ERROR = "Enter a date like 2030-03-14."


class SearchForm(forms.Form):
    """The search box and its filters; spaces and authors offered are only those the person
    may see, and any other value is refused as not in the list."""

    q = forms.CharField(required=False, max_length=500, strip=True)
    space = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)
    author = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)
    kind = forms.ChoiceField(required=False, choices=[("", "Any kind"), *ThreadKind.choices])
    status = forms.ChoiceField(
        required=False,
        choices=[("", "Open or resolved"), ("open", "Open"), ("resolved", "Resolved")],
    )
    date_from = forms.DateField(
        required=False, label="From", error_messages={"invalid": DATE_ERROR}
    )
    date_to = forms.DateField(required=False, label="To", error_messages={"invalid": DATE_ERROR})

    def __init__(self, person: User, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        spaces = visible_spaces(person).select_related("workspace").order_by("workspace", "name")
        several = len({s.workspace_id for s in spaces}) > 1
        self.fields["space"].choices = [("", "All spaces")] + [
            (s.pk, f"{s.name} ({s.workspace.name})" if several else s.name) for s in spaces
        ]
        self.fields["author"].choices = [("", "Anyone")] + [
            (p.pk, p.name or p.email) for p in author_choices(person)
        ]
        for name in ("space", "author"):
            self.fields[name].error_messages["invalid_choice"] = "Pick one from the list."

    def clean(self) -> dict:
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            raise forms.ValidationError("The “From” date must come before the “To” date.")
        return data

    @property
    def has_filters(self) -> bool:
        fields = ("space", "author", "kind", "status", "date_from", "date_to")
        return any(self.data.get(name) for name in fields)
