"""The base of our pydantic models: validators are built on first use, not at import.

Building a model's validator and serializer is most of what importing a module of models
costs. The API's cold start imports every model a route names, but one request uses only a
few of them, so each model builds on its first use (``defer_build``) and an import stays cheap.
Behaviour is the same: the first validation, dump or schema builds what import used to.
"""

from pydantic import BaseModel, ConfigDict


class Model(BaseModel):
    """A pydantic model whose validator and serializer are built on first use."""

    model_config = ConfigDict(defer_build=True)
