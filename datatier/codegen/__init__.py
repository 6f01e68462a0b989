"""Code generation: a schema -> a typed Python client package (``datatier generate``)."""

from __future__ import annotations

from datatier.codegen._build import build_package
from datatier.codegen._ir import ClientPackage
from datatier.codegen._render import render_package
from datatier.codegen._write import default_output, generate_client

__all__ = ["ClientPackage", "build_package", "default_output", "generate_client", "render_package"]
