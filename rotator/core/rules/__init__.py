"""Rule kinds, their registry, the engine that evaluates a rule set, and regimes.

Terms: a *rule set* is a YAML file (rules/cycle.yaml); a *rule* is a named instance of a rule kind
in it, with parameters; a *rule kind* is a pure function registered by name with a parameter
model (registry.py), one module per kind here. The engine (engine.py) evaluates a rule set's
rules; regimes.py chooses the regime. No I/O: the history they read is handed in.
"""
