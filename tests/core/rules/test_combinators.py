"""The combinator kinds `all`, `any`, `not` over real leaf rules evaluated on literal series.

Three leaves on one literal dominance series: `high` (above 55: true), `low` (below 50: false),
`eth` (reads a series that is not there: unknown). Three-valued (Kleene) logic decides.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from rotator.core.rules.combinators import ManyParams, OneParams
from rotator.core.rules.dominance import DominanceParams
from rotator.core.rules.engine import RuleSet, RuleSpec, evaluate
from rotator.core.rules.registry import RuleResult, default_registry

AS_OF = date(2024, 5, 3)
HISTORY = {
    "btc_dominance": pd.Series(
        [58.0, 57.0, 56.0], index=pd.date_range("2024-05-01", periods=3, freq="D")
    )
}
LEAVES = (
    RuleSpec("high", "dominance", DominanceParams(test="above", level=55)),
    RuleSpec("low", "dominance", DominanceParams(test="below", level=50)),
    RuleSpec("eth", "dominance", DominanceParams(test="above", level=10, series="eth_dominance")),
)


def combined(kind: str, of: tuple[str, ...] | str) -> RuleResult:
    """Evaluate the leaves and one combinator `kind` over `of`; the combinator's result."""
    params = OneParams(of=of) if kind == "not" else ManyParams(of=of)
    rules = (*LEAVES, RuleSpec("combined", kind, params))
    return evaluate(RuleSet("t", rules, (), default_registry()), HISTORY, AS_OF)["combined"]


def test_leaves_are_true_false_unknown():
    results = evaluate(RuleSet("t", LEAVES, (), default_registry()), HISTORY, AS_OF)
    assert [results[n].value for n in ("high", "low", "eth")] == [True, False, None]


def test_all():
    both = combined("all", ("high", "high"))
    assert both.value is True and both.reason == "high=true, high=true"
    assert both.as_of == AS_OF
    assert combined("all", ("high", "low")).value is False
    # False wins over unknown: the unknown part cannot change the answer.
    assert combined("all", ("low", "eth")).value is False
    unknown = combined("all", ("high", "eth"))
    assert unknown.value is None and unknown.reason == "unknown because eth unknown"
    assert unknown.inputs == {"high": "true", "eth": "unknown"}


def test_any():
    assert combined("any", ("low", "high")).value is True
    # True wins over unknown.
    assert combined("any", ("eth", "high")).value is True
    none = combined("any", ("low", "low"))
    assert none.value is False and none.reason == "low=false, low=false"
    unknown = combined("any", ("low", "eth"))
    assert unknown.value is None and "eth unknown" in unknown.reason


def test_not():
    negated = combined("not", "low")
    assert negated.value is True and negated.reason == "low is false"
    assert negated.inputs == {"low": "false"} and negated.as_of == AS_OF
    assert combined("not", "high").value is False
    unknown = combined("not", "eth")
    assert unknown.value is None and unknown.reason.startswith("unknown because eth unknown: ")
    assert "no eth_dominance history" in unknown.reason
