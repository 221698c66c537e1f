"""Values that come out of seeded training, pinned per numeric platform
(``tests.numeric_platform``): one place, so a new platform is one new column."""

from __future__ import annotations

from tests.numeric_platform import AVX512_AMX, EPYC_AVX512, REFERENCE, pinned

__all__ = ["ADAM_LOSS", "AUDIT_ROUND_MODELS", "EVAL_LOSS", "SHOPPERS_FINAL_CID", "TRAIN_DIGEST",
           "TRAIN_LOSS"]

# tests/node/test_train.py: region 5, logistic regression, 2 epochs (SGD, then Adam).
TRAIN_DIGEST = pinned({
    REFERENCE: "e0e0348fbeb0e84b7323b7ae9d3c7ca3d9d101b9cebae89eadbd5466fff2e488",
    AVX512_AMX: "51e76ddb47c3b9c32f9991466d0661def3672b0f3836ad93299cbeae323b9d7a",
    EPYC_AVX512: "4ece9d6808ad12bcbad3096f6914e363c64ddfa887b81e172240d7b6d67c17c5",
})
TRAIN_LOSS = pinned({REFERENCE: 0.32691131450059846, AVX512_AMX: 0.32691132670312417,
                     EPYC_AVX512: 0.32691133139640327})
ADAM_LOSS = pinned({REFERENCE: 0.4334250925563452, AVX512_AMX: 0.43342510382021504})
EVAL_LOSS = pinned({REFERENCE: 0.32438763976097107, AVX512_AMX: 0.3243876099586487})

# tests/node/test_simulate.py: the shoppers preset, 9 shops, 2 rounds.
SHOPPERS_FINAL_CID = pinned({
    REFERENCE: "bafkreifge7izvf5fr2lrrnsnkpk2v7ey6ts35qmu4jlo2meti53tqubble",
    AVX512_AMX: "bafkreiakmom5xrwwaw3rr5tt6cgnxjjct54fyjhulizrwfmkgomflzhboy",
})

# tests/fixtures_audit.py: the honest task's two round models (3 shops, 2 rounds).
AUDIT_ROUND_MODELS = pinned({
    REFERENCE: ("bafkreihsogi5i4zdicvanjks6nq2wrozjtptbryhjvlmhwcf2op6axbava",
                "bafkreia76uwjia4dkhsrdggdu7d54nfjs7m23mlo5h6ldyefasjpgechji"),
    AVX512_AMX: ("bafkreibnikqsk6r6nudiqxchyqzcxoezrrbjci5vp4qt6yqzvwig6a476e",
                 "bafkreigwl6mulkxog6doj4mtcjcptt7jhiwwswfqdeixw56tejot23r7my"),
})
