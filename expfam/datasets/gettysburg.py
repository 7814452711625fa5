"""The Gettysburg Address, the Bliss copy (public domain), as a package data file.

The Bliss copy is the last of the five manuscripts in Lincoln's hand (1864)
and the text usually quoted. The file holds the three paragraphs of the
address as plain UTF-8 text, "--" for Lincoln's dashes; the signature and
date are left out.
"""

from __future__ import annotations

from importlib import resources

__all__ = ["GETTYSBURG_SHA256", "load_gettysburg"]

GETTYSBURG_SHA256 = "c7a316077e3f5ae4c7296722f61189e6bc02f40f14cb52a8e5aac3f300e54a0c"


def load_gettysburg() -> str:
    """Return the text of the Gettysburg Address (the Bliss copy).

    Returns
    -------
    str
        Three paragraphs separated by blank lines; its SHA-256 (of the UTF-8
        bytes) is :data:`GETTYSBURG_SHA256`.

    Examples
    --------
    >>> load_gettysburg()[:35]
    'Four score and seven years ago our '
    """
    return resources.files("expfam.datasets").joinpath("data/gettysburg.txt").read_text("utf-8")
