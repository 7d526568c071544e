"""Signed provenance records and ``hwb verify`` on forged and malformed records.

One real venv build, signed with an Ed25519 key (``--sign-key``), gives the wheel and its DSSE
envelope; each test changes copies. The envelope is checked here with ``cryptography`` alone
(the DSSE pre-authentication encoding written out from the spec), and ``hwb verify`` runs as a
subprocess: a wheel changed after it was built fails ``--key`` even when its record's digest is
rewritten, and every malformed record is an error of use (exit code 2) naming what is wrong."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from hwb import UsageError
from tests.conftest import assert_clean_error, write_project
from tests.test_provenance import PROJECT, strictly_valid

pytestmark = pytest.mark.real

TYPE = "application/vnd.in-toto+json"
PEM = serialization.Encoding.PEM
PKCS8 = serialization.PrivateFormat.PKCS8
SPKI = serialization.PublicFormat.SubjectPublicKeyInfo


def write_keys(key: Any, where: Path, name: str) -> tuple[Path, Path]:
    private = where / f"{name}.pem"
    private.write_bytes(key.private_bytes(PEM, PKCS8, serialization.NoEncryption()))
    public = where / f"{name}.pub.pem"
    public.write_bytes(key.public_key().public_bytes(PEM, SPKI))
    return private, public


class Made:
    def __init__(self, root: Path, cache: Path) -> None:
        self.root = root
        self.env = {**os.environ, "HWB_CACHE_DIR": str(cache), "TMPDIR": str(root)}
        self.env.pop("HWB_DISABLE_PLUGINS", None)
        self.env.pop("HWB_SIGN_KEY", None)
        self.ed = ed25519.Ed25519PrivateKey.generate()
        self.ed_private, self.ed_public = write_keys(self.ed, root, "ed")
        self.ec = ec.generate_private_key(ec.SECP256R1())
        self.ec_private, self.ec_public = write_keys(self.ec, root, "ec")
        self.count = 0

    def hwb(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "hwb_core", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=600,
            stdin=subprocess.DEVNULL,
        )

    def copy(self, record: Any, change: Callable[[Path], None] | None = None) -> Path:
        """A copy of the wheel, changed by ``change``, with ``record`` (a document, or bytes)
        beside it; returns the wheel's path."""
        self.count += 1
        where = self.root / "copies" / str(self.count)
        where.mkdir(parents=True)
        wheel = Path(shutil.copy(self.wheel, where))
        if change is not None:
            change(wheel)
        text = record if isinstance(record, bytes) else json.dumps(record).encode()
        (where / (wheel.name + ".provenance.json")).write_bytes(text)
        return wheel


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory, hwb_cache: Path) -> Made:
    made = Made(tmp_path_factory.mktemp("signed"), hwb_cache)
    project = write_project(made.root / "p", PROJECT)
    out = made.root / "out"
    result = made.hwb(
        *("build", str(project), "-o", str(out), "--isolation", "venv", "--json"),
        *("--sign-key", str(made.ed_private)),
    )
    assert result.returncode == 0, result.stderr
    made.wheel = Path(json.loads(result.stdout)["wheels"][0]["path"])
    made.envelope = json.loads(Path(str(made.wheel) + ".provenance.json").read_text())
    made.statement = json.loads(base64.b64decode(made.envelope["payload"]))
    return made


def pae(payload_type: str, body: bytes) -> bytes:
    """DSSE v1, written out from the spec: "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body."""
    kind = payload_type.encode("utf-8")
    return b" ".join([b"DSSEv1", str(len(kind)).encode(), kind, str(len(body)).encode(), body])


def envelope_of(statement: dict, key: Any) -> dict:
    """A DSSE envelope signed here, with cryptography (an attacker's, or a second signer's)."""
    body = json.dumps(statement).encode()
    if isinstance(key, ec.EllipticCurvePrivateKey):
        sig = key.sign(pae(TYPE, body), ec.ECDSA(hashes.SHA256()))
    else:
        sig = key.sign(pae(TYPE, body))
    return {
        "payloadType": TYPE,
        "payload": base64.b64encode(body).decode(),
        "signatures": [{"keyid": "", "sig": base64.b64encode(sig).decode()}],
    }


def tamper(wheel: Path) -> None:
    """A member added, the same in every copy (so every tampered copy has one digest)."""
    with zipfile.ZipFile(wheel, "a") as zf:
        zf.writestr(zipfile.ZipInfo("hwbprov/evil.py", (2020, 1, 1, 0, 0, 0)), "EVIL = 1\n")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_signed_record_is_a_dsse_envelope_that_cryptography_alone_verifies(
    made: Made,
) -> None:
    envelope = made.envelope
    assert envelope["payloadType"] == TYPE
    body = base64.b64decode(envelope["payload"], validate=True)
    (signature,) = envelope["signatures"]
    public = made.ed.public_key()
    public.verify(base64.b64decode(signature["sig"]), pae(TYPE, body))  # raises if not
    assert (
        signature["keyid"]
        == hashlib.sha256(public.public_bytes(serialization.Encoding.DER, SPKI)).hexdigest()
    )
    statement = made.statement
    assert statement["_type"] == "https://in-toto.io/Statement/v1"
    strictly_valid(statement)  # the in-toto bindings parse the signed payload strictly
    (subject,) = statement["subject"]
    assert subject == {"name": made.wheel.name, "digest": {"sha256": sha256(made.wheel)}}
    # hwb verify: a directory, the signature with --key.
    result = made.hwb("verify", str(made.wheel.parent), "--key", str(made.ed_public), "--json")
    assert result.returncode == 0, result.stderr
    (checked,) = json.loads(result.stdout)["wheels"]
    assert checked["verified"] and checked["signed"] and checked["signature_checked"], checked


def test_a_changed_wheel_fails_verify_key_even_with_its_record_rewritten(made: Made) -> None:
    def forged(statement: dict, wheel_sha256: str) -> dict:
        changed = copy.deepcopy(statement)
        changed["subject"][0]["digest"]["sha256"] = wheel_sha256
        return changed

    evil = sha256(made.copy(b"{}", tamper))
    kept_signature = dict(made.envelope)
    kept_signature["payload"] = base64.b64encode(
        json.dumps(forged(made.statement, evil)).encode()
    ).decode()
    attacker = ed25519.Ed25519PrivateKey.generate()
    wheels = [
        made.copy(kept_signature, tamper),  # the digest rewritten under the old signature
        made.copy(envelope_of(forged(made.statement, evil), attacker), tamper),  # re-signed
        made.copy(forged(made.statement, evil), tamper),  # the signature taken off
        made.copy({**made.envelope, "payload": "e30K"}),  # "{}": the signature comes first
    ]
    assert all(sha256(w) == evil for w in wheels[:3])
    result = made.hwb("verify", *map(str, wheels), "--key", str(made.ed_public), "--json")
    line = assert_clean_error(result, 1)
    assert "is not signed by the key given" in line, line
    problems = [w["problems"] for w in json.loads(result.stdout)["wheels"]]
    assert problems == [
        [f"{wheels[0].name}.provenance.json is not signed by the key given (--key)"],
        [f"{wheels[1].name}.provenance.json is not signed by the key given (--key)"],
        [f"{wheels[2].name}.provenance.json is not signed (a bare statement)"],
        [f"{wheels[3].name}.provenance.json is not signed by the key given (--key)"],
    ]
    # Without --key, --require-signed still refuses the bare statement.
    bare = made.hwb("verify", str(wheels[2]), "--require-signed", "-v")
    assert "is not signed (a bare statement)" in assert_clean_error(bare, 1)


def test_an_ecdsa_p256_key_from_the_environment_signs_records_hwb_verify_checks(
    made: Made, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hwb_core.config import load_config
    from hwb_core.plugins import PluginManager
    from hwb_plugins.provenance import signing_key
    from hwb_plugins.provenance.signing import sign

    pm = PluginManager()
    pm.load_core()
    pm.load_entry_points()
    schema = pm.schema()
    # [tool.hwb.provenance] sign-key-env names the variable; it holds the PEM, or its path.
    config = load_config(schema, tool_hwb={"provenance": {"sign-key-env": "RELEASE_KEY"}})
    for holds in (made.ec_private.read_text(), str(made.ec_private)):
        monkeypatch.setenv("RELEASE_KEY", holds)
        key = signing_key(config)
        assert key.public_key().public_numbers() == made.ec.public_key().public_numbers()
    monkeypatch.delenv("RELEASE_KEY")
    with pytest.raises(UsageError, match=r"RELEASE_KEY .* is unset or empty"):
        signing_key(config)
    # HWB_SIGN_KEY sets sign-key, which comes before sign-key-env.
    both = load_config(
        schema,
        tool_hwb={"provenance": {"sign-key-env": "RELEASE_KEY"}},
        environ={"HWB_SIGN_KEY": str(made.ed_private)},
    )
    assert isinstance(signing_key(both), ed25519.Ed25519PrivateKey)
    body = json.dumps(made.statement).encode()
    envelope = sign(body, key)
    (signature,) = envelope["signatures"]
    made.ec.public_key().verify(
        base64.b64decode(signature["sig"]), pae(TYPE, body), ec.ECDSA(hashes.SHA256())
    )
    wheel = made.copy(envelope)
    good = made.hwb("verify", str(wheel), "--key", str(made.ec_public))
    assert good.returncode == 0 and "signature checked" in good.stderr, good.stderr


def test_bad_keys_are_one_line_errors_of_use(made: Made, tmp_path: Path) -> None:
    from hwb_plugins.provenance.signing import private_key, public_key

    encrypted = tmp_path / "encrypted.pem"
    encrypted.write_bytes(
        made.ed.private_bytes(PEM, PKCS8, serialization.BestAvailableEncryption(b"secret"))
    )
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    rsa_file = tmp_path / "rsa.pem"
    rsa_file.write_bytes(rsa_key.private_bytes(PEM, PKCS8, serialization.NoEncryption()))
    p384, _ = write_keys(ec.generate_private_key(ec.SECP384R1()), tmp_path, "p384")
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a key\n")
    for path, message in [
        (encrypted, "is encrypted"),
        (rsa_file, "is a RSAPrivateKey; hwb signs with an Ed25519 or ECDSA P-256 key"),
        (p384, "is an ECDSA key on secp384r1"),
        (garbage, "is not a PEM private key"),
        (made.ed_public, "is not a PEM private key"),
        (tmp_path / "missing.pem", "cannot be read (No such file or directory)"),
    ]:
        with pytest.raises(UsageError, match=re.escape(message)):
            private_key(path)
    for path, message in [
        (made.ed_private, "is not a PEM public key"),
        (garbage, "is not a PEM public key"),
    ]:
        with pytest.raises(UsageError, match=message):
            public_key(path)
    result = made.hwb("verify", str(made.wheel), "--key", str(made.ed_private))
    line = assert_clean_error(result, 2)
    assert "is not a PEM public key" in line and "not the private one" in line, line


# --------------------------------------------------------------------------- the table


def _set(path: str, value: Any) -> Callable[[dict], None]:
    """Set (or with ``...`` delete) the field at the dotted ``path`` of a statement."""

    def change(doc: dict) -> None:
        *parents, last = path.split(".")
        for part in parents:
            doc = doc[int(part)] if isinstance(doc, list) else doc[part]
        key: Any = int(last) if isinstance(doc, list) else last
        if value is ...:
            del doc[key]
        else:
            doc[key] = value

    return change


def _extra_subject(doc: dict) -> None:
    doc["subject"].append({"name": "other-1.0-py3-none-any.whl", "digest": {"sha256": "0" * 64}})


RUN = "predicate.runDetails"
BUILD = "predicate.buildDefinition"
#: (what is changed, expected exit code of hwb verify, a fragment of its problem)
TABLE: list[tuple[str, Callable[[dict], None] | bytes, int, str]] = [
    ("subject a string", _set("subject", "wheel"), 2, "no list of subjects"),
    ("no subject", _set("subject", ...), 2, "no list of subjects"),
    ("no subjects", _set("subject", []), 2, "has 0 subjects"),
    ("extra subject", _extra_subject, 2, "has 2 subjects"),
    ("subject not an object", _set("subject", [1]), 2, "subject[0] is a int, not an object"),
    ("subject name missing", _set("subject.0.name", ...), 2, "subject[0].name is missing"),
    ("digest a list", _set("subject.0.digest", ["sha256"]), 2, "digest is a list, not an"),
    ("digest null", _set("subject.0.digest", None), 2, "subject[0].digest is missing"),
    ("no sha256", _set("subject.0.digest", {"sha512": "ab"}), 2, "digest has no sha256"),
    ("sha256 a number", _set("subject.0.digest", {"sha256": 1}), 2, "sha256 is not a string"),
    ("sha256 not hex", _set("subject.0.digest.sha256", "XYZ"), 2, "not 64 lowercase hex"),
    ("missing _type", _set("_type", ...), 2, "is not an in-toto statement (_type None"),
    ("wrong _type", _set("_type", "https://in-toto.io/Statement/v0.1"), 2, "_type 'https"),
    ("wrong predicateType", _set("predicateType", "https://slsa.dev/provenance/v0.2"), 2, "v0.2"),
    ("no predicate", _set("predicate", ...), 2, "predicate is missing"),
    ("predicate a string", _set("predicate", "built"), 2, "predicate is a str, not an object"),
    ("runDetails null", _set(RUN, None), 2, "predicate.runDetails is missing"),
    ("no builder id", _set(f"{RUN}.builder", {}), 2, "runDetails.builder.id is missing"),
    ("byproducts an object", _set(f"{RUN}.byproducts", {}), 2, "byproducts is a dict"),
    ("no buildDefinition", _set(BUILD, ...), 2, "buildDefinition is missing"),
    ("buildType a number", _set(f"{BUILD}.buildType", 3), 2, "buildType is not a string"),
    ("deps [1, null]", _set(f"{BUILD}.resolvedDependencies", [1, None]), 2, "[0] is a int"),
    ("dep digest a list", _set(f"{BUILD}.resolvedDependencies.0.digest", []), 2, "[0].digest"),
    ("dep name a number", _set(f"{BUILD}.resolvedDependencies.0.name", 7), 2, "[0].name is not"),
    ("dep a name alone", _set(f"{BUILD}.resolvedDependencies.0", {"name": "x"}), 2, "none of uri"),
    ("byproduct content", _set(f"{RUN}.byproducts.0.content", "%%"), 2, "content is not base64"),
    ("not JSON", b"{not json", 2, "cannot be read"),
    ("a JSON list", b"[]", 2, "the statement is a list, not an object"),
    ("another wheel's", _set("subject.0.name", "other-1.0-py3-none-any.whl"), 1, "record is of"),
    ("digest rewritten", _set("subject.0.digest.sha256", "0" * 64), 1, "changed after it was"),
]


def _envelope_changes() -> list[tuple[str, Callable[[dict], None], str]]:
    return [
        ("payloadType other", _set("payloadType", "text/plain"), "payloadType is 'text/plain'"),
        ("payload not base64", _set("payload", "%%%"), "payload is not base64"),
        ("signatures missing", _set("signatures", ...), "has no signatures list"),
        ("sig a number", _set("signatures", [{"sig": 5}]), "signature is not {keyid, sig"),
    ]


def test_every_forged_or_malformed_record_fails_and_says_why(made: Made) -> None:
    assert len(TABLE) + len(_envelope_changes()) >= 20
    wheels: list[Path] = []
    for _name, change, _code, _fragment in TABLE:
        if isinstance(change, bytes):
            wheels.append(made.copy(change))
        else:
            statement = copy.deepcopy(made.statement)
            change(statement)
            wheels.append(made.copy(statement))
    for _name, change, _fragment in _envelope_changes():
        envelope = copy.deepcopy(made.envelope)
        change(envelope)
        wheels.append(made.copy(envelope))
    expected = [(n, c, f) for n, _, c, f in TABLE] + [(n, 2, f) for n, _, f in _envelope_changes()]
    wheels.append(made.copy(b""))
    Path(f"{wheels[-1]}.provenance.json").unlink()
    expected.append(("no record", 2, "no provenance record"))
    # Every wheel in one run (each reported), then a few alone, as a user would run them.
    result = made.hwb("verify", *map(str, wheels), "--json")
    assert_clean_error(result, 2)
    assert "internal error" not in result.stderr
    reports = json.loads(result.stdout)["wheels"]
    for (name, code, fragment), report in zip(expected, reports, strict=True):
        (problem,) = report["problems"]
        assert fragment in problem, (name, problem)
        assert report["usage_error"] is (code == 2), (name, report)
        assert "changed after it was built" not in problem or name == "digest rewritten", name
    from hwb_plugins.provenance.verify import wheels_of

    with pytest.raises(UsageError, match="no wheels"):
        wheels_of((made.root / "p",))
    for number in (0, 8):  # the subject a string; no sha256
        alone = made.hwb("verify", str(wheels[number]))
        line = assert_clean_error(alone, 2)
        assert expected[number][2] in line and "-vvv" not in line, line
