"""IPFS fixtures (a real js-ipfs daemon on free loopback ports)."""
