from setuptools import Extension, setup

setup(ext_modules=[Extension("hwbt_ext._speedups", ["src/hwbt_ext/_speedups.c"])])
