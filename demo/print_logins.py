"""Print the demo logins of a dataset (for `make run`; never for a real dataset)."""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main(path: Path) -> None:
    patrons = json.loads(path.read_text(encoding="utf-8"))["patrons"]
    print("Demo logins (card number / PIN):")
    for patron in patrons:
        role = " [staff]" if patron.get("role") == "staff" else ""
        print(f"  {patron['cardNumber']:<18} {patron['pin']:<6} {patron['name']}{role}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
