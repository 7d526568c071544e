import os

from setuptools import Extension, setup

# The directory holding the stand-in libcuda.so (built by the tests from fakecuda/cuda.c).
cuda_lib = os.environ["HWBT_FAKE_CUDA"]

setup(
    ext_modules=[
        Extension(
            "cudaext._cuda", ["src/cudaext/_cuda.c", "src/cudaext/_yaml_user.c"],
            libraries=["cuda", "yaml"], library_dirs=[cuda_lib],
        )
    ],
    package_dir={"": "src"},
    packages=["cudaext"],
)
