from setuptools import Extension, setup

setup(
    ext_modules=[Extension("hello_ext._speedups", ["src/hello_ext/_speedups.c"])],
    package_dir={"": "src"},
    packages=["hello_ext"],
)
