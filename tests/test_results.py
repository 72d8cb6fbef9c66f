"""Results people can read and use: labelled tables, plots, exports, comparisons.

Every run here is real (one `qprim run` of several workloads for the whole module), and
every number shown or exported is checked against the run's own `result.json`.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import shutil
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import qprim
from qprim.errors import InputError
from qprim.report.markdown import markdown_summary
from qprim.report.runs import SavedRun
from qprim.workload import load_workload
from qprim.workload.summary import observable_label
from tests.support import EXAMPLES, Qprim, qprim_under
from tests.test_reports import png_size

# Variants of the examples, made in the test: another seed, a finite precision, a
# failing check on a 1-D sweep, two PUBs whose histograms differ in height.
VARIANTS = {
    "sweep-seed6.yaml": ("sweep.yaml", [("seed: 5}", "seed: 6}")]),
    "estimator-shots.yaml": (
        "estimator.yaml",
        [
            ("seed: 3}", "seed: 4}"),
            ("    observables: Z\n", "    observables: Z\n    precision: 0.01\n"),
        ],
    ),
}
RY_SWEEP = """\
qprim: 1
name: ry-line
primitive: sampler
backend: {kind: aer, seed: 5}
circuits:
  ry:
    qasm3: |
      OPENQASM 3.0;
      include "stdgates.inc";
      input float[64] theta;
      qubit[2] q;
      bit[2] c;
      ry(theta) q[0];
      cx q[0], q[1];
      c = measure q;
  one:
    qasm3: |
      OPENQASM 3.0;
      include "stdgates.inc";
      qubit[1] q;
      bit[1] c;
      x q[0];
      c = measure q;
pubs:
  - circuit: ry
    shots: 1000
    parameters: {theta: {linspace: [0, 3.14159265, 7]}}
  - circuit: one
    shots: 500
expect:
  - pub: 0
    counts: {"00": 1.0}
    tolerance: 0.3
"""
EXAMPLE_RUNS = ("bell", "noisy-manila", "sweep", "scan-2d", "estimator")


# --- fixtures --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cli(prefect_api_url: str, tmp_path_factory: pytest.TempPathFactory) -> Qprim:
    return qprim_under(tmp_path_factory.mktemp("results"), prefect_api_url)


@pytest.fixture(scope="module")
def runs(cli: Qprim) -> Path:
    """Every workload of this module, run once in one command: runs/<file stem>."""
    files = [EXAMPLES / f"{name}.yaml" for name in EXAMPLE_RUNS]
    for target, (source, edits) in VARIANTS.items():
        text = (EXAMPLES / source).read_text()
        for old, new in edits:
            assert old in text
            text = text.replace(old, new)
        files.append(cli.cwd / target)
        files[-1].write_text(text)
    files.append(cli.cwd / "ry-line.yaml")
    files[-1].write_text(RY_SWEEP)
    done = cli.run("run", *files, "--out", "runs", timeout=600)
    assert done.returncode == 6, done.stderr  # ry-line's check fails on purpose
    return cli.cwd / "runs"


def saved(runs: Path, name: str) -> SavedRun:
    return qprim.load_run(runs / name)


def label(**values: float) -> str:
    """A point as tables write it: names in order, 4 significant digits."""
    return ", ".join(f"{name}={value:.4g}" for name, value in values.items())


def sweep_values(run: SavedRun, pub: int = 0) -> dict[str, np.ndarray]:
    """The PUB's parameter values by name, from the workload itself (not the record)."""
    spec = load_workload(run.path / "workload" / Path(run.record.workload.source or "").name)
    pub_spec = spec.pubs[pub]
    assert pub_spec.parameter_values is not None
    return {
        name: pub_spec.parameter_values[..., k] for k, name in enumerate(pub_spec.parameter_names)
    }


def table_header(text: str, title: str) -> str:
    """The header line of the rich table titled `title`."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(title))
    return next(line for line in lines[start + 1 :] if line.strip())


def table_rows(text: str, title: str) -> list[list[str]]:
    """The cells of the rich table titled `title` (columns are 2+ spaces apart)."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(title))
    rule = next(i for i in range(start, len(lines)) if lines[i].strip().startswith("─"))
    rows = []
    for line in lines[rule + 1 :]:
        if not line.strip():
            break
        rows.append(re.split(r"\s{2,}", line.strip()))
    return rows


# --- the run record --------------------------------------------------------------------


@pytest.mark.slow
def test_run_records_parameter_values_and_observable_labels(runs: Path) -> None:
    scan = saved(runs, "scan-2d")
    workload = load_workload(EXAMPLES / "scan-2d.yaml")
    (pub,), (spec,) = scan.record.pubs, workload.pubs
    document = json.loads((scan.path / "run.json").read_text())
    assert document["record_version"] == 3
    assert pub.parameters is not None and pub.observables is not None
    assert pub.parameters.names == ["theta", "phi"]
    assert np.array_equal(np.asarray(pub.parameters.values), spec.parameter_values)
    assert spec.observables is not None
    assert pub.observables.shape == [3, 1, 1]
    assert pub.observables.labels == [[[observable_label(op)]] for op in spec.observables.ravel()]
    assert pub.observables.labels[2][0][0].count("*") == 5  # the whole Hamiltonian

    estimator = saved(runs, "estimator")
    assert estimator.record.pubs[0].parameters is None  # no parameters
    assert estimator.record.pubs[0].observables is not None
    assert estimator.record.pubs[0].observables.labels[3] == "1*XX - 0.5*YY"
    check = estimator.record.expect[0]
    assert check.expected == [1.0, 1.0, -1.0, 1.5, 0.0] and check.tolerance == 0.02


@pytest.mark.slow
def test_a_fetched_sweep_is_labelled_by_its_parameters_as_the_run_was(
    cli: Qprim, runs: Path
) -> None:
    run = saved(runs, "sweep")
    job_id = run.record.jobs[0].job_id
    done = cli.run("fetch", job_id, "--out", "fetched-sweep")
    assert done.returncode == 0, done.stderr
    fetched = qprim.load_run(cli.cwd / "fetched-sweep")
    assert fetched.record.pubs[0].parameters == run.record.pubs[0].parameters
    assert fetched.record.pubs[0].parameters is not None

    def labelled_rows(folder: Path) -> list[str]:
        shown = cli.run("show", folder, "--all")
        assert shown.returncode == 0, shown.stderr
        return [line.split("│")[0] for line in shown.stdout.splitlines() if "theta=" in line]

    rows = labelled_rows(runs / "sweep")
    assert len(rows) >= 15 and labelled_rows(cli.cwd / "fetched-sweep") == rows


@pytest.mark.slow
def test_older_records_are_labelled_from_the_workload_copy(runs: Path, tmp_path: Path) -> None:
    folder = tmp_path / "old"
    shutil.copytree(runs / "estimator", folder)
    document = json.loads((folder / "run.json").read_text())
    document["record_version"] = 2
    for pub in document["pubs"]:
        del pub["parameters"], pub["observables"]
    for check in document["expect"]:
        del check["expected"], check["tolerance"], check["at"]
    (folder / "run.json").write_text(json.dumps(document))
    fresh = saved(runs, "estimator")

    completed = qprim.load_run(folder)
    assert completed.record.pubs == fresh.record.pubs
    assert completed.record.expect == fresh.record.expect

    shutil.rmtree(folder / "workload")  # nothing to complete it from: labelled by index
    bare = qprim.load_run(folder)
    assert all(pub.parameters is None for pub in bare.record.pubs)
    assert bare.tidy().rows[-1]["observable"] is None
    assert "theta" not in bare.tidy().columns


# --- tables ----------------------------------------------------------------------------


@pytest.mark.slow
def test_counts_table_labels_points_by_parameter_values(cli: Qprim, runs: Path) -> None:
    run = saved(runs, "sweep")
    values = sweep_values(run)
    bits = run.result[0].data.c
    done = cli.run("show", runs / "sweep")
    assert done.returncode == 0, done.stderr
    rows = {cells[1]: "  ".join(cells) for cells in table_rows(done.stdout, "counts (top")}
    assert len(rows) == 15
    for index in np.ndindex(*bits.shape):
        point = label(theta=values["theta"][index], phi=values["phi"][index])
        counts = bits[index].get_counts()
        top, count = max(counts.items(), key=lambda item: (item[1], item[0]))
        assert f"{top}: {count} ({count / 2000:.1%})" in rows[point]
    assert "more point" not in done.stdout  # 15 points: all shown
    assert "point" in table_header(done.stdout, "counts (top outcomes)")

    bell = cli.run("show", runs / "bell")
    assert "point" not in table_header(bell.stdout, "counts (top outcomes)")  # one point


@pytest.mark.slow
def test_notice_says_when_points_are_left_out_and_all_shows_them(cli: Qprim, runs: Path) -> None:
    run = saved(runs, "scan-2d")
    values = sweep_values(run)
    evs = np.asarray(run.result[0].data.evs)
    last = label(theta=values["theta"][8, 8], phi=values["phi"][8, 8])

    cut = cli.run("show", runs / "scan-2d")
    assert cut.returncode == 0, cut.stderr
    assert "65 more points not shown (pub 0: 16 of 81 shown)" in cut.stdout
    assert f"qprim show {runs / 'scan-2d'} --all" in cut.stdout.replace("\n", "")
    assert last not in {cells[1] for cells in table_rows(cut.stdout, "expectation values")}

    every = cli.run("show", runs / "scan-2d", "--all")
    assert every.returncode == 0, every.stderr
    assert "more point" not in every.stdout
    shown = {
        (point, observable): value
        for _, point, observable, value, _ in table_rows(every.stdout, "expectation values")
    }
    assert len(shown) == 243
    for obs, name in enumerate(("ZZ", "XX")):
        for index in np.ndindex(9, 9):
            point = label(theta=values["theta"][index], phi=values["phi"][index])
            assert shown[point, name] == f"{evs[(obs, *index)]:+.6f}"

    energy = evs[2]
    low = np.unravel_index(int(np.argmin(energy)), energy.shape)
    where = label(theta=values["theta"][low], phi=values["phi"][low])
    extremes = table_rows(every.stdout, "extremes over the sweep")
    assert [cells[-3] for cells in extremes] == ["min", "max"] * 3  # per observable
    (energy_row,) = [cells for cells in extremes if "5 terms" in cells[1]]
    assert energy_row[2:] == ["min", f"{energy[low]:+.6f} ± 0.000000", where]


@pytest.mark.slow
def test_markdown_summary_has_labelled_rows_and_the_notice(runs: Path) -> None:
    scan = saved(runs, "scan-2d")
    values = sweep_values(scan)
    evs = np.asarray(scan.result[0].data.evs)
    text = markdown_summary(scan.record, scan.result, str(scan.path))
    first = label(theta=values["theta"][0, 1], phi=values["phi"][0, 1])
    assert f"| 0 | {first} | `XX` | {evs[1, 0, 1]:+.6f} | 0.000000 |" in text
    assert "_65 more points not shown (pub 0: 16 of 81 shown)" in text
    assert f"`qprim export {scan.path}`" in text
    assert "### Extremes over the sweep" in text

    sweep = saved(runs, "sweep")
    assert "more point" not in markdown_summary(sweep.record, sweep.result)
    bell = saved(runs, "bell")
    assert "| pub | register | shots | top outcomes | distinct |" in markdown_summary(
        bell.record, bell.result
    )


# --- exports ---------------------------------------------------------------------------


@pytest.mark.slow
def test_csv_export_holds_every_count_of_the_sweep(cli: Qprim, runs: Path) -> None:
    run = saved(runs, "sweep")
    values = sweep_values(run)
    bits = run.result[0].data.c
    done = cli.run("export", runs / "sweep")
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    assert list(rows[0]) == [
        "pub", "circuit", "point", "theta", "phi",
        "register", "outcome", "count", "probability", "shots",
    ]  # fmt: skip
    expected = {
        (int(np.ravel_multi_index(index, bits.shape)), outcome): count
        for index in np.ndindex(*bits.shape)
        for outcome, count in bits[index].get_counts().items()
    }
    assert {(int(row["point"]), row["outcome"]): int(row["count"]) for row in rows} == expected
    assert len(rows) == len(expected)
    for row in rows:
        index = np.unravel_index(int(row["point"]), bits.shape)
        assert float(row["theta"]) == values["theta"][index]  # written in full
        assert float(row["phi"]) == values["phi"][index]
        assert float(row["probability"]) == int(row["count"]) / 2000
        assert (row["pub"], row["circuit"], row["register"], row["shots"]) == (
            "0", "ansatz", "c", "2000",
        )  # fmt: skip


@pytest.mark.slow
def test_json_parquet_and_dataframe_hold_every_expectation_value(cli: Qprim, runs: Path) -> None:
    import pandas

    run = saved(runs, "scan-2d")
    values = sweep_values(run)
    evs, stds = (np.asarray(run.result[0].data.evs), np.asarray(run.result[0].data.stds))
    labels = run.record.pubs[0].observables.labels  # type: ignore[union-attr]
    done = cli.run("export", runs / "scan-2d", "--format", "json")
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert len(rows) == evs.size == 243
    for row in rows:
        index = np.unravel_index(row["point"], (9, 9))
        element = (row["observable_index"], *index)
        assert row["ev"] == evs[element] and row["std"] == stds[element]
        assert row["observable"] == labels[row["observable_index"]][0][0]
        assert (row["theta"], row["phi"]) == (values["theta"][index], values["phi"][index])

    frame = qprim.load_run(runs / "scan-2d").to_dataframe()
    assert list(frame.columns) == list(rows[0])
    pandas.testing.assert_frame_equal(frame, pandas.DataFrame(rows), check_dtype=False)
    zz = frame[frame.observable == "ZZ"].pivot(index="theta", columns="phi", values="ev")
    assert np.array_equal(zz.to_numpy(), evs[0])

    parquet = cli.run("export", runs / "scan-2d", "-f", "parquet", "--out", "scan.parquet")
    assert parquet.returncode == 0, parquet.stderr
    assert "wrote 243 rows" in parquet.stderr
    pandas.testing.assert_frame_equal(pandas.read_parquet(cli.cwd / "scan.parquet"), frame)


@pytest.mark.slow
def test_export_usage_errors(cli: Qprim, runs: Path) -> None:
    binary = cli.run("export", runs / "bell", "--format", "parquet")
    assert binary.returncode == 2 and "give --out FILE" in binary.stderr
    missing = cli.run("export", "no-such-run")
    assert missing.returncode == 2 and "not a qprim run folder" in missing.stderr


@pytest.mark.slow
def test_dataframe_without_pandas_says_what_to_install(
    runs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = saved(runs, "bell")
    for name in [name for name in sys.modules if name.split(".")[0] == "pandas"]:
        monkeypatch.setitem(sys.modules, name, None)  # None in sys.modules: ImportError
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(InputError, match=r"pip install 'qprim\[data\]'"):
        run.to_dataframe()


# --- plots -----------------------------------------------------------------------------


def _titles(figure: Any) -> list[str]:
    return [ax.get_title() for ax in figure.axes if ax.get_visible() and ax.get_title()]


@pytest.mark.slow
def test_scan_png_is_a_labelled_heatmap_per_observable(cli: Qprim, runs: Path) -> None:
    from qprim.report.plots import run_figure

    done = cli.run("show", runs / "scan-2d", "--png", "scan.png")
    assert done.returncode == 0, done.stderr
    width, height = png_size(cli.cwd / "scan.png")
    assert width > 2 * height > 800  # three heatmaps side by side

    run = saved(runs, "scan-2d")
    figure = run_figure(run)
    heatmaps = [ax for ax in figure.axes if ax.images]
    assert len(heatmaps) == 3
    values = sweep_values(run)
    evs = np.asarray(run.result[0].data.evs)
    for obs, ax in enumerate(heatmaps):
        assert (ax.get_xlabel(), ax.get_ylabel()) == ("theta", "phi")
        ticks = [tick.get_text() for tick in ax.get_xticklabels()]
        assert ticks == [f"{v:.3g}" for v in values["theta"][:, 0]]
        assert np.array_equal(ax.images[0].get_array(), evs[obs].T)  # theta along x
        low = np.unravel_index(int(np.argmin(evs[obs])), (9, 9))
        assert f"min {evs[obs][low]:+.4f}" in ax.get_title()
    colorbars = [ax.get_ylabel() for ax in figure.axes if not ax.images and ax.get_ylabel()]
    assert colorbars[:2] == ["⟨ZZ⟩", "⟨XX⟩"] and "5 terms" in colorbars[2]


@pytest.mark.slow
def test_a_2d_sampler_sweep_marks_each_heatmaps_min_and_max(runs: Path) -> None:
    from qprim.report.plots import run_figure

    run = saved(runs, "sweep")  # 5 x 3 product sweep, sampler
    heatmaps = [ax for ax in run_figure(run).axes if ax.images]
    assert heatmaps
    for ax in heatmaps:
        grid = np.asarray(ax.images[0].get_array()).T  # drawn with theta along x
        low = np.unravel_index(int(np.argmin(grid)), grid.shape)
        high = np.unravel_index(int(np.argmax(grid)), grid.shape)
        markers = {
            line.get_marker(): (line.get_xdata()[0], line.get_ydata()[0]) for line in ax.lines
        }
        assert markers["v"] == low and markers["^"] == high
        assert f"▼ min {grid[low]:.3f}" in ax.get_title()
        assert f"▲ max {grid[high]:.3f}" in ax.get_title()


@pytest.mark.slow
def test_counts_png_states_bit_order_shares_y_and_marks_failed_checks(
    cli: Qprim, runs: Path
) -> None:
    from matplotlib.container import BarContainer

    from qprim.report.figures import FAILED_COLOR
    from qprim.report.plots import run_figure

    done = cli.run("show", runs / "ry-line", "--png", "ry-line.png")
    assert done.returncode == 0, done.stderr
    width, height = png_size(cli.cwd / "ry-line.png")
    assert width > 800 and height > 300

    run = saved(runs, "ry-line")
    sweep, single = [ax for ax in run_figure(run).axes if ax.get_visible()]
    assert sweep.get_xlabel() == "theta" and sweep.get_ylabel() == "probability"
    assert sweep.get_legend().get_title().get_text() == "outcome (clbit 0 rightmost)"
    check = run.record.expect[0]
    assert not check.passed and check.at == [6]
    assert "✗ FAILED counts" in sweep.get_title() and "worst at theta=3.142" in sweep.get_title()
    assert sweep.title.get_color() == FAILED_COLOR
    assert sweep.spines["left"].get_edgecolor()[:3] == pytest.approx(
        (0xDA / 255, 0x1E / 255, 0x28 / 255)
    )
    band = [line for line in sweep.lines if line.get_xdata()[0] == pytest.approx(3.14159265)]
    assert band, "the worst point is marked"
    assert single.get_xlabel() == "outcome (clbit 0 rightmost)"
    assert single.title.get_color() != FAILED_COLOR

    bell, noisy = saved(runs, "bell"), saved(runs, "noisy-manila")
    for one in (bell, noisy):
        (ax,) = [ax for ax in run_figure(one).axes if ax.get_visible()]
        counts = one.result[0].data.c.get_counts()
        heights = [bar.get_height() for bar in ax.patches]
        assert sorted(heights) == sorted(count / 4000 for count in counts.values())
        (bars,) = [c for c in ax.containers if isinstance(c, BarContainer)]
        assert bars.errorbar is not None
        (segments,) = bars.errorbar.lines[2]
        half = sorted((top - bottom) / 2 for (_, bottom), (_, top) in segments.get_segments())
        shares = np.array(heights)
        assert half == pytest.approx(sorted(np.sqrt(shares * (1 - shares) / 4000)))  # shot noise
        assert "✓ counts" in ax.get_title()


@pytest.mark.slow
def test_histograms_of_one_figure_share_their_y_scale(runs: Path) -> None:
    from qprim.report.plots import run_figure

    noisy = saved(runs, "noisy-manila")  # with the 100% `x` PUB of ry-line, drawn together
    doubled = SavedRun(
        noisy.path,
        type(noisy.result)([noisy.result[0], saved(runs, "ry-line").result[1]]),
        noisy.record.model_copy(update={"pubs": [], "expect": []}),
    )
    first, second = [ax for ax in run_figure(doubled).axes if ax.get_visible()]
    assert first.get_ylim() == second.get_ylim()
    assert second.get_ylim()[1] > 1.0  # the 100% bar of `x` sets the scale for both


# --- comparisons -----------------------------------------------------------------------


def tvd(one: dict[str, int], other: dict[str, int]) -> float:
    shots_one, shots_other = sum(one.values()), sum(other.values())
    keys = set(one) | set(other)
    return 0.5 * sum(abs(one.get(k, 0) / shots_one - other.get(k, 0) / shots_other) for k in keys)


@pytest.mark.slow
def test_compare_ideal_and_noisy_bell_by_total_variation(cli: Qprim, runs: Path) -> None:
    ideal, noisy = saved(runs, "bell"), saved(runs, "noisy-manila")
    distance = tvd(ideal.result[0].data.c.get_counts(), noisy.result[0].data.c.get_counts())
    assert distance > 0.01

    within = cli.run(
        "compare",
        runs / "bell",
        runs / "noisy-manila",
        "--json",
        "--tolerance",
        f"{distance + 1e-3}",
    )
    assert within.returncode == 0, within.stderr
    document = json.loads(within.stdout)
    assert document["worst"]["tvd"] == pytest.approx(distance, abs=1e-12)
    assert document["beyond"] == 0
    assert document["a"]["backend"]["name"] == "aer_simulator"
    assert document["b"]["backend"]["noise"] is True
    beyond = cli.run(
        "compare", runs / "bell", runs / "noisy-manila",
        "--tolerance", f"{distance - 0.001}", "--png", "bell-vs-noisy.png",
    )  # fmt: skip
    assert beyond.returncode == 6, beyond.stderr
    assert "1 of 1 beyond tolerance" in beyond.stdout
    assert f"TVD {distance:.4f}" in beyond.stdout
    assert png_size(cli.cwd / "bell-vs-noisy.png")[0] > 400


@pytest.mark.slow
def test_compare_a_sweep_point_by_point(cli: Qprim, runs: Path) -> None:
    a, b = saved(runs, "sweep"), saved(runs, "sweep-seed6")
    bits_a, bits_b = a.result[0].data.c, b.result[0].data.c
    values = sweep_values(a)
    done = cli.run("compare", runs / "sweep", runs / "sweep-seed6", "--json")
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)["differences"]
    assert len(rows) == 15
    for row, index in zip(rows, np.ndindex(5, 3), strict=True):
        expected = tvd(bits_a[index].get_counts(), bits_b[index].get_counts())
        assert row["tvd"] == pytest.approx(expected, abs=1e-12)
        assert row["parameters"] == {"theta": values["theta"][index], "phi": values["phi"][index]}
    worst = max(rows, key=lambda row: row["tvd"])
    table = cli.run("compare", runs / "sweep", runs / "sweep-seed6")
    first_row = table.stdout.split("shots A / B")[1].splitlines()[2]
    assert worst["label"] in first_row and f"{worst['tvd']:.4f}" in first_row  # worst first


@pytest.mark.slow
def test_compare_expectation_values_with_standard_errors(cli: Qprim, runs: Path) -> None:
    a, b = saved(runs, "estimator"), saved(runs, "estimator-shots")
    diff = np.asarray(b.result[1].data.evs) - np.asarray(a.result[1].data.evs)
    se = np.hypot(np.asarray(a.result[1].data.stds), np.asarray(b.result[1].data.stds))
    assert se.min() > 0 and np.abs(diff).max() > 0

    largest = float(np.max(np.abs(diff) / se))
    loose = cli.run(
        "compare", runs / "estimator", runs / "estimator-shots",
        "--json", "--sigma", f"{largest * 1.01}",
    )  # fmt: skip
    assert loose.returncode == 0, loose.stderr
    document = json.loads(loose.stdout)
    swept = [row for row in document["differences"] if row["pub"] == 1]
    assert [row["diff"] for row in swept] == pytest.approx(list(diff), abs=1e-12)
    assert [row["se"] for row in swept] == pytest.approx(list(se), abs=1e-12)
    assert [row["observable"] for row in swept] == ["Z"] * 9
    worst = int(np.argmax(np.abs(diff) / se))
    assert document["worst"]["pub"] == 1 and document["worst"]["point"] == worst
    assert document["worst"]["sigmas"] == pytest.approx(largest)
    tight = cli.run(
        "compare", runs / "estimator", runs / "estimator-shots",
        "--json", "--sigma", f"{largest * 0.99}",
    )  # fmt: skip
    assert tight.returncode == 6, tight.stderr
    assert json.loads(tight.stdout)["beyond"] == int((np.abs(diff) / se > largest * 0.99).sum())
    assert "differences beyond" in tight.stderr and "sigma; worst: pub 1" in tight.stderr
    beyond = cli.run(
        "compare", runs / "estimator", runs / "estimator-shots",
        "--tolerance", f"{np.abs(diff).max() * 0.99}", "--png", "est.png",
    )  # fmt: skip
    count = int((np.abs(diff) > np.abs(diff).max() * 0.99).sum())
    assert beyond.returncode == 6 and f"{count} of 14 beyond" in beyond.stdout
    assert png_size(cli.cwd / "est.png")[0] > 800


@pytest.mark.slow
@pytest.mark.parametrize(
    ("other", "flags", "message"),
    [
        ("sweep", (), "pub 0: shape () vs (5, 3)"),
        ("estimator", (), "primitive sampler vs estimator"),
        ("noisy-manila", ("--sigma", "3"), "--sigma applies to estimator runs"),
        ("noisy-manila", ("--sigma", "3", "--tolerance", "0.1"), "not both"),
    ],
)
def test_compare_refuses_what_cannot_be_compared(
    cli: Qprim, runs: Path, other: str, flags: tuple[str, ...], message: str
) -> None:
    done = cli.run("compare", runs / "bell", runs / other, *flags)
    assert done.returncode == 2, done.stderr
    assert message in done.stderr


def test_infinite_sigmas_are_null_in_json() -> None:
    from qprim.report.compare import Difference

    exact = Difference(pub=0, point=0, label="", ev_a=1.0, ev_b=0.5, std_a=0.0, std_b=0.0)
    assert exact.sigmas == math.inf and exact.document()["sigmas"] is None
    same = Difference(pub=0, point=0, label="", ev_a=1.0, ev_b=1.0, std_a=0.0, std_b=0.0)
    assert same.sigmas == 0.0
