"""What a model call cost, from prices kept as data (``config_files/model_prices.json``).

Prices are per model and per kind of token (input, cached input, output, reasoning), with the
date they were read. A model the file does not know has its tokens recorded and its cost left
``None`` ("unknown"): never 0, which would read as free. ``llm_input_cost_per_1k`` /
``llm_output_cost_per_1k`` price any model the file does not know (self-hosted, negotiated).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from pydantic import BaseModel, Field

from tray_agent.config import Settings
from tray_agent.errors import ConfigurationError
from tray_agent.models.decisions import Usage

_SNAPSHOT = re.compile(r"-\d{4}-\d{2}-\d{2}$")  # gpt-4o-2024-08-06 is priced as gpt-4o


class ModelPrice(BaseModel):
    input: float = Field(ge=0)  # USD per 1M tokens
    cached_input: float | None = Field(default=None, ge=0)
    output: float = Field(ge=0)
    reasoning: float | None = Field(default=None, ge=0)  # None: billed as output


class PricesFile(BaseModel):
    taken_on: str
    source: str = ""
    models: dict[str, ModelPrice]


@dataclass(frozen=True)
class PriceBook:
    taken_on: str
    prices: dict[str, ModelPrice]

    def price_for(self, model: str) -> ModelPrice | None:
        name = model.rsplit("/", 1)[-1].strip().lower()
        return self.prices.get(name) or self.prices.get(_SNAPSHOT.sub("", name))


@cache
def load_prices(path: Path) -> PriceBook:
    try:
        parsed = PricesFile.model_validate(json.loads(Path(path).read_text()))
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"model prices file {path} is unreadable: {exc}") from exc
    return PriceBook(parsed.taken_on, {k.lower(): v for k, v in parsed.models.items()})


def price_for(settings: Settings, model: str) -> tuple[ModelPrice | None, str | None]:
    """The model's price and the date it was taken (``(None, None)``: unknown)."""
    book = load_prices(settings.llm_prices_file)
    price = book.price_for(model)
    if price is not None:
        return price, book.taken_on
    if settings.llm_input_cost_per_1k is not None and settings.llm_output_cost_per_1k is not None:
        own = ModelPrice(
            input=settings.llm_input_cost_per_1k * 1000, output=settings.llm_output_cost_per_1k * 1000
        )
        return own, "configured"
    return None, None


def cost_usd(usage: Usage, price: ModelPrice) -> float:
    cached = min(usage.cached_prompt_tokens, usage.prompt_tokens)
    reasoning = min(usage.reasoning_tokens, usage.completion_tokens)
    cached_price = price.cached_input if price.cached_input is not None else price.input
    reasoning_price = price.reasoning if price.reasoning is not None else price.output
    total = (
        (usage.prompt_tokens - cached) * price.input
        + cached * cached_price
        + (usage.completion_tokens - reasoning) * price.output
        + reasoning * reasoning_price
    )
    return round(total / 1_000_000, 8)


def account(settings: Settings, usage: Usage, response_usage: object | None) -> None:
    """Add one response's tokens to ``usage`` and re-price it (``None`` when the price is unknown)."""
    usage.requests += 1
    if response_usage is not None:
        usage.prompt_tokens += getattr(response_usage, "prompt_tokens", 0) or 0
        usage.completion_tokens += getattr(response_usage, "completion_tokens", 0) or 0
        prompt_details = getattr(response_usage, "prompt_tokens_details", None)
        completion_details = getattr(response_usage, "completion_tokens_details", None)
        usage.cached_prompt_tokens += getattr(prompt_details, "cached_tokens", 0) or 0
        usage.reasoning_tokens += getattr(completion_details, "reasoning_tokens", 0) or 0
    price, taken_on = price_for(settings, usage.model)
    usage.estimated_cost_usd = cost_usd(usage, price) if price is not None else None
    usage.prices_taken_on = taken_on
