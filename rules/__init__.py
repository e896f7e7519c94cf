"""The rule sets shipped with rotator (the YAML files of this folder).

This folder is the only copy: packaging installs it as the package `rotator.rulesets`
(setup.py), which `rotator.config.ruleset.shipped_ruleset` reads through importlib.resources.
"""
