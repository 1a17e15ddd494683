"""The Powertools singletons: one Logger, Tracer and Metrics for every function."""

from aws_lambda_powertools import Logger, Metrics, Tracer

SERVICE = "tray-agent"

logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(namespace="TrayAgent", service=SERVICE)
