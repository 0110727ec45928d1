from __future__ import annotations

from typing import TYPE_CHECKING

from django import forms
from django.utils.html import format_html_join
from django.utils.safestring import SafeString

from tidings.bounds import validate_day
from tidings.search.queries import author_choices
from tidings.threads.access import visible_spaces
from tidings.threads.models import ThreadKind

if TYPE_CHECKING:
    from tidings.accounts.models import User

DATE_ERROR = "Enter a date like 2030-03-14."


class _FilterField(forms.BoundField):
    @property
    def options(self) -> SafeString:
        """The <option> elements of a choice field, the current value selected. Written here
        rather than by the template or Django's select widget: both render each of hundreds of
        authors through several template nodes."""
        value = self.value()
        current = "" if value is None else str(value)
        return format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            (
                (choice, " selected" if str(choice) == current else "", label)
                for choice, label in self.field.choices
            ),
        )


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
        required=False,
        label="From",
        error_messages={"invalid": DATE_ERROR},
        validators=[validate_day],
    )
    date_to = forms.DateField(
        required=False,
        label="To",
        error_messages={"invalid": DATE_ERROR},
        validators=[validate_day],
    )
    bound_field_class = _FilterField

    def __init__(self, person: User, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        spaces = list(
            visible_spaces(person)
            .order_by("workspace", "name")
            .values_list("pk", "name", "workspace_id", "workspace__name")
        )
        # Read once per request; the page's search is given them instead of reading them again.
        self.visible_space_ids = tuple(pk for pk, _name, _ws, _ws_name in spaces)
        several = len({ws for _pk, _name, ws, _ws_name in spaces}) > 1
        self.fields["space"].choices = [("", "All spaces")] + [
            (pk, f"{name} ({ws_name})" if several else name) for pk, name, _ws, ws_name in spaces
        ]
        authors = author_choices(person, self.visible_space_ids).values_list("pk", "name", "email")
        self.fields["author"].choices = [("", "Anyone")] + [
            (pk, name or email) for pk, name, email in authors
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
