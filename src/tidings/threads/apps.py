from django.apps import AppConfig


class ThreadsConfig(AppConfig):
    name = "tidings.threads"
    label = "threads"
