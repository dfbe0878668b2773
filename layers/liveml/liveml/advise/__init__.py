"""The ops assistant: serving and alerting configuration from an SLA, and which model version to ship.

    from liveml.advise import Sla, advise_deploy, compare
    sla = Sla.load("sla.yaml")
    advice = advise_deploy(sla, measurement, model="churn", version=4, metrics=v.metrics, out=Path("out"))
    advice.checks            # each output and what its validator said
    compare("churn", [(version, model_dir), ...]).reasons

Deterministic: the same spec, measurement and registry records give the same outputs. An LLM
(``liveml.advise.llm``, Amazon Bedrock) may word the model advice, held to the facts it was given.
"""

from liveml.advise.compare import Candidate, ModelAdvice, candidates_of, compare
from liveml.advise.deploy import DeployAdvice, advise_deploy
from liveml.advise.errors import AdviseError, SlaError
from liveml.advise.plan import DeployPlan, EksPlan, LambdaPlan, plan_deploy
from liveml.advise.sla import Sla

__all__ = [
    "AdviseError",
    "Candidate",
    "DeployAdvice",
    "DeployPlan",
    "EksPlan",
    "LambdaPlan",
    "ModelAdvice",
    "Sla",
    "SlaError",
    "advise_deploy",
    "candidates_of",
    "compare",
    "plan_deploy",
]
