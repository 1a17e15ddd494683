"""``tray-agent tray-sim`` is registered and its options reach the simulator."""

from __future__ import annotations

from tray_local.cli import build_parser


def test_tray_sim_subcommand_parses_its_options() -> None:
    args = build_parser().parse_args(
        ["tray-sim", "--port", "0", "--stories", "--time-factor", "0.1", "--rate-limit", "10", "--seed", "4"]
    )

    assert args.command == "tray-sim"
    assert (args.port, args.stories, args.time_factor, args.rate_limit, args.seed) == (0, True, 0.1, 10.0, 4)
    assert callable(args.func)
