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

And one gap in Step Functions' mocked service integrations (``SFN_MOCK_CONFIG``):

- a service the free edition does not emulate (SageMaker) only accepts ``.waitForTaskToken``, so a
  ``createHyperParameterTuningJob.sync`` task fails with "Unsupported sync callback procedure" even
  when a test case mocks it. We let ``.sync`` through for those services; only a mocked execution
  gets past it (it answers with the mocked response, as AWS's Step Functions Local does), an
  unmocked one still fails at the service, as before.

Standard library only (plus that backport).
"""

from __future__ import annotations

import _thread
import importlib
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


def _mockable_sync_for_services_it_cannot_run() -> None:
    package = "localstack.services.stepfunctions.asl.component.state.state_execution.state_task.service"
    try:
        unsupported = importlib.import_module(f"{package}.state_task_service_unsupported")
        sync = importlib.import_module(f"{package}.resource").ResourceCondition.Sync
    except (ImportError, AttributeError):  # another LocalStack layout: leave it alone
        return
    original = unsupported.StateTaskServiceUnsupported.__init__

    def init(self: Any) -> None:
        original(self)
        self._supported_integration_patterns = {*self._supported_integration_patterns, sync}

    unsupported.StateTaskServiceUnsupported.__init__ = init  # type: ignore[method-assign]


if __name__ == "__main__":
    _fix_update_alias_weights()
    _mockable_sync_for_services_it_cannot_run()
    runpy.run_module("localstack.runtime.main", run_name="__main__", alter_sys=True)
