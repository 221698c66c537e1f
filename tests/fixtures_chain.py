"""Chain fixtures (anvil process, in-process py-evm)."""
