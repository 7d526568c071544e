def main() -> None:
    print("hello from poetry")
