"""The Powertools singletons: one Logger, Tracer and Metrics for every function."""

from aws_lambda_powertools import Logger, Metrics, Tracer

SERVICE = "tray-agent"

logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
NAMESPACE = "TrayAgent"
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)


def workflow_metric(name: str, workflow: str, value: float) -> None:
    """A count per Tray workflow. It is its own EMF record, because the function-wide ``metrics``
    share one set of dimensions and a workflow dimension there would split every other metric."""
    from aws_lambda_powertools.metrics import MetricUnit, single_metric

    with single_metric(
        name=name,
        unit=MetricUnit.Count,
        value=value,
        namespace=NAMESPACE,
        default_dimensions={"service": SERVICE, "workflow": workflow},
    ):
        pass
