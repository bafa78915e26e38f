"""benchmarks/_sections.py: each benchmark script rewrites only its own ``## `` section of a page."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from _sections import machine_line, write_section

PAGE = """# Quality

## A

old a
```
## not a heading (inside code)
```

## B

b stays
"""


def test_replaces_only_its_own_section(tmp_path: Path) -> None:
    page = tmp_path / "quality.md"
    page.write_text(PAGE)
    write_section(page, "## A\n\nnew a\n")
    assert page.read_text() == "# Quality\n\n## A\n\nnew a\n\n## B\n\nb stays\n"
    write_section(page, "## B\n\nnew b")
    assert page.read_text() == "# Quality\n\n## A\n\nnew a\n\n## B\n\nnew b\n"


def test_appends_a_new_section_and_creates_a_missing_page(tmp_path: Path) -> None:
    page = tmp_path / "docs" / "matting_quality.md"
    write_section(page, "## X\n\nx\n")
    write_section(page, "## Y\n\ny\n")
    assert page.read_text() == "# Matting quality\n\n## X\n\nx\n\n## Y\n\ny\n"
    assert [p.name for p in page.parent.iterdir()] == ["matting_quality.md"]  # no temporary file left


def test_text_without_a_section_heading_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="must start with a '## ' heading"):
        write_section(tmp_path / "q.md", "# Title\n\ntext")
    assert not (tmp_path / "q.md").exists()


def test_machine_line_names_what_the_numbers_depend_on() -> None:
    line = machine_line()
    assert line.startswith("Measured ") and "cores" in line and "torch" in line
