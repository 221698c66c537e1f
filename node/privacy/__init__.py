"""Privacy primitives: differential privacy and its accounting, fixed-point encoding,
pairwise masks, secure-aggregation files and key agreement.

* ``dp``: clipping, secret-keyed Gaussian noise, RDP accounting, DP file metadata.
* ``fixed_point``: the ring Z/2^64 encoding of weighted updates.
* ``masks``: pairwise seeds (ECDH + HKDF) and SHAKE-256 masks.
* ``secagg_files``: masked-update and seed-reveal file formats.
* ``secagg``: masking an update, unmasking a sum with dropout recovery.
* ``keys``: the key-agreement key each member registers at ``join``.

Layer: below ``learning`` and ``aggregation``; imports no chain or IPFS code.
"""

__all__ = ["dp", "fixed_point", "keys", "masks", "secagg", "secagg_files"]
