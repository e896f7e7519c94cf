"""The demo's plan run in-process, as `rotator plan --demo --no-save` runs it (for the demo
plan quality test and bench/plan_quality.py). Data and cache folders come from the environment
(ROTATOR_DATA_DIR, ROTATOR_CACHE_DIR): the caller points them somewhere temporary."""

from __future__ import annotations

from rotator.cli.session import open_session
from rotator.core.models import RebalancePolicy
from rotator.pipeline.run import RunResult, run_plan


def run_demo_plan() -> tuple[RunResult, RebalancePolicy]:
    """The demo plan's run and the policy it was planned with."""
    with open_session(demo=True, config_path=None, db_url=None, now_text=None, no_save=True) as s:
        result = run_plan(
            s.portfolio,
            environ=s.environ,
            settings=s.settings,
            clock=s.clock,
            engine=s.engine(),
            rules_as_of=s.rules_as_of,
            market_cache=None,
        )
        return result, s.portfolio.policy()
