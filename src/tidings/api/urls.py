from django.urls import path

from tidings.api.main import api

urlpatterns = [path("", api.urls)]
