"""The Python client: ``Client`` (async) and ``SyncClient``, on any schema without generated code."""

from __future__ import annotations

from datatier.client._client import Client, ModelClient, Transaction
from datatier.client._sync import SyncClient, SyncModelClient, SyncTransaction

__all__ = [
    "Client",
    "ModelClient",
    "SyncClient",
    "SyncModelClient",
    "SyncTransaction",
    "Transaction",
]
