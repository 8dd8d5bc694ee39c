"""The calibration of DRYPOWDER is reproducible: calibration/ rebuilds every path of the baseline's experiment.

The paths come from calibration/data/facts_used.csv (calibration/paths.py) and the back-outs TR, lock and MBScb
are solved on the model (calibration/backout.py). Rebuilt with the few rounded numbers the shipped table used
(calibration.paths.AS_SHIPPED, each checked below against its fact), every path equals the shipped one to the
last decimal the table keeps.
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # calibration/ is a folder of the repository, not an installed package
    sys.path.append(str(ROOT))

from calibration import backout, paths  # noqa: E402

# what each number of AS_SHIPPED feeds: the paths, and the targets of the back-outs
FEEDS = {
    "deficit_fy2019": {"deficit"},
    "capex_meta_2022": {"Iguide"},
    "capex_big4_2026": {"Iguide"},
    "fed_bills_decimals": {"Bcb", "BLcb"},
    "gdp_profile_unscaled": {"G", "Ip", "gdp"},
}


@pytest.fixture(scope="module")
def rebuilt() -> backout.Calibration:
    return backout.calibrate(as_shipped=True)


@pytest.fixture(scope="module")
def shipped() -> dict[str, np.ndarray]:
    return backout.shipped_paths()


def test_the_rebuild_reproduces_every_shipped_path(rebuilt, shipped):
    assert sorted(shipped) == sorted(paths.ORDER)
    differences = backout.compare(rebuilt.paths, shipped)
    for d in differences:
        print(f"{d.name:7} largest difference {d.largest:.3g} ({d.relative:.2g} relative) at {d.quarter}")
    # equal to the rounding of the table: at most one unit of its last decimal (1e-6; lock 1e-8)
    assert [f"{d.name}: {d.largest:.3g} at {d.quarter}" for d in differences if not d.reproduced] == []


def test_the_back_outs_hit_their_targets(rebuilt):
    # the deficit and GDP to the rounding of TR (1e-6) and lock (1e-8, times consumption's ~3tn)
    assert rebuilt.misses["DEF"] < 1e-4
    assert rebuilt.misses["Y"] < 1e-4
    # the Fed's total assets: MBScb is moved once by FEDA's gap, then TR and lock are solved again, which moves
    # FEDA a little (0.17bn of ~7tn in the shipped table)
    assert rebuilt.misses["FEDA"] < 0.25


def test_the_paths_no_rounded_number_feeds_come_from_the_facts_as_they_are(shipped):
    built = paths.build(as_shipped=False)
    fed = set().union(*FEEDS.values())
    for name in paths.ORDER:
        if name not in fed and name not in paths.BACKED_OUT:
            np.testing.assert_array_equal(built.paths[name], shipped[name], err_msg=name)


@pytest.mark.parametrize("number", sorted(paths.AS_SHIPPED))
def test_each_rounded_number_of_the_shipped_table_differs_from_its_fact_and_feeds_only_its_paths(number):
    as_shipped = paths.build(as_shipped=True)
    from_fact = paths.build(as_shipped=set(paths.AS_SHIPPED) - {number})
    moved = {name for name in paths.ORDER if not np.array_equal(as_shipped.paths[name], from_fact.paths[name])}
    moved |= {
        name for name in ("deficit", "gdp") if not np.array_equal(getattr(as_shipped, name), getattr(from_fact, name))
    }
    assert moved == FEEDS[number]


def test_the_command_checks_and_writes_a_model_file(rebuilt, shipped, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(backout, "calibrate", lambda **options: rebuilt)  # the rebuild above, not another
    target = tmp_path / "drypowder.toml"
    assert backout.main(["--check", "--write", str(target)]) == 0
    out = capsys.readouterr().out
    assert "NO" not in out and f"wrote {target}" in out
    written = target.read_text()
    shipped_text = backout.MODEL_FILE.read_text()
    assert written.partition("\n[experiment]\n")[0] == shipped_text.partition("\n[experiment]\n")[0]
    table = tomllib.loads(written)["experiment"]
    assert table["periods"] == paths.PERIODS
    for shock in table["shocks"]:
        assert shock["hold"] and shock["start"] == "2019Q2"
        np.testing.assert_array_equal(shock["path"], shipped[shock["variable"]], err_msg=shock["variable"])
    with pytest.raises(SystemExit):
        backout.main(["--write", str(backout.MODEL_FILE)])  # never the shipped file
