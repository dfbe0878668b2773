"""The SageMaker backend's tuning job: sized from the data, built from the settings.

Step Functions runs ``createHyperParameterTuningJob.sync`` with the request ``tuning_request``
builds: Bayesian search over the same space as the optuna search (``liveml.training.hyperparameters``),
early stopping ``Auto``, one trial per training job (``liveml.training.container``), warm-started from
the champion's tuning job when it has one. Nothing here calls SageMaker: the request is data, checked
against the service model in the tests, and the state machine sends it.
"""

from __future__ import annotations

import hashlib
import io
import math
import re
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from liveml.pipeline.errors import PipelineError
from liveml.pipeline.settings import PipelineSettings, SageMakerSettings

#: the scikit-learn framework image (script mode); its training toolkit runs ``train.py`` from the
#: source bundle after installing its ``requirements.txt``
FRAMEWORK_VERSION = "1.2-1"
#: ECR accounts of the scikit-learn image per region, as the ``sagemaker`` SDK's image URI config
#: lists them; another region takes ``sagemaker.image_uri`` in liveml.yaml
SKLEARN_IMAGE_ACCOUNTS = {
    "us-east-1": "683313688378",
    "us-east-2": "257758044811",
    "us-west-1": "746614075791",
    "us-west-2": "246618743249",
    "eu-west-1": "141502667606",
    "eu-west-2": "764974769150",
}
ENTRY_POINT = "train.py"
#: where ``package_source`` puts the bundle in the artifacts bucket (the functions' default)
SOURCE_KEY = "sagemaker/sourcedir.tar.gz"
#: seconds per row x column x fold of the default trial, measured by benchmarks/sagemaker.py on two
#: cores (6.8e-4 s per row at 13 features and 5 folds), with a 3x margin; plus a fixed start-up
#: (image pull, requirements install)
SECONDS_PER_CELL = 3 * 1.05e-5
STARTUP_S = 600
INSTANCE_STEPS = (  # (max rows x columns, instance type): memory for the frame, folds and the refit
    (20_000_000, "ml.m5.large"),
    (100_000_000, "ml.m5.xlarge"),
    (400_000_000, "ml.m5.4xlarge"),
    (math.inf, "ml.m5.12xlarge"),
)


@dataclass(frozen=True)
class Resources:
    """Every ``SageMakerSettings`` field decided for one run."""

    instance_type: str
    instance_count: int
    max_jobs: int
    parallel_jobs: int
    max_runtime_s: int
    spot: bool
    volume_size_gb: int

    @property
    def max_wait_s(self) -> int:
        """Spot jobs may wait for capacity as long again as they may run."""
        return 2 * self.max_runtime_s if self.spot else self.max_runtime_s

    @property
    def timeout_s(self) -> int:
        """The Tune state's timeout: every wave of parallel jobs at its limit, plus an hour."""
        waves = math.ceil(self.max_jobs / self.parallel_jobs)
        return waves * self.max_wait_s + 3600


def sized(settings: PipelineSettings, *, rows: int, columns: int, data_bytes: int) -> Resources:
    """Fill the unset ``sagemaker:`` fields from the data's size (an explicit setting wins)."""
    sm: SageMakerSettings = settings.sagemaker
    cells = max(1, rows) * max(1, columns)
    instance = sm.instance_type or next(t for limit, t in INSTANCE_STEPS if cells <= limit)
    max_jobs = sm.max_jobs or settings.trials
    parallel = sm.parallel_jobs or min(4, max_jobs)
    if parallel > max_jobs:
        raise PipelineError(f"sagemaker.parallel_jobs ({parallel}) exceeds sagemaker.max_jobs ({max_jobs})")
    runtime = sm.max_runtime_s or int(
        min(5 * 24 * 3600, STARTUP_S + SECONDS_PER_CELL * cells * settings.cv_folds)
    )
    # The data, its copy as a frame, and the model directory: 4x the file, at least 30 GB.
    volume = sm.volume_size_gb or max(30, math.ceil(4 * data_bytes / 1e9) + 10)
    return Resources(instance, sm.instance_count, max_jobs, parallel, runtime, sm.spot, volume)


def image_uri(region: str, override: str | None = None) -> str:
    if override:
        return override
    account = SKLEARN_IMAGE_ACCOUNTS.get(region)
    if account is None:
        raise PipelineError(
            f"no scikit-learn training image known for region {region!r}: "
            "set sagemaker.image_uri in liveml.yaml"
        )
    suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"{account}.dkr.ecr.{region}.{suffix}/sagemaker-scikit-learn:{FRAMEWORK_VERSION}-cpu-py3"


def tuning_job_name(model: str, run_id: str) -> str:
    """At most 32 characters (SageMaker's limit; its training jobs append 13), unique per run."""
    stem = re.sub(r"[^a-zA-Z0-9]+", "-", model).strip("-")[:14] or "model"
    return f"{stem}-{hashlib.sha256(run_id.encode()).hexdigest()[:12]}"


def tuning_request(
    *,
    name: str,
    settings: PipelineSettings,
    resources: Resources,
    role_arn: str,
    region: str,
    train_uri: str,
    output_uri: str,
    checkpoint_uri: str,
    source_uri: str,
    dataset: str,
    data_sha256: str | None,
    warm_start_from: str | None = None,
) -> dict[str, Any]:
    """``CreateHyperParameterTuningJob``'s parameters for one run."""
    from liveml.training.container import METRIC_DEFINITIONS, OBJECTIVE
    from liveml.training.hyperparameters import parameter_ranges

    static = {
        # script mode: the framework container's toolkit reads these (JSON-encoded, as the SDK sends them)
        "sagemaker_program": f'"{ENTRY_POINT}"',
        "sagemaker_submit_directory": f'"{source_uri}"',
        "sagemaker_region": f'"{region}"',
        "sagemaker_container_log_level": "20",
        "dataset": dataset,
        "contract": "contract.yaml",
        "seed": str(settings.seed),
        "cv_folds": str(settings.cv_folds),
    }
    if data_sha256:
        static["data_sha256"] = data_sha256
    definition: dict[str, Any] = {
        "StaticHyperParameters": static,
        "AlgorithmSpecification": {
            "TrainingImage": image_uri(region, settings.sagemaker.image_uri),
            "TrainingInputMode": "File",
            "MetricDefinitions": METRIC_DEFINITIONS,
        },
        "RoleArn": role_arn,
        "InputDataConfig": [
            {
                "ChannelName": "train",
                "DataSource": {
                    "S3DataSource": {
                        "S3DataType": "S3Prefix",
                        "S3Uri": train_uri,
                        "S3DataDistributionType": "FullyReplicated",
                    }
                },
            }
        ],
        "OutputDataConfig": {"S3OutputPath": output_uri},
        "ResourceConfig": {
            "InstanceType": resources.instance_type,
            "InstanceCount": resources.instance_count,
            "VolumeSizeInGB": resources.volume_size_gb,
        },
        "StoppingCondition": {"MaxRuntimeInSeconds": resources.max_runtime_s},
        "EnableManagedSpotTraining": resources.spot,
    }
    if resources.spot:
        definition["StoppingCondition"]["MaxWaitTimeInSeconds"] = resources.max_wait_s
        definition["CheckpointConfig"] = {"S3Uri": checkpoint_uri, "LocalPath": "/opt/ml/checkpoints"}
    request: dict[str, Any] = {
        "HyperParameterTuningJobName": name,
        "HyperParameterTuningJobConfig": {
            "Strategy": "Bayesian",
            "HyperParameterTuningJobObjective": {"Type": "Maximize", "MetricName": OBJECTIVE},
            "ResourceLimits": {
                "MaxNumberOfTrainingJobs": resources.max_jobs,
                "MaxParallelTrainingJobs": resources.parallel_jobs,
            },
            "ParameterRanges": parameter_ranges(),
            "TrainingJobEarlyStoppingType": "Auto",
        },
        "TrainingJobDefinition": definition,
    }
    if warm_start_from:
        # The data changed since the champion's run: transfer what its search learnt, not identical data.
        request["WarmStartConfig"] = {
            "ParentHyperParameterTuningJobs": [{"HyperParameterTuningJobName": warm_start_from}],
            "WarmStartType": "TransferLearning",
        }
    return request


def model_artifact_uri(output_uri: str, training_job: str) -> str:
    """Where SageMaker puts a training job's ``model.tar.gz`` under the job's ``S3OutputPath``."""
    return f"{output_uri.rstrip('/')}/{training_job}/output/model.tar.gz"


def package_source(requirements: str, *, library: Path | None = None) -> bytes:
    """The script-mode source bundle: ``train.py``, the ``liveml`` package and ``requirements.txt``."""
    import liveml

    library = library or Path(liveml.__file__).parent
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:

        def add(name: str, data: bytes) -> None:
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o644
            tar.addfile(info, io.BytesIO(data))

        add(ENTRY_POINT, b"from liveml.training.container import main\n\nraise SystemExit(main())\n")
        add("requirements.txt", requirements.encode())
        for path in sorted(library.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                add(f"liveml/{path.relative_to(library).as_posix()}", path.read_bytes())
    return buffer.getvalue()
