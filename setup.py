"""Installed, the repository's top-level folders are packages of ``minime`` (DESIGN.md): ``core/`` is ``minime.core``.

pyproject.toml cannot say "these folders, under another name" with a package search, so the list is computed here.
"""

from setuptools import find_namespace_packages, setup

FOLDERS = ("core", "bots", "themes")

setup(
    packages=[f"minime.{name}" for name in find_namespace_packages(include=[f"{f}*" for f in FOLDERS])
              if name.split(".")[0] in FOLDERS and "__pycache__" not in name],
    package_dir={f"minime.{folder}": folder for folder in FOLDERS},
)
