"""The OpenAPI description is checked against the routes: a route without a
description, or a description without a route, stops the server from starting."""

from __future__ import annotations

import pytest
from aiohttp import web

from dynzone.http import openapi


async def _nothing(request: web.Request) -> web.Response:
    return web.Response()


def _app_for(document: dict[str, object]) -> web.Application:
    app = web.Application()
    for path, operations in document["paths"].items():  # type: ignore[attr-defined]
        for method in operations:
            app.router.add_route(method.upper(), path, _nothing)
    return app


@pytest.mark.parametrize("acme_dns", [False, True])
def test_matching_routes_pass(acme_dns: bool) -> None:
    document = openapi.description(acme_dns)
    openapi.check_routes(_app_for(document), document)
    assert ("/register" in document["paths"]) is acme_dns


def test_an_undescribed_route_is_named() -> None:
    document = openapi.description(False)
    app = _app_for(document)
    app.router.add_route("POST", "/nic/secret", _nothing)
    with pytest.raises(RuntimeError, match=r"not described \[\('post', '/nic/secret'\)\]"):
        openapi.check_routes(app, document)


def test_a_described_operation_without_a_route_is_named() -> None:
    document = openapi.description(True)
    app = _app_for(openapi.description(False))
    with pytest.raises(RuntimeError, match=r"not routed .*'/register'"):
        openapi.check_routes(app, document)
