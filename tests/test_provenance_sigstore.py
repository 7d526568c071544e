"""``--sign sigstore``: the record signed keylessly through the ``sigstore`` package, with the
Sigstore bundle and a PEP 740 attestation beside the wheel.

Offline: :mod:`tests.fake_sigstore` stands in for Fulcio, Rekor and the OIDC token, in the hwb
process itself through a ``sitecustomize`` on ``PYTHONPATH`` (nothing in hwb knows of it); the
bundle and the attestation are the packages' own models, read back here with
``pypi_attestations`` and checked with the certificate's key.
"""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from hwb_core.errors import UsageError
from tests.conftest import assert_clean_error, json_out, write_project

Run = Callable[..., subprocess.CompletedProcess[str]]
REPO = Path(__file__).resolve().parent.parent
SITECUSTOMIZE = f"""
import os, sys
if os.environ.get("HWB_TEST_FAKE_SIGSTORE") and "hwb_core" in sys.orig_argv:
    sys.path.insert(0, {str(REPO)!r})
    from tests.fake_sigstore import install
    install(identity=os.environ["HWB_TEST_FAKE_SIGSTORE"] == "identity")
"""
BACKEND = """
import os, zipfile

def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    name = "hwbsig-1.0-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w") as zf:
        zf.writestr("hwbsig/__init__.py", "X = 1\\n")
        zf.writestr("hwbsig-1.0.dist-info/WHEEL", "Wheel-Version: 1.0\\nTag: py3-none-any\\n")
        zf.writestr(
            "hwbsig-1.0.dist-info/METADATA", "Metadata-Version: 2.1\\nName: hwbsig\\nVersion: 1.0\\n"
        )
        zf.writestr("hwbsig-1.0.dist-info/RECORD", "")
    return name
"""
PROJECT = {
    "pyproject.toml": """
        [build-system]
        requires = []
        build-backend = "backend"
        backend-path = ["."]

        [project]
        name = "hwbsig"
        version = "1.0"

        [tool.hwb.provenance]
        sign = "sigstore"
    """,
    "backend.py": BACKEND,
}
STATEMENT = {
    "_type": "https://in-toto.io/Statement/v1",
    "subject": [{"name": "hwbsig-1.0-py3-none-any.whl", "digest": {"sha256": "0" * 64}}],
    "predicateType": "https://slsa.dev/provenance/v1",
    "predicate": {},
}
#: The variables an ambient identity is detected from (GitHub Actions', GitLab's, ...).
AMBIENT = (
    "ACTIONS_ID_TOKEN_REQUEST_URL",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
    "GITHUB_ACTIONS",
    "GITLAB_CI",
    "BUILDKITE",
    "CIRCLECI",
    "GOOGLE_SERVICE_ACCOUNT_NAME",
    "SIGSTORE_ID_TOKEN",
)


def _build(
    run_hwb: Run, tmp_path: Path, fake: str
) -> tuple[subprocess.CompletedProcess[str], Path]:
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(SITECUSTOMIZE)
    root = write_project(tmp_path / "p", PROJECT)
    out = tmp_path / "out"
    env = {
        "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]),
        "HWB_TEST_FAKE_SIGSTORE": fake,
        "HWB_TEST_SIGSTORE_LOG": str(tmp_path / "signed.txt"),
    }
    # No ambient identity but the fake's: the run must not reach for a real token.
    full = {k: v for k, v in os.environ.items() if k not in AMBIENT} | env
    result = run_hwb(
        "build", str(root), "--isolation", "none", "--no-test", "-o", str(out), "--json", env=full
    )
    return result, out


def test_sign_sigstore_publishes_a_bundle_and_a_pep_740_attestation_of_the_record(
    run_hwb: Run, tmp_path: Path
) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from pypi_attestations import Attestation
    from sigstore.models import Bundle

    from hwb_plugins.provenance.signing import pae

    result, out = _build(run_hwb, tmp_path, "identity")
    built = json_out(result)["wheels"][0]
    wheel = Path(built["path"])
    record, bundle_file, attestation_file = (
        wheel.with_name(wheel.name + suffix)
        for suffix in (".provenance.json", ".provenance.sigstore.json", ".slsa.attestation")
    )
    assert sorted(built["files"]) == sorted(map(str, (record, bundle_file, attestation_file)))
    assert sorted(p.name for p in out.iterdir()) == sorted(
        p.name for p in (wheel, record, bundle_file, attestation_file)
    )
    # What hwb handed the signer is the record's statement: the wheel's name and sha256.
    (signed,) = (base64.b64decode(line) for line in (tmp_path / "signed.txt").read_text().split())
    statement = json.loads(signed)
    assert statement["subject"] == [
        {"name": wheel.name, "digest": {"sha256": hashlib.sha256(wheel.read_bytes()).hexdigest()}}
    ]
    assert statement["predicateType"] == "https://slsa.dev/provenance/v1"
    # The record is the DSSE envelope of those bytes.
    envelope = json.loads(record.read_text())
    assert base64.b64decode(envelope["payload"]) == signed
    # The bundle: sigstore reads it back; its certificate's key made the signature.
    bundle = Bundle.from_json(bundle_file.read_bytes())
    certificate: x509.Certificate = bundle.signing_certificate
    public = certificate.public_key()
    assert isinstance(public, ec.EllipticCurvePublicKey)
    # The attestation: pypi-attestations' model (PEP 740), its statement the same bytes, its
    # signature the certificate key's over DSSE's encoding of them (raises if not).
    attestation = Attestation.model_validate_json(attestation_file.read_bytes())
    assert attestation.envelope.statement == signed and attestation.statement == statement
    public.verify(
        attestation.envelope.signature,
        pae("application/vnd.in-toto+json", signed),
        ec.ECDSA(hashes.SHA256()),
    )
    assert attestation.verification_material.certificate == certificate.public_bytes(
        serialization.Encoding.DER
    )
    assert attestation.to_bundle().signing_certificate == certificate
    # twine upload --attestations pairs it with the wheel: "*.*.attestation", named after it.
    assert fnmatch.fnmatch(attestation_file.name, "*.*.attestation")
    assert attestation_file.name.startswith(wheel.name)
    # hwb verify reads the record like a key-signed one; the certificate's key checks it.
    key = tmp_path / "cert.pub.pem"
    key.write_bytes(
        public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    checked = json_out(run_hwb("verify", str(out), "--key", str(key), "--json"))["wheels"]
    assert [(c["verified"], c["signature_checked"]) for c in checked] == [(True, True)], checked


def test_without_an_identity_sign_sigstore_is_one_line_and_publishes_nothing(
    run_hwb: Run, tmp_path: Path
) -> None:
    result, out = _build(run_hwb, tmp_path, "no-identity")
    line = assert_clean_error(result, 2)
    assert "found no ambient identity" in line and "id-token: write" in line, line
    assert "--sign-key" in line, line
    assert not out.exists() or not list(out.iterdir())


def test_without_the_sigstore_package_the_error_names_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from hwb_plugins.provenance.keyless import sign

    monkeypatch.setitem(sys.modules, "sigstore.sign", None)  # import sigstore.sign fails
    with pytest.raises(UsageError) as caught:
        sign(b"{}")
    assert caught.value.one_line() == (
        "--sign sigstore needs the sigstore and pypi-attestations packages (sigstore is not "
        "installed); pip install 'headless-wheel-builder[sigstore]'"
    )


def test_the_sign_setting_is_checked(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """``sign = "sigstore"`` with a key is refused, ``sign = "key"`` without one too, and
    another value names the two there are; none of it signs or asks for an identity."""
    from hwb_core.config import load_config
    from hwb_core.plugins import PluginManager
    from hwb_plugins.provenance import _sigstore, signing_key

    pm = PluginManager()
    pm.load_core()
    pm.load_entry_points()
    schema = pm.schema()
    both = load_config(
        schema, tool_hwb={"provenance": {"sign": "sigstore", "sign-key-env": "RELEASE_KEY"}}
    )
    with pytest.raises(UsageError, match=r"--sign sigstore and a signing key .* were both given"):
        _sigstore(both, b"{}", "w-1.0-py3-none-any.whl", None)  # type: ignore[arg-type]
    keyless = load_config(schema, tool_hwb={"provenance": {"sign": "key"}})
    with pytest.raises(UsageError, match=r"--sign key needs a signing key"):
        signing_key(keyless)
    with pytest.raises(UsageError) as caught:
        load_config(schema, tool_hwb={"provenance": {"sign": "gpg"}})
    assert "key, sigstore" in caught.value.one_line()


def test_in_github_actions_without_id_token_permission_the_error_names_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from hwb_plugins.provenance.keyless import identity_token

    for name in AMBIENT:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GITHUB_ACTIONS", "true")  # but no token request URL: no permission
    with pytest.raises(UsageError) as caught:
        identity_token()
    line = caught.value.one_line()
    assert line.startswith("--sign sigstore cannot get an identity token (GitHub: "), line
    assert "permissions: id-token: write" in line, line


def test_a_refusal_by_sigstore_s_services_is_one_line_and_a_build_failure(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from sigstore._internal.fulcio.client import FulcioClientError

    from hwb_core.errors import BuildError
    from hwb_plugins.provenance import keyless
    from tests import fake_sigstore

    class Refused(fake_sigstore.Signer):
        def sign_dsse(self, statement: object) -> object:
            raise FulcioClientError("Fulcio refused the certificate request (HTTP 401)")

    class Context:
        @contextmanager
        def signer(self, identity: object, *, cache: bool = True) -> Iterator[Refused]:
            yield Refused(identity)

    fake_sigstore.install(monkeypatch)
    monkeypatch.setattr(keyless, "_context", Context)
    with pytest.raises(BuildError) as caught:
        keyless.sign(json.dumps(STATEMENT).encode())
    assert type(caught.value) is BuildError
    assert caught.value.one_line() == (
        "signing with Sigstore failed (Fulcio refused the certificate request (HTTP 401))"
    )
