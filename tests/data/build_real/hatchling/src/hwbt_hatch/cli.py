from hwbt_hatch import GREETING


def main() -> None:
    print(GREETING)
