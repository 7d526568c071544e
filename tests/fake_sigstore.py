"""Sigstore's signing, offline: no Fulcio, no Rekor, no TUF.

:func:`install` replaces what ``sigstore`` asks the network for, and nothing else: the trust
configuration (``ClientTrustConfig.production``), the signing context (whose signer stands in
for Fulcio and Rekor) and the ambient identity (``sigstore.oidc.detect_credential``, a JWT with
GitHub Actions' claims). The bundle is made with the package's own code and models: its DSSE
envelope by ``sigstore.dsse``'s signing, the Rekor entry from the request sigstore would send,
read back through ``TransparencyLogEntry``, the bundle through ``Bundle``'s checks; only the
certificate is self-signed here and the log's proof is not a real one.

Each statement signed is appended, as its bytes, to the file ``$HWB_TEST_SIGSTORE_LOG`` when
that is set (a subprocess tells the test what it signed).
"""

from __future__ import annotations

import base64
import datetime
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

ISSUER = "https://token.actions.githubusercontent.com"
WORKFLOW = "https://github.com/example/hwbprov/.github/workflows/release.yml@refs/heads/main"


def token() -> str:
    """A JWT with the claims GitHub Actions' OIDC tokens carry (unsigned: sigstore does not
    check the token's signature, Fulcio does)."""
    import jwt

    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "aud": "sigstore",
        "sub": "repo:example/hwbprov:ref:refs/heads/main",
        "job_workflow_ref": WORKFLOW.removeprefix("https://github.com/"),
        "iat": now,
        "nbf": now,
        "exp": now + 300,
    }
    return jwt.encode(claims, "not-a-secret-but-long-enough-for-hs256-keys", algorithm="HS256")


class Signer:
    signed: list[bytes] = []

    def __init__(self, identity: Any) -> None:
        from cryptography.hazmat.primitives.asymmetric import ec

        self.identity = identity
        self.key = ec.generate_private_key(ec.SECP256R1())

    def certificate(self) -> Any:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes
        from cryptography.x509.oid import NameOID, ObjectIdentifier

        now = datetime.datetime.now(datetime.timezone.utc)
        name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "sigstore.dev")])
        issuer_oid = ObjectIdentifier("1.3.6.1.4.1.57264.1.1")  # Fulcio's OIDC issuer (v1)
        return (
            x509.CertificateBuilder()
            .subject_name(x509.Name([]))
            .issuer_name(name)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(minutes=10))
            .add_extension(
                x509.SubjectAlternativeName([x509.UniformResourceIdentifier(WORKFLOW)]),
                critical=True,
            )
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.UnrecognizedExtension(issuer_oid, ISSUER.encode()), critical=False)
            .sign(self.key, hashes.SHA256())
        )

    def sign_dsse(self, statement: Any) -> Any:
        from sigstore import dsse
        from sigstore._internal.rekor.client import RekorClient
        from sigstore.models import Bundle, TransparencyLogEntry

        contents = statement._contents
        Signer.signed.append(contents)
        log = os.environ.get("HWB_TEST_SIGSTORE_LOG")
        if log:
            with open(log, "a", encoding="utf-8") as out:
                out.write(base64.b64encode(contents).decode() + "\n")
        cert = self.certificate()
        envelope = dsse._sign(self.key, statement)
        request = RekorClient._build_dsse_request(None, envelope, cert)  # type: ignore[arg-type]
        zero = "00" * 32
        entry = TransparencyLogEntry._from_v1_response(
            {
                "fake-uuid": {
                    "body": base64.b64encode(json.dumps(request).encode()).decode(),
                    "logIndex": 7,
                    "logID": zero,
                    "integratedTime": int(time.time()),
                    "verification": {
                        "signedEntryTimestamp": base64.b64encode(b"not a real SET").decode(),
                        "inclusionProof": {
                            "logIndex": 7,
                            "rootHash": zero,
                            "treeSize": 8,
                            "hashes": [zero],
                            "checkpoint": "rekor.example - 1\n8\nAAAA\n\n- rekor.example AAAA\n",
                        },
                    },
                }
            }
        )
        return Bundle._from_parts(cert, envelope, entry)


class Context:
    @contextmanager
    def signer(self, identity: Any, *, cache: bool = True) -> Iterator[Signer]:
        yield Signer(identity)


def install(monkeypatch: Any = None, identity: bool = True) -> None:
    """Patch sigstore (with ``monkeypatch`` when given, else for the process's life)."""
    import sigstore.oidc
    from sigstore.models import ClientTrustConfig
    from sigstore.sign import SigningContext

    def patch(owner: Any, name: str, value: Any) -> None:
        if monkeypatch is not None:
            monkeypatch.setattr(owner, name, value)
        else:
            setattr(owner, name, value)

    patch(ClientTrustConfig, "production", classmethod(lambda cls, *a, **k: None))
    patch(SigningContext, "from_trust_config", classmethod(lambda cls, trust: Context()))
    if identity:
        patch(sigstore.oidc, "detect_credential", lambda *a, **k: token())
