"""todo: a small to-do list library and command line."""

__version__ = "0.1.0"
