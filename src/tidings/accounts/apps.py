from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "tidings.accounts"
    label = "accounts"

    def ready(self) -> None:
        from tidings.accounts import jobs  # noqa: F401  Registers its Huey jobs with the worker.
