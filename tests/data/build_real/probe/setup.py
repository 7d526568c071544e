# Runs inside the build backend: write down which interpreter that is, so a test can read it
# back from the wheel.
import json
import platform
import sys
from pathlib import Path

from setuptools import setup

Path("src/hwbt_probe/built_with.json").write_text(
    json.dumps(
        {
            "prefix": sys.prefix,
            "base_prefix": sys.base_prefix,
            "version": platform.python_version(),
        }
    )
)
setup(package_data={"hwbt_probe": ["built_with.json"]})
