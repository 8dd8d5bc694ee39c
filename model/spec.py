"""ModelSpec: a parsed, validated model — names, values, equations — with nothing compiled yet.

Building a spec checks everything that can be checked without solving: every name used is defined
exactly once (as an equation, a parameter or an exogenous value), lags of parameters are folded into
the parameter itself, and declared variable lists match the equations.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .calendar import Calendar
from .errors import DuplicateDefinitionError, ModelFileError, SystemNotClosedError, UnknownNameError
from .matrices import Matrix
from .parse import Where, current, split_symbol
from .requirements import check_names as check_requirement_names
from .shocks import Shock

if TYPE_CHECKING:  # sympy costs ~0.3 s to import; a run from the compiled-model cache never needs it
    import sympy


@dataclass(frozen=True)
class Equation:
    """``name = expression``, as written at ``where``."""

    name: str
    expression: sympy.Expr
    text: str
    description: str
    where: Where


@dataclass(frozen=True)
class Experiment:
    """The model's default run: its length and the shocks of the book's standard experiment."""

    description: str = ""
    periods: int = 50
    shocks: tuple[Shock, ...] = ()


@dataclass
class ModelSpec:
    """Everything a model file says, validated; the input of the graph and compile steps."""

    name: str
    description: str
    path: str
    equations: list[Equation]
    parameters: dict[str, float]
    exogenous: dict[str, float]
    initial: dict[str, float]
    source: str = ""
    main_variables: list[str] = field(default_factory=list)
    positive: list[str] = field(default_factory=list)
    # |x - g| <= tolerance * max(|x|, |g|) + absolute_tolerance: in the model's units, so a model in $bn can
    # accept $1 (1e-9) where a variable defined as a small difference of large stocks cannot get closer
    absolute_tolerance: float = 1e-12
    experiment: Experiment = field(default_factory=Experiment)
    descriptions: dict[str, str] = field(default_factory=dict)
    matrices: dict[str, Matrix] = field(default_factory=dict)
    calendar: Calendar | None = None
    requirements: list = field(default_factory=list)  # [[requires]]: see requirements.py

    @property
    def endogenous(self) -> list[str]:
        """Variables defined by an equation, in the order of the model file."""
        return [equation.name for equation in self.equations]

    @property
    def series(self) -> list[str]:
        """Everything that has a value each period: endogenous then exogenous variables."""
        return self.endogenous + list(self.exogenous)

    def equation(self, name: str) -> Equation:
        """The equation that defines ``name``."""
        try:
            return self._by_name[name]
        except KeyError:
            raise UnknownNameError(f"{name!r} has no equation in model {self.name}") from None

    @property
    def _by_name(self) -> dict[str, Equation]:
        """Equations by name, built once per list: a scan per lookup made compiling 5,000 equations quadratic."""
        index = self.__dict__.get("_index")
        if index is None or index[0] is not self.equations:  # validate() replaces the list
            index = (self.equations, {equation.name: equation for equation in self.equations})
            self.__dict__["_index"] = index
        return index[1]

    def kind_of(self, name: str) -> str | None:
        """'endogenous', 'exogenous', 'parameter' or None."""
        if name in self.parameters:
            return "parameter"
        if name in self.exogenous:
            return "exogenous"
        if name in self._by_name:
            return "endogenous"
        return None


class CachedSpec(ModelSpec):
    """A spec read back from the compiled-model cache (see cache.py): names and values, no expressions.

    A run needs only names, values and the compiled code, so the cache stores those and skips sympy.
    The expressions (``equations``, ``matrices``, ``requirements``) are read from the model file on
    first use, by the same parser as a cold load; the cache key guarantees the file has not changed.
    """

    _LAZY = ("equations", "matrices", "requirements")

    def __init__(self, fields: dict, endogenous: list[str], has_matrices: bool, has_requirements: bool):
        self.__dict__.update(fields)
        self.__dict__["_endogenous"] = list(endogenous)
        self.__dict__["_known_empty"] = {"matrices": not has_matrices, "requirements": not has_requirements}
        self.__dict__["_full"] = None

    def _parsed(self) -> ModelSpec:
        if self._full is None:
            from .modelfile import read_model_file

            self.__dict__["_full"] = read_model_file(self.path)
        return self._full

    def _lazy(name: str):  # noqa: N805 - builds the three properties below
        def get(self):
            if name in self.__dict__:
                return self.__dict__[name]
            if self._known_empty.get(name):
                return {} if name == "matrices" else []
            self.__dict__[name] = getattr(self._parsed(), name)
            return self.__dict__[name]

        def set_(self, value):
            self.__dict__[name] = value

        return property(get, set_)

    equations = _lazy("equations")
    matrices = _lazy("matrices")
    requirements = _lazy("requirements")
    del _lazy

    @property
    def endogenous(self) -> list[str]:
        return list(self._endogenous)

    def kind_of(self, name: str) -> str | None:
        if name in self.parameters:
            return "parameter"
        if name in self.exogenous:
            return "exogenous"
        return "endogenous" if name in self._endogenous else None

    def __reduce__(self):
        """Pickled as the full spec (a Dask worker compiles it), so the file is read once here."""
        full = ModelSpec(**{f: getattr(self, f) for f in self.__dataclass_fields__})
        return full.__reduce__()


def suggest(name: str, known) -> str:
    """' Did you mean A or B?' for the closest known names (by spelling, then by prefix), or ''."""
    known = list(known)
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
    if not close:
        lowered = name.lower()
        close = [
            k for k in known if k.lower() == lowered or lowered.startswith(k.lower()) or k.lower().startswith(lowered)
        ]
        close = sorted(close, key=lambda k: abs(len(k) - len(name)))[:3]
    return f" Did you mean {' or '.join(close)}?" if close else ""


def validate(spec: ModelSpec, declared_variables: list[str] | None = None) -> ModelSpec:
    """Check the spec's names and closure; return it with parameter lags folded away."""
    where_of: dict[str, Where] = {}
    for equation in spec.equations:
        if equation.name in where_of:
            raise DuplicateDefinitionError(
                f"{equation.where}: {equation.name} is defined twice (also at {where_of[equation.name]}); "
                "each variable has exactly one equation: remove or rename one"
            )
        where_of[equation.name] = equation.where
        for table, values in (("[parameters]", spec.parameters), ("[exogenous]", spec.exogenous)):
            if equation.name in values:
                raise DuplicateDefinitionError(
                    f"{equation.where}: {equation.name} has an equation but is also given in {table}; "
                    "a name is either computed by an equation or given, not both: remove one"
                )
    for name in spec.parameters:
        if name in spec.exogenous:
            raise DuplicateDefinitionError(
                f"{spec.path}: {name} is given both in [parameters] and in [exogenous]; keep one"
            )

    known = set(where_of) | set(spec.parameters) | set(spec.exogenous)
    folded = []
    for equation in spec.equations:
        replacements = {}
        for symbol in equation.expression.free_symbols:
            name, lag = split_symbol(symbol)
            if name not in known:
                raise UnknownNameError(
                    f"{equation.where}: unknown name {name!r} in the equation for {equation.name}."
                    f"{suggest(name, known)} If it is a variable, give it an equation '{name} = ...'; if it is "
                    "given, add it under [parameters] (constant) or [exogenous] (a series)"
                )
            if lag and name in spec.parameters:
                replacements[symbol] = current(name)  # a parameter is the same in every period
        expression = equation.expression.xreplace(replacements) if replacements else equation.expression
        folded.append(Equation(equation.name, expression, equation.text, equation.description, equation.where))
    spec.equations = folded

    for name in spec.initial:
        if name in where_of:
            continue
        if name in spec.exogenous or name in spec.parameters:
            raise ModelFileError(
                f"{spec.path}: [initial] gives {name}, which is {spec.kind_of(name)}; its value is set "
                f"under [{'exogenous' if name in spec.exogenous else 'parameters'}], remove it from [initial]"
            )
        raise SystemNotClosedError(
            f"{spec.path}: [initial] gives a starting value for {name}, but no equation defines {name}."
            f"{suggest(name, known)} Add an equation '{name} = ...', or declare it under [exogenous]"
        )
    if declared_variables is not None:
        missing = [name for name in declared_variables if name not in where_of]
        extra = [name for name in where_of if name not in declared_variables]
        if missing or extra:
            parts = []
            if missing:
                parts.append(f"no equation for {', '.join(missing)}")
            if extra:
                parts.append(f"equations for undeclared {', '.join(extra)}")
            raise SystemNotClosedError(
                f"{spec.path}: {len(where_of)} equations for {len(declared_variables)} declared variables "
                f"([model] variables): {'; '.join(parts)}. Add the missing equations or fix the list"
            )
    for matrix in spec.matrices.values():
        for row in matrix.rows:
            for column, cell in zip(matrix.columns, (*row.cells, row.total)):
                for symbol in getattr(cell, "free_symbols", ()):
                    name, _ = split_symbol(symbol)
                    if name not in known:
                        raise UnknownNameError(
                            f"{row.where}: {matrix.title}, row {row.name!r}, column {column!r}: unknown name "
                            f"{name!r}.{suggest(name, known)}"
                        )
    check_requirement_names(spec.requirements, known, suggest)
    for label, names in (("main_variables", spec.main_variables), ("positive", spec.positive)):
        for name in names:
            allowed = where_of if label == "positive" else set(where_of) | set(spec.exogenous)
            if name not in allowed:
                raise UnknownNameError(
                    f"{spec.path}: [model] {label} names {name!r}, which is not "
                    f"{'an endogenous variable' if label == 'positive' else 'a variable'} of the model."
                    f"{suggest(name, allowed)}"
                )
    for shock in spec.experiment.shocks:
        check_shock(spec, shock, spec.path)
    return spec


def check_shock(spec: ModelSpec, shock: Shock, origin: str) -> None:
    """A shock must move an exogenous variable; anything else is a clear error naming ``origin``."""
    kind = spec.kind_of(shock.variable)
    if kind == "exogenous":
        return
    if kind is None:
        raise UnknownNameError(
            f"{origin}: a shock names {shock.variable!r}, which is not a variable of model {spec.name}."
            f"{suggest(shock.variable, spec.exogenous)}"
        )
    raise ModelFileError(
        f"{origin}: a shock names {shock.variable}, which is {kind}; only exogenous variables can be "
        f"shocked ({', '.join(spec.exogenous) or 'this model has none'})"
    )
