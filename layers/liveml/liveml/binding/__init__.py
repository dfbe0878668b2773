"""The model binding: which model versions a predict-function version serves, and which variant a player
gets. Serving, rollouts and experiments all read it from here; it imports neither FastAPI nor ONNX Runtime.

    from liveml.binding import assign_variant, binding_from_env
    doc = binding_from_env()                 # LIVEML_MODEL_BINDING: s3://…/bindings/<sha256>.json, checked
    doc.get("churn").describe()              # "churn v3"
    doc.with_model(single_binding(ltv_v2))   # every other model unchanged (liveml.binding.build)
    assign_variant(salt, player_id, split)   # the sticky A/B variant, the same in every language
"""

from __future__ import annotations

from liveml.binding.assignment import assign_variant, bucket, validate_split, variant_for_bucket
from liveml.binding.errors import BindingError
from liveml.binding.model import MODEL_NAME_PATTERN, Binding, BoundVariant, Experiment, ModelBinding
from liveml.binding.store import binding_from_env, binding_uri, put_binding, read_binding

__all__ = [
    "MODEL_NAME_PATTERN",
    "Binding",
    "BindingError",
    "BoundVariant",
    "Experiment",
    "ModelBinding",
    "assign_variant",
    "binding_from_env",
    "binding_uri",
    "bucket",
    "put_binding",
    "read_binding",
    "validate_split",
    "variant_for_bucket",
]
