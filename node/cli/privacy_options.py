"""``--privacy`` and ``--dp-*`` options shared by ``fedledger task create`` and ``fedledger demo``."""

from __future__ import annotations

import argparse

from ledger.manifest import DP_LEVELS, PRIVACY_MODES, DpSettings
from node.cli.errors import UsageError

__all__ = ["add_privacy_args", "dp_settings"]


def add_privacy_args(parser: argparse.ArgumentParser) -> None:
    """``--privacy``, ``--dp-clip``, ``--dp-noise`` | ``--dp-epsilon``, ``--dp-delta``."""
    parser.add_argument("--privacy", choices=PRIVACY_MODES, default="open",
                        help="secure: masked updates, only their sum is revealed "
                             "(FedAvg-family rules only)")
    parser.add_argument("--dp-clip", type=float, default=None, metavar="C",
                        help="differential privacy: clip each update to L2 norm C")
    noise = parser.add_mutually_exclusive_group()
    noise.add_argument("--dp-noise", type=float, default=None, metavar="Z",
                       help="Gaussian noise std as a multiple of the clip norm")
    noise.add_argument("--dp-epsilon", type=float, default=None, metavar="EPS",
                       help="pick the noise that spends EPS over all rounds (Opacus RDP)")
    parser.add_argument("--dp-delta", type=float, default=1e-5,
                        help="delta of the reported (epsilon, delta) (default: %(default)s)")
    parser.add_argument("--dp-level", choices=DP_LEVELS, default="participant",
                        help="participant: clip and noise each whole update; record: DP-SGD "
                             "inside local training (default: %(default)s)")
    parser.add_argument("--dp-noise-shares", type=int, default=1, metavar="M",
                        help="distributed DP (secure, record level): each update adds 1/sqrt(M) "
                             "of the noise, a sum is unmasked only with >= M updates; sets one "
                             "full-batch SGD step per round (default: %(default)s)")


def dp_settings(args: argparse.Namespace, rounds: int) -> DpSettings | None:
    """The DP settings the options ask for (None without ``--dp-clip``).

    Raises:
        UsageError: ``--dp-noise``/``--dp-epsilon`` without ``--dp-clip``, or the reverse.
        DpError: an epsilon the accountant cannot reach.
    """
    wants_noise = args.dp_noise is not None or args.dp_epsilon is not None
    if args.dp_clip is None:
        if wants_noise:
            raise UsageError("--dp-noise/--dp-epsilon need --dp-clip")
        return None
    if not wants_noise:
        raise UsageError("--dp-clip needs --dp-noise or --dp-epsilon")
    if args.dp_level == "record" and args.dp_noise is None and args.dp_noise_shares == 1:
        raise UsageError("--dp-level record takes --dp-noise: its epsilon depends on each "
                         "participant's data size, and each node reports its own")
    noise = args.dp_noise
    if noise is None:
        from node.privacy.dp import noise_for_epsilon

        noise = noise_for_epsilon(args.dp_epsilon, rounds, args.dp_delta)
    # One full-batch step per round (distributed DP) is one Gaussian release per round,
    # whatever the data size: the same accounting as participant level.
    return DpSettings(clip_norm=args.dp_clip, noise_multiplier=noise, delta=args.dp_delta,
                      level=args.dp_level, noise_shares=args.dp_noise_shares)

