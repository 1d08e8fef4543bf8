"""Discover the lab's programs from their `echo-lab.json` manifests (see MANIFESTS.md).

    from conformance.manifest import discover
    for impl in discover():
        if impl.available:
            argv = impl.command("::", 0)

`discover()` raises ManifestError when any manifest is malformed; `scan()` returns the valid
manifests and the errors side by side, for callers that want to carry on with the rest.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shlex
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from conformance import toolchains

MANIFEST_NAME = "echo-lab.json"
SEARCH_DIRS = ("cpp", "reference")
# Directories that never hold a manifest but can be huge (dependencies, build trees).
PRUNE_DIRS = {"node_modules", "target", "build", "__pycache__"}

ROLES = ("server", "client")
VARIANTS = {
    "server": ("bad", "naive", "iterative", "multi", "async"),
    "client": ("bad", "naive", "blocking", "threaded", "async"),
}
# Variants that break the contract on purpose: `bad` reproduces the chapter's Bad programs,
# `naive` is a language's tutorial program with no error handling beyond what the language forces.
# Both list their flaws, and may list their own conformance cases as expected failures.
DELIBERATE = ("bad", "naive")
CAPABILITIES = {
    "concurrent": "server",
    "bye": "server",
    "half_close": "server",
    "graceful_stop": "server",
    "idle_timeout": "server",
    "max_connections": "server",
    "drain": "server",
    "raw": "client",
}
# Capabilities that are a command-line flag: the harness passes it through {options}.
FLAGS = {
    "idle_timeout": "--idle-timeout SECONDS",
    "max_connections": "--max-connections N",
    "drain": "--drain-timeout SECONDS",
}
# Placeholders a template may use; the first three are known when the manifest is read.
PATH_PLACEHOLDERS = ("root", "build", "dir")
RUN_PLACEHOLDERS = PATH_PLACEHOLDERS + ("host", "port", "options")
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")

TOP_FIELDS = {"language", "requires", "build", "implementations"}
IMPL_FIELDS = {"id", "role", "variant", "summary", "run", "artifacts", "capabilities", "flaws",
               "expected_failures"}
# Case ids are `<role>/<group>/<name>`; a program's expected failures name its own cases or pairs,
# and a server's may name robustness cases (`robust/...`), which a good design can fail too.
CASE_GLOB_RE = re.compile(r"[a-z0-9*?\[\]/._-]+")
LANGUAGE_RE = re.compile(r"[a-z][a-z0-9+#]*")
ID_RE = re.compile(r"[a-z0-9]+(-[a-z0-9]+)+")


def default_root() -> Path:
    """The repository's top directory: $ECHO_LAB_ROOT, else the parent of this package."""
    env = os.environ.get("ECHO_LAB_ROOT")
    return Path(env).resolve() if env else Path(__file__).resolve().parent.parent


class ManifestError(Exception):
    """One or more problems in manifests; each message names the file and the field."""

    def __init__(self, messages: list[str], path: Path | None = None):
        super().__init__("\n".join(messages))
        self.messages = list(messages)
        self.path = path


@dataclass(frozen=True)
class Implementation:
    id: str
    language: str
    role: str
    variant: str
    summary: str
    capabilities: tuple[str, ...]
    flaws: tuple[str, ...]
    directory: Path  # the manifest's directory, where the program runs
    available: bool
    reason: str | None  # why it is unavailable, None when available
    run: str  # the command template, as written
    manifest: Path
    root: Path
    artifacts: tuple[Path, ...] = ()
    expected_failures: tuple[tuple[str, str], ...] = ()  # (case-id glob, reason)
    untrusted: bool = False  # a student's program: it runs in a sandbox (conformance/net/sandbox.py)
    fixed_port: int = 2000  # where it listens or connects when its template has no {port}

    def has(self, capability: str) -> bool:
        return capability in self.capabilities

    @property
    def deliberate(self) -> bool:
        """A variant whose failures are the lesson (bad, naive): graded against its documented
        expected failures, never a partner for another program's pairs."""
        return self.variant in DELIBERATE

    @property
    def takes_port(self) -> bool:
        """Whether the run template passes the port: a program written without {port} listens on
        (or connects to) a fixed port, the chapter's 2000."""
        return "{port}" in self.run

    @property
    def takes_host(self) -> bool:
        return "{host}" in self.run

    def expected_failure(self, case_id: str) -> str | None:
        """Why this program is documented to fail `case_id`, or None."""
        for pattern, reason in self.expected_failures:
            if fnmatch.fnmatchcase(case_id, pattern):
                return reason
        return None

    def command(self, host: str, port: int | str, options: Iterable[str] = ()) -> list[str]:
        """The argv for this program: the run template split like a shell would, then each
        word's placeholders replaced (a value with spaces stays one word). `{options}` as a
        word becomes the given option words, or disappears when there are none."""
        if isinstance(options, str):
            raise TypeError("options is a list of words, not a string")
        options = list(options)
        words = shlex.split(self.run)
        if options and "{options}" not in words:
            raise ValueError(f"{self.id}: run template has no {{options}} for {options}")
        values = _path_values(self.root, self.directory)
        values.update(host=str(host), port=str(port))
        argv: list[str] = []
        for word in words:
            if word == "{options}":
                argv.extend(options)
            else:
                argv.append(_substitute(word, values))
        return argv


@dataclass(frozen=True)
class Manifest:
    path: Path
    language: str
    requires: tuple[str, ...]
    build: str | None
    implementations: tuple[Implementation, ...]
    root: Path
    missing: str | None = None  # the first `requires` command not on PATH

    @property
    def directory(self) -> Path:
        return self.path.parent

    def build_command(self) -> str | None:
        """The `build` shell command with {root}, {build} and {dir} filled in (quoted)."""
        if self.build is None:
            return None
        values = {k: shlex.quote(v) for k, v in _path_values(self.root, self.directory).items()}
        return _substitute(self.build, values)


@dataclass
class Scan:
    manifests: list[Manifest] = field(default_factory=list)
    errors: list[ManifestError] = field(default_factory=list)

    @property
    def implementations(self) -> list[Implementation]:
        return [impl for m in self.manifests for impl in m.implementations]


def discover(root: Path | str | None = None) -> list[Implementation]:
    """Every implementation under cpp/ and reference/; raises ManifestError listing every
    problem when any manifest is malformed."""
    result = scan(root)
    if result.errors:
        raise ManifestError([msg for e in result.errors for msg in e.messages])
    return result.implementations


def scan(root: Path | str | None = None) -> Scan:
    """Read every manifest under cpp/ and reference/; malformed ones go to `errors`."""
    root = Path(root).resolve() if root is not None else default_root()
    result = Scan()
    seen: dict[str, Path] = {}
    for path in manifest_paths(root):
        try:
            manifest = load_manifest(path, root, seen)
        except ManifestError as e:
            result.errors.append(e)
            continue
        for impl in manifest.implementations:
            seen[impl.id] = path
        result.manifests.append(manifest)
    return result


def manifest_paths(root: Path) -> list[Path]:
    found = []
    for top in SEARCH_DIRS:
        for dirpath, dirnames, filenames in os.walk(root / top):
            dirnames[:] = sorted(d for d in dirnames if d not in PRUNE_DIRS and not d.startswith("."))
            if MANIFEST_NAME in filenames:
                found.append(Path(dirpath) / MANIFEST_NAME)
    return found


def load_manifest(path: Path, root: Path, seen_ids: dict[str, Path] | None = None,
                  student: bool = False) -> Manifest:
    """Read and validate one manifest. `seen_ids` maps ids already taken to their manifest. A
    `student` manifest (a submission's, a starter's) may describe a program as written: no
    {host}, {port} or {options} needed."""
    path = Path(path).resolve()
    root = Path(root).resolve()
    rel = _relative(path, root)
    problems = _Problems(rel)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as e:
        raise ManifestError([f"{rel}: cannot read: {e}"], path) from None
    except json.JSONDecodeError as e:
        raise ManifestError([f"{rel}: not valid JSON: {e.msg} at line {e.lineno} column {e.colno}"], path) from None
    if not isinstance(data, dict):
        raise ManifestError([f"{rel}: the top level must be a JSON object"], path)

    for key in sorted(set(data) - TOP_FIELDS):
        problems.add(key, f"unknown field (expected: {', '.join(sorted(TOP_FIELDS))})")
    language = data.get("language")
    if not isinstance(language, str) or not LANGUAGE_RE.fullmatch(language):
        problems.add("language", f"must be a lower-case language name, got {language!r}")
        language = None
    requires = _string_list(data, "requires", problems, "requires")
    build = data.get("build")
    if build is not None:
        if not isinstance(build, str) or not build.strip():
            problems.add("build", "must be a non-empty shell command when present")
            build = None
        else:
            _check_placeholders(build, PATH_PLACEHOLDERS, "build", problems)

    impls_data = data.get("implementations")
    if not isinstance(impls_data, list) or not impls_data:
        problems.add("implementations", "must be a non-empty list")
        impls_data = []

    search = toolchains.search_path()
    missing = next((cmd for cmd in requires if shutil.which(cmd, path=search) is None), None)
    ids_here: set[str] = set()
    impls = []
    for index, item in enumerate(impls_data):
        impl = _load_implementation(item, index, language, requires, missing, path, root, problems, student)
        if impl is None:
            continue
        where = f"implementations[{index}].id"
        if impl.id in ids_here:
            problems.add(where, f"duplicate id {impl.id!r} (used earlier in this file)")
        elif seen_ids and impl.id in seen_ids:
            problems.add(where, f"duplicate id {impl.id!r} (already used by {_relative(seen_ids[impl.id], root)})")
        ids_here.add(impl.id)
        impls.append(impl)

    if problems.messages:
        raise ManifestError(problems.messages, path)
    return Manifest(path=path, language=language, requires=tuple(requires), build=build,
                    implementations=tuple(impls), root=root, missing=missing)


def _load_implementation(item, index, language, requires, missing, path, root, problems, student=False):
    prefix = f"implementations[{index}]"
    if not isinstance(item, dict):
        problems.add(prefix, "must be a JSON object")
        return None
    if isinstance(item.get("id"), str):
        prefix += f" ({item['id']})"
    count = len(problems.messages)

    def add(name: str, message: str) -> None:
        problems.add(f"{prefix}.{name}", message)

    for key in sorted(set(item) - IMPL_FIELDS):
        add(key, f"unknown field (expected: {', '.join(sorted(IMPL_FIELDS))})")
    impl_id = item.get("id")
    if not isinstance(impl_id, str) or not ID_RE.fullmatch(impl_id):
        add("id", f"must be lower case with dashes, like '<language>-<program>', got {impl_id!r}")
    elif language and not impl_id.startswith(language + "-"):
        add("id", f"{impl_id!r} must start with the language: '{language}-'")
    role = item.get("role")
    if role not in ROLES:
        add("role", f"{role!r} is not one of: {', '.join(ROLES)}")
    variant = item.get("variant")
    if role in ROLES and variant not in VARIANTS[role]:
        add("variant", f"{variant!r} is not a {role} variant (one of: {', '.join(VARIANTS[role])})")
    summary = item.get("summary")
    if not isinstance(summary, str) or not summary.strip():
        add("summary", "must be a non-empty one-line string")
    elif "\n" in summary:
        add("summary", "must be one line")

    capabilities = _string_list(item, "capabilities", problems, f"{prefix}.capabilities")
    for cap in capabilities:
        if cap not in CAPABILITIES:
            add("capabilities", f"unknown capability {cap!r} (known: {', '.join(sorted(CAPABILITIES))})")
        elif role in ROLES and CAPABILITIES[cap] != role:
            add("capabilities", f"{cap!r} is a {CAPABILITIES[cap]} capability, but this is a {role}")
    flaws = _string_list(item, "flaws", problems, f"{prefix}.flaws")
    if variant in DELIBERATE and not flaws:
        add("flaws", f"a {variant} variant must list its deliberate flaws")
    elif variant not in DELIBERATE and flaws:
        add("flaws", "only bad and naive variants list flaws")

    expected_failures = _expected_failures(item, role, variant, add)

    run = item.get("run")
    if not isinstance(run, str) or not run.strip():
        add("run", "must be a non-empty command template")
    else:
        check_run(run, capabilities, lambda msg: add("run", msg), as_written=student)
        # The harness and the tests pass extra flags (--raw, a server's options, deliberately bad
        # ones) through {options}; a lab program's template must leave room for them.
        if "{options}" not in run and "raw" not in capabilities and not student:
            add("run", "missing placeholder {options} (every lab program's template has one)")
    artifact_templates = _string_list(item, "artifacts", problems, f"{prefix}.artifacts")
    for template in artifact_templates:
        _check_placeholders(template, PATH_PLACEHOLDERS, f"{prefix}.artifacts", problems)

    if len(problems.messages) > count:
        return None
    directory = path.parent
    values = _path_values(root, directory)
    artifacts = tuple(directory / _substitute(t, values) for t in artifact_templates)
    reason = None
    if missing:
        reason = f"{missing} not found on PATH"
    else:
        for artifact in artifacts:
            if not artifact.exists():
                reason = f"not built: {_relative(artifact, root)} is missing (run make peers)"
                break
    return Implementation(
        id=impl_id, language=language, role=role, variant=variant, summary=summary.strip(),
        capabilities=tuple(capabilities), flaws=tuple(flaws), directory=directory,
        available=reason is None, reason=reason, run=run, manifest=path, root=root,
        artifacts=artifacts, expected_failures=expected_failures, untrusted=student)


def _expected_failures(item: dict, role, variant, add) -> tuple[tuple[str, str], ...]:
    """`expected_failures`: {"case-id-glob": "reason"}; each glob names this role's cases
    (`server/...` or `client/...`) or pair cases (`pair/...`), and only the deliberate variants
    (bad, naive) list those; a server of any variant may list robustness cases (`robust/...`) its
    design cannot pass."""
    value = item.get("expected_failures")
    if value is None:
        return ()
    if not isinstance(value, dict) or not value:
        add("expected_failures", 'must be a non-empty object: {"case-id-glob": "reason", ...}')
        return ()
    deliberate = variant in DELIBERATE
    prefixes = ((f"{role}/", "pair/") if deliberate else ()) + (("robust/",) if role == "server" else ())
    for pattern, reason in value.items():
        if not deliberate and not (role == "server" and pattern.startswith("robust/")):
            add("expected_failures", f"{pattern!r}: only bad and naive variants list expected failures"
                                     + (" (a server of any variant may list robustness cases, robust/...)"
                                        if role == "server" else ""))
        elif not CASE_GLOB_RE.fullmatch(pattern) or not pattern.startswith(prefixes):
            add("expected_failures", f"{pattern!r} is not a case-id glob starting with "
                                     + " or ".join(repr(p) for p in prefixes))
        if not isinstance(reason, str) or not reason.strip():
            add("expected_failures", f"{pattern!r}: the reason must be a non-empty string")
    return tuple(value.items())


class _Problems:
    def __init__(self, rel: str):
        self.rel = rel
        self.messages: list[str] = []

    def add(self, where: str, message: str) -> None:
        self.messages.append(f"{self.rel}: {where}: {message}")


def _string_list(data: dict, key: str, problems: _Problems, where: str) -> list[str]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        problems.add(where, "must be a list of non-empty strings")
        return []
    return value


def _check_placeholders(template: str, allowed: tuple[str, ...], where: str, problems: _Problems) -> None:
    for name in PLACEHOLDER.findall(template):
        if name not in allowed:
            problems.add(where, f"unknown placeholder {{{name}}} (allowed here: "
                                + ", ".join("{%s}" % a for a in allowed) + ")")


def check_run(run: str, capabilities: list[str], report, as_written: bool = False) -> None:
    """Report each problem of a run template (placeholders, quoting, {options} for raw). A
    program `as_written` (a student's, the chapter's) may leave out {host} and {port}: it then
    listens on, or connects to, the chapter's fixed port 2000."""
    try:
        words = shlex.split(run)
    except ValueError as e:
        report(f"cannot be split into words: {e}")
        return
    for name in sorted(set(PLACEHOLDER.findall(run)) - set(RUN_PLACEHOLDERS)):
        report(f"unknown placeholder {{{name}}} (known: "
               + ", ".join("{%s}" % a for a in RUN_PLACEHOLDERS) + ")")
    for needed in () if as_written else ("host", "port"):
        if "{%s}" % needed not in run:
            report(f"missing placeholder {{{needed}}}")
    if any("{options}" in w and w != "{options}" for w in words):
        report("{options} must be a word on its own")
    if "raw" in capabilities and "{options}" not in words:
        report("missing placeholder {options} (needed to pass --raw to a client declaring 'raw')")
    for cap in capabilities:
        if cap in FLAGS and "{options}" not in words:
            report(f"missing placeholder {{options}} (needed to pass {FLAGS[cap]} to a server declaring {cap!r})")


def _path_values(root: Path, directory: Path) -> dict[str, str]:
    build = os.environ.get("ECHO_LAB_BUILD") or str(root / "build")  # build/asan: the sanitized programs
    return {"root": str(root), "build": str(Path(build).resolve()), "dir": str(directory)}


def _substitute(text: str, values: dict[str, str]) -> str:
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def _relative(path: Path, root: Path) -> str:
    try:
        return str(Path(path).relative_to(root))
    except ValueError:
        return str(path)
