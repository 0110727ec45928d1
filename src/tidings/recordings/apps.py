from django.apps import AppConfig


class RecordingsConfig(AppConfig):
    name = "tidings.recordings"
    label = "recordings"
