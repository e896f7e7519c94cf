"""Rule kinds `all`, `any`, `not`: rules combining other rules, in three-valued logic.

Unknown is neither true nor false (Kleene logic): `all` is false as soon as one part is false,
otherwise unknown if one part is unknown; `any` is true as soon as one part is true, otherwise
unknown if one part is unknown; `not unknown` is unknown. So a missing input can never make a
condition fire, and a definite answer is still given when the unknown part cannot change it.

Example::

    rules:
      breakout_and_rollover: {kind: all, of: [btc_above_prior_high, dominance_rolling_over]}
      no_breakout: {kind: not, of: btc_above_prior_high}

The registry names are the YAML words; the functions are `all_`, `any_`, `not_` because those
words are Python builtins or keywords.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import Field, field_validator

from rotator.core.rules.registry import Params, RuleContext, RuleResult, rule


def all_values(values: Sequence[bool | None]) -> bool | None:
    """Three-valued AND."""
    if any(v is False for v in values):
        return False
    return None if any(v is None for v in values) else True


def any_values(values: Sequence[bool | None]) -> bool | None:
    """Three-valued OR."""
    if any(v is True for v in values):
        return True
    return None if any(v is None for v in values) else False


def not_value(value: bool | None) -> bool | None:
    """Three-valued NOT."""
    return None if value is None else not value


class ManyParams(Params):
    of: tuple[str, ...] = Field(min_length=1, description="names of the rules combined")

    def references(self) -> tuple[str, ...]:
        return self.of


class OneParams(Params):
    of: str = Field(min_length=1, description="name of the rule negated")

    @field_validator("of", mode="before")
    @classmethod
    def _single(cls, value: object) -> object:
        if isinstance(value, list) and len(value) == 1:
            return value[0]
        return value

    def references(self) -> tuple[str, ...]:
        return (self.of,)


def _parts(p: ManyParams, ctx: RuleContext) -> list[tuple[str, RuleResult]]:
    return [(name, ctx.result(name)) for name in p.of]


def _summary(parts: list[tuple[str, RuleResult]]) -> str:
    return ", ".join(f"{name}={r.state}" for name, r in parts)


def _combined(parts: list[tuple[str, RuleResult]], value: bool | None) -> RuleResult:
    """The result of a combinator whose three-valued answer is `value`."""
    inputs = {name: r.state for name, r in parts}
    if value is None:
        unknown = [n for n, r in parts if r.value is None]
        return RuleResult.unknown(f"unknown because {', '.join(unknown)} unknown", inputs)
    return RuleResult.of(value, _summary(parts), inputs, _oldest(parts))


@rule("all", params=ManyParams)
def all_(p: ManyParams, ctx: RuleContext) -> RuleResult:
    """True when every listed rule is true; false when one is false; else unknown."""
    parts = _parts(p, ctx)
    return _combined(parts, all_values([r.value for _, r in parts]))


@rule("any", params=ManyParams)
def any_(p: ManyParams, ctx: RuleContext) -> RuleResult:
    """True when at least one listed rule is true; false when all are false; else unknown."""
    parts = _parts(p, ctx)
    return _combined(parts, any_values([r.value for _, r in parts]))


@rule("not", params=OneParams)
def not_(p: OneParams, ctx: RuleContext) -> RuleResult:
    """The negation of one rule; unknown stays unknown."""
    inner = ctx.result(p.of)
    if inner.value is None:
        return RuleResult.unknown(
            f"unknown because {p.of} unknown: {inner.reason}", {p.of: "unknown"}
        )
    return RuleResult.of(
        not inner.value, f"{p.of} is {inner.state}", {p.of: inner.state}, inner.as_of
    )


def _oldest(parts: list[tuple[str, RuleResult]]) -> object:
    days = [r.as_of for _, r in parts if r.as_of is not None]
    return min(days) if days else None
