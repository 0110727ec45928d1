"""Request bodies must be JSON objects: ninja would otherwise read attributes off a bare
string or list (`"text".title` is a method), so a body of `"text"` could post a thread."""

from __future__ import annotations

import json

from django.http import HttpRequest
from ninja.parser import Parser
from ninja.types import DictStrAny

BODY_ERROR_ATTRIBUTE = "_api_body_error"


class JSONObjectParser(Parser):
    def parse_body(self, request: HttpRequest) -> DictStrAny:
        try:
            data = json.loads(request.body)
        except (ValueError, UnicodeDecodeError):
            setattr(request, BODY_ERROR_ATTRIBUTE, "The request body is not valid JSON.")
            raise
        if not isinstance(data, dict):
            message = 'The request body must be a JSON object, like {"title": "…"}.'
            setattr(request, BODY_ERROR_ATTRIBUTE, message)
            raise ValueError(message)
        return data
