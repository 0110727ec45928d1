from django.apps import AppConfig


class MailConfig(AppConfig):
    name = "tidings.mail"
    label = "mail"

    def ready(self) -> None:
        # The worker finds periodic jobs among loaded modules; these are not in tasks.py.
        from tidings.mail import jobs  # noqa: F401
