"""Rules: pure functions over market history, registered by name (see registry.py)."""
