"""Keyless signing with Sigstore (``--sign sigstore``): the statement is signed as a DSSE
envelope by an ephemeral key whose certificate Fulcio issues for the ambient identity (the
GitHub Actions OIDC token), and the signature is logged in Rekor; all through the ``sigstore``
package, imported only here, only when signing.

Three files come of it, beside the wheel: the record (``WHEEL.provenance.json``, the DSSE
envelope, which ``hwb verify`` reads like a key-signed one), the Sigstore bundle
(``WHEEL.provenance.sigstore.json``: envelope, certificate, transparency log entry) and the same
signature as a PEP 740 attestation (``WHEEL.slsa.attestation``, ``pypi-attestations``'s
model, the name ``twine upload --attestations`` pairs with the wheel).
"""

from __future__ import annotations

import functools
import json
from typing import Any

from hwb import BuildError, UsageError

BUNDLE_SUFFIX = ".provenance.sigstore.json"
ATTESTATION_SUFFIX = ".slsa.attestation"
INSTALL = "pip install 'headless-wheel-builder[sigstore]'"
NO_IDENTITY = (
    "run it in GitHub Actions with `permissions: id-token: write`, or sign with a key "
    "(--sign-key FILE)"
)


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0].rstrip(".")


def _require() -> None:
    """One line naming the extra when ``sigstore`` or ``pypi-attestations`` is missing."""
    try:
        import pypi_attestations  # noqa: F401
        import sigstore.sign  # noqa: F401
    except ImportError as exc:
        missing = (exc.name or "sigstore").split(".")[0]
        raise UsageError(
            f"--sign sigstore needs the sigstore and pypi-attestations packages ({missing} is "
            "not installed)",
            hint=INSTALL,
        ) from None


def identity_token() -> Any:
    """The ambient OIDC identity (GitHub Actions' token, or another CI's ``id`` detects); one
    usage error, naming the fix, when there is none."""
    from sigstore.oidc import IdentityError, IdentityToken, detect_credential

    try:
        token = detect_credential()
    except IdentityError as exc:
        raise UsageError(
            f"--sign sigstore cannot get an identity token ({_first_line(exc)})", hint=NO_IDENTITY
        ) from None
    if not token:
        raise UsageError(
            "--sign sigstore found no ambient identity (no OIDC token to sign with)",
            hint=NO_IDENTITY,
        )
    try:
        return IdentityToken(token)
    except IdentityError as exc:
        raise UsageError(
            f"--sign sigstore: the identity token is not usable ({_first_line(exc)})",
            hint=NO_IDENTITY,
        ) from None


@functools.lru_cache(maxsize=1)
def _context() -> Any:
    """The signing context of Sigstore's public instance: its trust root and signing
    configuration, fetched (TUF) once per process, not once per wheel."""
    from sigstore.models import ClientTrustConfig
    from sigstore.sign import SigningContext

    return SigningContext.from_trust_config(ClientTrustConfig.production())


def _bundle(body: bytes) -> Any:
    """The Sigstore bundle of the statement ``body`` (Fulcio and Rekor are asked here)."""
    import sigstore.errors
    from sigstore._internal.fulcio.client import ExpiredCertificate, FulcioClientError
    from sigstore._internal.rekor import RekorClientError
    from sigstore.dsse import Statement
    from sigstore.oidc import ExpiredIdentity

    # What signing raises (sigstore 4): its own errors, Fulcio's and Rekor's clients', and
    # requests' for the network (IOErrors).
    failures = (
        sigstore.errors.Error,
        ExpiredIdentity,
        ExpiredCertificate,
        FulcioClientError,
        RekorClientError,
        OSError,
    )

    token = identity_token()  # afresh for each record: a CI's token expires in minutes
    try:
        statement = Statement(body)
        with _context().signer(token) as signer:
            return signer.sign_dsse(statement)
    except failures as exc:
        raise BuildError(f"signing with Sigstore failed ({_first_line(exc)})") from exc


def sign(body: bytes) -> tuple[dict[str, Any], bytes, bytes]:
    """The record (the DSSE envelope of ``body``, the statement's JSON), the Sigstore bundle
    and the PEP 740 attestation, the last two as the JSON written beside the wheel."""
    _require()
    from cryptography import x509
    from pypi_attestations import Attestation

    from hwb_plugins.provenance.signing import PAYLOAD_TYPE, keyid

    bundle = _bundle(body)
    bundle_json = bundle.to_json()
    dsse = json.loads(bundle_json)["dsseEnvelope"]
    certificate: x509.Certificate = bundle.signing_certificate
    if dsse["payloadType"] != PAYLOAD_TYPE or len(dsse["signatures"]) != 1:
        raise BuildError("signing with Sigstore gave a bundle without one in-toto DSSE signature")
    envelope = {
        "payloadType": PAYLOAD_TYPE,
        "payload": dsse["payload"],
        "signatures": [
            {"keyid": keyid(certificate.public_key()), "sig": dsse["signatures"][0]["sig"]}
        ],
    }
    attestation = Attestation.from_bundle(bundle).model_dump_json()
    return envelope, (bundle_json + "\n").encode(), (attestation + "\n").encode()
