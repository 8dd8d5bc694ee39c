"""Blocks and their order: scipy's components in the model file's order, the same as networkx finds them."""

from __future__ import annotations

import networkx as nx
from hypothesis import given, settings
from hypothesis import strategies as st

from drypowder.graph import Block, blocks_in_order


def reference_blocks(names: list[str], inputs: dict[str, set[str]]) -> list[tuple[tuple[str, ...], bool]]:
    """networkx's condensation, ready blocks taken in the file order of their first variable."""
    graph = nx.DiGraph()
    graph.add_nodes_from(names)
    graph.add_edges_from((source, user) for user in names for source in inputs[user])
    position = {name: i for i, name in enumerate(names)}
    condensed = nx.condensation(graph)
    order = nx.lexicographical_topological_sort(
        condensed, key=lambda node: min(position[v] for v in condensed.nodes[node]["members"])
    )
    out = []
    for node in order:
        members = tuple(sorted(condensed.nodes[node]["members"], key=position.__getitem__))
        out.append((members, len(members) > 1 or graph.has_edge(members[0], members[0])))
    return out


@st.composite
def graphs(draw):
    size = draw(st.integers(1, 14))
    names = [f"v{i}" for i in draw(st.permutations(range(size)))]
    edges = draw(st.lists(st.tuples(st.sampled_from(names), st.sampled_from(names)), max_size=3 * size))
    inputs = {name: set() for name in names}
    for source, user in edges:
        inputs[user].add(source)
    return names, inputs


@settings(max_examples=300, deadline=None)
@given(graphs())
def test_blocks_and_their_order_equal_networkx_s(graph):
    names, inputs = graph
    blocks = blocks_in_order(names, inputs)
    assert [(b.variables, b.simultaneous) for b in blocks] == reference_blocks(names, inputs)
    solved: set[str] = set()
    for block in blocks:  # each block needs only blocks before it
        assert all(source in solved or source in block.variables for v in block.variables for source in inputs[v])
        solved.update(block.variables)
        assert sorted(block.sweep_order) == list(range(len(block.variables)))


def test_a_cycle_is_swept_along_its_links_and_a_lone_variable_is_direct():
    # y uses x, z uses y, x uses z (a cycle), w uses itself, u uses nothing
    inputs = {"u": set(), "x": {"z"}, "y": {"x"}, "z": {"y"}, "w": {"w", "u"}}
    blocks = blocks_in_order(["x", "y", "z", "w", "u"], inputs)
    assert blocks == [
        Block(("x", "y", "z"), True, (0, 1, 2)),  # x first (all tie), then y (its input x is updated), then z
        Block(("u",), False, (0,)),
        Block(("w",), True, (0,)),
    ]
