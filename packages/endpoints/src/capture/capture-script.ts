// Kiln dependency capture, run by `python3 -I -S -c` in a sandbox. Kept as a string (not a .py file read at
// run time) so the bundler that packs the web app's server code carries it along.

/** The analysis script: JSON `{cells, function}` on stdin, the captured function as JSON on stdout. */
export const CAPTURE_SCRIPT = String.raw`"""Kiln dependency capture: reads {"cells": [str], "function": str} as JSON on stdin and writes what the
function needs from those cells as JSON on stdout. Only parses (Python's own 'ast'); never runs the code.

The module it builds keeps the notebook's order: the imports whose names the function (or a definition
it uses) reads, then those top-level definitions (functions, classes, assignments), then the function.
IPython syntax ('%magic', '!shell', 'x?') is blanked out first; a cell that still does not parse is
reported and skipped.
"""

import ast
import builtins
import json
import sys

BUILTINS = set(dir(builtins)) | {"__name__", "__file__", "__builtins__", "get_ipython", "display"}


def blank_ipython(source):
    lines = []
    for line in source.split("\n"):
        stripped = line.strip()
        if stripped.startswith(("%", "!")) or (stripped.endswith("?") and not stripped.startswith("#")):
            # Keep the indentation and line count so positions stay right; 'pass' keeps blocks valid.
            indent = line[: len(line) - len(line.lstrip())]
            lines.append(indent + "pass" if stripped else line)
        else:
            lines.append(line)
    return "\n".join(lines)


def statement_source(lines, node):
    first = node.lineno
    for decorator in getattr(node, "decorator_list", []):
        first = min(first, decorator.lineno)
    return "\n".join(lines[first - 1 : node.end_lineno])


def bound_names(node):
    """Names a top-level statement binds in the module."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [node.name]
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        names = []
        for alias in node.names:
            if alias.name == "*":
                continue
            names.append(alias.asname or alias.name.split(".")[0])
        return names
    names = []
    targets = []
    if isinstance(node, ast.Assign):
        targets = node.targets
    elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
        targets = [node.target]
    for target in targets:
        for sub in ast.walk(target):
            if isinstance(sub, ast.Name):
                names.append(sub.id)
    return names


class FreeNames(ast.NodeVisitor):
    """Names read by a statement that it does not bind itself (approximate scoping, erring towards reads)."""

    def __init__(self):
        self.reads = set()
        self.local = set()

    def visit_Name(self, node):
        if isinstance(node.ctx, ast.Load):
            self.reads.add(node.id)
        else:
            self.local.add(node.id)

    def visit_arg(self, node):
        self.local.add(node.arg)
        if node.annotation:
            self.visit(node.annotation)

    def visit_FunctionDef(self, node):
        self.local.add(node.name)
        self.generic_visit(node)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node):
        self.local.add(node.name)
        self.generic_visit(node)

    def visit_Import(self, node):
        for alias in node.names:
            self.local.add(alias.asname or alias.name.split(".")[0])

    visit_ImportFrom = visit_Import

    def visit_Global(self, node):
        # 'global x' inside the function: x is the module's, so it must be captured.
        self.reads.update(node.names)


def free_names(node):
    visitor = FreeNames()
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        # The statement's own name is bound by it; its body may still read other module names.
        for decorator in node.decorator_list:
            visitor.visit(decorator)
        if isinstance(node, ast.ClassDef):
            for base in node.bases:
                visitor.visit(base)
            for stmt in node.body:
                visitor.visit(stmt)
        else:
            visitor.visit(node.args)
            if node.returns:
                visitor.visit(node.returns)
            for stmt in node.body:
                visitor.visit(stmt)
        return (visitor.reads - visitor.local) | global_names(node)
    visitor.visit(node)
    return visitor.reads


def global_names(node):
    names = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Global):
            names.update(sub.names)
    return names


def parameters_of(node):
    args = node.args
    params = []
    positional = args.posonlyargs + args.args
    defaults = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
    for arg, default in zip(positional, defaults):
        params.append(param(arg, default, "positional_only" if arg in args.posonlyargs else "keyword"))
    for arg, default in zip(args.kwonlyargs, args.kw_defaults):
        params.append(param(arg, default, "keyword_only"))
    if args.vararg:
        params.append({"name": args.vararg.arg, "kind": "var_positional", "required": False})
    if args.kwarg:
        params.append({"name": args.kwarg.arg, "kind": "var_keyword", "required": False})
    return params


def param(arg, default, kind):
    entry = {"name": arg.arg, "kind": kind, "required": default is None}
    if default is not None:
        entry["default"] = ast.unparse(default)
    if arg.annotation is not None:
        entry["annotation"] = ast.unparse(arg.annotation)
    return entry


def capture(cells, function):
    statements = []  # (cell, order, node, source)
    skipped = []
    star_imports = []
    for index, cell in enumerate(cells):
        text = blank_ipython(cell)
        try:
            tree = ast.parse(text)
        except SyntaxError as error:
            skipped.append({"cell": index, "error": f"{error.msg} (line {error.lineno})"})
            continue
        lines = text.split("\n")
        for node in tree.body:
            statements.append((index, len(statements), node, statement_source(lines, node)))
            if isinstance(node, ast.ImportFrom) and any(a.name == "*" for a in node.names):
                star_imports.append(len(statements) - 1)

    target = None
    for entry in statements:
        node = entry[2]
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == function:
            target = entry
    if target is None:
        defined = sorted(
            {e[2].name for e in statements if isinstance(e[2], (ast.FunctionDef, ast.AsyncFunctionDef))}
        )
        return {
            "ok": False,
            "error": f"No top-level function named {function!r} in these cells"
            + (f" (functions: {', '.join(defined)})" if defined else " (they define no functions)"),
            "functions": defined,
        }

    def provider(name, before):
        """The last statement binding 'name', preferring ones before position 'before'."""
        found = None
        for entry in statements:
            if name in bound_names(entry[2]) and entry[1] not in (target[1], before):
                if entry[1] < before or found is None:
                    found = entry
        return found

    chosen = {target[1]}
    missing = []
    work = [target]
    seen_names = set()
    while work:
        entry = work.pop()
        for name in sorted(free_names(entry[2]) - BUILTINS):
            if name == function:
                continue
            key = (name, entry[1])
            if key in seen_names:
                continue
            seen_names.add(key)
            found = provider(name, entry[1])
            if found is None:
                if name not in missing:
                    missing.append(name)
                continue
            if found[1] not in chosen:
                chosen.add(found[1])
                work.append(found)
    for position in star_imports:
        chosen.add(position)
    ordered = [e for e in statements if e[1] in chosen]
    imports = [e for e in ordered if isinstance(e[2], (ast.Import, ast.ImportFrom))]
    definitions = [e for e in ordered if e not in imports and e[1] != target[1]]

    def kind(node):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return "function"
        if isinstance(node, ast.ClassDef):
            return "class"
        return "variable"

    body = [e[3] for e in imports] + [e[3] for e in definitions] + [target[3]]
    return {
        "ok": True,
        "function": function,
        "cell": target[0],
        "parameters": parameters_of(target[2]),
        "isAsync": isinstance(target[2], ast.AsyncFunctionDef),
        "imports": [{"cell": e[0], "source": e[3], "names": bound_names(e[2])} for e in imports],
        "definitions": [
            {"cell": e[0], "name": ", ".join(bound_names(e[2])) or "?", "kind": kind(e[2]), "source": e[3]}
            for e in definitions
        ],
        "missing": sorted(missing),
        "skippedCells": skipped,
        "source": "\n\n".join(body) + "\n",
    }


def main():
    request = json.loads(sys.stdin.read())
    sys.setrecursionlimit(10_000)
    try:
        result = capture(request["cells"], request["function"])
    except RecursionError:
        result = {"ok": False, "error": "The code is nested too deeply to analyse"}
    sys.stdout.write(json.dumps(result))


if __name__ == "__main__":
    main()
`;
