from setuptools import Extension, setup

setup(ext_modules=[Extension("gilfree", ["src/gilfree.c"])])
