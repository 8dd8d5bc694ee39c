"""Sweeps and Monte Carlo: a vectorised sweep equals single runs, is reproducible, and fails clearly."""

from __future__ import annotations

import dataclasses
import errno
import inspect
import os

import numpy as np
import pytest
import xarray as xr

import drypowder
from drypowder import AccountingError, ModelError, SingularBlockError, UnknownNameError
from drypowder.shipped import resolve
from drypowder.sweep import Vary, draw_values, load_sweep, local_cluster, run_sweep, save_sweep, to_tidy


def largest_difference(dataset: xr.Dataset, draw: int, single) -> float:
    """Largest difference between a sweep's draw and a single run, relative to max(1, |value|)."""
    swept = np.column_stack([dataset[name].sel(draw=draw).to_numpy() for name in single.columns])
    reference = single.to_numpy()
    return float(np.max(np.abs(swept - reference) / np.maximum(1.0, np.abs(reference))))


@pytest.fixture(scope="module")
def sim():
    return drypowder.load("sim")


@pytest.fixture(scope="module")
def pc():
    return drypowder.load("pc")


# --- a sweep is K single runs -----------------------------------------------------------------------


def test_a_sim_sweep_equals_single_runs_and_varies_spending_over_the_whole_run(sim):
    # shocks=[]: Gd's drawn value is its level in every period, so spending itself is varied
    sweep = run_sweep(sim, [Vary("alpha1", 0.5, 0.7), Vary("Gd", 10, 30)], draws=7, periods=30, shocks=[], chunk=3)
    assert sweep.sizes == {"draw": 7, "period": 31}
    for draw in range(7):
        alpha1, gd = float(sweep["input_alpha1"][draw]), float(sweep["input_Gd"][draw])
        single = sim.copy().set(alpha1=alpha1, Gd=gd).run(periods=30, shocks=[])
        assert largest_difference(sweep, draw, single) < 1e-12
        assert np.all(sweep["Gd"].sel(draw=draw).to_numpy() == gd)
    # output heads for Gd/theta: the draw with the most spending has the most output by period 30
    assert np.argmax(sweep["Y"].isel(period=-1).to_numpy()) == np.argmax(sweep["input_Gd"].to_numpy())


def test_varying_sims_spending_under_its_step_shock_only_changes_period_0(sim):
    # The experiment sets Gd = 20 from period 1; a drawn Gd replaces only the base value (period 0).
    sweep = run_sweep(sim, [Vary("alpha1", 0.55, 0.65), Vary("Gd", 0, 40)], draws=5, periods=25)
    for draw in range(5):
        alpha1, gd = float(sweep["input_alpha1"][draw]), float(sweep["input_Gd"][draw])
        single = sim.copy().set(alpha1=alpha1, Gd=gd).run(periods=25)
        assert largest_difference(sweep, draw, single) < 1e-12
    np.testing.assert_array_equal(sweep["Gd"].isel(period=0), sweep["input_Gd"])
    assert np.all(sweep["Gd"].isel(period=slice(1, None)) == 20)
    # with alpha1 fixed, the drawn Gd moves nothing at all: every draw is the book's Table 3.4 run
    only_gd = run_sweep(sim, [Vary("Gd", 0, 40)], draws=4, periods=25)
    base = sim.run(periods=25)
    for name in sim.spec.endogenous:
        assert np.all(only_gd[name].to_numpy() == base[name].to_numpy()[None, :])


def test_a_pc_sweep_equals_single_runs_away_from_the_steady_state(pc):
    vary = [Vary("alpha1", 0.55, 0.65), Vary("lambda0", 0.6, 0.67)]
    sweep = run_sweep(pc, vary, draws=6, periods=40, chunk=4)
    for draw in range(6):
        values = {"alpha1": float(sweep["input_alpha1"][draw]), "lambda0": float(sweep["input_lambda0"][draw])}
        single = pc.copy().set(**values).run(periods=40)
        assert largest_difference(sweep, draw, single) < 1e-12
    # lambda0 moves the portfolio away from the starting (steady) state at once: the runs are not at rest
    assert float(np.ptp(sweep["Bh"].isel(period=1).to_numpy())) > 1.0
    assert sweep.attrs["max_relative_imbalance"] < 1e-12


def test_the_chunk_size_changes_no_number(pc):
    vary = [Vary("alpha1", 0.55, 0.65), Vary("lambda0", 0.6, 0.67)]
    one_pass = run_sweep(pc, vary, draws=9, periods=20, chunk=1000)
    small = run_sweep(pc, vary, draws=9, periods=20, chunk=2)
    for name in one_pass.data_vars:
        np.testing.assert_allclose(small[name], one_pass[name], rtol=1e-12, atol=1e-12)


def test_keeping_some_variables(pc):
    vary = [Vary("alpha1", 0.55, 0.65)]
    full = run_sweep(pc, vary, draws=4, periods=12)
    some = run_sweep(pc, vary, draws=4, periods=12, variables=["Y", "Bh"])
    assert [name for name in some.data_vars] == ["Y", "Bh", "input_alpha1"]
    np.testing.assert_array_equal(some["Bh"], full["Bh"])
    assert some.attrs["max_relative_imbalance"] == full.attrs["max_relative_imbalance"]  # all checked anyway
    with pytest.raises(UnknownNameError, match=r"no variable 'Bhh' to keep\. Did you mean Bh"):
        run_sweep(pc, vary, draws=4, periods=12, variables=["Bhh"])
    # every series, in another order: each keeps its own numbers (one chunk, and several)
    every = list(reversed(pc.compiled.series))
    for chunk in (1000, 3):
        reordered = run_sweep(pc, vary, draws=4, periods=12, variables=every, chunk=chunk)
        assert list(reordered.data_vars)[: len(every)] == every
        for name in every:
            np.testing.assert_array_equal(reordered[name], full[name])


def test_every_draw_is_checked_by_the_accounting(sim, pc):
    for model in (sim, pc):
        name = "alpha1"
        sweep = run_sweep(model, [Vary(name, 0.55, 0.65)], draws=5, periods=30)
        assert sweep.attrs["accounting"] == "checked"
        assert 0 <= sweep.attrs["max_relative_imbalance"] < 1e-12
    off = run_sweep(sim, [Vary("alpha1", 0.55, 0.65)], draws=3, periods=5, check_accounting=False)
    assert off.attrs["accounting"] == "off" and np.isnan(off.attrs["max_relative_imbalance"])


def test_an_accounting_failure_names_the_draw(tmp_path):
    # the Taxes row is wrong whenever alpha2 differs from 0.4: draw 0 (alpha2 = 0.4) passes, draw 1 fails
    text = resolve("sim").read_text()
    taxes = '{ name = "Taxes",                   cells = ["-Ts", "", "+Td"] }'
    assert taxes in text
    path = tmp_path / "sim_broken.toml"
    path.write_text(text.replace(taxes, taxes.replace('"+Td"', '"+Td + (alpha2 - 0.4)*Td"')))
    model = drypowder.load(path)
    for chunk in (1, 2, 10):
        with pytest.raises(AccountingError, match=r"^model SIM, draw 1 \(alpha2=0\.45\): .*Taxes"):
            run_sweep(model, [Vary("alpha2", 0.4, 0.5)], draws=3, grid=True, periods=5, chunk=chunk)
    assert run_sweep(model, [Vary("alpha2", 0.4, 0.5)], draws=3, grid=True, periods=5, check_accounting=False)


def test_a_solve_failure_names_the_draw(sim):
    # alpha1 = 1/(1 - theta) = 1.25 makes SIM's income block singular
    for chunk, pattern in (
        (2, r"^period 1 \(draw 1: alpha1=1\.25\): block 2"),
        (1, r"^draw 1 \(alpha1=1\.25\): period 1: block 2"),
    ):
        with pytest.raises(SingularBlockError, match=pattern):
            run_sweep(sim, [Vary("alpha1", 1.0, 1.25)], draws=2, grid=True, periods=3, chunk=chunk)


def test_shocks_that_add_or_ramp_act_on_the_drawn_value(sim):
    from drypowder import Shock

    names = {field.name for field in dataclasses.fields(Shock)}
    if not {"add", "kind"} <= names:
        pytest.skip("this drypowder's Shock has no add/ramp shapes")
    shocks = [Shock("Gd", start=3, add=5.0), Shock("W", start=2, end=6, value=1.5, kind="ramp")]
    sweep = run_sweep(sim, [Vary("Gd", 10, 30), Vary("W", 0.8, 1.2)], draws=5, periods=12, shocks=shocks)
    for draw in range(5):
        gd, w = float(sweep["input_Gd"][draw]), float(sweep["input_W"][draw])
        single = sim.copy().set(Gd=gd, W=w).run(periods=12, shocks=shocks)
        assert largest_difference(sweep, draw, single) < 1e-12
        assert float(sweep["Gd"].sel(draw=draw, period=5)) == gd + 5.0


def test_a_parameter_change_keeps_its_value_and_the_draw_sets_the_rest(pc):
    if "changes" not in inspect.signature(pc.run).parameters:
        pytest.skip("this drypowder's Model.run takes no parameter changes")
    from drypowder.shocks import ParameterChange

    changes = [ParameterChange("alpha1", 0.7, start=10)]
    sweep = run_sweep(pc, [Vary("alpha1", 0.55, 0.65)], draws=4, periods=20, changes=changes)
    for draw in range(4):
        single = pc.copy().set(alpha1=float(sweep["input_alpha1"][draw])).run(periods=20, changes=changes)
        assert largest_difference(sweep, draw, single) < 1e-12


# --- designs and seeds -----------------------------------------------------------------------------


def test_the_same_seed_gives_the_same_sweep_and_another_seed_another(sim):
    vary = [Vary("alpha1", 0.5, 0.7), Vary("theta", 0.15, 0.25)]
    first = run_sweep(sim, vary, draws=6, periods=10, seed=7)
    assert first.identical(run_sweep(sim, vary, draws=6, periods=10, seed=7))
    other = run_sweep(sim, vary, draws=6, periods=10, seed=8)
    assert not np.any(other["input_alpha1"].to_numpy() == first["input_alpha1"].to_numpy())
    assert not np.allclose(other["Y"], first["Y"])
    # draw d uses the generator's numbers d*n .. d*n + n - 1: a longer sweep starts with the shorter one
    longer = run_sweep(sim, vary, draws=10, periods=10, seed=7)
    assert longer.isel(draw=slice(0, 6)).drop_attrs().identical(first.drop_attrs())
    unit = np.random.default_rng(7).random((6, 2))
    np.testing.assert_allclose(first["input_theta"], 0.15 + 0.1 * unit[:, 1], rtol=1e-15)


def test_seed_none_records_the_fresh_seed_so_the_sweep_can_be_repeated(sim):
    vary = [Vary("alpha1", 0.5, 0.7)]
    fresh = run_sweep(sim, vary, draws=4, periods=5, seed=None)
    assert isinstance(fresh.attrs["seed"], int)
    assert fresh.identical(run_sweep(sim, vary, draws=4, periods=5, seed=fresh.attrs["seed"]))


def test_draw_values_uniform_and_grid(sim):
    drawn = draw_values(sim, [Vary("alpha1", 0.5, 0.7), Vary("Gd", 10, 30)], draws=1000, seed=1)
    assert set(drawn) == {"alpha1", "Gd"} and drawn["Gd"].shape == (1000,)
    assert 0.5 <= drawn["alpha1"].min() and drawn["alpha1"].max() <= 0.7
    assert 10 <= drawn["Gd"].min() and drawn["Gd"].max() <= 30
    assert abs(drawn["Gd"].mean() - 20) < 1.0  # uniform: mean 20, standard error 0.18
    grid = draw_values(sim, [Vary("alpha1", 0.5, 0.7), Vary("theta", 0.1, 0.3)], draws=3, seed=None, grid=True)
    np.testing.assert_allclose(grid["alpha1"], [0.5, 0.5, 0.5, 0.6, 0.6, 0.6, 0.7, 0.7, 0.7])  # first slowest
    np.testing.assert_allclose(grid["theta"], [0.1, 0.2, 0.3] * 3)


def test_a_grid_sweep(sim):
    sweep = run_sweep(sim, [Vary("alpha1", 0.5, 0.7), Vary("theta", 0.15, 0.25)], draws=3, periods=200, grid=True)
    assert sweep.sizes["draw"] == 9 and sweep.attrs["design"] == "grid" and "seed" not in sweep.attrs
    # by period 200 SIM is at its steady state Y* = G/theta, whatever alpha1 is
    np.testing.assert_allclose(sweep["Y"].isel(period=-1), 20 / sweep["input_theta"], rtol=1e-6)
    np.testing.assert_allclose(sweep["input_theta"], [0.15, 0.2, 0.25] * 3)


# --- the tidy form, saving, plotting, progress ---------------------------------------------------------


def test_the_tidy_form(sim):
    sweep = run_sweep(sim, [Vary("alpha1", 0.5, 0.7), Vary("Gd", 10, 30)], draws=3, periods=4, shocks=[])
    series = sim.compiled.series
    tidy = to_tidy(sweep)
    assert list(tidy.columns) == ["draw", "period", "variable", "value"]
    assert len(tidy) == 3 * 5 * len(series)
    assert list(tidy["variable"].cat.categories) == series
    for draw, period, name in [(0, 0, "Cs"), (2, 4, "Y"), (1, 3, "Hh"), (2, 1, "Gd")]:
        row = tidy[(tidy.draw == draw) & (tidy.period == period) & (tidy.variable == name)]
        assert len(row) == 1 and row["value"].iloc[0] == float(sweep[name].sel(draw=draw, period=period))
    wide = tidy.pivot_table(index=["draw", "period"], columns="variable", values="value", observed=True)
    np.testing.assert_array_equal(wide["Y"].to_numpy(), sweep["Y"].to_numpy().ravel())
    some = to_tidy(sweep, ["Y", "Hh"], inputs=True)
    assert list(some.columns) == ["draw", "period", "variable", "value", "input_alpha1", "input_Gd"]
    assert len(some) == 2 * 3 * 5
    assert np.all(some.loc[some.draw == 2, "input_Gd"] == float(sweep["input_Gd"][2]))
    with pytest.raises(UnknownNameError, match=r"no series 'YY'\. Did you mean Y"):
        to_tidy(sweep, ["YY"])


def test_save_and_load_a_sweep(sim, tmp_path):
    sweep = run_sweep(sim, [Vary("alpha1", 0.5, 0.7)], draws=3, periods=6)
    path = save_sweep(sweep, tmp_path / "sweep.nc")
    back = load_sweep(path)
    for name in sweep.data_vars:
        np.testing.assert_array_equal(back[name], sweep[name])
    assert back.attrs["model"] == "SIM" and back.attrs["seed"] == 0 and back["Y"].attrs["description"]
    with pytest.raises(ModelError, match=r"must end in \.nc, got '.*sweep\.csv'.*to_tidy"):
        save_sweep(sweep, tmp_path / "sweep.csv")


def test_a_fan_chart(sim, tmp_path):
    from drypowder.plot import plot_fan

    sweep = run_sweep(sim, [Vary("alpha1", 0.5, 0.7)], draws=40, periods=30)
    figure = plot_fan(sweep, "Y", path=tmp_path / "fan.png")
    assert (tmp_path / "fan.png").stat().st_size > 0
    axis = figure.axes[0]
    median = [line for line in axis.lines if line.get_label() == "median"][0]
    np.testing.assert_allclose(median.get_ydata(), np.median(sweep["Y"].to_numpy(), axis=0))
    assert len(axis.collections) == 2  # 5-95% and 25-75%
    with pytest.raises(KeyError, match="no series 'y'"):
        plot_fan(sweep, "y")


def test_progress_shows_a_bar(sim, capsys):
    run_sweep(sim, [Vary("alpha1", 0.5, 0.7)], draws=10, periods=3, chunk=4, progress=True)
    err = capsys.readouterr().err
    assert "sweep SIM" in err and "10/10" in err


# --- bad input ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "vary, kwargs, error, pattern",
    [
        ([Vary("alpha", 0.5, 0.7)], {}, UnknownNameError, r"no parameter or exogenous variable 'alpha' .*alpha1"),
        ([Vary("Y", 0, 1)], {}, ModelError, r"^Y is endogenous \(computed by the equation at .*sim\.toml"),
        ([Vary("alpha1", 0.5, 0.7)], {"draws": 0}, ModelError, r"^draws must be a whole number >= 1, got 0"),
        ([Vary("alpha1", 0.5, 0.7)], {"draws": 2.5}, ModelError, r"^draws must be a whole number"),
        ([Vary("alpha1", 0.5, 0.7)], {"scheduler": "threads"}, ModelError, r"^unknown scheduler 'threads'"),
        ([Vary("alpha1", 0.5, 0.7)], {"chunk": 0}, ModelError, r"^chunk must be a whole number >= 1"),
        ([Vary("alpha1", 0.5, 0.7)], {"periods": 0}, ModelError, r"^periods must be a whole number >= 1"),
        ([Vary("alpha1", 0.5, 0.7)], {"seed": -1}, ModelError, r"^seed must be a whole number >= 0"),
        ([Vary("alpha1", 0.5, 0.7)], {"method": "magic"}, ModelError, r"unknown solver method 'magic'"),
        ([Vary("alpha1", 0.5, 0.7), Vary("alpha1", 0.5, 0.6)], {}, ModelError, r"alpha1 is varied twice"),
        ([], {}, ModelError, r"^nothing to vary"),
        ([Vary("alpha1", 0, 1), Vary("Gd", 0, 1)], {"draws": 10**5, "grid": True}, ModelError, r"10,000,000,000 runs"),
    ],
)
def test_bad_input_is_a_clear_error(sim, vary, kwargs, error, pattern):
    arguments = {"draws": 3, "periods": 5, **kwargs}
    with pytest.raises(error, match=pattern):
        run_sweep(sim, vary, **arguments)


def test_a_range_upside_down_is_an_error():
    with pytest.raises(ModelError, match=r"Vary\('alpha1'\): low \(0\.7\) is above high \(0\.5\)"):
        Vary("alpha1", 0.7, 0.5)
    with pytest.raises(ModelError, match=r"high must be finite"):
        Vary("alpha1", 0.5, float("inf"))


# --- Dask ----------------------------------------------------------------------------------------------


def shared_result_available() -> bool:
    from drypowder import shared_result

    return shared_result.ROOT.is_dir()


@pytest.fixture(scope="module")
def cluster():
    pytest.importorskip("dask.distributed", reason="dask[distributed] is not installed")
    with local_cluster(2) as local:  # the cluster scheduler="local" starts
        yield local


def test_the_local_cluster_runs_without_dask_s_profiler_and_malloc_trim_and_checks_its_event_loops_less_often(cluster):
    import dask
    from dask.distributed import Client

    with Client(cluster) as client:
        assert set(client.run(lambda: dask.config.get("distributed.worker.profile.enabled")).values()) == {False}
        assert set(client.run(lambda dask_worker: "profile" in dask_worker.periodic_callbacks).values()) == {False}
        assert set(client.run(lambda: os.environ.get("MALLOC_TRIM_THRESHOLD_")).values()) == {None}
        ticks = client.run(lambda dask_worker: dask_worker.periodic_callbacks["tick"].callback_time)
        assert set(ticks.values()) == {200.0}  # milliseconds
        assert (
            client.run_on_scheduler(lambda dask_scheduler: dask_scheduler.periodic_callbacks["tick"].callback_time)
            == 200.0
        )
        assert len(client.scheduler_info()["workers"]) == 2


def test_a_dask_sweep_equals_the_local_sweep(pc, cluster):
    vary = [Vary("alpha1", 0.55, 0.65), Vary("lambda0", 0.6, 0.67)]
    local = run_sweep(pc, vary, draws=11, periods=30, chunk=3)
    remote = run_sweep(pc, vary, draws=11, periods=30, chunk=3, scheduler=cluster.scheduler_address, progress=True)
    assert remote.attrs == local.attrs
    for name in local.data_vars:
        np.testing.assert_allclose(remote[name], local[name], rtol=1e-12, atol=1e-12)
    # the workers solved from the values set here, not the model file's
    changed = pc.copy().set(theta=0.25)
    local = run_sweep(changed, vary, draws=4, periods=10, chunk=2)
    remote = run_sweep(changed, vary, draws=4, periods=10, chunk=2, scheduler=cluster.scheduler_address)
    np.testing.assert_allclose(remote["Y"], local["Y"], rtol=1e-12, atol=1e-12)
    # the workers send back only the kept series: the same numbers, in the same places
    local = run_sweep(pc, vary, draws=7, periods=12, chunk=3, variables=["V", "Y"], seed=5)
    remote = run_sweep(
        pc, vary, draws=7, periods=12, chunk=3, variables=["V", "Y"], seed=5, scheduler=cluster.scheduler_address
    )
    assert sorted(remote.data_vars) == sorted(local.data_vars) and "C" not in remote.data_vars
    for name in ("V", "Y"):
        np.testing.assert_array_equal(remote[name], local[name])


def _shared_files() -> set[str]:
    from drypowder import shared_result

    return {path.name for path in shared_result.ROOT.glob(shared_result.PREFIX + "*")}


def _maps_shared_memory(array: np.ndarray) -> bool:
    """True if the array is a view of a mapped file (the sweep's shared result), not private memory."""
    import mmap

    while isinstance(array, np.ndarray):
        array = array.base
    return isinstance(array, memoryview) and isinstance(array.obj, mmap.mmap)


@pytest.mark.skipif(not shared_result_available(), reason="this machine has no /dev/shm")
def test_workers_write_their_chunks_into_shared_memory_and_its_name_is_removed(pc, cluster, monkeypatch):
    from dask.distributed import Client, get_task_stream

    from drypowder import shared_result

    vary = [Vary("alpha1", 0.55, 0.65)]
    local = run_sweep(pc, vary, draws=7, periods=12, chunk=3, seed=2)
    before = _shared_files()
    with Client(cluster) as client, get_task_stream(client) as stream:
        remote = run_sweep(pc, vary, draws=7, periods=12, chunk=3, seed=2, scheduler=client)
    chunks = [task["nbytes"] for task in stream.data if "drypowder-sweep" in str(task["key"])]
    assert len(chunks) == 3 and max(chunks) < 1000  # the tasks sent back no values: 13 x 14 x 3 doubles = 4,368 bytes
    assert _maps_shared_memory(remote["Y"].values) and not _maps_shared_memory(local["Y"].values)
    assert _shared_files() == before  # the name is gone; the result lives on in its mapping
    for name in local.data_vars:
        np.testing.assert_array_equal(remote[name], local[name])
    remote["Y"].values[0, 0] = -1.0  # an ordinary, writable array
    # workers that cannot find the file (on another machine) send their chunks back
    made = shared_result.create

    def elsewhere(shape):
        shared = made(shape)
        os.unlink(shared.path)  # the client keeps the file open; no worker finds it by name
        return shared

    monkeypatch.setattr(shared_result, "create", elsewhere)
    sent = run_sweep(pc, vary, draws=7, periods=12, chunk=3, seed=2, scheduler=cluster.scheduler_address)
    assert _maps_shared_memory(sent["Y"].values)  # the client wrote them into the file itself
    # if shared memory fills up meanwhile (the client's write of the second chunk fails), the result
    # moves to private memory, and no value is lost
    rows, real, calls = 13 * len(pc.compiled.series), os.pwrite, []

    def fills_up(descriptor, data, offset):
        calls.append(offset)
        if len(calls) > rows + rows // 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(descriptor, data, offset)

    with monkeypatch.context() as patch:
        patch.setattr(os, "pwrite", fills_up)
        full = run_sweep(pc, vary, draws=7, periods=12, chunk=3, seed=2, scheduler=cluster.scheduler_address)
    assert not _maps_shared_memory(full["Y"].values)
    # and where there is no shared memory, every chunk travels back into private memory
    monkeypatch.setattr(shared_result, "create", lambda shape: None)
    private = run_sweep(pc, vary, draws=7, periods=12, chunk=3, seed=2, scheduler=cluster.scheduler_address)
    assert not _maps_shared_memory(private["Y"].values)
    for name in local.data_vars:
        np.testing.assert_array_equal(sent[name], local[name])
        np.testing.assert_array_equal(full[name], local[name])
        np.testing.assert_array_equal(private[name], local[name])


def _worker_models():
    """Per worker: the cache key of each model it holds (None: compiled from the pickled spec)."""
    from drypowder import sweep

    return [model.compiled.cache_key for model in sweep._WORKER_MODELS.values()]


def _forget_worker_models():
    from drypowder import sweep

    sweep._WORKER_MODELS.clear()


def test_workers_load_a_model_file_from_the_cache_and_compile_any_other_model(pc, cluster):
    from dask.distributed import Client

    vary = [Vary("alpha1", 0.55, 0.65)]
    # one back end for all (auto could choose numba for one model and numpy for another: ulps apart)
    local = run_sweep(pc, vary, draws=6, periods=10, chunk=2, seed=3, backend="numpy")
    from_spec = drypowder.Model(pc.spec)  # no file behind it: its workers compile the spec
    assert pc.compiled.cache_key and from_spec.compiled.cache_key is None
    with Client(cluster) as client:
        for model, expected in ((pc, pc.compiled.cache_key), (from_spec, None)):
            client.run(_forget_worker_models)
            remote = run_sweep(model, vary, draws=6, periods=10, chunk=2, seed=3, scheduler=client, backend="numpy")
            np.testing.assert_array_equal(remote["Y"], local["Y"])
            held = [keys for keys in client.run(_worker_models).values() if keys]
            assert held and all(keys == [expected] for keys in held)


def test_a_worker_failure_names_the_draw(sim, cluster):
    with pytest.raises(SingularBlockError, match=r"^period 1 \(draw 3: alpha1=1\.25\)"):
        run_sweep(
            sim,
            [Vary("alpha1", 1.1, 1.25)],
            draws=4,
            grid=True,
            periods=3,
            chunk=2,
            scheduler=cluster.scheduler_address,
        )


def test_a_dask_sweep_keeps_its_failed_draws_as_the_local_one_does(sim, cluster):
    # alpha1 = 1.25 with theta = 0.2 makes SIM's block singular: draws 3, 7, 11 and 15 of the 4 x 4 grid
    vary = [Vary("theta", 0.2, 0.2), Vary("alpha1", 1.0, 1.25)]
    sweeps = []
    for scheduler in (None, cluster.scheduler_address):
        with pytest.warns(RuntimeWarning, match=r"^4 of 16 draws could not be solved.* The first: draw 3 \("):
            sweeps.append(
                run_sweep(sim, vary, draws=4, grid=True, periods=6, chunk=5, on_failure="keep", scheduler=scheduler)
            )
    local, remote = sweeps
    np.testing.assert_array_equal(remote["failed"], np.arange(16) % 4 == 3)
    assert remote.attrs["failures"] == local.attrs["failures"]
    for name in local.data_vars:
        np.testing.assert_array_equal(remote[name], local[name])  # NaN where a draw failed, in both


def test_a_client_is_used_and_left_open(sim, cluster):
    from dask.distributed import Client

    vary = [Vary("alpha1", 0.5, 0.7)]
    local = run_sweep(sim, vary, draws=5, periods=10, chunk=2)
    with Client(cluster) as client:
        remote = run_sweep(sim, vary, draws=5, periods=10, chunk=2, scheduler=client)
        assert client.status == "running" and client.submit(sum, [1, 2]).result() == 3
    np.testing.assert_allclose(remote["Y"], local["Y"], rtol=1e-12, atol=1e-12)


def test_a_local_cluster_is_started_and_closed(sim, cluster):
    vary = [Vary("alpha1", 0.5, 0.7)]
    local = run_sweep(sim, vary, draws=5, periods=10, chunk=2)
    remote = run_sweep(sim, vary, draws=5, periods=10, chunk=2, scheduler="local", n_workers=1)
    np.testing.assert_allclose(remote["Y"], local["Y"], rtol=1e-12, atol=1e-12)
