"""Secrets Manager reads through Powertools Parameters (cached per container)."""

from __future__ import annotations

# A rotated secret is picked up within this many seconds without a cold start.
SECRET_MAX_AGE_S = 300


def read_secret(name: str) -> str:
    # Imported here: Parameters is only needed by containers that read a secret.
    from aws_lambda_powertools.utilities import parameters

    value = parameters.get_secret(name, max_age=SECRET_MAX_AGE_S)
    return value.decode() if isinstance(value, bytes) else str(value)
