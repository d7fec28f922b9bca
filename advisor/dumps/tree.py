"""The indentation tree of ``nvidia-smi -q`` text: ``key : value`` lines nested by their indentation."""

from __future__ import annotations

_ELISIONS = frozenset({"[...]", "[ ... ]", "...", "…", "[…]"})


class Node:
    """One line: a key, its value (None for a section header) and the deeper-indented lines under it."""

    __slots__ = ("children", "key", "lkey", "value")

    def __init__(self, key: str, value: str | None = None, children: list[Node] | None = None) -> None:
        self.key = key
        self.lkey = key.lower()
        self.value = value
        self.children: list[Node] = children if children is not None else []

    def get(self, *names: str) -> Node | None:
        """The first child whose key is one of ``names`` (case-insensitive, exact)."""
        for name in names:
            wanted = name.lower()
            for c in self.children:
                if c.lkey == wanted:
                    return c
        return None

    def value_of(self, *path: str) -> str | None:
        """The value at a path of child keys; each step may list alternatives separated by ``|``."""
        node: Node | None = self
        for step in path:
            node = node.get(*step.split("|")) if node is not None else None
        return node.value if node is not None else None


def parse_tree(lines: list[str]) -> Node:
    """Build the tree; blank lines and ``[...]`` elisions are skipped, any indentation step is accepted."""
    root = Node("")
    stack: list[tuple[int, Node]] = []
    for raw in lines:
        line = raw.expandtabs(4).rstrip() if "\t" in raw else raw.rstrip()
        text = line.lstrip()
        if not text or text in _ELISIONS:
            continue
        indent = len(line) - len(text)
        # The key ends at the first " :" followed by a blank or the line's end (values hold "00:1E.0").
        i = text.find(" :")
        while i != -1 and i + 2 < len(text) and text[i + 2] not in " \t":
            i = text.find(" :", i + 1)
        node = Node(text[:i].strip(), text[i + 2 :].strip()) if i != -1 else Node(text)
        while stack and stack[-1][0] >= indent:
            stack.pop()
        (stack[-1][1] if stack else root).children.append(node)
        stack.append((indent, node))
    return root
