"""JsonlTailSource: complete lines only, byte-offset resume, follow mode waits instead of ending."""

from __future__ import annotations

from connectors.files import JsonlTailSource


def _drain(part, limit: int = 10) -> list[str]:
    out = []
    for _ in range(limit):
        try:
            out += [m.payload for m in part.next_batch()]
        except StopIteration:
            break
    return out


def test_reads_complete_lines_and_resumes_from_the_byte_offset(tmp_path):
    path = tmp_path / "commands.jsonl"
    path.write_text('{"a": 1}\n{"b": 2}\n{"c": 3', encoding="utf-8")  # the last line is still being written
    source = JsonlTailSource(path)
    part = source.build_part("in", str(path), None)
    assert _drain(part) == ['{"a": 1}', '{"b": 2}']
    offset = part.snapshot()
    with path.open("a", encoding="utf-8") as f:
        f.write('}\n{"d": 4}\n')
    resumed = source.build_part("in", str(path), offset)
    assert _drain(resumed) == ['{"c": 3}', '{"d": 4}']


def test_follow_mode_polls_for_appended_lines_and_a_missing_file_is_empty(tmp_path):
    path = tmp_path / "later.jsonl"
    assert _drain(JsonlTailSource(path).build_part("in", str(path), None)) == []
    part = JsonlTailSource(path, follow=True).build_part("in", str(path), None)
    assert part.next_batch() == [] and part.next_awake() is not None
    path.write_text('{"x": 1}\n', encoding="utf-8")
    assert [m.payload for m in part.next_batch()] == ['{"x": 1}'] and part.next_awake() is None
