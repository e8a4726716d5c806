# ruff: noqa: E501  (one sentence per line reads better than wrapped strings)
"""Batch 7 of the claim-check set, English: facts in the form of build_claims.py's `fact`
(see its docstring and README.md here); the batch number is added by build_claims.py."""

B, H, N, J, X = "bashref.pdf", "hyperref-doc.pdf", "natbib.pdf", "jbtxdoc.pdf", "bxjscls-manual.pdf"


def add(fact) -> None:
    pass
