"""Build step: the wheel carries config.yaml, rules/ and templates/ for `demo` and new installs."""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

# The council-editable files live at the top of the checkout, where people edit them; an
# installed bot finds its copies in bot/project_files/ (see bot/demo/harness.py).
# examples/ and docs/ go too: an operator with only the wheel needs the mailbox sections and
# the set-up notes (docs/microsoft-365.md, docs/windows.md) that README's steps point to.
SHIPPED = ("config.yaml", "rules", "templates", "assets", "examples", "docs")


class BuildWithProjectFiles(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads the checkout itself
        target = Path(self.build_lib) / "bot" / "project_files"
        for name in SHIPPED:
            source = Path(name)
            if source.is_dir():
                shutil.copytree(source, target / name, dirs_exist_ok=True)
            elif source.is_file():
                target.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, target / name)


setup(cmdclass={"build_py": BuildWithProjectFiles})
