"""Binding documents in S3, immutable and addressed by their sha256.

Lambda's environment holds 4 KB in all, which a binding of several models outgrows, so a published
version's ``LIVEML_MODEL_BINDING`` pins ``s3://<artifacts bucket>/bindings/<sha256>.json`` instead of
the document. The hash in the key is the root of trust: a document whose bytes do not hash to it is
refused, so what a version serves cannot change after it is published.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any

from liveml.binding.constants import BINDINGS_PREFIX, MODEL_BINDING, MODEL_DIR, MODEL_NAME, MODEL_VERSION
from liveml.binding.environment import read
from liveml.binding.errors import BindingError
from liveml.binding.model import Binding, ModelBinding

_POINTER = re.compile(r"^s3://[^/]+/(?:.+/)?(?P<sha>[0-9a-f]{64})\.json$")


def binding_uri(binding: Binding, bucket: str) -> str:
    return f"s3://{bucket}/{BINDINGS_PREFIX}{binding.sha256}.json"


def put_binding(binding: Binding, bucket: str, *, s3: Any = None) -> str:
    """Store the document (writing the same content twice is harmless) and return its pointer."""
    from liveml.aws.s3 import put_bytes

    uri = binding_uri(binding, bucket)
    put_bytes(uri, binding.canonical(), content_type="application/json", s3=s3)
    return uri


def read_binding(pointer: str, *, s3: Any = None, source: str = MODEL_BINDING) -> Binding:
    """The document a pointer (or inline JSON) names; its sha256 is checked against the pointer's."""
    text = pointer.strip()
    if text.startswith("{"):
        return Binding.from_json(text, source)
    match = _POINTER.match(text)
    if match is None:
        raise BindingError(f"{source}: {text[:120]!r} is neither s3://…/<sha256>.json nor a JSON document")
    from liveml.aws.s3 import get_bytes

    try:
        raw = get_bytes(text, s3=s3)
    except Exception as exc:
        raise BindingError(f"{source}: cannot read {text}: {exc}") from exc
    actual = hashlib.sha256(raw).hexdigest()
    if actual != match["sha"]:
        raise BindingError(f"{text}: sha256 {actual} differs from the one in its name; refusing to serve it")
    return Binding.from_json(raw, text)


def binding_from_env(environ: Mapping[str, str] | None = None, *, s3: Any = None) -> Binding:
    """``LIVEML_MODEL_BINDING`` (pointer or JSON), else ``LIVEML_MODEL_DIR``; a clear error when neither."""
    text = read(MODEL_BINDING, environ=environ)
    if text:
        return read_binding(text, s3=s3)
    directory = read(MODEL_DIR, environ=environ)
    if directory:
        name, version = read(MODEL_NAME, environ=environ), read(MODEL_VERSION, environ=environ)
        return Binding.one(ModelBinding.from_dir(directory, model=name, version=version))
    raise BindingError(f"no model bound: set {MODEL_BINDING} (s3://…/<sha256>.json or JSON) or {MODEL_DIR}")
