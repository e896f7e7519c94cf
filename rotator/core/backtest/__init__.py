"""Pure pieces of `rotator backtest`: the simulated venue and the performance metrics.

The day-by-day driver lives in rotator.pipeline.backtest; it calls the same rule engine
(`rotator.core.rules.decision.decide`) and the same planner (`rotator.core.planner.plan_orders`)
as a real run, on the snapshots `venue.venue_snapshot` builds.
"""
