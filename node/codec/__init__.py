"""The bytes that travel: canonical safetensors files and flat parameter vectors.

* ``safetensors``: encode/decode tensors canonically (names sorted, float32 little-endian,
  no timestamps), strict validation of untrusted files; never pickle.
* ``flat``: a layout's tensors as one float64 vector and back (the aggregation view).
* ``model_file``: a global-model file = weights + the server optimizer's state tensors.

Layer: above ``node.errors``; imports no chain or IPFS code.
"""

__all__ = ["flat", "model_file", "safetensors"]
