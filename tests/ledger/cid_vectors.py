"""CID vectors shared by the content-store tests.

Each expected CID was recorded from a real IPFS node (js-ipfs 0.66.1, whose CIDs
equal kubo's) with ``add --cid-version 1 --raw-leaves --chunker size-262144``; the
node answered base58btc, written here in canonical base32. The inputs are
deterministic: a 251-byte cycle (251 is prime, so every 256 KiB chunk starts at a
different phase and the leaves differ), seeded random bytes, and zeros (identical
leaves, linked many times).
"""

from __future__ import annotations

import random

from ledger.unixfs import CHUNK_SIZE

MIB = 1024 * 1024


def cycle(n: int) -> bytes:
    """``n`` bytes of the repeating sequence 0, 1, ..., 250."""
    return (bytes(range(251)) * (n // 251 + 1))[:n]


def vector_input(name: str) -> bytes:
    """Rebuild the input of vector ``name`` (built lazily: some are 45 MB)."""
    return _INPUTS[name]()


_INPUTS = {
    "empty": lambda: b"",
    "one_byte": lambda: b"a",
    "hello_world": lambda: b"hello world\n",
    "one_chunk": lambda: cycle(CHUNK_SIZE),
    "one_chunk_plus_1": lambda: cycle(CHUNK_SIZE + 1),
    "chunks_174": lambda: cycle(174 * CHUNK_SIZE),
    "chunks_174_plus_1": lambda: cycle(174 * CHUNK_SIZE + 1),
    "random_5mb": lambda: random.Random(2024).randbytes(5 * MIB + 12345),
    "zeros_3mb": lambda: bytes(3 * MIB),
}

VECTORS = {
    "empty": "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku",
    "one_byte": "bafkreigks6arfsq3xxfpvqrrwonchxcnu6do76auprhhfomao6c273sixm",
    "hello_world": "bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4",
    "one_chunk": "bafkreibruh455iawsviqslif5c7uurdcfdemh22mtnytyzvnzn75kpejxy",
    "one_chunk_plus_1": "bafybeiexg2oqkfnj56l7fcmawswqbijt5shq4b5rg6a546uwpkqqzwjioi",
    "chunks_174": "bafybeihpe5snhzneq7xs53nivmsopto5lrogo3wjynauqylqeym5a3irbm",
    "chunks_174_plus_1": "bafybeib4y7ghw2rq7bracc4xwtxrbzo7cfvagdpte2tmrkgwl6dyard3cm",
    "random_5mb": "bafybeicx2j24c66savjrbsy2dijzajdaadiykiivbzyvzxz2sgzaisu6li",
    "zeros_3mb": "bafybeid6cfsaebdlldcfoaqszmw4k2qtxh6swwzw4tyf43e7seylmat3hy",
}

# The same vectors as js-ipfs spelled them (base58btc CIDv1).
JS_IPFS_SPELLING = {
    "empty": "zb2rhmy65F3REf8SZp7De11gxtECBGgUKaLdiDj7MCGCHxbDW",
    "hello_world": "zb2rhi36Gc9GJWijLEL6zW45MBux5FcFv5gJmjXA7VAMozEXY",
    "one_chunk_plus_1": "zdj7WfcAwaJfvcq62CZPSbbGp2ETJuvaJStaopHDNKgkd2b8D",
    "chunks_174_plus_1": "zdj7WZXAF6vryzqkySdSnfpybnCFCkFNQU16BRnNtvshbrXJz",
}

# `ipfs add` with kubo's defaults (CIDv0, dag-pb leaves holding the data).
HELLO_WORLD_V0 = "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o"
