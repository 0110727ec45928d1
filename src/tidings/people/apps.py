from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "tidings.people"
    label = "people"
