"""Read a TOML model file (and the files it includes) into a validated ``ModelSpec``.

A large model reads sector by sector: its main file may list others under ``[model] include``; each
included file may carry its own ``[parameters]``, ``[exogenous]``, ``[initial]`` and ``[equations]``.
Line numbers are recovered from the raw text so that every error can say file, line and column.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from .calendar import Calendar
from .errors import DuplicateDefinitionError, ModelFileError, ParseError
from .matrices import link_matrices, read_matrices
from .parse import Where, check_name, parse_expression, split_equation
from .requirements import read_requirements
from .shocks import number, parse_shock
from .spec import Equation, Experiment, ModelSpec, validate

_VALUE_TABLES = ("parameters", "exogenous", "initial")
_MODEL_KEYS = {
    "name",
    "description",
    "source",
    "main_variables",
    "positive",
    "include",
    "variables",
    "chapter",
    "calendar",
    "absolute_tolerance",
}


def read_model_file(path: str | Path) -> ModelSpec:
    """Parse and validate the model at ``path``; raise a ``ModelError`` subclass on bad input."""
    path = Path(path)
    main = _read_toml(path)
    header = main.get("model", {})
    if not isinstance(header, dict):
        raise ModelFileError(f'{path}: [model] must be a table with at least name = "..."')
    unknown = set(header) - _MODEL_KEYS
    if unknown:
        raise ModelFileError(
            f"{path}: unknown key(s) {', '.join(sorted(unknown))} in [model]; known: {', '.join(sorted(_MODEL_KEYS))}"
        )
    files = [(path, main)]
    for include in _string_list(header, "include", path):
        included = (path.parent / include).resolve()
        files.append((included, _read_toml(included)))

    values: dict[str, dict[str, float]] = {table: {} for table in _VALUE_TABLES}
    origin: dict[tuple[str, str], Path] = {}
    equations: list[Equation] = []
    descriptions: dict[str, str] = {}
    matrices = {}
    requirements = []
    for file, data in files:
        requirements.extend(read_requirements(data, file))
        for kind, matrix in read_matrices(data, file).items():
            if kind in matrices:
                raise DuplicateDefinitionError(f"{file}: [{kind}] is also declared in {matrices[kind].where.file}")
            matrices[kind] = matrix
        for table in _VALUE_TABLES:
            for name, value in _number_table(data, table, file).items():
                if name in values[table]:
                    raise DuplicateDefinitionError(
                        f"{file}: [{table}] {name} is also given in {origin[table, name]}; keep one"
                    )
                values[table][name] = value
                origin[table, name] = file
        equations.extend(_equations(data, file, descriptions))
    link_matrices(matrices)
    if not equations:
        raise ModelFileError(f'{path}: the model has no equations; add an [equations] table with text = """..."""')

    name = header.get("name", path.stem.upper())
    calendar = Calendar.from_table(header["calendar"], f"{path}: [model]") if "calendar" in header else None
    spec = ModelSpec(
        name=str(name),
        description=str(header.get("description", "")),
        source=str(header.get("source", "")),
        path=str(path),
        equations=equations,
        parameters=values["parameters"],
        exogenous=values["exogenous"],
        initial=values["initial"],
        main_variables=_string_list(header, "main_variables", path),
        positive=_string_list(header, "positive", path),
        absolute_tolerance=_absolute_tolerance(header, path),
        experiment=_experiment(main.get("experiment"), path, calendar),
        descriptions=descriptions,
        matrices=matrices,
        calendar=calendar,
        requirements=requirements,
    )
    declared = _string_list(header, "variables", path) if "variables" in header else None
    return validate(spec, declared)


def _read_toml(path: Path) -> dict:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ModelFileError(f"{path}: no such model file") from None
    except OSError as exc:
        raise ModelFileError(f"{path}: cannot read the model file ({exc.strerror})") from None
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ModelFileError(f"{path}: the model file is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ModelFileError(f"{path}: not valid TOML: {exc}. Check quotes, brackets and '=' there") from None


def _string_list(table: dict, key: str, path: Path) -> list[str]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ModelFileError(f'{path}: [model] {key} must be a list of strings, e.g. {key} = ["Y", "C"]')
    return value


def _number_table(data: dict, table: str, path: Path) -> dict[str, float]:
    section = data.get(table, {})
    if not isinstance(section, dict):
        raise ModelFileError(f"{path}: [{table}] must be a table of NAME = number lines")
    lines = key_lines(path)
    out = {}
    for name, value in section.items():
        where = Where(str(path), lines.get((table, name), 0))
        check_name(name, where, f"[{table}] name")
        out[name] = number(value, f"{where}: [{table}] {name}")
    return out


def key_lines(path: Path) -> dict[tuple[str, str], int]:
    """Line number of each ``key = value`` line under each ``[table]`` header, for messages."""
    lines: dict[tuple[str, str], int] = {}
    table = ""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return lines
    for line_number, line in enumerate(text.splitlines(), start=1):
        header = re.match(r"\s*\[([^\[\]]+)\]", line)
        if header:
            table = header.group(1).strip()
            continue
        key = re.match(r"\s*([A-Za-z0-9_]+)\s*=", line)
        if key:
            lines.setdefault((table, key.group(1)), line_number)
    return lines


def _equations(data: dict, path: Path, descriptions: dict[str, str]) -> list[Equation]:
    section = data.get("equations")
    if section is None:
        return []
    if not isinstance(section, dict) or not isinstance(section.get("text"), str):
        raise ModelFileError(f'{path}: [equations] must hold text = """...""" with one equation per line')
    first_line = _text_first_line(path)
    equations = []
    for line_number, body, comment in _logical_lines(section["text"], first_line, path):
        if not body.strip():
            continue
        where = Where(str(path), line_number)
        name, expression_text, column = split_equation(body, where)
        expression = parse_expression(expression_text, Where(str(path), line_number, column))
        if comment:
            descriptions[name] = comment
        equations.append(Equation(name, expression, body.strip(), comment, where))
    return equations


def _text_first_line(path: Path) -> int:
    """The file line on which the equations text's first line stands."""
    text = path.read_text(encoding="utf-8")
    match = re.search(r"^\s*\[equations\]\s*$(.*?)^\s*text\s*=\s*(\"\"\"|''')", text, re.M | re.S)
    if not match:
        return 1
    line = text.count("\n", 0, match.end()) + 1
    rest = text[match.end() :]
    return line + 1 if rest.startswith("\n") or rest.startswith("\r\n") else line


def _logical_lines(text: str, first_line: int, path: Path):
    """Yield (file line, code, comment), joining lines while a bracket is open so equations can wrap."""
    code, comment, start, depth = "", "", 0, 0
    for offset, line in enumerate(text.splitlines()):
        part, _, note = line.partition("#")
        if not code.strip():
            start, code, comment = first_line + offset, "", ""
        code = f"{code} {part}" if code else part
        comment = comment or note.strip()
        depth += part.count("(") - part.count(")")
        if depth <= 0:
            yield start, code, comment
            code, comment, depth = "", "", 0
    if code.strip():
        raise ParseError(f"{Where(str(path), start)}: a bracket opened here is never closed")


def _experiment(section, path: Path, calendar: Calendar | None) -> Experiment:
    if section is None:
        return Experiment()
    if not isinstance(section, dict):
        raise ModelFileError(f"{path}: [experiment] must be a table")
    periods = section.get("periods", 50)
    if isinstance(periods, bool) or not isinstance(periods, int) or periods < 1:
        raise ModelFileError(f"{path}: [experiment] periods must be a whole number >= 1, got {periods!r}")
    shocks = section.get("shocks", [])
    if not isinstance(shocks, list):
        raise ModelFileError(f"{path}: [experiment] shocks must be a list of {{variable=..., start=..., value=...}}")
    return Experiment(
        description=str(section.get("description", "")),
        periods=periods,
        shocks=tuple(
            parse_shock(shock, f"{path}: [experiment] shock {i + 1}", calendar and calendar.period)
            for i, shock in enumerate(shocks)
        ),
    )


def _absolute_tolerance(header: dict, path: Path) -> float:
    """``[model] absolute_tolerance``: the solver's absolute tolerance, in the model's units (default 1e-12)."""
    if "absolute_tolerance" not in header:
        return ModelSpec.absolute_tolerance
    value = number(header["absolute_tolerance"], f"{path}: [model] absolute_tolerance")
    if not 0 < value < 1:
        raise ModelFileError(
            f"{path}: [model] absolute_tolerance must be between 0 and 1 (in the model's units), got {value!r}"
        )
    return value
