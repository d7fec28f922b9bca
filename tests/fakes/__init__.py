"""Test doubles fed from recorded real-machine facts: a fake pynvml and fake torch packages."""
