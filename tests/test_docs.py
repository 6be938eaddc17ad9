"""The README and docs/ hold together: every relative link resolves, the README stays a front door."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
_FENCE = re.compile(r"^(```|~~~).*?^\1", re.M | re.S)
_CODE = re.compile(r"`[^`\n]*`")
_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens.

    >>> slug("Review type, sentiment, competitors, priority, clusters")
    'review-type-sentiment-competitors-priority-clusters'
    >>> slug("How `bench.throughput` measures")
    'how-benchthroughput-measures'
    """
    text = heading.strip().lower().replace("`", "")
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    text = _FENCE.sub("", page.read_text(encoding="utf-8"))
    return {slug(m.group(1)) for m in re.finditer(r"^#{1,6}\s+(.+?)\s*$", text, re.M)}


def links(page: Path) -> list[str]:
    text = _CODE.sub("", _FENCE.sub("", page.read_text(encoding="utf-8")))
    return [m.group(1) for m in _LINK.finditer(text)]


def broken(page: Path) -> list[str]:
    """The relative links of `page` whose file (or `#anchor` in it) does not exist."""
    out = []
    for target in links(page):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:
            continue
        path, _, anchor = target.partition("#")
        resolved = (page.parent / path).resolve() if path else page
        if not resolved.exists():
            out.append(f"{target} (no such file)")
        elif anchor and resolved.suffix == ".md" and anchor not in anchors(resolved):
            out.append(f"{target} (no heading #{anchor})")
    return out


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(page):
    assert broken(page) == []


def test_the_link_check_finds_a_broken_link(tmp_path):
    page = tmp_path / "page.md"
    (tmp_path / "there.md").write_text("# A heading\n")
    page.write_text("[ok](there.md#a-heading) [gone](missing.md) [bad anchor](there.md#nope) `[code](x.md)`\n")
    assert broken(page) == ["missing.md (no such file)", "there.md#nope (no heading #nope)"]


def test_the_readme_is_a_front_door():
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 200, f"README.md has {len(lines)} lines; move reference material to docs/"
    for page in ("architecture", "configuration", "operations", "feed-api", "quality", "performance"):
        assert f"(docs/{page}.md)" in "\n".join(lines), page


def test_the_readmes_priority_rule_and_auc_are_the_shipped_and_measured_ones():
    """The README states the priority rule and its AUC (issue 22); both must be the code's and the results page's."""
    from flows.operators.issue_priority import INTERCEPT, WEIGHTS

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rule = f"sigmoid({INTERCEPT:g} " + " ".join(f"+ {w:g}·{name}" for name, w in WEIGHTS.items()) + ")"
    assert rule in readme, rule
    page = (ROOT / "docs" / "results" / "priority-dev.md").read_text(encoding="utf-8")
    measured = re.search(r"\*\*the rule \(shipped weights, in-sample\)\*\* \| \*\*(0\.\d+)\*\*", page).group(1)
    size = re.search(r"\| size alone \(reviews\) \| (0\.\d+) \|", page).group(1)
    assert f"({float(measured):.3f}," in readme and f"against {float(size):.3f} for size alone" in readme
