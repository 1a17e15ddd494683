"""Hostile requests through the real API handler in a LocalEnvironment (moto + the simulator).

The generation of ``tests/integration/test_hostile_requests.py`` (``tests/support/hostile.py``):
240 signed hostile bodies and 100 garbage or garbled credential headers. Figures: how many were
tried, how many got a 5xx (or escaped the handler, which Lambda turns into one), and how many
broke another rule (a refusal that stored something, a status other than the one a rule demands).
"""

from __future__ import annotations

BODY_EXAMPLES = 240
HEADER_EXAMPLES = 100


def run() -> dict[str, float]:
    from hypothesis import HealthCheck, given, settings

    from tests.support.hostile import HostileRequest, HostileRun, body_cases, header_cases
    from tray_local.local_env import LocalEnvironment

    suite = settings(
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    problems: list[str] = []
    with LocalEnvironment.start() as env:
        hostile = HostileRun(env)

        # No assertion inside: a problem is counted, and the generation goes on to the end.
        @settings(suite, max_examples=BODY_EXAMPLES)
        @given(request=body_cases(env.settings.max_body_bytes))
        def bodies(request: HostileRequest) -> None:
            problems.extend(hostile.check(request))

        @settings(suite, max_examples=HEADER_EXAMPLES)
        @given(request=header_cases())
        def headers(request: HostileRequest) -> None:
            problems.extend(hostile.check(request))

        bodies()
        headers()
    for problem in problems[:5]:
        print(f"   problem: {problem}", flush=True)
    return {
        "hostile_requests_tried": float(hostile.tried),
        "hostile_requests_5xx": float(hostile.server_errors),
        "hostile_requests_other_problems": float(len(problems) - hostile.server_errors),
    }
