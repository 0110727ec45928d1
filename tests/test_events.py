"""Events reach only the handlers the table names; a name it does not know is refused."""

import pytest

from tidings import events
from tidings.handlers import HANDLERS


def test_the_table_is_the_one_the_setting_names():
    assert events.table() is HANDLERS


def test_an_event_the_table_does_not_list_is_refused():
    with pytest.raises(events.UnknownEvent):
        events.publish("no_such_event", thread_id=1)
