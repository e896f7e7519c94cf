"""Load a large portfolio.yaml (1.6 MB: 16,000 declared wallets) and a YAML alias bomb.

Compares `load_portfolio` (bounded: one libyaml parse, limits checked while scanning) with the
way the file used to be read (the pure-Python parser run twice, compose and load) on the same
file in the same run, and times how fast an alias bomb is refused. Prints times and the ratio:

    python3 bench/config_load.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from rotator.config.portfolio import load_portfolio  # noqa: E402
from rotator.errors import ConfigError  # noqa: E402


def big_portfolio(size: int = 1_600_000) -> str:
    lines = ["targets: {BTC: 0.5, CASH: 0.5}", "wallets:"]
    total, count = 0, 0
    while total < size:
        line = f"  - name: cold{count}\n    holdings: {{BTC: 0.001, ETH: 0.5}}\n    note: n{count}"
        lines.append(line)
        total += len(line) + 1
        count += 1
    return "\n".join(lines) + "\n"


def alias_bomb(levels: int = 12) -> str:
    rows = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    rows += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, levels)]
    return "\n".join(rows) + "\ntargets: {BTC: 1}\n"


def timed(func: object) -> float:
    start = time.perf_counter()
    func()  # type: ignore[operator]
    return time.perf_counter() - start


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "portfolio.yaml"
        path.write_text(big_portfolio(), encoding="utf-8")
        text = path.read_text(encoding="utf-8")

        def before() -> None:  # the former reading: two pure-Python passes
            yaml.compose(text, Loader=yaml.SafeLoader)
            yaml.safe_load(text)

        now = timed(lambda: load_portfolio(path))
        old = timed(before)
        print(f"{path.stat().st_size:,} bytes, {text.count('- name:'):,} wallets")
        print(f"load_portfolio (parse + validate): {now:.2f} s")
        print(f"former parse alone (2 pure-Python passes): {old:.2f} s")
        print(f"ratio former / now: {old / now:.1f}x")

        bomb = Path(tmp) / "bomb.yaml"
        bomb.write_text(alias_bomb(), encoding="utf-8")

        def refuse() -> None:
            try:
                load_portfolio(bomb)
            except ConfigError as exc:
                print(f"alias bomb refused: {str(exc).split(': ', 1)[1][:70]}")

        print(f"alias bomb (9^12 values once expanded) refused in {timed(refuse) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
