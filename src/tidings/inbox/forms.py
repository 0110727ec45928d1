from django import forms

from tidings.bounds import as_id
from tidings.inbox.actions import REMIND_PRESETS, SNOOZE_PRESETS


class SnoozeForm(forms.Form):
    """A preset ('later', 'tomorrow', 'monday') or a date and time in the person's time zone.

    Validate inside timezone.override(person.zone) so a typed time means their local time.
    """

    preset = forms.ChoiceField(choices=list(SNOOZE_PRESETS.items()), required=False)
    until = forms.DateTimeField(
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
        error_messages={"invalid": "Enter a date and time, like 2030-03-14 09:30."},
    )

    def clean(self) -> dict:
        data = super().clean()
        if not self.errors and not data.get("preset") and not data.get("until"):
            raise forms.ValidationError("Pick when the item should come back.")
        return data

    def first_error(self) -> str:
        for errors in self.errors.values():
            return str(errors[0])
        return "Pick when the item should come back."


class AskForm(forms.Form):
    """Who is asked to respond (workspace people, checked by the action) and by which date."""

    people = forms.MultipleChoiceField(
        choices=[],
        error_messages={
            "required": "Pick at least one person to ask.",
            "invalid_choice": "Pick the people to ask from the list.",
        },
    )
    due_on = forms.DateField(
        input_formats=["%Y-%m-%d"],
        error_messages={
            "required": "Pick the date to respond by.",
            "invalid": "Enter a date, like 2030-03-14.",
        },
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Any id may be sent; the action checks who can see the thread.
        self.fields["people"].valid_value = lambda value: as_id(value) is not None

    def first_error(self) -> str:
        for errors in self.errors.values():
            return str(errors[0])
        return "Pick who to ask and by which date."


class RemindForm(SnoozeForm):
    """A reminder preset ('hour', 'tomorrow', 'monday') or a date and time in the person's
    time zone (validate inside timezone.override(person.zone))."""

    preset = forms.ChoiceField(choices=list(REMIND_PRESETS.items()), required=False)


class SendAtForm(forms.Form):
    """When a scheduled post goes out, in the person's time zone (validate inside
    timezone.override(person.zone))."""

    send_at = forms.DateTimeField(
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
        error_messages={
            "required": "Pick the date and time to send it.",
            "invalid": "Enter a date and time, like 2030-03-14 09:30.",
        },
    )

    def first_error(self) -> str:
        for errors in self.errors.values():
            return str(errors[0])
        return "Pick the date and time to send it."
