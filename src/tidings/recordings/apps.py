from django.apps import AppConfig


class RecordingsConfig(AppConfig):
    name = "tidings.recordings"
    label = "recordings"

    def ready(self) -> None:
        from tidings.recordings import jobs  # noqa: F401  Registers its Huey jobs with the worker.
