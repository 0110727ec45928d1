from django.apps import AppConfig


class ThreadsConfig(AppConfig):
    name = "tidings.threads"
    label = "threads"

    def ready(self) -> None:
        from tidings.threads import jobs  # noqa: F401  Registers its Huey jobs with the worker.
