"""The compiled-model cache: a second load skips parsing, gives the same numbers, and never trusts a bad entry."""

from __future__ import annotations

import numpy as np
import pytest

from drypowder import cache, load
from drypowder.spec import CachedSpec

SHOCKED = """
[model]
name = "SIMPLE"
[parameters]
alpha = 0.6
[exogenous]
G = 20
[initial]
[equations]
text = '''
Y = C + G
C = alpha * Y(-1) + 0.5 * max(Y(-1) - 10, 0)
'''
[experiment]
periods = 12
shocks = [{ variable = "G", start = 3, value = 25 }]
"""


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.setenv("DRYPOWDER_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def _entries(folder):
    return sorted(folder.glob("model-*.json"))


@pytest.mark.parametrize("name", ["sim", "pc", "drypowder"])
def test_second_load_comes_from_the_cache_with_identical_results(folder, name):
    cold = load(name)
    assert not isinstance(cold.spec, CachedSpec)
    assert len(_entries(folder)) == 1
    warm = load(name)
    assert isinstance(warm.spec, CachedSpec)
    assert warm.spec.endogenous == cold.spec.endogenous
    assert warm.compiled.series == cold.compiled.series
    first, second = cold.run(backend="numpy"), warm.run(backend="numpy")
    assert np.array_equal(first.to_numpy(), second.to_numpy())
    assert first.attrs == second.attrs  # the accounting check ran on both, with the same result


def test_a_cached_model_reads_its_expressions_only_when_asked(folder):
    load("sim")
    warm = load("sim")
    assert "equations" not in warm.spec.__dict__
    warm.run(periods=5)
    assert "equations" not in warm.spec.__dict__  # a run needs no expressions
    assert str(warm.spec.equation("Y").expression) == str(load("sim").spec.equation("Y").expression)
    assert "Y" in {e.name for e in warm.spec.equations}


def test_a_cached_model_checks_its_requirements_and_finds_its_kernel_without_parsing(folder):
    pytest.importorskip("numba")
    from drypowder import RequirementError, jit

    cold = load("drypowder")
    source = jit._source(cold.compiled)  # generated from the equations, written and noted for the entry
    warm = load("drypowder")
    assert jit._source(warm.compiled) == source  # read back from the kernel file: no equations needed
    errors = []
    for model in (cold, warm):
        with pytest.raises(RequirementError) as error:
            model.copy().set(kappa=-0.1).run(periods=2)
        errors.append(str(error.value))
    assert errors[0] == errors[1] and "'kappa > 0 and RRPmin > 0'" in errors[0] and "kappa = -0.1" in errors[0]
    assert not {"equations", "requirements"} & set(warm.spec.__dict__)  # the model file was never parsed
    # a damaged kernel file is not trusted: the source is generated again
    kernel_file = next(folder.glob("drypowder_kernel_*.py"))
    kernel_file.write_text(kernel_file.read_text() + "\n# changed\n")
    again = load("drypowder")
    assert jit._remembered_source(again.compiled.cache_key) is None
    assert jit._source(again.compiled) == source


def test_a_changed_model_file_is_compiled_again(folder, tmp_path):
    path = tmp_path / "simple.toml"
    path.write_text(SHOCKED)
    before = load(path).run()
    path.write_text(SHOCKED.replace("alpha = 0.6", "alpha = 0.5"))
    after = load(path)
    assert not isinstance(after.spec, CachedSpec)  # a new key: nothing stale is used
    assert after.parameters["alpha"] == 0.5
    assert not np.allclose(before.to_numpy(), after.run().to_numpy())


def test_a_changed_included_file_is_compiled_again(folder, tmp_path):
    (tmp_path / "main.toml").write_text('[model]\nname = "INC"\ninclude = ["part.toml"]\n')
    part = tmp_path / "part.toml"
    part.write_text('[parameters]\nalpha = 0.5\n[equations]\ntext = """\nY = alpha * Y(-1) + 1\n"""\n')
    assert load(tmp_path / "main.toml").run(periods=3)["Y"].iloc[-1] == pytest.approx(1.75)
    assert isinstance(load(tmp_path / "main.toml").spec, CachedSpec)
    part.write_text(part.read_text().replace("0.5", "0.25"))
    model = load(tmp_path / "main.toml")
    assert not isinstance(model.spec, CachedSpec)
    assert model.run(periods=3)["Y"].iloc[-1] == pytest.approx(1.3125)


@pytest.mark.parametrize(
    "damage",
    [
        lambda text: text[: len(text) // 2],  # truncated
        lambda text: text.replace('"format":1', '"format":2'),  # edited: the checksum no longer matches
        lambda text: "0" * 64 + "\n{}",  # wrong checksum, empty payload
        lambda text: "not a cache entry at all",
    ],
)
def test_a_corrupt_entry_is_ignored_and_rebuilt(folder, tmp_path, damage):
    path = tmp_path / "simple.toml"
    path.write_text(SHOCKED)
    expected = load(path).run().to_numpy()
    (entry,) = _entries(folder)
    entry.write_text(damage(entry.read_text()))
    model = load(path)
    assert not isinstance(model.spec, CachedSpec)  # compiled from the file again
    assert np.array_equal(model.run().to_numpy(), expected)
    assert isinstance(load(path).spec, CachedSpec)  # and the rebuilt entry is good


def test_an_entry_with_a_valid_checksum_but_foreign_content_is_not_trusted(folder, tmp_path):
    """Code names in an entry are looked up only in drypowder's own classes and generated functions."""
    import hashlib
    import json

    path = tmp_path / "simple.toml"
    path.write_text(SHOCKED)
    load(path)
    (entry,) = _entries(folder)
    payload = json.loads(entry.read_text().partition("\n")[2])
    payload["compiled"]["obj"] = "os:system"
    body = json.dumps(payload)
    entry.write_text(hashlib.sha256(body.encode()).hexdigest() + "\n" + body)
    assert not isinstance(load(path).spec, CachedSpec)


def test_bad_input_keeps_its_error_and_is_not_cached(folder, write_model):
    from drypowder import UnknownNameError

    path = write_model("Y = C + G\nC = 0.6 * Y(-1)", exogenous="Gx = 20")
    for _ in range(2):
        with pytest.raises(UnknownNameError):
            load(path)
    assert _entries(folder) == []


def test_a_cached_model_pickles_as_its_full_spec(folder):
    import pickle

    load("sim")
    spec = pickle.loads(pickle.dumps(load("sim").spec))
    assert type(spec).__name__ == "ModelSpec"
    assert [e.name for e in spec.equations] == load("sim").spec.endogenous


def test_the_key_covers_the_engine(folder, tmp_path, monkeypatch):
    path = tmp_path / "simple.toml"
    path.write_text(SHOCKED)
    load(path)
    monkeypatch.setattr(cache, "ENGINE", "another engine version")
    assert not isinstance(load(path).spec, CachedSpec)
    assert len(_entries(folder)) == 2
