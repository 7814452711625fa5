"""The Gettysburg Address data file: checksum and the counts every model builds on."""

import hashlib
import re
from importlib import resources

from expfam.datasets import GETTYSBURG_SHA256, load_gettysburg


def test_the_file_has_its_checksum():
    data = resources.files("expfam.datasets").joinpath("data/gettysburg.txt").read_bytes()
    assert hashlib.sha256(data).hexdigest() == GETTYSBURG_SHA256
    assert load_gettysburg() == data.decode("utf-8")


def test_the_text_is_the_bliss_copy():
    text = load_gettysburg()
    assert text.startswith("Four score and seven years ago our fathers brought forth")
    assert text.rstrip().endswith("shall not perish from the earth.")
    assert text.count("\n\n") == 2  # three paragraphs
    # Bliss-copy readings that differ from other drafts
    for phrase in ("under God", "battle-field", "can not dedicate", "here gave their lives"):
        assert phrase in text
    # 271 words with "battle-field" one word: whitespace fields minus Lincoln's 7 dashes
    fields = [f for f in text.split() if f != "--"]
    assert len(fields) == 271
    assert len(re.findall(r"\band\b", text, flags=re.IGNORECASE)) == 6
