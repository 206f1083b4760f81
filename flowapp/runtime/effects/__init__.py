"""Adapters that carry out the engine's commands against the outside world."""
