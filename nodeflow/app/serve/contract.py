"""``serve``'s OpenAPI 3.1 document as a client generator needs it: the request and response models of
``nodeflow.client.models`` as components, the bearer token as a security scheme, and FastAPI's own validation
errors answered in the API's error shape (``{detail, field, problems}``), not FastAPI's default."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from pydantic.json_schema import models_json_schema

from .models import MODELS

__all__ = ["install_contract"]


def install_contract(app: FastAPI) -> None:
    """Give ``app`` the typed OpenAPI document and the JSON error shape for request validation."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            _, defs = models_json_schema([(model, "validation") for model in MODELS],
                                         ref_template="#/components/schemas/{model}")
            components = document.setdefault("components", {})
            schemas = components.setdefault("schemas", {})
            for name, schema in defs.get("$defs", {}).items():
                schemas.setdefault(name, schema)
            schemas.pop("HTTPValidationError", None)
            schemas.pop("ValidationError", None)
            for operation in (op for path in document["paths"].values() for op in path.values()):
                for code, response in operation.get("responses", {}).items():
                    if "HTTPValidationError" in str(response):  # FastAPI's default 422: ours has the API's shape
                        operation["responses"][code] = {"description": "the request is invalid", "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}}
            # on 127.0.0.1 no credentials are asked; on any other address the printed token is
            components["securitySchemes"] = {"bearer": {"type": "http", "scheme": "bearer",
                                                        "description": "the token serve prints at start"}}
            document["security"] = [{"bearer": []}, {}]
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_request: Any, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        loc = [str(part) for part in first.get("loc", ()) if part not in ("body", "query", "path", "header")]
        field = loc[0] if loc else None
        return JSONResponse({"detail": f"{'.'.join(loc) or 'request'}: {first.get('msg')}", "field": field},
                            status_code=422)
