"""The OpenAPI 3 description of every HTTP endpoint, served at ``/api/openapi.json``.

Written here by hand, next to the routes it describes, and checked against
them: ``check_routes`` compares the description's operations with the
routes the application registered, and the server refuses to start if they
differ, so no endpoint can be added or dropped without its description.
CI runs schemathesis against a live server with this description.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from dynzone import __version__
from dynzone.http.pdns_api import ZONES

PATH = "/api/openapi.json"

Json = dict[str, Any]


def _error(description: str) -> Json:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def _text(description: str, media: str = "text/plain") -> Json:
    return {"description": description, "content": {media: {"schema": {"type": "string"}}}}


def _json(description: str, schema: Json) -> Json:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _ref(name: str) -> Json:
    return {"$ref": f"#/components/schemas/{name}"}


_TOKEN: list[Json] = [{"apiKey": []}]
_BASIC: list[Json] = [{"basic": []}]
_ZONE = {
    "name": "zone",
    "in": "path",
    "required": True,
    "schema": {"type": "string"},
    "description": "the zone's name, with or without the final dot",
}
_API_ERRORS = {
    "401": _error("no key, or a wrong, expired or out-of-network one"),
    "429": _error("too many wrong keys from this address"),
}
_DYNDNS2_PARAMS = [
    {"name": name, "in": "query", "schema": {"type": "string"}, "description": text}
    for name, text in (
        ("hostname", "host names to update, comma-separated"),
        ("myip", "the address (IPv4, IPv6, or 'v4,v6'); default: the client's"),
        ("myipv6", "the IPv6 address"),
        ("myip6", "the IPv6 address"),
        ("ipv6", "deSEC: the IPv6 address, or a prefix with its length"),
        ("myipv6prefix", "an IPv6 prefix for the hosts with an ipv6-suffix"),
        ("ip6lanprefix", "the FRITZ!Box's IPv6 LAN prefix"),
        ("offline", "YES removes the hosts' addresses"),
    )
]
_DYNDNS2_REPLIES = {
    "200": _text("one reply word per host: good, nochg, nohost, notfqdn, numhost, abuse, dnserr"),
    "400": _text("badip: an address or prefix that cannot be used; or a form that cannot be read"),
    "401": _text("badauth: no credentials, or wrong ones"),
}

_SCHEMAS: Json = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {"error": {"type": "string"}},
    },
    "Record": {
        "type": "object",
        "required": ["content"],
        "properties": {"content": {"type": "string"}, "disabled": {"type": "boolean"}},
    },
    "RRset": {
        "type": "object",
        "required": ["name", "type"],
        "properties": {
            "name": {"type": "string"},
            "type": {"type": "string"},
            "ttl": {"type": "integer"},
            "changetype": {"type": "string", "enum": ["REPLACE", "DELETE", "EXTEND", "PRUNE"]},
            "records": {"type": "array", "items": _ref("Record")},
            "comments": {"type": "array"},
        },
    },
    "Zone": {
        "type": "object",
        "required": ["id", "name", "kind", "serial", "url"],
        "properties": {
            "id": {"type": "string"},
            "name": {"type": "string"},
            "kind": {"type": "string"},
            "serial": {"type": "integer"},
            "notified_serial": {"type": "integer"},
            "url": {"type": "string"},
            "dnssec": {"type": "boolean"},
            "account": {"type": "string"},
            "masters": {"type": "array", "items": {"type": "string"}},
            "rrsets": {"type": "array", "items": _ref("RRset")},
        },
    },
    "Server": {
        "type": "object",
        "required": ["type", "id", "daemon_type", "version", "url", "zones_url"],
        "properties": {
            key: {"type": "string"}
            for key in ("type", "id", "daemon_type", "version", "url", "zones_url")
        },
    },
    "Propagation": {
        "type": "object",
        "description": "the zone's serial and each secondary's, as `dynzone zone status`",
        "additionalProperties": True,
    },
    "AcmeAccount": {
        "type": "object",
        "required": ["username", "password", "fulldomain", "subdomain", "allowfrom"],
        "properties": {
            "username": {"type": "string"},
            "password": {"type": "string"},
            "fulldomain": {"type": "string"},
            "subdomain": {"type": "string"},
            "allowfrom": {"type": "array", "items": {"type": "string"}},
        },
    },
    "AcmeUpdate": {
        "type": "object",
        "required": ["subdomain", "txt"],
        "properties": {
            "subdomain": {"type": "string", "format": "uuid"},
            "txt": {
                "type": "string",
                "pattern": "^[A-Za-z0-9_-]{43}$",
                "description": "an ACME dns-01 value: 43 characters of base64url",
            },
        },
    },
}


def _paths(acme_dns: bool) -> Json:
    zone_path = ZONES + "/{zone}"
    paths: Json = {
        "/nic/update": {
            "get": {
                "summary": "dyndns2 update",
                "security": _BASIC,
                "parameters": _DYNDNS2_PARAMS,
                "responses": _DYNDNS2_REPLIES,
            },
            "post": {
                "summary": "dyndns2 update, parameters as a form",
                "security": _BASIC,
                "requestBody": {
                    "content": {
                        "application/x-www-form-urlencoded": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    p["name"]: {"type": "string"} for p in _DYNDNS2_PARAMS
                                },
                            }
                        }
                    }
                },
                "responses": _DYNDNS2_REPLIES,
            },
        },
        "/nic/checkip": {
            "get": {
                "summary": "the client's address, as dyndns2 clients read it",
                "security": [],
                "responses": {"200": _text("an HTML page with the address", "text/html")},
            }
        },
        "/checkip": {
            "get": {
                "summary": "the same as /nic/checkip",
                "security": [],
                "responses": {"200": _text("an HTML page with the address", "text/html")},
            }
        },
        "/api/zones/{zone}/status": {
            "get": {
                "summary": "the zone's propagation to its secondaries",
                "security": _BASIC,
                "parameters": [_ZONE],
                "responses": {
                    "200": _json("the propagation report", _ref("Propagation")),
                    "400": _error("not a domain name"),
                    "401": _error("no credentials, or wrong ones"),
                    "404": _error("not served here, or not the user's"),
                    "429": _error("too many failed logins from this address"),
                },
            }
        },
        "/api": {
            "get": {
                "summary": "the PowerDNS API versions",
                "security": _TOKEN,
                "responses": {
                    "200": _json(
                        "the versions",
                        {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {
                                    "url": {"type": "string"},
                                    "version": {"type": "integer"},
                                },
                            },
                        },
                    ),
                    **_API_ERRORS,
                },
            }
        },
        "/api/v1/servers": {
            "get": {
                "summary": "the one server",
                "security": _TOKEN,
                "responses": {
                    "200": _json("the servers", {"type": "array", "items": _ref("Server")}),
                    **_API_ERRORS,
                },
            }
        },
        "/api/v1/servers/{server}": {
            "get": {
                "summary": "the server (only 'localhost')",
                "security": _TOKEN,
                "parameters": [
                    {"name": "server", "in": "path", "required": True, "schema": {"type": "string"}}
                ],
                "responses": {
                    "200": _json("the server", _ref("Server")),
                    "404": _error("no such server"),
                    **_API_ERRORS,
                },
            }
        },
        ZONES: {
            "get": {
                "summary": "the zones the token sees",
                "security": _TOKEN,
                "responses": {
                    "200": _json("the zones", {"type": "array", "items": _ref("Zone")}),
                    **_API_ERRORS,
                },
            }
        },
        zone_path: {
            "get": {
                "summary": "a zone with its RRsets",
                "security": _TOKEN,
                "parameters": [_ZONE],
                "responses": {
                    "200": _json("the zone", _ref("Zone")),
                    "404": _error("not a zone the token sees"),
                    **_API_ERRORS,
                },
            },
            "patch": {
                "summary": "change RRsets, all or nothing",
                "security": _TOKEN,
                "parameters": [
                    _ZONE,
                    {
                        "name": "wait",
                        "in": "query",
                        "schema": {"type": "string", "enum": ["secondaries"]},
                        "description": "answer once every secondary serves the change",
                    },
                    {
                        "name": "timeout",
                        "in": "query",
                        "schema": {
                            "type": "number",
                            "minimum": 0,
                            "exclusiveMinimum": True,
                            "maximum": 60,
                        },
                        "description": "seconds to wait (default 10)",
                    },
                ],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["rrsets"],
                                "properties": {"rrsets": {"type": "array", "items": _ref("RRset")}},
                            }
                        }
                    },
                },
                "responses": {
                    "204": {"description": "changed (or nothing to change)"},
                    "400": _error("the body is not JSON, or a bad wait/timeout"),
                    "403": _error("an RRset outside the token's grants: nothing changed"),
                    "404": _error("not a zone the token sees"),
                    "422": _error("an RRset that cannot be used: nothing changed"),
                    "500": _error("the store could not commit: nothing changed"),
                    "504": {
                        "description": "changed, but not every secondary serves it in time",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["error", "propagation"],
                                    "properties": {
                                        "error": {"type": "string"},
                                        "propagation": _ref("Propagation"),
                                    },
                                }
                            }
                        },
                    },
                    **_API_ERRORS,
                },
            },
        },
        zone_path + "/notify": {
            "put": {
                "summary": "NOTIFY the secondaries (every change is NOTIFYed anyway)",
                "security": _TOKEN,
                "parameters": [_ZONE],
                "responses": {
                    "200": _json(
                        "queued",
                        {"type": "object", "properties": {"result": {"type": "string"}}},
                    ),
                    "404": _error("not a zone the token sees"),
                    **_API_ERRORS,
                },
            }
        },
        zone_path + "/export": {
            "get": {
                "summary": "the zone file",
                "security": _TOKEN,
                "parameters": [_ZONE],
                "responses": {
                    "200": _text("the zone in master file format"),
                    "404": _error("not a zone the token sees"),
                    **_API_ERRORS,
                },
            }
        },
        "/health": {
            "get": {
                "summary": "200 while at least one zone is served",
                "security": [],
                "responses": {
                    "200": _json(
                        "serving",
                        {
                            "type": "object",
                            "required": ["status", "zones"],
                            "properties": {
                                "status": {"type": "string"},
                                "zones": {"type": "integer"},
                            },
                        },
                    ),
                    "503": _json("starting", {"type": "object"}),
                },
            }
        },
        "/metrics": {
            "get": {
                "summary": "Prometheus metrics, to http.metrics_from only",
                "security": [],
                "responses": {
                    "200": _text("the Prometheus text format"),
                    "403": _text("the client is not in http.metrics_from"),
                },
            }
        },
        PATH: {
            "get": {
                "summary": "this description",
                "security": [],
                "responses": {"200": _json("OpenAPI 3", {"type": "object"})},
            }
        },
    }
    if acme_dns:
        acme_errors = {
            "400": _error("malformed_json_payload, bad_subdomain, bad_txt or too_many_txt_values"),
            "401": _error("forbidden: wrong credentials, subdomain or client network"),
            "500": _error("db_error: nothing was stored"),
        }
        update_body = {
            "required": True,
            "content": {"application/json": {"schema": _ref("AcmeUpdate")}},
        }
        credentials = [
            {"name": name, "in": "header", "required": True, "schema": {"type": "string"}}
            for name in ("X-Api-User", "X-Api-Key")
        ]
        paths["/register"] = {
            "post": {
                "summary": "acme-dns: a new account (from acme_dns.register_from only)",
                "security": [],
                "requestBody": {
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "allowfrom": {"type": "array", "items": {"type": "string"}}
                                },
                            }
                        }
                    }
                },
                "responses": {
                    "201": _json("the account (the password only now)", _ref("AcmeAccount")),
                    "400": _error("malformed_json_payload or invalid_allowfrom_cidr"),
                    "401": _error("forbidden: registration is closed to this client"),
                    "429": _error("too_many_registrations from this address"),
                    "500": _error("db_error: nothing was stored"),
                },
            }
        }
        paths["/update"] = {
            method: {
                "summary": summary,
                "security": [],
                "parameters": credentials,
                "requestBody": update_body,
                "responses": {
                    "200": _json(
                        "done",
                        {
                            "type": "object",
                            "required": ["txt"],
                            "properties": {"txt": {"type": "string"}},
                        },
                    ),
                    **acme_errors,
                },
            }
            for method, summary in (
                ("post", "acme-dns: add a TXT value at the account's name"),
                ("delete", "acme-dns: remove a TXT value"),
            )
        }
    return paths


def description(acme_dns: bool) -> Json:
    """The whole OpenAPI document (acme-dns's paths only when it is configured)."""
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "dynzone",
            "version": __version__,
            "description": "dyndns2, acme-dns, a PowerDNS-compatible zones API, zone status,"
            " health and metrics",
        },
        "paths": _paths(acme_dns),
        "components": {
            "schemas": _SCHEMAS,
            "securitySchemes": {
                "basic": {"type": "http", "scheme": "basic"},
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
            },
        },
    }


def check_routes(app: web.Application, document: Json) -> None:
    """Raise RuntimeError if the routes of ``app`` and the description's operations differ."""
    routed = {
        (route.method.lower(), route.resource.canonical)
        for route in app.router.routes()
        if route.resource is not None and route.method not in ("HEAD", "*")
    }
    described = {(method, path) for path, ops in document["paths"].items() for method in ops}
    if routed != described:
        raise RuntimeError(
            "the OpenAPI description and the routes differ: not described "
            f"{sorted(routed - described)}, not routed {sorted(described - routed)}"
        )
