"""Extract the examples of a CommonMark-style spec.txt into JSON (how the files beside this were made).

    python tests/data/commonmark/extract.py SPEC.txt OUT.json

The examples are the fenced blocks between a line of 32 backticks followed by `example` and a line of
32 backticks, markdown and expected HTML separated by a line holding only `.` (the spec's own format,
as its tools/ read it); the arrow `→` stands for a tab.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

FENCE = "`" * 32
EXAMPLE = re.compile(
    rf"^{FENCE} example[^\n]*\n(.*?)^\.\n(.*?)^{FENCE}$|^(#{{1,6}}) *([^\n]*)$", re.MULTILINE | re.DOTALL
)


def extract(spec: str) -> list[dict[str, object]]:
    spec = spec.replace("\r\n", "\n").split("<!-- END TESTS -->")[0]
    examples: list[dict[str, object]] = []
    section = ""
    for m in EXAMPLE.finditer(spec):
        if m.group(3):
            section = m.group(4).strip()
            continue
        examples.append(
            {
                "number": len(examples) + 1,
                "section": section,
                "markdown": m.group(1).replace("→", "\t"),
                "html": m.group(2).replace("→", "\t"),
            }
        )
    return examples


if __name__ == "__main__":
    source, target = Path(sys.argv[1]), Path(sys.argv[2])
    found = extract(source.read_text(encoding="utf-8"))
    target.write_text(json.dumps(found, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
    print(f"{len(found)} examples -> {target}")
