def main() -> None:
    print("hello from pdm")
