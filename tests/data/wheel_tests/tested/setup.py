from setuptools import Extension, setup

setup(ext_modules=[Extension("hwbtested._core", ["hwbtested/_core.c"])])
