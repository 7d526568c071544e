"""Signed records: the statement as a DSSE envelope (https://github.com/secure-systems-lab/dsse).

The envelope is ``{"payloadType": "application/vnd.in-toto+json", "payload": BASE64(statement),
"signatures": [{"keyid": ..., "sig": BASE64(signature)}]}``; what is signed is the
pre-authentication encoding of type and payload (:func:`pae`), with an Ed25519 or ECDSA P-256
(SHA-256) key from a PEM file. ``keyid`` is the sha256 of the public key (DER
SubjectPublicKeyInfo), in hex. All cryptography is the ``cryptography`` package's.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from pathlib import Path
from typing import Any

from hwb import UsageError

PAYLOAD_TYPE = "application/vnd.in-toto+json"
KINDS = "an Ed25519 or ECDSA P-256 key"


def pae(payload_type: str, body: bytes) -> bytes:
    """DSSEv1 pre-authentication encoding: ``"DSSEv1" SP LEN(type) SP type SP LEN(body) SP
    body``, lengths in ASCII decimal, type in UTF-8."""
    kind = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(body), body)


def _check_kind(key: Any, origin: str) -> None:
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519

    if isinstance(key, (ed25519.Ed25519PrivateKey, ed25519.Ed25519PublicKey)):
        return
    if isinstance(key, (ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey)):
        if isinstance(key.curve, ec.SECP256R1):
            return
        raise UsageError(f"{origin} is an ECDSA key on {key.curve.name}; hwb signs with {KINDS}")
    raise UsageError(f"{origin} is a {type(key).__name__.lstrip('_')}; hwb signs with {KINDS}")


def _pem(origin: str, path: Path | None, text: str | None) -> bytes:
    if text is not None:
        return text.encode()
    assert path is not None
    try:
        return path.read_bytes()
    except OSError as exc:
        raise UsageError(f"{origin} cannot be read ({exc.strerror or exc})") from None


def private_key(path: Path | None = None, text: str | None = None, origin: str = "") -> Any:
    """The signing key in the PEM file ``path`` (or the PEM ``text``); one-line usage errors
    for a missing, unreadable, encrypted or public key, or one of another kind."""
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    origin = origin or f"signing key {path}"
    data = _pem(origin, path, text)
    try:
        key = load_pem_private_key(data, password=None)
    except TypeError:  # it wants a password
        raise UsageError(
            f"{origin} is encrypted", hint="give hwb an unencrypted PEM key (kept as a secret)"
        ) from None
    except (ValueError, binascii.Error, UnsupportedAlgorithm) as exc:
        hint = "give the public key to hwb verify --key" if b"PUBLIC KEY" in data else None
        raise UsageError(
            f"{origin} is not a PEM private key ({_first_line(exc)})", hint=hint
        ) from None
    _check_kind(key, origin)
    return key


def public_key(path: Path) -> Any:
    """The public key in the PEM file ``path`` (``hwb verify --key``)."""
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    origin = f"key {path}"
    data = _pem(origin, path, None)
    try:
        key = load_pem_public_key(data)
    except (ValueError, binascii.Error, UnsupportedAlgorithm) as exc:
        hint = "give the public key, not the private one" if b"PRIVATE KEY" in data else None
        raise UsageError(
            f"{origin} is not a PEM public key ({_first_line(exc)})", hint=hint
        ) from None
    _check_kind(key, origin)
    return key


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0].rstrip(".")


def keyid(public: Any) -> str:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    der = public.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


def sign(body: bytes, key: Any) -> dict[str, Any]:
    """The DSSE envelope of ``body`` (the statement's JSON) signed with ``key``."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    message = pae(PAYLOAD_TYPE, body)
    if isinstance(key, ec.EllipticCurvePrivateKey):
        signature = key.sign(message, ec.ECDSA(hashes.SHA256()))
    else:
        signature = key.sign(message)
    return {
        "payloadType": PAYLOAD_TYPE,
        "payload": base64.b64encode(body).decode(),
        "signatures": [
            {"keyid": keyid(key.public_key()), "sig": base64.b64encode(signature).decode()}
        ],
    }


def signed_by(envelope: dict[str, Any], body: bytes, public: Any) -> bool:
    """Whether one of the envelope's signatures (already checked to be base64 strings) is
    ``public``'s over the PAE of its type and ``body``."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    message = pae(envelope["payloadType"], body)
    for entry in envelope["signatures"]:
        signature = base64.b64decode(entry["sig"])
        try:
            if isinstance(public, ec.EllipticCurvePublicKey):
                public.verify(signature, message, ec.ECDSA(hashes.SHA256()))
            else:
                public.verify(signature, message)
        except InvalidSignature:
            continue
        return True
    return False
