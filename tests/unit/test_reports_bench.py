"""The summary benchmark still runs (at a tiny size: CI never builds the 2M answers)."""

from bench.summary_scale import run


def test_the_summary_benchmark_runs_at_a_small_size(tmp_path, capsys):
    timings = run(sizes=(6_500, 13_000), runs=1, folder=tmp_path)
    assert [t.answers for t in timings] == [6_500, 13_000]
    assert all(t.summary_ms > 0 and t.ranking_ms > 0 and t.weak_ms > 0 for t in timings)
    assert "13,000" in capsys.readouterr().out
