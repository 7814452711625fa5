"""Every citation in the repository points at something a reader can open.

The project was started from source notes that are not in the repository; a
docstring that cites one of them by its file name (``002_bb7b32d2dc90b02e.txt``)
or by its "level B" section leaves the reader nowhere to go. Cite a file of this
repository, or a paper or book by name.
"""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ("expfam", "derivations", "experiments", "tests", "benchmarks", "docs")
DANGLING = re.compile(
    r"\b\d{3}_[0-9a-f]{16}\.txt\b|\blevel [A-E]\b|\bthe seed(?:'s| documents?)\b"
)
SKIP = {"_build", "api", "auto_gallery", "auto_tutorials", "_static", "__pycache__"}


def text_files():
    files = [ROOT / "README.md", ROOT / "CONTRIBUTING.md"]
    for folder in FOLDERS:
        for path in sorted((ROOT / folder).rglob("*")):
            if SKIP & set(path.relative_to(ROOT).parts) or path == Path(__file__):
                continue
            if path.suffix in {".py", ".md", ".rst", ".txt", ".pyx", ".c"}:
                files.append(path)
    return [f for f in files if f.exists()]


def test_the_pattern_catches_the_dangling_forms():
    for cited in ("see 003_06ee911ec9897575.txt", "(level B, the developer)", "the seed's chain"):
        assert DANGLING.search(cited)
    for fine in ("seed: int = 0", "the seed of the random points", "level set"):
        assert not DANGLING.search(fine)


def test_no_citation_of_a_file_the_repository_does_not_hold():
    files = text_files()
    assert len(files) > 50  # the walk found the repository
    hits = [
        f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
        for path in files
        for n, line in enumerate(path.read_text(errors="replace").splitlines(), 1)
        if DANGLING.search(line)
    ]
    assert not hits, "\n".join(hits)
