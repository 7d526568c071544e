from hwbtested._core import answer

__all__ = ["answer"]
