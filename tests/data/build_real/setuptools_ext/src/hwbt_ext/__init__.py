from hwbt_ext._speedups import abi_version, triangle

__all__ = ["abi_version", "triangle"]
