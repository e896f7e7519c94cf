"""Click commands, one module each, imported lazily by rotator.cli."""
