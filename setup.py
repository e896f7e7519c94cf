"""Packaging beyond pyproject.toml: the shipped rule sets are installed from the top-level rules/.

The folder users look at (rules/*.yaml) is the only copy: it is mapped onto the package
`rotator.rulesets`, so a wheel carries it as rotator/rulesets/*.yaml and an editable install
serves it from rules/ itself. `rotator.config.ruleset.shipped_rulesets` finds it through
importlib.resources either way.
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["rotator", "rotator.*"]), "rotator.rulesets"],
    package_dir={"rotator.rulesets": "rules"},
)
