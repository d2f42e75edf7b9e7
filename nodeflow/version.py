"""nodeflow's version, in a module of its own so that any part of the engine can name it without
importing the package's public API (which imports most of the engine)."""

__version__ = "0.1.0"
