from django.apps import AppConfig


class MailConfig(AppConfig):
    name = "tidings.mail"
    label = "mail"
