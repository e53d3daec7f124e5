"""The OpenAPI 3.1 document of the partner API, written out by hand."""
from registry.people.models import GENDERS, PURPOSES, RESIDENCE_STATUSES, STATUSES

_NULLABLE_STRING = {"type": ["string", "null"]}
_NULLABLE_INTEGER = {"type": ["integer", "null"]}

_PERSON = {
    "type": "object",
    "required": ["id", "full_name", "status"],
    "properties": {
        "id": {"type": "integer"}, "full_name": {"type": "string"},
        "gender": {"type": ["string", "null"], "enum": [*GENDERS, None]},
        "birth_year": _NULLABLE_INTEGER, "hometown_code": _NULLABLE_STRING,
        "country_code": _NULLABLE_STRING, "city": _NULLABLE_STRING,
        "purpose": _NULLABLE_STRING, "status": {"type": "string", "enum": list(STATUSES)},
        "updated_at": _NULLABLE_STRING,
    },
}
_RECORD = {
    "allOf": [_PERSON, {"type": "object", "properties": {
        "birth_month": _NULLABLE_INTEGER, "birth_day": _NULLABLE_INTEGER,
        "hometown_given": _NULLABLE_STRING, "residence_status": _NULLABLE_STRING,
        "occupation": _NULLABLE_STRING, "expertise": _NULLABLE_STRING,
        "education_level": _NULLABLE_STRING, "is_verified": {"type": "boolean"},
    }}],
}
_CELL = {
    "type": "object", "required": ["key", "count", "hidden"],
    "properties": {
        "key": {"type": "string"},
        "count": {"type": ["integer", "null"],
                  "description": "null when hidden: below 5, or hidden so that "
                                 "a small count cannot be worked out"},
        "hidden": {"type": ["string", "null"], "enum": ["small", "complement", None]},
    },
}
_TABLE = {"type": "object", "required": ["cells"], "properties": {
    "cells": {"type": "array", "items": _CELL},
    "total": {"oneOf": [_CELL, {"type": "null"}]}}}
_ERROR = {"type": "object", "properties": {"error": {"type": "string"},
                                           "status": {"type": "integer"}}}


def _query(name: str, schema: dict, description: str) -> dict:
    return {"name": name, "in": "query", "required": False, "schema": schema,
            "description": description}


def _errors(*codes: int) -> dict:
    descriptions = {400: "Bad parameters", 401: "No valid token",
                    403: "The token's role may not read this", 404: "Not found or out of scope",
                    429: "Too many requests"}
    return {str(code): {"description": descriptions[code],
                        "content": {"application/json": {"schema": _ERROR}}}
            for code in codes}


def document() -> dict:
    """Return the OpenAPI document as plain data."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "Thanh Hóa overseas community registry API", "version": "1",
                 "description": "Read-only access for partner systems. Every call needs "
                                "a token issued by an administrator of the registry."},
        "servers": [{"url": "/api/v1"}],
        "security": [{"token": []}],
        "components": {"securitySchemes": {"token": {"type": "http", "scheme": "bearer"}}},
        "paths": {
            "/people": {"get": {
                "summary": "Search people within the token's scope",
                "parameters": [
                    _query("q", {"type": "string", "maxLength": 120},
                           "Name, phone, e-mail or document number"),
                    _query("country", {"type": "string", "maxLength": 2},
                           "ISO 3166-1 alpha-2 country code"),
                    _query("hometown", {"type": "string", "maxLength": 10},
                           "Code of the current hometown unit"),
                    _query("status", {"type": "string", "enum": [*STATUSES, "any"]},
                           "Record status; active when not given"),
                    _query("purpose", {"type": "string", "enum": list(PURPOSES)}, "Purpose"),
                    _query("residence_status",
                           {"type": "string", "enum": list(RESIDENCE_STATUSES)},
                           "Residence status"),
                    _query("page", {"type": "integer", "minimum": 1, "maximum": 10000},
                           "Page number"),
                    _query("per_page", {"type": "integer", "minimum": 1, "maximum": 100},
                           "People per page"),
                ],
                "responses": {"200": {"description": "A page of people", "content": {
                    "application/json": {"schema": {"type": "object", "properties": {
                        "page": {"type": "integer"}, "per_page": {"type": "integer"},
                        "total": {"type": "integer"}, "is_total_capped": {"type": "boolean"},
                        "people": {"type": "array", "items": _PERSON}}}}}},
                    **_errors(400, 401, 403, 429)},
            }},
            "/people/{person_id}": {"get": {
                "summary": "One person's record",
                "parameters": [{"name": "person_id", "in": "path", "required": True,
                                "schema": {"type": "integer", "minimum": 1,
                                           "maximum": 2**31 - 1}}],
                "responses": {"200": {"description": "The record", "content": {
                    "application/json": {"schema": _RECORD}}},
                    **_errors(401, 403, 404, 429)},
            }},
            "/statistics": {"get": {
                "summary": "Counts of people within the token's scope",
                "responses": {"200": {"description": "The figures", "content": {
                    "application/json": {"schema": {"type": "object", "properties": {
                        "total": _CELL, "is_suppressed": {"type": "boolean"},
                        "as_of": _NULLABLE_STRING,
                        "tables": {"type": "object", "additionalProperties": _TABLE}}}}}},
                    **_errors(401, 429)},
            }},
        },
    }
