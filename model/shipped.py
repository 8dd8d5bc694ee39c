"""The models that ship with drypowder, found by their lowercase name (``sim``, ``pc``, ``lp``...)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from .errors import ModelFileError
from .spec import suggest


@dataclass(frozen=True)
class ShippedModel:
    """A shipped model file: its lookup name, family folder, path and one-line description."""

    name: str
    family: str
    path: Path
    description: str
    chapter: int | None = None  # for a book's models: the chapter, so listings follow the book


def equations_folder() -> Path:
    """Where the shipped model files are installed (package data of ``drypowder.equations``)."""
    return Path(str(resources.files("drypowder.equations")))


def shipped_models() -> list[ShippedModel]:
    """Every shipped model, by family then name; only main files (not included sector files)."""
    found = []
    for path in sorted(equations_folder().glob("*/*.toml")):
        with path.open("rb") as handle:
            header = tomllib.load(handle).get("model", {})
        if "name" not in header:  # an included sector file, not a model of its own
            continue
        chapter = header.get("chapter")
        found.append(ShippedModel(path.stem.lower(), path.parent.name, path, header.get("description", ""), chapter))
    return sorted(found, key=lambda m: (m.family, m.chapter if isinstance(m.chapter, int) else 0, m.name))


def shipped_scenarios() -> dict[str, Path]:
    """Shipped scenario files by name (``sim_fiscal_expansion``), from each family's scenarios/ folder."""
    return {path.stem: path for path in sorted(equations_folder().glob("*/scenarios/*.toml"))}


def resolve_scenario(name_or_path: str | Path) -> Path:
    """A scenario file: the given path if it exists or looks like one, else a shipped scenario's name."""
    path = Path(name_or_path)
    if path.is_file() or path.suffix == ".toml" or "/" in str(name_or_path):
        return path
    scenarios = shipped_scenarios()
    if str(name_or_path) in scenarios:
        return scenarios[str(name_or_path)]
    name = str(name_or_path)
    raise ModelFileError(
        f"no scenario file {name!r}, and no shipped scenario of that name.{suggest(name, scenarios)} "
        f"Shipped scenarios: {', '.join(scenarios) or 'none'}"
    )


def resolve(name_or_path: str | Path) -> Path:
    """A shipped model's file for a lowercase name, or the given path if it is a file."""
    text = str(name_or_path)
    path = Path(text)
    if path.suffix == ".toml" or path.is_file() or "/" in text or "\\" in text:
        return path
    models = {model.name: model.path for model in shipped_models()}
    if text.lower() in models:
        return models[text.lower()]
    raise ModelFileError(
        f"no shipped model is called {text!r}, and there is no file of that name.{suggest(text.lower(), models)} "
        f"Shipped models: {', '.join(sorted(models))} (see 'drypowder models'); or give a path to a .toml file"
    )
