"""What the stand-ins share: finding LLVM's tools, and reading Mach-O headers."""

import os
import shutil
import struct
import sys

#: Apple's tool -> the LLVM 14 tool that stands in for it (Debian's llvm-14 package).
LLVM_NAMES = {
    "otool": "llvm-otool",
    "install_name_tool": "llvm-install-name-tool",
    "lipo": "llvm-lipo",
}

_CPU = {7: "i386", 0x01000007: "x86_64", 12: "arm", 0x0100000C: "arm64", 0x0200000C: "arm64_32"}


def llvm(apple_name: str) -> str:
    base = LLVM_NAMES[apple_name]
    for candidate in (f"{base}-14", base):
        found = shutil.which(candidate)
        if found:
            return found
    fallback = f"/usr/lib/llvm-14/bin/{base}"
    if os.path.exists(fallback):
        return fallback
    sys.stderr.write(f"{apple_name} stand-in: {base}-14 not found (apt-get install llvm-14)\n")
    sys.exit(127)


def head(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read(4096)
    except OSError:
        return b""


def is_macho(path: str) -> bool:
    data = head(path)
    if len(data) < 8:
        return False
    if data[:4] in (b"\xca\xfe\xba\xbe", b"\xca\xfe\xba\xbf"):
        return 0 < struct.unpack(">I", data[4:8])[0] < 32  # not a Java class file
    return data[:4] in (b"\xce\xfa\xed\xfe", b"\xcf\xfa\xed\xfe", b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf")


def fat_archs(path: str) -> list[str]:
    """The architectures of a universal (fat) Mach-O file, in file order; [] for anything else."""
    data = head(path)
    if len(data) < 8 or data[:4] not in (b"\xca\xfe\xba\xbe", b"\xca\xfe\xba\xbf"):
        return []
    count = struct.unpack(">I", data[4:8])[0]
    if not 0 < count < 32:
        return []
    entry = 20 if data[:4] == b"\xca\xfe\xba\xbe" else 32
    return [
        _CPU.get(cpu, hex(cpu))
        for cpu in (struct.unpack(">I", data[8 + i * entry : 12 + i * entry])[0] for i in range(count))
    ]
