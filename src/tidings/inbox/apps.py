from django.apps import AppConfig


class InboxConfig(AppConfig):
    name = "tidings.inbox"
    label = "inbox"
