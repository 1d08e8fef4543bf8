"""Discovery, validation and command templates, on hand-written manifests in tmp_path, plus
a check that the repository's own manifests are valid."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conformance.explain import first_difference, mismatch
from conformance.manifest import ManifestError, default_root, discover, load_manifest, scan


def server(**overrides) -> dict:
    impl = {
        "id": "demo-echo-server",
        "role": "server",
        "variant": "multi",
        "summary": "a thread per connection",
        "run": "{build}/peers/demo/echo_server {options} --host {host} --port {port}",
        "artifacts": ["{build}/peers/demo/echo_server"],
        "capabilities": ["concurrent", "half_close", "graceful_stop"],
    }
    impl.update(overrides)
    return impl


def client(**overrides) -> dict:
    impl = {
        "id": "demo-echo-client",
        "role": "client",
        "variant": "blocking",
        "summary": "one line at a time",
        "run": "sh {dir}/echo_client.sh {options} {host} {port}",
        "capabilities": ["raw"],
    }
    impl.update(overrides)
    return impl


def write_manifest(root: Path, where: str, impls: list[dict], **top) -> Path:
    data = {"language": where.split("/")[-1], "requires": ["sh"], "implementations": impls}
    data.update(top)
    path = root / where / "echo-lab.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2))
    return path


def build_artifact(root: Path, rel: str = "build/peers/demo/echo_server") -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n")


def error_of(root: Path) -> str:
    with pytest.raises(ManifestError) as info:
        discover(root)
    return str(info.value)


# --- discovery -------------------------------------------------------------------------------

def test_discovers_under_cpp_and_reference_only(tmp_path):
    write_manifest(tmp_path, "reference/demo", [server(), client()])
    write_manifest(tmp_path, "cpp", [server(id="cpp-echo-server")], language="cpp")
    write_manifest(tmp_path, "elsewhere/other", [server(id="other-echo-server")], language="other")
    build_artifact(tmp_path)
    ids = [impl.id for impl in discover(tmp_path)]
    assert ids == ["cpp-echo-server", "demo-echo-server", "demo-echo-client"]


def test_fields_of_an_implementation(tmp_path):
    path = write_manifest(tmp_path, "reference/demo", [server()])
    build_artifact(tmp_path)
    (impl,) = discover(tmp_path)
    assert (impl.id, impl.language, impl.role, impl.variant) == ("demo-echo-server", "demo", "server", "multi")
    assert impl.summary == "a thread per connection"
    assert impl.capabilities == ("concurrent", "half_close", "graceful_stop")
    assert impl.has("graceful_stop") and not impl.has("bye")
    assert impl.flaws == ()
    assert impl.directory == path.parent.resolve()
    assert impl.manifest == path.resolve()
    assert impl.available and impl.reason is None


def test_bad_variant_lists_flaws(tmp_path):
    flaws = ["ignores every error", "assumes one read is one line"]
    write_manifest(tmp_path, "reference/demo", [server(variant="bad", flaws=flaws, capabilities=[])])
    build_artifact(tmp_path)
    (impl,) = discover(tmp_path)
    assert impl.variant == "bad" and impl.flaws == tuple(flaws)


def test_default_root_is_the_repository():
    assert (default_root() / "conformance" / "CONTRACT.md").is_file()


def test_repository_manifests_are_valid():
    """Every echo-lab.json in this repository parses and follows MANIFESTS.md."""
    errors = scan().errors
    assert not errors, "\n".join(msg for e in errors for msg in e.messages)


# --- availability ----------------------------------------------------------------------------

def test_missing_requires_makes_every_implementation_unavailable(tmp_path):
    write_manifest(tmp_path, "reference/demo", [server(), client()], requires=["sh", "no-such-tool-x9"])
    build_artifact(tmp_path)
    impls = discover(tmp_path)
    assert [(i.available, i.reason) for i in impls] == [(False, "no-such-tool-x9 not found on PATH")] * 2


def test_missing_artifact_makes_it_unavailable(tmp_path):
    write_manifest(tmp_path, "reference/demo", [server(), client()])
    by_id = {impl.id: impl for impl in discover(tmp_path)}
    assert not by_id["demo-echo-server"].available
    assert by_id["demo-echo-server"].reason == \
        "not built: build/peers/demo/echo_server is missing (run make peers)"
    assert by_id["demo-echo-client"].available  # interpreted: no artifacts


def test_missing_requires_is_reported_before_missing_artifacts(tmp_path):
    write_manifest(tmp_path, "reference/julia", [server(id="julia-echo-server")], requires=["no-such-julia-x9"])
    (impl,) = discover(tmp_path)
    assert impl.reason == "no-such-julia-x9 not found on PATH"


def test_relative_artifact_is_relative_to_the_manifest(tmp_path):
    write_manifest(tmp_path, "reference/demo", [server(artifacts=["out/echo_server"])])
    (impl,) = discover(tmp_path)
    assert impl.reason == "not built: reference/demo/out/echo_server is missing (run make peers)"


# --- templates -------------------------------------------------------------------------------

def test_server_command(tmp_path):
    write_manifest(tmp_path, "reference/demo", [server()])
    (impl,) = discover(tmp_path)
    binary = str(tmp_path.resolve() / "build/peers/demo/echo_server")
    assert impl.command("::", 0) == [binary, "--host", "::", "--port", "0"]


def test_options_expand_to_words_or_disappear(tmp_path):
    write_manifest(tmp_path, "reference/demo", [client()])
    (impl,) = discover(tmp_path)
    script = str(tmp_path.resolve() / "reference/demo/echo_client.sh")
    assert impl.command("::1", 2000) == ["sh", script, "::1", "2000"]
    assert impl.command("::1", 2000, ["--raw"]) == ["sh", script, "--raw", "::1", "2000"]
    assert impl.command("localhost", "7", ("--raw", "--x")) == ["sh", script, "--raw", "--x", "localhost", "7"]


def test_value_with_spaces_stays_one_word(tmp_path):
    root = tmp_path / "my lab"
    write_manifest(root, "reference/demo",
                   [client(run='{dir}/client {options} --name "two words" {host} {port}', capabilities=[])])
    (impl,) = discover(root)
    assert impl.command("my host", 1) == [
        str(root.resolve() / "reference/demo/client"), "--name", "two words", "my host", "1"]


def test_placeholders_inside_words(tmp_path):
    write_manifest(tmp_path, "reference/demo",
                   [client(run="java -cp {build}/peers/demo Client --log={dir}/x.log {options} {host} {port}",
                           capabilities=[])])
    (impl,) = discover(tmp_path)
    argv = impl.command("h", 5)
    assert argv[2] == str(tmp_path.resolve() / "build/peers/demo")
    assert argv[4] == f"--log={tmp_path.resolve() / 'reference/demo'}/x.log"


def test_a_template_without_options_is_rejected(tmp_path):
    write_manifest(tmp_path, "reference/demo", [client(run="c {host} {port}", capabilities=[])])
    with pytest.raises(ManifestError, match=r"missing placeholder \{options\}"):
        discover(tmp_path)


def test_options_are_a_list_of_words(tmp_path):
    write_manifest(tmp_path, "reference/demo", [client(run="c {options} {host} {port}", capabilities=[])])
    (impl,) = discover(tmp_path)
    assert impl.command("h", 1, ["--raw"]) == ["c", "--raw", "h", "1"]
    with pytest.raises(TypeError):
        impl.command("h", 1, "--raw")


def test_build_command_is_filled_and_quoted(tmp_path):
    root = tmp_path / "my lab"
    path = write_manifest(root, "reference/demo", [server()], build="cc -o {build}/peers/demo/x x.c")
    manifest = load_manifest(path, root)
    assert manifest.build_command() == f"cc -o '{root.resolve()}/build'/peers/demo/x x.c"
    assert manifest.directory == path.parent.resolve()


# --- malformed manifests ---------------------------------------------------------------------

@pytest.mark.parametrize("override, expected", [
    ({"role": "serve"}, "implementations[0] (demo-echo-server).role: 'serve' is not one of: server, client"),
    ({"variant": "blocking"}, ".variant: 'blocking' is not a server variant"),
    ({"variant": "forking"}, ".variant: 'forking' is not a server variant"),
    ({"capabilities": ["half-close"]}, ".capabilities: unknown capability 'half-close'"),
    ({"capabilities": ["raw"]}, ".capabilities: 'raw' is a client capability, but this is a server"),
    ({"run": "{build}/peers/demo/echo_server --host {host}"}, ".run: missing placeholder {port}"),
    ({"run": "srv --host {hots} --port {port}"}, ".run: unknown placeholder {hots}"),
    ({"run": "srv --host '{host} --port {port}"}, ".run: cannot be split into words"),
    ({"id": "Demo_Server"}, ".id: must be lower case with dashes"),
    ({"id": "other-echo-server"}, ".id: 'other-echo-server' must start with the language: 'demo-'"),
    ({"summary": ""}, ".summary: must be a non-empty one-line string"),
    ({"capabilities": "concurrent"}, ".capabilities: must be a list of non-empty strings"),
    ({"flaws": ["a flaw"]}, ".flaws: only bad and naive variants list flaws"),
    ({"variant": "bad"}, ".flaws: a bad variant must list its deliberate flaws"),
    ({"variant": "naive"}, ".flaws: a naive variant must list its deliberate flaws"),
    ({"capabilites": []}, ".capabilites: unknown field"),
])
def test_malformed_implementation(tmp_path, override, expected):
    write_manifest(tmp_path, "reference/demo", [server(**override)])
    message = error_of(tmp_path)
    assert message.startswith("reference/demo/echo-lab.json: implementations[0]")
    assert expected in message


def test_missing_field(tmp_path):
    impl = server()
    del impl["run"]
    write_manifest(tmp_path, "reference/demo", [impl])
    assert "reference/demo/echo-lab.json: implementations[0] (demo-echo-server).run: must be a non-empty" \
        in error_of(tmp_path)


def test_raw_client_needs_options_placeholder(tmp_path):
    write_manifest(tmp_path, "reference/demo", [client(run="c {host} {port}")])
    assert ".run: missing placeholder {options}" in error_of(tmp_path)


def test_duplicate_id_in_one_file(tmp_path):
    write_manifest(tmp_path, "reference/demo", [server(), server()])
    assert "implementations[1].id: duplicate id 'demo-echo-server' (used earlier in this file)" \
        in error_of(tmp_path)


def test_duplicate_id_across_files(tmp_path):
    write_manifest(tmp_path, "reference/demo", [server()])
    write_manifest(tmp_path, "reference/demo2", [server()], language="demo")
    assert ("reference/demo2/echo-lab.json: implementations[0].id: duplicate id 'demo-echo-server' "
            "(already used by reference/demo/echo-lab.json)") in error_of(tmp_path)


@pytest.mark.parametrize("top, expected", [
    ({"language": "Go"}, "echo-lab.json: language: must be a lower-case language name"),
    ({"requires": "go"}, "echo-lab.json: requires: must be a list of non-empty strings"),
    ({"implementations": []}, "echo-lab.json: implementations: must be a non-empty list"),
    ({"build": "make {target}"}, "echo-lab.json: build: unknown placeholder {target}"),
    ({"extra": 1}, "echo-lab.json: extra: unknown field"),
])
def test_malformed_top_level(tmp_path, top, expected):
    write_manifest(tmp_path, "reference/demo", [server()], **top)
    assert expected in error_of(tmp_path)


def test_invalid_json_names_file_and_line(tmp_path):
    path = tmp_path / "reference/demo/echo-lab.json"
    path.parent.mkdir(parents=True)
    path.write_text('{\n  "language": "demo",\n  "requires": [,]\n}\n')
    message = error_of(tmp_path)
    assert message.startswith("reference/demo/echo-lab.json: not valid JSON:") and "line 3" in message


def test_scan_keeps_valid_manifests_beside_a_broken_one(tmp_path):
    write_manifest(tmp_path, "reference/demo", [client()])
    write_manifest(tmp_path, "reference/broken", [server(id="broken-echo-server", role="serve")])
    result = scan(tmp_path)
    assert [impl.id for impl in result.implementations] == ["demo-echo-client"]
    assert len(result.errors) == 1
    assert result.errors[0].path == (tmp_path / "reference/broken/echo-lab.json").resolve()


def test_every_problem_is_reported(tmp_path):
    write_manifest(tmp_path, "reference/demo", [server(role="serve"), client(capabilities=["zoom"])])
    message = error_of(tmp_path)
    assert "role: 'serve'" in message and "unknown capability 'zoom'" in message


# --- the diff helper -------------------------------------------------------------------------

def test_mismatch_names_lengths_offset_and_window():
    expected = bytes(range(256)) * 4
    actual = expected[:600] + b"\x00" + expected[601:]
    message = mismatch(expected, actual, what="the echo")
    assert message.startswith("the echo differs:")
    assert "expected: 1024 bytes" in message and "received: 1024 bytes" in message
    assert "first difference at offset 600 (0x258): expected 0x58, received 0x00" in message
    assert "00000250  50 51 52 53 54 55 56 57 58 59" in message  # the row holding the byte
    assert mismatch(expected, expected) is None


def test_mismatch_on_a_lost_tail_and_on_extra_bytes():
    assert "the 3 bytes from offset 3 (0x3) never came" in mismatch(b"abcdef", b"abc")
    assert "2 unexpected extra bytes from offset 3 (0x3)" in mismatch(b"abc", b"abcde")


def test_mismatch_names_the_line():
    message = mismatch(b"Echoed: 'a'\nEchoed: 'b\r'\n", b"Echoed: 'a'\nEchoed: 'b'\n", lines=True)
    assert "in line 2 of the expected output:" in message
    assert "b\"Echoed: 'b\\r'\\n\"" in message


def test_first_difference_and_window():
    assert first_difference(b"same", b"same") is None
    assert first_difference(b"abcd", b"abXd") == 2
    assert first_difference(b"", b"x") == 0
