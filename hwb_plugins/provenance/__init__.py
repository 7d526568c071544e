"""Provenance: beside each published wheel, a record of how it was made (an in-toto statement
with a SLSA provenance predicate, :mod:`.record`), published atomically with the wheel through
the ``publish_files`` hook; and ``hwb verify WHEEL``, which checks a wheel against its record
(:mod:`.verify`). What the build environment held is listed once the backend has built the
wheel (:mod:`.environment`). Off with ``[tool.hwb.provenance] enabled = false`` or
``--no-provenance``. With a signing key (``--sign-key``, ``HWB_SIGN_KEY``, or the environment
variable ``sign-key-env`` names) the record is a DSSE envelope of the statement
(:mod:`.signing`); with ``--sign sigstore`` it is one signed keylessly with Sigstore, and the
Sigstore bundle and a PEP 740 attestation are published beside it (:mod:`.keyless`)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hwb import BuildEnv, CliOption, CommandLine, Config, ConfigKey, Reporter, hookimpl

ENABLED = "provenance.enabled"
SIGN_KEY = "provenance.sign-key"
SIGN_KEY_ENV = "provenance.sign-key-env"
SIGN = "provenance.sign"
#: The record's file name is the wheel's with this added.
SUFFIX = ".provenance.json"


@hookimpl
def config_schema() -> dict[str, ConfigKey]:
    return {
        ENABLED: ConfigKey(
            "bool",
            True,
            f"Publish a provenance record (an in-toto statement, SLSA provenance) beside each "
            f"wheel, as WHEEL{SUFFIX}; false (--no-provenance): none.",
        ),
        SIGN_KEY: ConfigKey(
            "path",
            None,
            "A PEM file with the private key (Ed25519 or ECDSA P-256, unencrypted) that signs "
            "each provenance record: the record is then a DSSE envelope of the statement "
            "(--sign-key FILE).",
            env="HWB_SIGN_KEY",
        ),
        SIGN_KEY_ENV: ConfigKey(
            "str",
            None,
            "The name of an environment variable holding the signing key: a PEM file's path or "
            "the PEM text itself (a CI secret); the key itself never goes in configuration. "
            "Used when sign-key is not set; a name whose variable is unset or empty is an error.",
        ),
        SIGN: ConfigKey(
            "str",
            None,
            "How records are signed: key (with sign-key or sign-key-env, which must be set), "
            "sigstore (keyless, with the ambient OIDC identity of GitHub Actions; the Sigstore "
            "bundle and a PEP 740 attestation are published too, WHEEL.provenance.sigstore.json "
            "and WHEEL.slsa.attestation); "
            "unset: with the key when one is set, else unsigned (--sign).",
            choices=("key", "sigstore"),
        ),
    }


@hookimpl
def cli_options(command: str) -> list[CliOption] | None:
    if command not in ("build", "matrix"):
        return None
    return [
        CliOption(
            ("--no-provenance",),
            ENABLED,
            f"Publish no provenance record (WHEEL{SUFFIX}) beside the wheels.",
            is_flag=True,
            flag_value="false",
        ),
        CliOption(
            ("--sign-key",),
            SIGN_KEY,
            "Sign each provenance record with this PEM private key (Ed25519 or ECDSA P-256): "
            "the record is a DSSE envelope.",
            metavar="FILE",
        ),
        CliOption(
            ("--sign",),
            SIGN,
            "Sign the records: sigstore (keyless, the ambient OIDC identity of GitHub Actions; "
            "also writes the Sigstore bundle and a PEP 740 attestation) or key (--sign-key).",
            metavar="sigstore|key",
        ),
    ]


@hookimpl
def after_build_scripts(env: BuildEnv, config: Config, work_dir: Path) -> Any:
    if not config.get(ENABLED):
        return None
    from hwb_plugins.provenance.environment import scripts

    return scripts(env, work_dir)


@hookimpl
def wheel_made(env: BuildEnv, config: Config, work_dir: Path) -> Mapping[str, Any] | None:
    if not config.get(ENABLED):
        return None
    from hwb_plugins.provenance.environment import held, interpreter

    made: dict[str, Any] = {"build_requirements": held(env, work_dir)}
    executable = interpreter(work_dir)
    if executable is not None:
        made["interpreter"] = executable
    return made


@hookimpl
def publish_files(result: Any, reporter: Reporter) -> Mapping[str, bytes] | None:
    if not result.config.get(ENABLED):
        return None
    import json

    from hwb_plugins.provenance.record import statement

    body = json.dumps(statement(result), indent=2, sort_keys=False) + "\n"
    name = result.path.name
    if result.config.get(SIGN) == "sigstore":
        return _sigstore(result.config, body.encode(), name, reporter)
    key = signing_key(result.config)
    if key is not None:
        from hwb_plugins.provenance.signing import sign

        body = json.dumps(sign(body.encode(), key), indent=2) + "\n"
    signed = " (signed)" if key is not None else ""
    reporter.debug(f"provenance record: {name}{SUFFIX}{signed}")
    return {name + SUFFIX: body.encode()}


def _sigstore(config: Config, body: bytes, name: str, reporter: Reporter) -> dict[str, bytes]:
    import json

    from hwb import UsageError
    from hwb_plugins.provenance.keyless import ATTESTATION_SUFFIX, BUNDLE_SUFFIX, sign

    if config.get(SIGN_KEY) or config.get(SIGN_KEY_ENV):
        raise UsageError(
            "--sign sigstore and a signing key (sign-key, sign-key-env) were both given",
            hint="sign either with Sigstore or with the key",
        )
    envelope, bundle, attestation = sign(body)
    reporter.debug(f"provenance record: {name}{SUFFIX} (signed with Sigstore)")
    return {
        name + SUFFIX: (json.dumps(envelope, indent=2) + "\n").encode(),
        name + BUNDLE_SUFFIX: bundle,
        name + ATTESTATION_SUFFIX: attestation,
    }


def signing_key(config: Config) -> Any:
    """The private key records are signed with, or ``None``: ``sign-key``'s file, else what
    the environment variable ``sign-key-env`` names holds (a PEM, or a PEM file's path)."""
    import os

    from hwb import UsageError
    from hwb_plugins.provenance.signing import private_key

    path = config.get(SIGN_KEY)
    if path:
        return private_key(Path(path).expanduser())
    variable = config.get(SIGN_KEY_ENV)
    if not variable:
        if config.get(SIGN) == "key":
            raise UsageError(
                "--sign key needs a signing key, and none is set",
                hint="give it with --sign-key FILE (HWB_SIGN_KEY) or [tool.hwb.provenance] "
                "sign-key-env",
            )
        return None
    value = os.environ.get(variable, "").strip()
    if not value:
        raise UsageError(
            f"the environment variable {variable} ({SIGN_KEY_ENV}) that holds the signing key "
            "is unset or empty",
            hint="set it to the key (PEM) or its file, or leave sign-key-env unset",
        )
    origin = f"the signing key in ${variable}"
    if value.startswith("-----BEGIN"):
        return private_key(text=value + "\n", origin=origin)
    return private_key(Path(value).expanduser(), origin=f"{origin} ({value})")


@hookimpl
def add_commands(cli: CommandLine) -> None:
    from hwb_plugins.provenance.verify import register

    register(cli)
