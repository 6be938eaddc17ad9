"""bench.replay: CSV rows to review lines, the time shuffle, its errors, and a small replay through the real flow."""

from __future__ import annotations

import csv
import json
import sqlite3
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import pytest

from bench.replay import (
    DEFAULT_APPS,
    ReplayError,
    false_alarms,
    main,
    read_stream,
    resolve_apps,
    review_line,
    review_lines,
    shuffle_times,
    stretch_times,
    with_times,
)
from core.appmeta import load_apps
from flows.operators.parse import parse_message
from core.records import RawMessage, Review

ROOT = Path(__file__).resolve().parent.parent
STREAMS = ROOT.parent / "shared" / "data" / "streams"
STREAM_HEADER = ["review_id", "app", "platform", "text", "rating", "date", "app_version", "thumbs_up", "dev_reply",
                 "lang_guess"]
RECEIVED = datetime(2026, 11, 1, tzinfo=timezone.utc)


def write_csv(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture(scope="module")
def bench_apps():
    return load_apps(DEFAULT_APPS)


def test_rows_become_review_lines_the_flow_accepts(tmp_path, bench_apps):
    path = write_csv(tmp_path / "s.csv", STREAM_HEADER, [
        ["r-2", "PhonePe", "google_play", "payment failed but money debited", "1", "2025-05-08 18:00:46", "25.04.04.0",
         "3", "sorry", "en"],
        ["r-1", "Paytm", "google_play", "refund not received after a week", "", "2025-05-08T17:00:00+05:30", "",
         "", "", "en"],
    ])
    stream = read_stream(path)
    app_ids = resolve_apps((r.app for r in stream.rows), bench_apps, DEFAULT_APPS)
    assert app_ids == {"PhonePe": "phonepe", "Paytm": "paytm"}

    first = json.loads(review_line(stream.rows[0], "phonepe"))
    assert first == {"id": "r-2", "app_id": "phonepe", "text": "payment failed but money debited",
                     "source": "google_play", "rating": 1, "created_at": "2025-05-08T18:00:46+00:00",
                     "app_version": "25.04.04.0", "meta": {"thumbs_up": 3}}
    second = json.loads(review_line(stream.rows[1], "paytm"))
    assert second["created_at"] == "2025-05-08T11:30:00+00:00"  # the offset is kept, as UTC
    assert "rating" not in second and "app_version" not in second and second["meta"] == {"thumbs_up": 0}

    lines = review_lines(stream.rows, app_ids)
    assert [json.loads(line)["id"] for line in lines] == ["r-1", "r-2"]  # time order, not file order
    for line in lines:
        assert isinstance(parse_message(RawMessage(line, "test", RECEIVED), {"phonepe", "paytm"}), Review)


def test_tweet_export_columns(tmp_path, bench_apps):
    header = ["id", "date", "timezone", "text", "twitter_lang", "hashtags", "nlikes", "nreplies", "nretweets",
              "bank_query", "source_file"]
    path = write_csv(tmp_path / "t.csv", header, [
        ["abc", "2021-08-19 15:18:03", "200", "@FNBSA the app is down again", "en", "[]", "4", "0", "0", "FNBSA",
         "tweets_FNB.csv"],
    ])
    row = read_stream(path).rows[0]
    assert resolve_apps([row.app], bench_apps, DEFAULT_APPS) == {"FNBSA": "fnbsa"}
    line = json.loads(review_line(row, "fnbsa"))
    assert line["created_at"] == "2021-08-19T13:18:03+00:00"  # timezone 200 = +02:00
    assert line["source"] == "twitter" and line["meta"] == {"thumbs_up": 4} and "rating" not in line


def test_undated_rows_get_seeded_times_and_ids(tmp_path):
    path = write_csv(tmp_path / "mx.csv", ["app", "platform", "text", "rating", "lang_guess"],
                     [["klar", "app_store_mx", f"reseña número {i}", "5", "es"] for i in range(50)])
    stream = read_stream(path)
    assert stream.undated == 50 and [r.review_id for r in stream.rows[:2]] == ["mx-1", "mx-2"]
    timed = with_times(stream, seed=3, undated_days=28)
    again = with_times(read_stream(path), seed=3, undated_days=28)
    assert [r.at for r in timed.rows] == [r.at for r in again.rows]
    assert "no dates" in timed.note
    end = datetime(2026, 1, 1, tzinfo=timezone.utc)
    assert all((end - r.at).total_seconds() <= 28 * 86400 and r.at <= end for r in timed.rows)
    assert len({r.at for r in timed.rows}) == 50
    assert [r.at for r in with_times(stream, seed=4, undated_days=28).rows] != [r.at for r in timed.rows]


def test_shuffle_permutes_times_within_each_app(tmp_path):
    rows = [[f"id-{i}", "PhonePe" if i % 3 else "Paytm", "google_play", f"text {i}", "3",
             f"2025-05-0{1 + i % 8} {i % 24:02d}:00:00", "", "0", "", "en"] for i in range(60)]
    stream = read_stream(write_csv(tmp_path / "s.csv", STREAM_HEADER, rows))
    shuffled = shuffle_times(stream.rows, seed=17)
    assert [r.review_id for r in shuffled] == [r.review_id for r in stream.rows]  # same rows, same texts
    for app in ("PhonePe", "Paytm"):
        before = [r.at for r in stream.rows if r.app == app]
        after = [r.at for r in shuffled if r.app == app]
        assert Counter(before) == Counter(after) and before != after
    assert [r.at for r in shuffle_times(stream.rows, seed=17)] == [r.at for r in shuffled]
    assert [r.at for r in shuffle_times(stream.rows, seed=18)] != [r.at for r in shuffled]


def test_stretch_spreads_each_apps_times_from_its_own_first_review(tmp_path):
    rows = [["a", "PhonePe", "google_play", "t", "3", "2025-05-01 00:00:00", "", "0", "", "en"],
            ["b", "PhonePe", "google_play", "t", "3", "2025-05-02 00:00:00", "", "0", "", "en"],
            ["c", "Paytm", "google_play", "t", "3", "2025-05-03 00:00:00", "", "0", "", "en"],
            ["d", "Paytm", "google_play", "t", "3", "2025-05-03 12:00:00", "", "0", "", "en"]]
    stream = read_stream(write_csv(tmp_path / "s.csv", STREAM_HEADER, rows))
    stretched = {r.review_id: r.at for r in stretch_times(stream.rows, 10)}
    assert stretched["a"] == datetime(2025, 5, 1, tzinfo=timezone.utc)
    assert stretched["b"] == datetime(2025, 5, 11, tzinfo=timezone.utc)  # one day after PhonePe's first: ten
    assert stretched["c"] == datetime(2025, 5, 3, tzinfo=timezone.utc)  # Paytm's first review stays
    assert stretched["d"] == datetime(2025, 5, 8, tzinfo=timezone.utc)  # twelve hours after it: five days


def test_clear_errors(tmp_path, bench_apps, capsys):
    with pytest.raises(ReplayError, match="does not exist"):
        read_stream(tmp_path / "missing.csv")
    bad = write_csv(tmp_path / "bad.csv", ["app", "text", "stars"], [["PhonePe", "hello there friend", "5"]])
    with pytest.raises(ReplayError, match=r"unknown column\(s\) \['stars'\]"):
        read_stream(bad)
    no_text = write_csv(tmp_path / "no_text.csv", ["app", "rating"], [["PhonePe", "5"]])
    with pytest.raises(ReplayError, match="no 'text' column"):
        read_stream(no_text)
    with pytest.raises(ReplayError, match="no app metadata .* for app 'BharatPe'"):
        resolve_apps(["PhonePe", "BharatPe"], bench_apps, DEFAULT_APPS)

    unknown_app = write_csv(tmp_path / "u.csv", ["app", "text"], [["BharatPe", "the app is slow to open"]])
    assert main(["--data", str(unknown_app)]) == 2
    assert "bench.replay: error: no app metadata" in capsys.readouterr().err


def test_app_values_match_metadata_by_id_name_or_slug_prefix(bench_apps):
    values = ["klar", "albo-reemplaza-a-tu-banco", "cuenca-alternativa-a-un-banco", "fondeadora-libérate-del-banco",
              "hey-banco", "DANA", "StandardBankZA", "Nedbank"]
    assert resolve_apps(values, bench_apps, DEFAULT_APPS) == {
        "klar": "klar", "albo-reemplaza-a-tu-banco": "albo", "cuenca-alternativa-a-un-banco": "cuenca",
        "fondeadora-libérate-del-banco": "fondeadora", "hey-banco": "heybanco", "DANA": "dana",
        "StandardBankZA": "standardbankza", "Nedbank": "nedbank"}


def test_bench_apps_carry_the_contest_hashtags(bench_apps):
    assert bench_apps["fnbsa"].denoise == {"contest_hashtags": ["LoveFNB"]}
    assert "Paytm" in {c.name for c in bench_apps["phonepe"].competitors}


def test_false_alarm_rates_per_scale():
    tickets = [{"id": "a", "scale": "hour"}, {"id": "b", "trigger_scale": "week"}, {"id": "c", "scale": "hour"}]
    alarms = false_alarms(tickets, rows=20_000, seed=1)
    assert alarms["per_10k"] == 1.5 and alarms["headline_scale"] == "hour" and alarms["headline_per_10k"] == 1.0
    assert alarms["by_scale"] == {"hour": {"tickets": 2, "per_10k": 1.0}, "day": {"tickets": 0, "per_10k": 0.0},
                                  "week": {"tickets": 1, "per_10k": 0.5}, "month": {"tickets": 0, "per_10k": 0.0}}
    plain = false_alarms([{"id": "a"}], rows=5_000, seed=1)
    assert plain["headline_scale"] is None and plain["headline_per_10k"] == 2.0 and plain["by_scale"] == {}


@pytest.mark.skipif(not STREAMS.is_dir(), reason=f"the shared streams are not at {STREAMS} (../shared/data beside the "
                                                   "checkout); they are never copied into the project")
def test_small_replay_stores_every_row_once(tmp_path, capsys):
    data = STREAMS / "dana_ewallet_id.csv"
    assert main(["--data", str(data), "--limit", "300", "--work", str(tmp_path), "--keep"]) == 0
    out = capsys.readouterr().out
    result = json.loads(out.strip().splitlines()[-1])
    assert {"rows", "stored", "tickets", "tickets_raised", "false_alarms", "false_alarm_per_10k", "elapsed_s",
            "rejected_by_reason", "dated"} <= set(result)
    assert {"tickets", "per_10k", "by_scale", "headline_scale", "headline_per_10k", "rows"} <= set(result["false_alarms"])
    for ticket in result["tickets"] + result["false_alarms"]["ticket_list"]:
        assert {"id", "title", "count", "total_count", "severity"} <= set(ticket)

    with data.open(encoding="utf-8", newline="") as f:
        ids = {f"dana/{row['review_id']}" for _, row in zip(range(300), csv.DictReader(f))}  # record ids: <app_id>/<id>
    assert result["rows"] == result["stored"] == len(ids) == 300
    for run in ("replay", "shuffled"):
        with sqlite3.connect(tmp_path / run / "file.db") as conn:
            stored = [i for (i,) in conn.execute("SELECT id FROM reviews UNION ALL SELECT id FROM rejected")]
        assert sorted(stored) == sorted(ids), run  # every row is exactly one record
