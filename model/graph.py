"""The current-period dependency graph, split into blocks solved in order.

An edge ``B -> A`` means A's equation uses B's value of the same period. The strongly connected
components of that graph are the blocks: a block of one variable that does not use itself is
evaluated directly; any other block is simultaneous and needs an iterative solve. networkx does the
graph algorithms; it is imported where it is used (~0.17 s), since a model read from the compiled-model
cache is already in blocks. (scipy's ``csgraph`` would find the components too, but it loads
scipy.sparse with it, 0.28 s in all, which no other step of a cold compile needs.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .parse import split_symbol
from .spec import ModelSpec

if TYPE_CHECKING:
    import networkx as nx


@dataclass(frozen=True)
class Block:
    """Variables solved together, in model-file order; ``simultaneous`` if they depend on each other."""

    variables: tuple[str, ...]
    simultaneous: bool
    sweep_order: tuple[int, ...] = ()  # Gauss-Seidel order (indices into variables), inputs before users


def current_inputs(spec: ModelSpec) -> dict[str, set[str]]:
    """For each endogenous variable, the endogenous variables whose same-period values its equation uses."""
    endogenous = set(spec.endogenous)
    inputs: dict[str, set[str]] = {name: set() for name in spec.endogenous}
    for equation in spec.equations:
        for symbol in equation.expression.free_symbols:
            name, lag = split_symbol(symbol)
            if lag == 0 and name in endogenous:
                inputs[equation.name].add(name)
    return inputs


def dependency_graph(spec: ModelSpec) -> nx.DiGraph:
    """Directed graph over endogenous variables: an edge from each current-period input to its user."""
    return _digraph(spec.endogenous, current_inputs(spec))


def _digraph(names: list[str], inputs: dict[str, set[str]]) -> nx.DiGraph:
    import networkx as nx

    graph = nx.DiGraph()
    graph.add_nodes_from(names)
    graph.add_edges_from((source, user) for user in names for source in inputs[user])
    return graph


def solve_order(spec: ModelSpec) -> list[Block]:
    """Blocks in an order where each block only needs blocks before it (and lags, and exogenous values)."""
    return blocks_in_order(spec.endogenous, current_inputs(spec))


def blocks_in_order(names: list[str], inputs: dict[str, set[str]]) -> list[Block]:
    """The blocks of the graph ``inputs[user] = {its inputs}``, each needing only blocks before it.

    Among blocks that are ready, the one whose first variable comes first in ``names`` (the model
    file's order) is solved first, so the order reads like the model file wherever the dependencies
    allow.
    """
    import networkx as nx

    position = {name: i for i, name in enumerate(names)}
    condensed = nx.condensation(_digraph(names, inputs))
    order = nx.lexicographical_topological_sort(
        condensed, key=lambda node: min(position[v] for v in condensed.nodes[node]["members"])
    )
    blocks = []
    for node in order:
        variables = tuple(sorted(condensed.nodes[node]["members"], key=position.__getitem__))
        simultaneous = len(variables) > 1 or variables[0] in inputs[variables[0]]
        sweep = _sweep_order(variables, inputs) if simultaneous else (0,)
        blocks.append(Block(variables, simultaneous, sweep))
    return blocks


def _sweep_order(members: tuple[str, ...], inputs: dict[str, set[str]]) -> tuple[int, ...]:
    """An order for Gauss-Seidel sweeps that breaks as few dependencies as it can.

    Greedy: next comes a variable all of whose inputs are already updated; when the cycle leaves
    none, the one with the fewest inputs still pending (so each sweep carries a new value around most
    of the loop, instead of one link per sweep).
    """
    inside = set(members)
    waiting = {v: (inputs[v] & inside) - {v} for v in members}
    pending = list(members)
    done: set[str] = set()
    order = []
    while pending:
        best = min(pending, key=lambda v: len(waiting[v] - done))
        pending.remove(best)
        done.add(best)
        order.append(members.index(best))
    return tuple(order)
