"""An extension linking a library the build makes in its own temporary directory. With the
library excluded from repair, the wheel does not carry it and nothing else provides it."""

import os
import subprocess

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext


class WithHelper(build_ext):
    def run(self):
        libdir = os.path.abspath(os.path.join(self.build_temp, "helper"))
        os.makedirs(libdir, exist_ok=True)
        target = os.path.join(libdir, "libhwbhelper.so")
        subprocess.check_call(["cc", "-shared", "-fPIC", "-o", target, "helper/helper.c"])
        for ext in self.extensions:
            ext.library_dirs.append(libdir)
            ext.runtime_library_dirs.append(libdir)
        super().run()


setup(
    ext_modules=[Extension("hwbneedslib", ["hwbneedslib.c"], libraries=["hwbhelper"])],
    cmdclass={"build_ext": WithHelper},
)
