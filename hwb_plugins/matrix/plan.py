"""Planning a matrix: python x platform x arch, less the excludes, each job ready to run or
marked with why it will not (another OS, an architecture nothing here emulates,
requires-python, an interpreter not found)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence

from hwb import (
    BuildRequest,
    Config,
    ConfigError,
    IsolationUnavailable,
    Project,
    PythonInfo,
    PythonNotFound,
    Session,
    UsageError,
    check_outdir,
    extensions,
    host,
    isolation,
    pythons,
    resolve_outdir,
)
from hwb.files import private_dir
from hwb_plugins.matrix import engines
from hwb_plugins.matrix.jobs import (
    FAILED,
    LOG_DIR_NAME,
    OLDEST_AUTO_PYTHON,
    WAITING,
    Job,
    MatrixOptions,
    Plan,
)
from hwb_plugins.matrix.routing import Machine, classify, family_overrides, specifier
from hwb_plugins.matrix.settings import Exclude, parse_excludes


def select_platforms(asked: Sequence[str], config: Config, machine_platform: str) -> list[str]:
    """``--platform``, else ``matrix.platforms``, else this machine's platform plus every
    platform that has a ``[tool.hwb.matrix.<platform>]`` table."""
    names = list(asked) or list(config.get("matrix.platforms"))
    if names:
        return _unique(host.normalize_platform(n) for n in names)
    chosen = [machine_platform] if machine_platform in host.PLATFORMS else []
    for name in host.PLATFORMS:
        if name not in chosen and any(
            config.source(key) != "default"
            for key in config.schema
            if key.startswith(f"matrix.{name}.")
        ):
            chosen.append(name)
    return chosen


def select_arches(
    platform_name: str, asked: Sequence[str], config: Config, machine: Machine
) -> list[str]:
    """``--arch`` (for every platform), else the platform's ``architectures``, else a default:
    this machine's architecture on its own platform, x86_64 and arm64 on macOS (one universal2
    job with ``universal2 = true``), x86_64 elsewhere."""
    if asked:
        return _unique(host.normalize_arch(platform_name, a) for a in asked)
    key = f"matrix.{platform_name}.architectures"
    configured = list(config.get(key))
    try:
        arches = _unique(host.normalize_arch(platform_name, a) for a in configured)
    except UsageError as exc:
        raise ConfigError(f"{key} in {config.source(key)}: {exc.message}", hint=exc.hint) from None
    if platform_name == "macos":
        if config.get("matrix.macos.universal2"):
            return ["universal2"]
        return arches or ["x86_64", "arm64"]
    if arches:
        return arches
    if platform_name == machine.platform:
        return [machine.arch]
    return ["x86_64"]


def auto_pythons(
    found: Iterable[PythonInfo], requires_python: str | None
) -> tuple[list[PythonInfo], list[PythonInfo]]:
    """Every CPython 3.8+ that satisfies ``requires_python``, newest patch release per ABI tag
    (``cp313`` and the free-threaded ``cp313t`` are different wheels). Returns the chosen ones
    and those ``requires_python`` left out."""
    spec = specifier(requires_python)
    best: dict[str, PythonInfo] = {}
    refused: dict[str, PythonInfo] = {}
    for info in found:
        if info.implementation != "cpython" or info.version_tuple[:2] < OLDEST_AUTO_PYTHON:
            continue
        pool = best if spec is None or spec.contains(info.version, prereleases=True) else refused
        current = pool.get(info.abi_tag)
        if current is None or info.version_tuple > current.version_tuple:
            pool[info.abi_tag] = info
    ordered = sorted(best.values(), key=lambda i: (i.version_tuple, i.abi_tag))
    return ordered, sorted(refused.values(), key=lambda i: i.version_tuple)


def python_label(info: PythonInfo) -> str:
    return info.short_version + ("t" if info.abi_tag.endswith("t") else "")


def expand(
    pythons_: Sequence[tuple[str, PythonInfo | None]],
    platforms: Sequence[str],
    arches: Mapping[str, Sequence[str]],
    excludes: Sequence[Exclude] = (),
) -> tuple[list[Job], int]:
    """python x platform x arch, less what ``excludes`` match. Returns the jobs and how many
    were excluded."""
    jobs: list[Job] = []
    excluded = 0
    for label, info in pythons_:
        for platform_name in platforms:
            for arch in arches.get(platform_name, ()):
                if any(ex.matches(label, info, platform_name, arch) for ex in excludes):
                    excluded += 1
                    continue
                jobs.append(Job(python=label, platform=platform_name, arch=arch, interpreter=info))
    return jobs, excluded


def make_plan(
    options: MatrixOptions, session: Session, project: Project, config: Config, machine: Machine
) -> Plan:
    """Every job of the matrix, each ready to run or marked with why it will not."""
    pm = session.pm
    asked_isolation = options.isolation or str(config.get("isolation.strategy"))
    if asked_isolation != "auto":
        problem = pm.require_isolation(asked_isolation).why_unavailable(config)
        if problem:
            raise IsolationUnavailable(f"isolation {asked_isolation!r} cannot run here: {problem}")

    platforms = select_platforms(options.platforms, config, machine.platform)
    if not platforms:
        raise UsageError(
            f"hwb matrix does not know this machine's platform ({machine.platform})",
            hint="name the platforms to build for with --platform",
        )
    arches = {p: select_arches(p, options.arches, config, machine) for p in platforms}
    excludes = parse_excludes(config.get("matrix.exclude"), config.source("matrix.exclude"))
    notes: list[str] = []

    # Interpreters: the list asked for, each found now (once, in this thread), or all found.
    asked = list(options.pythons) or list(config.get("matrix.python"))
    targets: list[tuple[str, PythonInfo | None]] = []
    not_found: dict[str, str] = {}
    if asked:
        seen: dict[str, str] = {}
        for text in asked:
            try:
                # A container strategy asked for by name brings its own interpreters: the
                # version stands in, as for hwb build (the job's container finds it).
                info: PythonInfo | None = pythons.find(pm, config, text, asked_isolation)
            except PythonNotFound as exc:
                info = None
                not_found[text] = exc.one_line()
            except UsageError as exc:
                raise UsageError(f"matrix python {text!r}: {exc.message}", hint=exc.hint) from None
            ident = (info.path or f"{info.implementation} {info.version}") if info else ""
            if info is not None and ident in seen:
                notes.append(f"{text} is the same interpreter as {seen[ident]}; building it once")
                continue
            if info is not None:
                seen[ident] = text
            targets.append((text, info))
    else:
        found, refused = auto_pythons(pythons.list_all(pm, config), project.requires_python)
        if refused:
            notes.append(
                f"requires-python {project.requires_python!r} leaves out "
                + ", ".join(i.version for i in refused)
            )
        if not found:
            raise PythonNotFound(
                "no CPython 3.8 or newer satisfying the project's requires-python "
                f"({project.requires_python or 'any'}) was found",
                hint="install one (uv python install 3.12, pyenv install 3.12) or list them with --python",
            )
        targets = [(python_label(i), i) for i in found]

    if not extensions.of(project).detected:
        jobs, excluded = [_pure_job(targets, project.requires_python, not_found, notes)], 0
    else:
        jobs, excluded = expand(targets, platforms, arches, excludes)
        if not jobs:
            raise UsageError(
                f"the matrix is empty: all {excluded} jobs are excluded",
                hint="check [[tool.hwb.matrix.exclude]] against --python, --platform and --arch",
            )
        for job in jobs:
            classify(
                job,
                machine,
                requires_python=project.requires_python,
                not_found=not_found,
                asked_isolation=asked_isolation,
            )
            if job.status == WAITING and job.platform == "linux":
                job.overrides.update(family_overrides(machine.strategies, config))
        engines.route(jobs, machine.strategies, config, asked_isolation, notes)
        for job in jobs:  # a job an engine elsewhere builds natively was skipped above
            if job.engines and not any(k in job.overrides for k in family_keys(machine)):
                job.overrides.update(family_overrides(machine.strategies, config))
    _distinct_ids(jobs, config)
    for job in jobs:  # a bad override is a configuration error, found before anything runs
        if job.overrides:
            config.with_overrides(job.overrides, source=f"hwb matrix job {job.id}")

    outdir = resolve_outdir(
        BuildRequest(source=options.source, outdir=options.outdir), config, project.root
    )
    log_dir = (options.log_dir or outdir / LOG_DIR_NAME).absolute()
    if not options.plan_only:  # --list and --emit write nothing
        check_outdir(outdir)
        try:
            if options.log_dir is None:  # hwb's own: private, even when made earlier
                private_dir(log_dir)
            else:  # the user's: private when hwb makes it
                log_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            raise UsageError(
                f"log directory {log_dir} cannot be created ({exc.strerror or exc})",
                hint="choose another with --log-dir",
            ) from None
    for job in jobs:
        job.log = log_dir / f"{job.id}.log"

    parallel = options.parallel or int(config.get("matrix.parallel")) or _cpu_count()
    if parallel < 1:
        raise ConfigError("matrix.parallel must be 1 or more", hint="0 means the number of CPUs")
    fail_fast = (
        options.fail_fast if options.fail_fast is not None else bool(config.get("matrix.fail-fast"))
    )
    return Plan(
        jobs=jobs,
        root=project.root,
        outdir=outdir,
        log_dir=log_dir,
        parallel=parallel,
        fail_fast=fail_fast,
        asked_isolation=asked_isolation,
        excluded=excluded,
        notes=notes,
        config=config,
        requires_python=project.requires_python,
    )


def _pure_job(
    targets: Sequence[tuple[str, PythonInfo | None]],
    requires_python: str | None,
    not_found: Mapping[str, str],
    notes: list[str],
) -> Job:
    """A pure-Python project: one py3-none-any wheel, built with the newest interpreter listed."""
    spec = specifier(requires_python)
    usable = [
        (label, info)
        for label, info in targets
        if info is not None and (spec is None or spec.contains(info.version, prereleases=True))
    ]
    if not usable:
        job = Job(
            python=",".join(label for label, _ in targets),
            platform="any",
            arch="any",
            status=FAILED,
        )
        reasons = [not_found[label] for label, _ in targets if label in not_found]
        job.error = (
            "; ".join(reasons)
            if reasons
            else (
                f"no interpreter listed satisfies the project's requires-python {requires_python!r}"
            )
        )
        return job
    label, info = max(usable, key=lambda t: t[1].version_tuple if t[1] else ())
    notes.append(
        f"pure-Python project: one wheel built with Python {info.version if info else label} "
        "serves every version and platform"
    )
    return Job(python=label, platform="any", arch="any", interpreter=info)


def family_keys(machine: Machine) -> list[str]:
    return [k for info in machine.strategies for k in info.capabilities.family_keys.values()]


def _distinct_ids(jobs: Sequence[Job], config: Config) -> None:
    """Linux jobs of a musllinux matrix say so in their ids; two jobs that would share an id
    (``3.12`` and ``3.12.1`` found as different interpreters) get the Python asked for added."""
    if config.get("matrix.linux.musllinux") and not config.get("matrix.linux.manylinux"):
        for job in jobs:
            job.family = "musllinux"
    counts: dict[str, int] = {}
    for job in jobs:
        counts[job.id] = counts.get(job.id, 0) + 1
    for job in jobs:
        if counts[job.id] > 1:
            label = "".join(c if c.isalnum() or c in "._" else "_" for c in job.python).strip("_")
            job.suffix = f"-{label}"


def this_machine(session: Session, config: Config | None = None) -> Machine:
    platform_name = host.host_os()
    isolations = session.pm.isolations()
    cache: dict[str, str | None] = {}

    def problem(name: str) -> str | None:
        if name not in cache:
            info = isolations.get(name)
            cache[name] = (
                session.pm.not_provided(name) if info is None else info.why_unavailable(config)
            )
        return cache[name]

    return Machine(
        platform_name,
        host.host_arch(platform_name),
        host.can_emulate,
        problem,
        isolation.ordered(session.pm, config),
    )


def _unique(items: Iterable[str]) -> list[str]:
    out: list[str] = []
    for item in items:
        if item not in out:
            out.append(item)
    return out


def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1
