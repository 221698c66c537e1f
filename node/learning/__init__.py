"""Local learning: models, the one training loop (DP-SGD is one of its steps),
evaluation, personalization, and the task's training entry points.

* ``models``: the architectures a manifest may name (code on the node, never unpickled).
* ``loss``: the task loss shared by training and evaluation.
* ``train``: ``train_local`` (seeded, single-threaded, bit-exact) and ``evaluate``.
* ``dp_sgd``: record-level DP: per-example clipping and secret-keyed noise, its accounting.
* ``personalize``: fine-tuning the global model on a participant's own rows.
* ``export``: a model as safetensors, ONNX or TorchScript; propensities of raw rows.
* ``task``: manifest + bytes -> genesis model, model weights, a participant's update.

Layer: above ``codec``/``data``/``privacy``; imports no chain or IPFS code.
"""

__all__ = ["dp_sgd", "export", "loss", "models", "personalize", "task", "train"]
