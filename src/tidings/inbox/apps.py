from django.apps import AppConfig


class InboxConfig(AppConfig):
    name = "tidings.inbox"
    label = "inbox"

    def ready(self) -> None:
        from tidings.inbox import jobs  # noqa: F401  Registers its Huey jobs with the worker.
