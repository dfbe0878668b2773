"""Start LocalStack's runtime (``localstack.runtime.main``) on Python 3.12.

Run as a script by ``runner.up``. ``localstack-core`` 2026.3.0 uses two Python 3.13 features:

- ``from warnings import deprecated`` (``localstack/utils/tagging.py``): without it every AWS
  component fails to load ("No component plugins found in namespace localstack.runtime.components");
  we supply the identical backport from ``typing_extensions``;
- ``Lock | None`` in a signature (``localstack/packages/api.py``): on 3.12 ``threading.Lock`` is a
  factory function, so the ``|`` fails and every service that installs a package (DynamoDB, ...)
  answers 500 "unsupported operand type(s) for |"; we make ``threading.Lock`` a class whose
  instances are the very same ``_thread`` locks.

Both are no-ops on 3.13+. And one LocalStack bug, fixed where it is, on any Python:

- ``update_alias`` with ``AdditionalVersionWeights`` calls ``_create_routing_config_model`` without
  the alias's target version (``TypeError: missing ... 'function_version'``), so a weighted alias
  cannot be changed in place; deleting and re-creating it instead leaves a moment in which API
  Gateway finds no alias and answers 502. With no version given we check the weights and build the
  routing model as ``create_alias`` does, so a canary shift is one atomic call here as on AWS.

Standard library only (plus that backport).
"""

from __future__ import annotations

import _thread
import runpy
import sys
import threading
import warnings
from collections.abc import Callable
from typing import Any

# Run as a script, this folder is sys.path[0]; its modules (config, errors...) must not shadow others.
if sys.path and sys.path[0] and __file__.startswith(sys.path[0]):
    del sys.path[0]


def _identity_deprecated(message: str, /, **_: Any) -> Callable[[Any], Any]:
    return lambda obj: obj


if not hasattr(warnings, "deprecated"):
    try:
        from typing_extensions import deprecated
    except ImportError:
        deprecated = _identity_deprecated  # type: ignore[assignment,misc]
    warnings.deprecated = deprecated  # type: ignore[attr-defined]


class _Lock:
    """``threading.Lock`` as a class (as on 3.13), so ``Lock | None`` works; ``Lock()`` is unchanged."""

    def __new__(cls) -> Any:
        return _thread.allocate_lock()


if not isinstance(threading.Lock, type):
    threading.Lock = _Lock


def _fix_update_alias_weights() -> None:
    try:
        from localstack.services.lambda_.invocation.lambda_models import AliasRoutingConfig
        from localstack.services.lambda_.provider import LambdaProvider
    except ImportError:  # another LocalStack layout: leave it alone
        return
    original = LambdaProvider._create_routing_config_model

    def routing_config(self: Any, routing_config_dict: dict[str, float], function_version: Any = None) -> Any:
        if function_version is not None:
            return original(self, routing_config_dict, function_version)
        if len(routing_config_dict) > 1 or not all(0.0 <= w < 1.0 for w in routing_config_dict.values()):
            raise ValueError(f"invalid AdditionalVersionWeights {routing_config_dict}")
        return AliasRoutingConfig(version_weights=routing_config_dict)

    LambdaProvider._create_routing_config_model = routing_config  # type: ignore[method-assign]


if __name__ == "__main__":
    _fix_update_alias_weights()
    runpy.run_module("localstack.runtime.main", run_name="__main__", alter_sys=True)
