"""Shared pytest configuration: fixtures live in plugin modules, one per external system."""

pytest_plugins = [
    "tests.fixtures_chain",
    "tests.fixtures_ipfs",
]
