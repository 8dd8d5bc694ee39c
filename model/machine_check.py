"""The accounting check in machine code, with nothing compiled per model.

The numpy check (``Accounting.evaluate``, ``add_up`` and the scan) spends a SIM run of 500 periods
about 300 us, more than the run's own solve, and nearly all of it is the interpreter: one numpy call
per cell expression and a report object per identity. Compiling each model's cells with numba would
remove that, but numba's front end takes seconds even for SIM's 56 expressions (and minutes for the
flagship's 1,212), for every model a user loads.

So the cells become data instead of code. The function sympy printed for the numpy check is read
back (``ast``, never executed) into a short register program: load a series at a lag, load a
parameter, a constant, + - * /, negation, abs, sqrt, a power. One kernel, compiled once per
installation like the solver's helpers, runs any model's program over a block of columns (periods x
batch members) at a time, one vectorised loop per instruction, and then adds each identity up. The
program is the printed expression tree operation by operation, and the sums run in the order of
``Accounting.add_up``'s sparse products, so every number is the same, to the bit, as the numpy
check's; the tests compare the two. A printed function the program cannot express (a transcendental
function, whose numpy and libm versions may differ in the last bit) leaves that model on the numpy
check.

Only each identity's worst column and first failure come back. A run that passes needs nothing else;
a run that fails is checked again by the numpy check, which explains the failure cell by cell.
"""

from __future__ import annotations

import ast
import functools

import numpy as np

from .evaluate import printed_source

# opcodes of the register program: (opcode, destination, a, b)
LOAD_SERIES, LOAD_PARAMETER, CONSTANT, ADD, SUBTRACT, MULTIPLY, DIVIDE, NEGATE, ABSOLUTE, SQUARE_ROOT, POWER = range(11)
_BINARY = {ast.Add: ADD, ast.Sub: SUBTRACT, ast.Mult: MULTIPLY, ast.Div: DIVIDE}
_UNARY = {"abs": ABSOLUTE, "Abs": ABSOLUTE, "absolute": ABSOLUTE, "sqrt": SQUARE_ROOT}

#: bytes of registers and sums per block of columns (periods x batch members): a block stays in the core's
#: L2 cache (SIM: 2,000 columns; DRYPOWDER: 230)
BLOCK_BYTES = 512 * 1024


class Unsupported(ValueError):
    """The printed cell function uses something the register program does not express."""


class Program:
    """A model's accounting cells and identities as arrays for ``_kernel`` (see the module's docstring)."""

    def __init__(self, accounting):
        evaluator = accounting.evaluate_all
        source, _ = printed_source(evaluator._function)
        self.code: list[tuple[int, int, int, int]] = []
        self.constants: list[float] = []
        self._registers = 0
        self._last_use: dict[int, int] = {}
        outputs = self._translate(source, evaluator._reads)
        if len(outputs) != len(evaluator._varying):
            raise Unsupported(f"the cell function returns {len(outputs)} values, not {len(evaluator._varying)}")
        slot = {int(e): register for e, register in zip(evaluator._varying, outputs)}
        fixed = {int(e): float(v) for e, v in zip(evaluator._constant_rows, evaluator._constant_values)}

        def register(expression: int) -> int:
            if expression not in slot:  # a constant cell (most often 0, an empty cell's size)
                slot[expression] = self._constant(fixed.get(expression, 0.0))
            return slot[expression]

        count = accounting.cell_count
        now, earlier = accounting._now_sparse, accounting._before_sparse
        lagged = [int(cell) for cell in accounting._lagged]
        read = {  # the registers each sum reads, before allocation
            "now_cells": [register(int(c)) for c in now.indices],
            "now_sizes": [register(count + int(c)) for c in now.indices],
            "lag_cells": [register(c) for c in lagged],
            "lag_sizes": [register(count + c) for c in lagged],
        }
        self.code_array, self.registers, physical = self._allocate(set(slot.values()))
        self.constants_array = np.array(self.constants + [0.0], dtype=float)
        for name, registers in read.items():
            setattr(self, name, np.array([physical[r] for r in registers], dtype=np.int64))
        self.now_indptr = now.indptr.astype(np.int64)
        self.now_weights = now.data.astype(float)
        self.lag_indptr = earlier.indptr.astype(np.int64)
        self.lag_slots = earlier.indices.astype(np.int64)  # index into the lagged cells
        self.lag_weights = earlier.data.astype(float)
        self.first = np.array([check.first_period for check in accounting.sums], dtype=np.int64)

    # --- from the printed source to register code --------------------------------------------------

    def _new(self) -> int:
        self._registers += 1
        return self._registers - 1

    def _emit(self, opcode: int, a: int = 0, b: int = 0) -> int:
        destination = self._new()
        self.code.append((opcode, destination, a, b))
        return destination

    def _constant(self, value: float) -> int:
        self.constants.append(float(value))
        return self._emit(CONSTANT, len(self.constants) - 1)

    def _translate(self, source: str, reads) -> list[int]:
        tree = ast.parse(source)
        function = tree.body[0] if len(tree.body) == 1 else None
        if not isinstance(function, ast.FunctionDef):
            raise Unsupported("the printed cell source is not one function")
        names: dict[str, int] = {}
        for argument, (kind, index, lag) in zip(function.args.args, reads, strict=True):
            if kind == "parameter":
                names[argument.arg] = self._emit(LOAD_PARAMETER, index)
            else:
                names[argument.arg] = self._emit(LOAD_SERIES, index, lag)
        *assignments, result = function.body
        for statement in assignments:
            if not (isinstance(statement, ast.Assign) and len(statement.targets) == 1):
                raise Unsupported(f"line {statement.lineno} of the printed cells is not a plain assignment")
            target = statement.targets[0]
            if not isinstance(target, ast.Name):
                raise Unsupported(f"line {statement.lineno} of the printed cells assigns to {ast.unparse(target)}")
            names[target.id] = self._expression(statement.value, names)
        if not isinstance(result, ast.Return) or result.value is None:
            raise Unsupported("the printed cells do not end with a return")
        items = result.value.elts if isinstance(result.value, ast.Tuple) else [result.value]
        return [self._expression(item, names) for item in items]

    def _expression(self, node: ast.expr, names: dict[str, int]) -> int:
        """The register holding ``node``'s value, computed as numpy computes the printed text."""
        if isinstance(node, ast.Name):
            if node.id not in names:
                raise Unsupported(f"the printed cells read {node.id!r} before assigning it")
            return names[node.id]
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
            return self._constant(node.value)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return self._emit(NEGATE, self._expression(node.operand, names))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.UAdd):
            return self._expression(node.operand, names)
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            left = self._expression(node.left, names)
            return self._emit(_BINARY[type(node.op)], left, self._expression(node.right, names))
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
            return self._power(node, names)
        if isinstance(node, ast.Call) and len(node.args) == 1 and not node.keywords:
            name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
            if name in _UNARY:
                return self._emit(_UNARY[name], self._expression(node.args[0], names))
        raise Unsupported(f"the printed cells use {ast.unparse(node)!r}, which the register program does not express")

    def _power(self, node: ast.BinOp, names: dict[str, int]) -> int:
        """``x**n`` as numpy evaluates it for an array and a number: x*x, 1/x and sqrt are exact fast paths."""
        base = self._expression(node.left, names)
        exponent = node.right
        if isinstance(exponent, ast.UnaryOp) and isinstance(exponent.op, ast.USub):
            inner = exponent.operand
            value = -inner.value if isinstance(inner, ast.Constant) and isinstance(inner.value, (int, float)) else None
        else:
            value = exponent.value if isinstance(exponent, ast.Constant) else None
        if value == 2:
            return self._emit(MULTIPLY, base, base)
        if value == -1:
            return self._emit(DIVIDE, self._constant(1.0), base)
        if value == 0.5:
            return self._emit(SQUARE_ROOT, base)
        return self._emit(POWER, base, self._expression(exponent, names))

    # --- registers ------------------------------------------------------------------------------------

    def _allocate(self, pinned: set[int]) -> tuple[np.ndarray, int, dict[int, int]]:
        """Reuse a register once its value is read for the last time (the cells' registers are kept).

        Returns the code on the reused registers, how many there are, and where each first one went."""
        last = {}
        for position, (opcode, _, a, b) in enumerate(self.code):
            for operand in _operands(opcode, a, b):
                last[operand] = position
        physical: dict[int, int] = {}
        free: list[int] = []
        count = 0
        code = []
        for position, (opcode, destination, a, b) in enumerate(self.code):
            operands = _operands(opcode, a, b)  # loads and constants keep a and b: indices, not registers
            a_ = physical[a] if len(operands) >= 1 else a
            b_ = physical[b] if len(operands) == 2 else b
            for operand in set(operands):  # freed before the destination is chosen: x = x + y may reuse x
                if last.get(operand) == position and operand not in pinned:
                    free.append(physical[operand])
            if free:
                physical[destination] = free.pop()
            else:
                physical[destination], count = count, count + 1
            code.append((opcode, physical[destination], a_, b_))
        return np.array(code, dtype=np.int64).reshape(-1, 4), max(count, 1), physical


def _operands(opcode: int, a: int, b: int) -> tuple[int, ...]:
    """The registers an instruction reads (loads and constants read none)."""
    if opcode in (LOAD_SERIES, LOAD_PARAMETER, CONSTANT):
        return ()
    if opcode in (NEGATE, ABSOLUTE, SQUARE_ROOT):
        return (a,)
    return (a, b)


def program(accounting) -> Program | None:
    """``accounting``'s register program, built once per process; None if its cells cannot be expressed."""
    if "_program" not in accounting.__dict__:
        try:
            accounting.__dict__["_program"] = Program(accounting)
        except (Unsupported, OSError, TypeError):  # OSError: no printed source to read back
            accounting.__dict__["_program"] = None
    return accounting.__dict__["_program"]


@functools.cache
def kernel():
    """``_kernel`` compiled by numba, once per installation (cached on disk): about 3 s, then ~10 ms a process."""
    from numba import njit

    return njit(cache=True, nogil=True, error_model="numpy")(_kernel)


def check(accounting, values, parameters, tolerance: float, floor: float, skip=None, threads: int | None = None):
    """Every identity of ``accounting`` over ``values[period, series, member]`` and ``parameters[parameter,
    member]`` (or ``[period, parameter, member]``).

    None if anything fails, or if the model's cells cannot be expressed as a register program: the
    numpy check then runs. Otherwise (the largest relative imbalance, and per identity: its worst relative
    imbalance, that column ``period * members + member``, its sum and its gross size).

    A batch is shared among ``threads`` (None: every core; see ``jit.thread_count``), each taking a range
    of members. Each identity's worst is then the largest of theirs, a tie going to the lowest column, as
    within one range, so the answer does not depend on the threads.
    """
    from .jit import over_member_ranges, thread_count

    plan = program(accounting)
    if plan is None:
        return None
    n = len(plan.first)
    periods, members = values.shape[0], values.shape[2]
    threads = thread_count(threads, members, periods)
    worst_value, worst_total, worst_gross = np.empty((3, threads, n))
    worst_at = np.empty((threads, n), dtype=np.int64)
    largest = np.empty(threads)
    skipped = _NO_SKIP if skip is None and members == 1 else np.zeros(members, dtype=np.bool_)
    if skip is not None:
        skipped = np.ascontiguousarray(skip, dtype=np.bool_)
    arguments = (
        np.ascontiguousarray(values, dtype=float),
        np.ascontiguousarray(parameters[None] if parameters.ndim == 2 else parameters, dtype=float),
        skipped,
        plan.code_array,
        plan.constants_array,
        plan.registers,
        plan.now_indptr,
        plan.now_cells,
        plan.now_sizes,
        plan.now_weights,
        plan.lag_indptr,
        plan.lag_slots,
        plan.lag_weights,
        plan.lag_cells,
        plan.lag_sizes,
        plan.first,
        float(tolerance),
        float(floor),
        max(64, min(4096, BLOCK_BYTES // (8 * (plan.registers + 6)))),  # columns per block
    )

    def part(i: int, start: int, stop: int) -> None:
        largest[i] = kernel()(*arguments, start, stop, worst_value[i], worst_at[i], worst_total[i], worst_gross[i])

    over_member_ranges(part, members, threads)
    if threads == 1:
        return None if largest[0] < 0 else (largest[0], worst_value[0], worst_at[0], worst_total[0], worst_gross[0])
    if (largest < 0).any():
        return None
    # per identity, the thread with the largest worst; among equals, the lowest column
    best = np.lexsort((worst_at, -worst_value), axis=0)[0]
    pick = (best, np.arange(n))
    return largest.max(), worst_value[pick], worst_at[pick], worst_total[pick], worst_gross[pick]


_NO_SKIP = np.zeros(1, dtype=np.bool_)


def _kernel(values, params, skip, code, constants, registers, now_indptr, now_cells, now_sizes, now_weights,
            lag_indptr, lag_slots, lag_weights, lag_cells, lag_sizes, first, tolerance, floor, block,
            k_start, k_stop, worst_value, worst_at, worst_total, worst_gross):  # fmt: skip
    """Run the program and add every identity up over members k_start..k_stop - 1, a block of columns at a
    time (see the module's docstring).

    A block is a run of periods of a slice of members (column ``q = (t - t0) * width + k``); a lagged
    cell reads the column one period back, the carried last period of the block before, or, in
    period 0, itself. Sums run in ``Accounting.add_up``'s order (cells now, then the lagged ones added).
    """
    periods, series, members = values.shape
    parameters = params.shape[1]
    flat_values, flat_params = values.reshape(-1), params.reshape(-1)  # both C-contiguous (see ``check``)
    checks = first.shape[0]
    lagged = lag_cells.shape[0]
    for i in range(checks):
        worst_value[i] = -1.0
        worst_at[i] = 0
        worst_total[i] = 0.0
        worst_gross[i] = 0.0
    varying = params.shape[0] > 1
    width = min(k_stop - k_start, block)
    per_block = min(max(1, block // width), periods)
    # sized to the run, not to the block: a short run allocates little, so no fresh pages to fault in
    reg = np.empty((registers, per_block * width))
    carry = np.empty((2, max(lagged, 1), width))
    total, gross, lag_total, lag_gross = np.empty((4, per_block * width))
    any_skip = skip.any()
    for k0 in range(k_start, k_stop, width):
        w = min(width, k_stop - k0)
        for t0 in range(0, periods, per_block):
            t1 = min(periods, t0 + per_block)
            n = (t1 - t0) * w
            for line in range(code.shape[0]):
                op, dst, a, b = code[line, 0], code[line, 1], code[line, 2], code[line, 3]
                out = reg[dst]
                if op == 0:  # LOAD_SERIES: series a at lag b (flat indices: one multiply-add per read)
                    if w == 1:  # one member (a single run): one read per period
                        step = series * members
                        for t in range(t0, t1):
                            out[t - t0] = flat_values[max(t - b, 0) * step + a * members + k0]
                    else:
                        for t in range(t0, t1):
                            source = (max(t - b, 0) * series + a) * members + k0
                            base = (t - t0) * w
                            for k in range(w):
                                out[base + k] = flat_values[source + k]
                elif op == 1:  # LOAD_PARAMETER a
                    for t in range(t0, t1):
                        source = ((t if varying else 0) * parameters + a) * members + k0
                        base = (t - t0) * w
                        for k in range(w):
                            out[base + k] = flat_params[source + k]
                elif op == 2:  # CONSTANT a
                    value = constants[a]
                    for q in range(n):
                        out[q] = value
                elif op == 3:
                    x, y = reg[a], reg[b]
                    for q in range(n):
                        out[q] = x[q] + y[q]
                elif op == 4:
                    x, y = reg[a], reg[b]
                    for q in range(n):
                        out[q] = x[q] - y[q]
                elif op == 5:
                    x, y = reg[a], reg[b]
                    for q in range(n):
                        out[q] = x[q] * y[q]
                elif op == 6:
                    x, y = reg[a], reg[b]
                    for q in range(n):
                        out[q] = x[q] / y[q]
                elif op == 7:
                    x = reg[a]
                    for q in range(n):
                        out[q] = -x[q]
                elif op == 8:
                    x = reg[a]
                    for q in range(n):
                        out[q] = abs(x[q])
                elif op == 9:
                    x = reg[a]
                    for q in range(n):
                        out[q] = np.sqrt(x[q])
                else:  # POWER
                    x, y = reg[a], reg[b]
                    for q in range(n):
                        out[q] = x[q] ** y[q]
            for i in range(checks):
                for q in range(n):
                    total[q] = 0.0
                    gross[q] = 0.0
                for j in range(now_indptr[i], now_indptr[i + 1]):
                    weight, size_weight = now_weights[j], abs(now_weights[j])
                    x, z = reg[now_cells[j]], reg[now_sizes[j]]
                    for q in range(n):
                        total[q] += weight * x[q]
                        gross[q] += size_weight * z[q]
                if lag_indptr[i + 1] > lag_indptr[i]:
                    for q in range(n):
                        lag_total[q] = 0.0
                        lag_gross[q] = 0.0
                    for j in range(lag_indptr[i], lag_indptr[i + 1]):
                        weight, size_weight, slot = lag_weights[j], abs(lag_weights[j]), lag_slots[j]
                        x, z = reg[lag_cells[slot]], reg[lag_sizes[slot]]
                        for k in range(w):  # the block's first period reads the carried one (period 0: itself)
                            if t0 == 0:
                                lag_total[k] += weight * x[k]
                                lag_gross[k] += size_weight * z[k]
                            else:
                                lag_total[k] += weight * carry[0, slot, k]
                                lag_gross[k] += size_weight * carry[1, slot, k]
                        for q in range(w, n):
                            lag_total[q] += weight * x[q - w]
                            lag_gross[q] += size_weight * z[q - w]
                    for q in range(n):
                        total[q] += lag_total[q]
                        gross[q] += lag_gross[q]
                lo = min(max(t0, first[i]), t1)  # periods before the identity's first add up to nothing
                if lo > t0:
                    column = t0 * members + k0
                    if 0.0 > worst_value[i] or (0.0 == worst_value[i] and column < worst_at[i]):
                        worst_value[i], worst_at[i], worst_total[i], worst_gross[i] = 0.0, column, 0.0, 0.0
                if any_skip:
                    for t in range(lo, t1):
                        for k in range(w):
                            if skip[k0 + k]:
                                total[(t - t0) * w + k] = 0.0
                                gross[(t - t0) * w + k] = 0.0
                q0 = (lo - t0) * w
                current = worst_value[i]
                # A column can become the worst only if its ratio reaches the worst so far. One with size <
                # 0.999 * current * gross cannot (rounding moves a ratio by a few units in the last place),
                # nor can a balanced one (0 <= current), so only the others are divided: in an identity that
                # is exactly 0, none. (Dividing every column took a third of SIM's check.)
                cut = 0.999 * current
                bad = 0
                candidates = 0
                for q in range(q0, n):  # no division and no exit: the compiler runs four columns at a time
                    size, size_sum = abs(total[q]), gross[q]
                    bad += not size <= tolerance * size_sum + floor
                    candidates += (not size < cut * size_sum) and (size > 0.0 or current < 0.0)
                if bad:  # a failure: the numpy check explains it
                    return -1.0
                peak, at = -1.0, -1
                for q in range(q0, n if candidates else q0):  # the block's first column at its largest ratio
                    value, size_sum = total[q], gross[q]
                    size = abs(value)
                    if (not size < cut * size_sum) and (size > 0.0 or current < 0.0):
                        ratio = size / size_sum
                        if ratio != ratio:  # 0 / 0 is 0; anything else with no size, or a NaN: infinitely off
                            ratio = 0.0 if value == 0.0 else np.inf
                        if ratio > peak:
                            peak, at = ratio, q
                if at >= 0 and peak >= current:
                    column = (t0 + at // w) * members + k0 + at % w
                    if peak > current or column < worst_at[i]:
                        worst_value[i], worst_at[i], worst_total[i], worst_gross[i] = peak, column, total[at], gross[at]
            last = (t1 - 1 - t0) * w
            for slot in range(lagged):
                x, z = reg[lag_cells[slot]], reg[lag_sizes[slot]]
                for k in range(w):
                    carry[0, slot, k] = x[last + k]
                    carry[1, slot, k] = z[last + k]
    largest = 0.0
    for i in range(checks):
        if periods > first[i] and worst_value[i] > largest:
            largest = worst_value[i]
    return largest
