from django.apps import AppConfig


class MailConfig(AppConfig):
    name = "tidings.mail"
    label = "mail"

    def ready(self) -> None:
        from tidings.mail import jobs  # noqa: F401  Registers its Huey jobs with the worker.
