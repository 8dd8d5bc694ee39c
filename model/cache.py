"""The compiled-model cache: a second start of the same model file skips parsing, sympy and code generation.

Compiling a model (parse the equations with sympy, order them into blocks, differentiate, print the
numpy code) is most of a short run's time, and it depends only on the model's files and on this
engine. So ``load`` stores what a run needs, once per model file, in the user's cache folder (the one
the numba kernels use: ``$DRYPOWDER_CACHE`` or ``~/.cache/drypowder``):

* the generated numpy source of every block's functions, of the accounting checks and of the
  ``[[requires]]`` conditions (our own printed text, never the model file's), compiled again with
  ``compile()`` on the next start;
* the names, values, block layout and accounting layout, as JSON.

An entry is keyed by the SHA-256 of the model file's path and bytes, this engine's own source files,
drypowder's version and Python's; it also records the SHA-256 of every included file. The entry's
text carries its own SHA-256. An entry that fails any of these checks, or cannot be read back, is
ignored and rebuilt, never trusted. The expressions themselves (``model.spec.equations``, the
matrices' cells) are read from the model file again only if something asks for them (see
``CachedSpec``).
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import json
import os
import sys
import tempfile
import tomllib
import types
from pathlib import Path

import numpy as np

FORMAT = 1
CachedMatrix = functools.cache(lambda: _cached_matrix_class())  # built on first use (matrices imports sympy)
_SKIPPED = {  # attributes a run does not need, rebuilt on demand: (class name) -> attribute names
    "CompiledModel": ("spec", "machine_code", "machine_source"),
    "CompiledBlock": ("expressions", "jacobian_expressions"),
    "SparseWeights": ("_scipy",),
}
_LAZY_SPEC_FIELDS = ("equations", "matrices", "requirements")


def _configured_folder() -> Path:
    return Path(os.environ.get("DRYPOWDER_CACHE", Path.home() / ".cache" / "drypowder"))


def cache_folder() -> Path:
    """The user's cache folder (created if needed); a temporary one if that is not writable."""
    folder = _configured_folder()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".write-test-{os.getpid()}"
        probe.write_text("")
        probe.unlink()
    except OSError:
        folder = Path(tempfile.gettempdir()) / "drypowder-cache"
        folder.mkdir(parents=True, exist_ok=True)
    return folder


class Expression(str):
    """The printed form of a sympy expression in a model read from the cache (the object is in ``spec``)."""


def _cached_matrix_class():
    from dataclasses import replace

    from .matrices import Matrix
    from .parse import Where, parse_expression

    class CachedMatrix(Matrix):
        """A matrix of a cached model: its cells are parsed again from their text on first use.

        The accounting check itself needs only the compiled cell functions; reading the rows (net
        lending, payments, identities) parses the cells as matrices.read_matrices did.
        """

        @property
        def rows(self):
            if not self.__dict__.get("_parsed"):
                self.__dict__["rows"] = tuple(
                    replace(
                        row,
                        cells=tuple(
                            parse_expression(text, Where(row.where.file, row.where.line)) if text else None
                            for text in row.texts
                        ),
                        total=parse_expression(row.total_text, row.where) if row.total_text else None,
                    )
                    for row in self.__dict__["rows"]
                )
                self.__dict__["_parsed"] = True
            return self.__dict__["rows"]

    return CachedMatrix


class _Unsupported(Exception):
    """Something in the model that the cache cannot write as data: the model is then not cached."""


def _engine_digest() -> str:
    """drypowder's version, Python's, and a digest of the engine's source: any change invalidates entries.

    Computed once, on import: loading a model then opens nothing but the model file until an entry is
    found (tests/test_hostile.py audits exactly that).
    """
    from importlib.metadata import PackageNotFoundError, version

    try:
        release = version("drypowder")
    except PackageNotFoundError:  # pragma: no cover - run from a source tree
        release = "unknown"
    digest = hashlib.sha256(f"{FORMAT} {release} {sys.version}".encode())
    for path in sorted(Path(__file__).parent.glob("*.py")):  # an editable install changes without a new version
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()


ENGINE = _engine_digest()


def _key(path: Path, main: bytes) -> str:
    return hashlib.sha256(f"{ENGINE}\0{path}\0".encode() + main).hexdigest()


def key_of(path: str | Path) -> str | None:
    """The cache key of the model file at ``path`` as it is now (None if it cannot be read)."""
    path = Path(path)
    try:
        return _key(path, path.read_bytes())
    except OSError:
        return None


def _included(path: Path, main: bytes) -> list[Path]:
    """The files the main model file includes, as modelfile.read_model_file resolves them."""
    header = tomllib.loads(main.decode("utf-8")).get("model", {})
    include = header.get("include", []) if isinstance(header, dict) else []
    return [(path.parent / name).resolve() for name in include]


def _digest_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _entry_path(key: str, folder: Path | None = None) -> Path:
    return (folder or cache_folder()) / f"model-{key[:40]}.json"


# --- reading -----------------------------------------------------------------------------------------


def load(path: str | Path):
    """``(spec, compiled, accounting, input checks)`` of the model file at ``path`` from the cache, or None.

    None for a missing, stale or corrupt entry (the caller compiles and stores a fresh one).
    """
    path = Path(path)
    try:
        main = path.read_bytes()
        key = _key(path, main)
        entry = _entry_path(key, _configured_folder())
        if not entry.exists():  # a stat, not an open: see _engine_digest
            return None
        text = entry.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    try:
        return _read_entry(text, key, path)
    except Exception:  # noqa: BLE001 - a damaged entry is rebuilt, whatever is wrong with it
        return None


def _read_entry(text: str, key: str, path: Path):
    checksum, _, body = text.partition("\n")
    if hashlib.sha256(body.encode()).hexdigest() != checksum:
        return None
    payload = json.loads(body)
    if payload["format"] != FORMAT or payload["key"] != key:
        return None
    for name, digest in payload["files"]:
        if _digest_file(Path(name)) != digest:
            return None
    from .compile import load_functions
    from .evaluate import load_printed
    from .spec import CachedSpec

    functions = {"blocks": load_functions(payload["sources"]["blocks"])}
    for group in ("accounting", "requirements"):
        if payload["sources"].get(group):
            functions[group] = load_printed(*payload["sources"][group])
    spec_state = payload["spec"]
    decoder = _Decoder(functions)
    fields = {name: decoder.decode(value) for name, value in spec_state["fields"].items()}
    spec = CachedSpec(fields, spec_state["endogenous"], spec_state["has_matrices"], spec_state["has_requirements"])
    compiled = decoder.decode(payload["compiled"])
    compiled.spec = spec
    accounting = decoder.decode(payload["accounting"])
    return spec, compiled, accounting, decoder.decode(payload["requirements"])


class _Decoder:
    def __init__(self, functions: dict):
        self.functions = functions
        self.objects: list = []

    def decode(self, node):
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if isinstance(node, list):
            return [self.decode(item) for item in node]
        (tag, value), *rest = node.items()
        if tag == "tuple":
            return tuple(self.decode(item) for item in value)
        if tag == "dict":
            return {self.decode(k): self.decode(v) for k, v in value}
        if tag == "nd":
            return np.array(value[2], dtype=np.dtype(value[0])).reshape(value[1])
        if tag == "np":
            return np.dtype(value[0]).type(value[1])
        if tag == "expr":
            return Expression(value)
        if tag == "fn":
            return self.functions[value[0]][value[1]]
        if tag == "ref":
            return self.objects[value]
        if tag == "obj":
            module, _, qualname = value.partition(":")
            if not module.startswith("drypowder."):
                raise ValueError(f"not a drypowder class: {value}")
            if value == "drypowder.cache:CachedMatrix":
                cls = CachedMatrix()
            else:
                cls = importlib.import_module(module)
                for part in qualname.split("."):
                    cls = getattr(cls, part)
            if not isinstance(cls, type):
                raise ValueError(f"not a class: {value}")
            obj = cls.__new__(cls)
            self.objects.append(obj)
            state = {name: self.decode(item) for name, item in dict(rest)["state"].items()}
            state.update(dict.fromkeys(_SKIPPED.get(cls.__name__, ())))
            obj.__dict__.update(state)
            return obj
        raise ValueError(f"unknown tag {tag!r}")


# --- writing -----------------------------------------------------------------------------------------


def store(path: str | Path, spec, compiled, accounting, checks) -> bool:
    """Write the cache entry of a freshly compiled model; False if it cannot be written (no harm done)."""
    path = Path(path)
    try:
        main = path.read_bytes()
        key = _key(path, main)
        files = [(str(name), _digest_file(name)) for name in _included(path, main)]
        compiled.cache_key = key
        text = _entry_text(key, files, spec, compiled, accounting, checks)
        entry = _entry_path(key)
        temporary = entry.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(text, encoding="utf-8")
        temporary.replace(entry)  # atomic: a parallel process never reads a half-written entry
    except (OSError, _Unsupported, ValueError, TypeError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        return False
    return True


def _entry_text(key: str, files, spec, compiled, accounting, checks) -> str:
    from .evaluate import printed_source

    encoder = _Encoder(spec)
    sources = {"blocks": compiled.source}
    printed = {
        "accounting": accounting and accounting.evaluate_all._function,
        "requirements": checks and checks._function,
    }
    for group, function in printed.items():
        if function is None:
            continue
        try:
            sources[group] = printed_source(function)
        except ValueError as error:
            raise _Unsupported(str(error)) from None
        encoder.functions[id(function)] = [group, function.__name__]
    fields = {
        name: encoder.encode(getattr(spec, name)) for name in spec.__dataclass_fields__ if name not in _LAZY_SPEC_FIELDS
    }
    payload = {
        "format": FORMAT,
        "key": key,
        "files": files,
        "sources": sources,
        "spec": {
            "fields": fields,
            "endogenous": spec.endogenous,
            "has_matrices": bool(spec.matrices),
            "has_requirements": bool(spec.requirements),
        },
        "compiled": encoder.encode(compiled),
        "accounting": encoder.encode(accounting),
        "requirements": encoder.encode(checks),
    }
    body = json.dumps(payload, separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest() + "\n" + body


class _Encoder:
    """Turns the compiled model's data into JSON; anything it does not know is ``_Unsupported``."""

    def __init__(self, spec):
        self.spec = spec
        self.functions: dict[int, list[str]] = {}
        self.seen: dict[int, int] = {}
        self.keep: list = []  # keeps encoded objects alive, so that their ids stay unique

    def encode(self, obj):
        kind = type(obj)
        if obj is None or kind in (bool, int, float, str):
            return obj
        if kind is list:
            return [self.encode(item) for item in obj]
        if kind is tuple:
            return {"tuple": [self.encode(item) for item in obj]}
        if kind is dict:
            return {"dict": [[self.encode(k), self.encode(v)] for k, v in obj.items()]}
        if kind is np.ndarray:
            if obj.dtype.kind not in "biuf":
                raise _Unsupported(f"array of {obj.dtype}")
            return {"nd": [obj.dtype.str, list(obj.shape), obj.ravel().tolist()]}
        if isinstance(obj, np.generic):
            return {"np": [obj.dtype.str, obj.item()]}
        if isinstance(obj, types.FunctionType):
            if obj.__globals__.get("__name__") == "drypowder_blocks":
                return {"fn": ["blocks", obj.__name__]}
            if id(obj) in self.functions:
                return {"fn": self.functions[id(obj)]}
            raise _Unsupported(f"function {obj.__qualname__}")
        module = kind.__module__
        if module.startswith("sympy."):
            return {"expr": str(obj)}
        if module.startswith("drypowder.") and hasattr(obj, "__dict__") and obj is not self.spec:
            if id(obj) in self.seen:
                return {"ref": self.seen[id(obj)]}
            self.seen[id(obj)] = len(self.seen)
            self.keep.append(obj)
            skipped = _SKIPPED.get(kind.__name__, ())
            state = {name: self.encode(value) for name, value in vars(obj).items() if name not in skipped}
            name = "drypowder.cache:CachedMatrix" if kind.__name__ == "Matrix" else f"{module}:{kind.__qualname__}"
            return {"obj": name, "state": state}
        raise _Unsupported(f"{module}.{kind.__qualname__}")
