"""Input files identified by content (model/inputs.py) as the scenario loader records them: the file
and its whole `extends` chain, shipped scenarios too, data files a scenario names, and how a loaded
scenario travels without its files."""

from __future__ import annotations

import pytest
from toml_fuzz import check_clean_failure, invoke
from user_inputs import DATA_FILES, write_user_inputs

from experiments.batch.spec import RunSpec
from model import inputs, scenarios
from model.errors import InputError
from model.inputs import InputFile, Role


def parse_series(content: bytes, name: str) -> list[float]:
    """A stand-in data file kind for these tests: one number per line."""
    try:
        return [float(line) for line in content.decode().split()]
    except ValueError:
        raise InputError("expected one number per line", source=name) from None


@pytest.fixture
def series_key(monkeypatch):
    """A file-valued scenario key `series`, registered for one test (as a data file kind is)."""
    role = Role("series", "one number per line (a test data file)", parse=parse_series, scenario_key=True)
    monkeypatch.setitem(inputs.ROLES, "series", role)
    return role


def plain_only(value) -> bool:
    """Whether `value` is built of str, bytes, numbers, None, lists, tuples and dicts only."""
    if isinstance(value, dict):
        return all(isinstance(k, str) and plain_only(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return all(map(plain_only, value))
    return value is None or type(value) in (str, bytes, int, float, bool)


def test_a_user_scenario_records_its_file_and_whole_extends_chain(tmp_path):
    path = write_user_inputs(tmp_path, data={})
    spec = scenarios.load(path)
    assert [(f.role, f.name) for f in spec.inputs] == [
        ("scenario", str(path)),
        ("extends", str(tmp_path / "parent.toml")),
        ("extends", "baseline"),
    ]
    shipped = scenarios.SCENARIO_DIR / "baseline.toml"
    assert spec.inputs[0].content == path.read_bytes()
    assert spec.inputs[2].content == shipped.read_bytes()
    assert spec.inputs[2].digest == inputs.digest_of(shipped.read_bytes())
    # a shipped scenario is identified by content too
    assert [(f.role, f.name) for f in scenarios.load("crash").inputs] == [
        ("scenario", "crash"),
        ("extends", "baseline"),
    ]


def test_an_edit_anywhere_in_the_chain_changes_the_digest_and_nothing_else_does(tmp_path):
    path = write_user_inputs(tmp_path, data={})
    before = scenarios.load(path).digest
    assert scenarios.load(path).digest == before  # the same files, the same digest
    # the same content under another name is the same input
    moved = write_user_inputs(tmp_path / "elsewhere", data={})
    assert scenarios.load(moved).digest == before
    parent = tmp_path / "parent.toml"
    parent.write_text(parent.read_text().replace("0.8", "0.9"))
    assert scenarios.load(path).digest != before
    parent.write_text(parent.read_text().replace("0.9", "0.8"))
    assert scenarios.load(path).digest == before
    path.write_text(path.read_text() + "# a comment is an edit of the file\n")
    assert scenarios.load(path).digest != before


def test_a_loaded_scenario_travels_as_plain_values_and_needs_no_file(tmp_path):
    path = write_user_inputs(tmp_path, data={})
    spec = scenarios.load(path)
    plain = spec.to_plain()
    # plain values only: what a Dask scheduler can unpickle without this project
    assert plain_only(plain) and plain_only(RunSpec("r", str(path)).to_plain())
    for name in ("my.toml", "parent.toml"):
        (tmp_path / name).unlink()
    again = scenarios.Scenario.from_plain(plain)
    assert again == spec and again.parameters() == spec.parameters()
    assert [f.content for f in again.inputs] == [f.content for f in spec.inputs]
    damaged = {**plain, "inputs": [{**plain["inputs"][0], "content": b"affinity_mean = 5"}]}
    with pytest.raises(ValueError, match="does not match its digest"):
        scenarios.Scenario.from_plain(damaged)


def test_a_run_spec_carries_its_scenario_and_the_digests_are_its_identity(tmp_path):
    path = write_user_inputs(tmp_path, data={})
    spec = RunSpec("my.r0", str(path), {"n_employers": 20}, 1, 2, 300, None)
    record = spec.as_record()
    assert record["inputs_digest"] == spec.loaded.digest
    assert '"name": "baseline"' in record["inputs_json"]
    copy = RunSpec.from_plain(spec.to_plain())
    assert copy.as_record() == record
    write_user_inputs(tmp_path, affinity_mean=2.5, data={})
    assert copy.as_record() == record  # made before the edit: it keeps what it read
    edited = RunSpec("my.r0", str(path), {"n_employers": 20}, 1, 2, 300, None)
    assert edited.as_record()["inputs_digest"] != record["inputs_digest"]
    # a run-level input (e.g. a posterior table drawn from where the runs are planned) is part of
    # the identity, and travels to a worker without its content
    table = inputs.from_bytes("extends", "posterior.csv", b"affinity_mean\n0.1\n")
    drawn = RunSpec(
        "my.r0", str(path), {"n_employers": 20}, 1, 2, 300, None, loaded=edited.loaded, inputs=(table,)
    )
    assert drawn.as_record()["inputs_digest"] != edited.as_record()["inputs_digest"]
    shipped = RunSpec.from_plain(drawn.for_worker().to_plain())
    assert shipped.inputs[0].content is None and shipped.as_record() == drawn.as_record()


def test_first_change_names_the_file_and_both_digests():
    a = [
        {"role": "scenario", "name": "my.toml", "digest": "a" * 64},
        {"role": "extends", "name": "b", "digest": "b" * 64},
    ]
    b = [a[0], {**a[1], "digest": "c" * 64}]
    assert inputs.first_change(a, b) == f"b changed (sha256 stored {'b' * 12}, now {'c' * 12})"
    assert "is read now but was not" in inputs.first_change(a[:1], a)
    assert "was read but is not now" in inputs.first_change(a, a[:1])


def test_a_file_valued_scenario_key_is_read_checked_inherited_and_digested(tmp_path, series_key):
    data = {"series": ("series.txt", "1\n2\n3\n")}
    path = write_user_inputs(tmp_path, data=data)
    spec = scenarios.load(path)
    assert [f.role for f in spec.inputs] == ["scenario", "extends", "extends", "series"]
    assert spec.data("series") == [1.0, 2.0, 3.0]
    assert spec.input_file("series").name == str(tmp_path / "series.txt")
    # it travels with the scenario and is parsed from the shipped bytes
    (tmp_path / "series.txt").unlink()
    assert scenarios.Scenario.from_plain(spec.to_plain()).data("series") == [1.0, 2.0, 3.0]
    # a child inherits it through extends, and may name its own instead
    (tmp_path / "series.txt").write_text("1\n2\n3\n")
    child = tmp_path / "child.toml"
    child.write_text('[scenario]\nextends = "my.toml"\n')
    assert scenarios.load(child).data("series") == [1.0, 2.0, 3.0]
    (tmp_path / "other.txt").write_text("7\n")
    child.write_text('[scenario]\nextends = "my.toml"\n\n[inputs]\nseries = "other.txt"\n')
    loaded = scenarios.load(child)
    assert loaded.data("series") == [7.0] and [f.role for f in loaded.inputs].count("series") == 1
    # an edited data file is another input
    before = spec.digest
    (tmp_path / "series.txt").write_text("1\n2\n4\n")
    assert scenarios.load(path).digest != before


def test_a_bad_data_file_is_one_line_before_any_run(tmp_path, series_key):
    path = write_user_inputs(tmp_path, data={"series": ("series.txt", "1\nnot a number\n")})
    with pytest.raises(InputError, match="expected one number per line") as err:
        scenarios.load(path)
    assert str(err.value).startswith(str(tmp_path / "series.txt"))
    (tmp_path / "series.txt").unlink()
    with pytest.raises(InputError, match="file not found") as err:
        scenarios.load(path)
    assert "'inputs.series'" in str(err.value) and str(path) in str(err.value)
    path.write_text(path.read_text().replace("series =", "serie ="))
    with pytest.raises(InputError, match="unknown key in \\[inputs\\]; did you mean 'series'"):
        scenarios.load(path)
    result = invoke(["run", "--scenario", str(path), "--out", str(tmp_path / "out"), "--quarters", "1"])
    check_clean_failure(result, source=str(path))


def test_an_unknown_data_file_key_is_refused_with_the_known_ones(tmp_path):
    path = write_user_inputs(tmp_path, data={})
    path.write_text(path.read_text() + '\n[inputs]\nseries = "x.txt"\n')
    with pytest.raises(InputError, match="unknown key in \\[inputs\\]") as err:
        scenarios.load(path)
    assert err.value.allowed == ", ".join(inputs.scenario_keys())


def test_every_file_valued_key_is_covered_by_the_user_input_tests():
    # tests/user_inputs.py writes one file per file-valued scenario key, so the tests that ship a
    # user's files to workers without them cover each kind of data file
    assert set(DATA_FILES) == set(inputs.scenario_keys())


def test_a_role_is_registered_once(monkeypatch):
    monkeypatch.setattr(inputs, "ROLES", dict(inputs.ROLES))
    inputs.register(Role("table", "a table"))
    inputs.register(Role("table", "a table"))  # the same declaration again (a re-import) is fine
    with pytest.raises(ValueError, match="registered twice"):
        inputs.register(Role("table", "another table"))
    with pytest.raises(ValueError, match="unknown input role"):
        inputs.from_bytes("nope", "x", b"")


def test_input_file_equality_is_by_identity_not_by_bytes_held():
    f = inputs.from_bytes("scenario", "a.toml", b"x = 1\n")
    assert f == f.without_content() and f.without_content().size is None
    assert InputFile.from_plain(f.to_plain()).text() == "x = 1\n"
