"""`python -m bytewax.run flows.main` fails with one clear line, not a traceback wall."""

from __future__ import annotations

import pytest

from tests.helpers import free_port, run_flow


def error_lines(env: dict[str, str]) -> list[str]:
    result = run_flow(env, timeout=120)
    assert result.returncode == 2, result.stderr
    return [line for line in result.stderr.splitlines() if line.strip()]


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"SIFT_INPUT": "/nonexistent/reviews.jsonl"}, "sift: error: input file '/nonexistent/reviews.jsonl' does not exist (SIFT_INPUT)"),
        ({"SIFT_BATCH_SIZE": "many"}, "sift: error: SIFT_BATCH_SIZE='many' is not an integer"),
        ({"SIFT_APPS": "/nonexistent/apps"}, "sift: error: app metadata path '/nonexistent/apps' does not exist (SIFT_APPS)"),
    ],
)
def test_bad_setup_gives_one_clear_line(env, expected, tmp_path):
    assert error_lines({"SIFT_SQLITE_PATH": str(tmp_path / "x.db"), **env}) == [expected]


def test_unreachable_elasticsearch_gives_one_clear_line(tmp_path):
    port = free_port()
    lines = error_lines({"SIFT_STORE": "elasticsearch", "SIFT_ES_URL": f"http://127.0.0.1:{port}",
                         "SIFT_INPUT": str(tmp_path / "in.jsonl")} | _touch(tmp_path / "in.jsonl"))
    assert lines == [f"sift: error: cannot reach Elasticsearch at http://127.0.0.1:{port}: connection refused"]


def _touch(path) -> dict[str, str]:
    path.write_text('{"app_id": "paynest", "text": "payment failed again today"}\n')
    return {}
