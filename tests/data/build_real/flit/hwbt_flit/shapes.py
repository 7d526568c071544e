def square(x: float) -> float:
    return x * x
