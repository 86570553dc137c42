"""vogscreen: continuous VOG screening for Dutch education."""

__version__ = "0.1.0"
