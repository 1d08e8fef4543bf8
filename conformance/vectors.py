"""The byte vectors shared by every Echo Lab test suite (vectors.json), and the seeded bytes
the harness makes for each run.

    VECTORS = load_vectors()            # name -> bytes, checked against length and sha256
    payload = seeded_bytes(seed, 1 << 20)
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

VECTORS_FILE = Path(__file__).resolve().parent / "vectors.json"
MASK64 = (1 << 64) - 1


def splitmix64(seed: int, length: int) -> bytes:
    """The vectors' generator, as vectors.json describes it."""
    out = bytearray()
    state = seed
    while len(out) < length:
        state = (state + 0x9E3779B97F4A7C15) & MASK64
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        z ^= z >> 31
        out += z.to_bytes(8, "little")
    return bytes(out[:length])


def load_vectors(path: Path = VECTORS_FILE) -> dict[str, bytes]:
    """Every vector by name, checked against its length and sha256."""
    vectors = {}
    for entry in json.loads(Path(path).read_text())["vectors"]:
        if "hex" in entry:
            data = bytes.fromhex(entry["hex"])
        else:
            data = splitmix64(entry["splitmix64"]["seed"], entry["splitmix64"]["length"])
        if len(data) != entry["length"] or hashlib.sha256(data).hexdigest() != entry["sha256"]:
            raise ValueError(f"{path}: vector {entry['name']!r} does not match its length and sha256")
        vectors[entry["name"]] = data
    return vectors


def derive_seed(seed: int, *names: str) -> int:
    """A 64-bit seed for one case from the run's seed and the case's id: the same case gets the
    same bytes whatever else runs, so `--cases ID --seed N` replays it exactly."""
    text = ":".join([str(seed), *names]).encode()
    return int.from_bytes(hashlib.sha256(text).digest()[:8], "little")


def seeded_bytes(seed: int, length: int) -> bytes:
    """The lab's own generator (splitmix64), so a C++ or any other test can make the same bytes
    from the seed a failure printout names."""
    return splitmix64(seed, length)
