from django import forms

from tidings.inbox.actions import SNOOZE_PRESETS


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
