from setuptools import Extension, setup

setup(
    ext_modules=[Extension("arc4._arc4", ["src/arc4/_arc4.c"])],
    package_dir={"": "src"},
    packages=["arc4"],
)
