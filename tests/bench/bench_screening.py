"""Lead screening cost on leads the cache has never seen, and its one-off import.

``bench_policy`` repeats a few lead templates, so its screening verdicts are mostly cache hits.
Here every lead is new (its own address, name, company and message), and each is timed through
``PolicyBrain.screen`` then ``decide`` as the work ledger calls them. The first lead of a
container also pays the imports (email-validator, the disposable-domain list): measured once in
a fresh interpreter.
"""

from __future__ import annotations

import random
import statistics
import subprocess
import sys
import time
from typing import Any

from tray_agent.config import DEFAULT_RULES_FILE, DEFAULT_WORKFLOWS_FILE
from tray_agent.domain.agent.policy import PolicyBrain
from tray_agent.domain.agent.registry import ToolRegistry

LEADS = 5_000
FIRST = "ana", "li", "olu", "jean", "maria", "sven", "priya", "kenji", "lea"
LAST = "garcia", "nguyen", "schmidt", "kowalska", "tanaka", "okafor", "dubois", "rossi", "smith"
DOMAINS = "co.uk", "de", "fr", "io", "com", "com.br", "co.jp", "pl", "es", "it"
MESSAGES = (
    "Could we see a demo next week?",
    "Wir bitten um ein Angebot.",
    "Buy cheap backlinks now!!! http://a.example http://b.example",
    "Pricing for 40 seats, please: https://example.com/rfp",
    "",
)


def _leads(rng: random.Random) -> list[dict[str, Any]]:
    leads = []
    for n in range(LEADS):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        company = f"{last.title()} {rng.choice(['Labs', 'GmbH', 'Trading', 'Group'])} {n}"
        domain = rng.choice([f"{last}{n}.{rng.choice(DOMAINS)}", "gmail.com", f"mail.{last}{n}.com"])
        data = {"email": f"{first}.{last}{n}@{domain}", "name": f"{first} {last}", "company": company}
        if message := rng.choice(MESSAGES):
            data["message"] = message
        leads.append({"id": f"l{n}", "type": "lead.created", "source": "bench", "data": data, "context": {}})
    return leads


def _first_lead_ms() -> float:
    code = (
        "import time; t = time.perf_counter();"
        "from tray_agent.domain.agent.screening import screen_lead;"
        "screen_lead({'email': 'ann@smallco.io', 'company': 'SmallCo', 'message': 'a demo?'});"
        "print((time.perf_counter() - t) * 1000)"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return float(out.stdout.strip())


def run() -> dict[str, float]:
    registry = ToolRegistry.from_file(DEFAULT_WORKFLOWS_FILE)
    policy = PolicyBrain.from_file(DEFAULT_RULES_FILE, known_workflows=registry.__contains__)
    policy.decide(_leads(random.Random(1))[0])  # imports and the blocklist, once
    timings: list[float] = []
    clock = time.perf_counter
    for lead in _leads(random.Random(11)):
        started = clock()
        policy.screen(lead) or policy.decide(lead)
        timings.append((clock() - started) * 1000)
    cuts = statistics.quantiles(timings, n=100)
    return {
        "screening_new_lead_decision_p50_ms": round(cuts[49], 4),
        "screening_new_lead_decision_p99_ms": round(cuts[98], 4),
        "screening_first_lead_with_imports_ms": round(_first_lead_ms(), 1),
    }
