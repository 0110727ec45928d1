"""The ids and dates people may send: only values the database and date arithmetic can hold.

Page forms, API schemas and actions share these bounds, so a 23-digit id or a date in the
year 9999 is answered with a sentence instead of overflowing deep inside a query or a
time-zone conversion.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from django.core.exceptions import ValidationError
from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

MAX_ID = 2**63 - 1  # the largest BigAutoField value, in SQLite and PostgreSQL alike
FIRST_DAY = dt.date(1900, 1, 1)
LAST_DAY = dt.date(2999, 12, 31)
DAY_ERROR = f"Pick a date between {FIRST_DAY:%Y} and {LAST_DAY:%Y}."


def as_id(value: object) -> int | None:
    """The id a form sent (ASCII digits within range), or None for anything else."""
    text = str(value).strip()
    if not (text.isascii() and text.isdigit()):
        return None
    number = int(text)
    return number if 1 <= number <= MAX_ID else None


def day_in_range(value: dt.date) -> bool:
    day = value.date() if isinstance(value, dt.datetime) else value
    return FIRST_DAY <= day <= LAST_DAY


def validate_day(value: dt.date) -> None:
    """Django validator for DateField and DateTimeField."""
    if value is not None and not day_in_range(value):
        raise ValidationError(DAY_ERROR, code="day_out_of_range")


def _api_day(value: dt.date) -> dt.date:
    if not day_in_range(value):
        raise PydanticCustomError("day_out_of_range", DAY_ERROR)
    return value


# Types for API schemas.
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Day = Annotated[dt.date, AfterValidator(_api_day)]
