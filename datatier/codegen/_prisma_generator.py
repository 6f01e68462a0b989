"""Prisma's generator protocol, so ``prisma generate`` can run datatier's generator block.

Prisma starts a generator whose ``provider`` is not one of its own as a command line
(``provider = "datatier"`` runs ``datatier``, with ``PRISMA_GENERATOR_INVOCATION`` set in the
environment) and talks JSON-RPC 2.0 with it, one JSON object a line: requests arrive on
stdin, responses go to **stderr** (stdout is the generator's log, shown to the user).

* ``getManifest`` -> ``{"manifest": {"prettyName", "defaultOutput", "requiresEngines": []}}``
* ``generate`` (params: Prisma's ``GeneratorOptions``; datatier reads ``schemaPath``,
  ``datamodel`` and ``generator.output.value``, the absolute output folder) -> ``null``
  after writing the package.

The process ends when Prisma closes stdin.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from datatier.codegen._write import DEFAULT_OUTPUT, generate_client
from datatier.errors import DatatierError
from datatier.schema import Schema, load_schema, validate_schema_text

__all__ = ["ENV_VAR", "MANIFEST", "serve_generator"]

ENV_VAR = "PRISMA_GENERATOR_INVOCATION"
MANIFEST: dict[str, Any] = {
    "prettyName": "datatier Python client",
    "defaultOutput": DEFAULT_OUTPUT,
    "requiresEngines": [],
}
_GENERATOR_FAILED = -32000
_METHOD_NOT_FOUND = -32601


def serve_generator(stdin: TextIO, stderr: TextIO, log: Callable[[str], None]) -> None:
    """Answer Prisma's requests from ``stdin`` on ``stderr`` until ``stdin`` closes."""
    for line in stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        response: dict[str, Any] = {"jsonrpc": "2.0", "id": request.get("id")}
        method = request.get("method")
        try:
            if method == "getManifest":
                response["result"] = {"manifest": MANIFEST}
            elif method == "generate":
                written = _generate(request.get("params") or {})
                log(f"datatier: wrote the Python client to {written}")
                response["result"] = None
            else:
                response["error"] = {
                    "code": _METHOD_NOT_FOUND,
                    "message": f"unknown method {method!r}",
                    "data": None,
                }
        except (DatatierError, OSError, KeyError, TypeError) as error:
            message = error.message if isinstance(error, DatatierError) else str(error)
            response.pop("result", None)
            response["error"] = {"code": _GENERATOR_FAILED, "message": message, "data": None}
        stderr.write(json.dumps(response) + "\n")
        stderr.flush()


def _generate(params: dict[str, Any]) -> Path:
    schema_path = Path(params["schemaPath"])
    schema = _load(schema_path, params.get("datamodel"))
    output = (params.get("generator") or {}).get("output") or {}
    # Prisma resolves the output (or the manifest's defaultOutput) against the schema folder.
    base = schema_path if schema_path.is_dir() else schema_path.parent
    target = Path(output.get("value") or base / DEFAULT_OUTPUT)
    generate_client(schema, schema_path, target if target.is_absolute() else base / target)
    return target


def _load(schema_path: Path, datamodel: str | None) -> Schema:
    """The schema from its file(s); from Prisma's ``datamodel`` text if the path is gone."""
    if schema_path.exists() or datamodel is None:
        return load_schema(schema_path)
    return validate_schema_text(datamodel, str(schema_path))
