from setuptools import Extension, setup

setup(
    ext_modules=[Extension("yamlext._yaml", ["src/yamlext/_yaml.c"], libraries=["yaml"])],
    package_dir={"": "src"},
    packages=["yamlext"],
)
