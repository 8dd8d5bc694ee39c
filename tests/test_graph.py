"""Blocks and their order: the dependency graph's strongly connected components, in the model file's order."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from drypowder.graph import Block, blocks_in_order


def reference_blocks(names: list[str], inputs: dict[str, set[str]]) -> list[tuple[tuple[str, ...], bool]]:
    """By brute force: components from the transitive closure, then, of the blocks whose inputs are all
    solved, the one whose first variable comes first in the file."""
    n = len(names)
    reach = [[i == j or names[i] in inputs[names[j]] for j in range(n)] for i in range(n)]
    for k in range(n):  # Warshall
        for i in range(n):
            if reach[i][k]:
                for j in range(n):
                    reach[i][j] = reach[i][j] or reach[k][j]
    components = {tuple(names[j] for j in range(n) if reach[i][j] and reach[j][i]) for i in range(n)}
    solved: set[str] = set()
    out = []
    while components:
        ready = [c for c in components if all(s in solved or s in c for v in c for s in inputs[v])]
        first = min(ready, key=lambda c: names.index(c[0]))
        components.remove(first)
        solved.update(first)
        out.append((first, len(first) > 1 or first[0] in inputs[first[0]]))
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
def test_blocks_and_their_order_equal_a_brute_force_reference(graph):
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
