"""Cut a torch model after any node of its torch.fx graph.

A model is traced once with :mod:`torch.fx` (symbolic tracing). Every
``call_module``, ``call_function`` and ``call_method`` node is a cut point. Module
calls are named by their dotted module path, the name users know from
``model.named_modules()`` (``layer3.1.bn1``); functional operations keep their fx
name (``relu_5``, ``add_3``). A container module (``layer2``, ``layer3.1``) is
accepted too and means the node that produced its output.

Cutting rewires the graph output to the chosen node, erases everything after it,
eliminates the dead code before it (for example a shortcut branch that is only
consumed after the cut) and deletes the submodules no node uses any more, so the
truncated module holds exactly the parameters it needs.

A model that fx cannot trace (data-dependent control flow, say) gets an error that
names the operation that stopped tracing; cuts at module boundaries still work
through a fallback: a prefix of an ``nn.Sequential``, or, given an example input, a
forward hook that stops the forward pass at the chosen submodule, with the modules that
run only after it (found by running the example once) dropped. The tail is never kept.
"""

from __future__ import annotations

import copy
import os
import traceback
import warnings
from collections import OrderedDict
from typing import Any, NamedTuple

import torch
import torch.fx as fx
from torch import nn

from neural._errors import NeuralError
from neural._util import (
    INPUT_ERRORS,
    check_module,
    expected_input,
    model_dtype,
    shape_error,
    suggest,
    to_model_input,
    torch_message,
)

_CUT_OPS = ("call_module", "call_function", "call_method")
_TORCH_DIR = os.path.dirname(torch.__file__)


class NodeInfo(NamedTuple):
    """One cut point of a traced model, as listed by :func:`list_nodes`.

    Attributes
    ----------
    name : str
        The name to pass to :func:`truncate`: the module path for module calls
        (``"layer3.1.bn1"``), the fx name for functions and methods (``"add_3"``).
    op : {"module", "function", "method"}
        What the node calls.
    target : str
        The module's class name, or the function or method name (``"relu"``).
    shape : tuple of int or None
        Output shape for the example input, batch dimension first; ``None`` when
        the node does not output a single tensor.
    ends : tuple of str
        Container modules whose output this node is (``("layer2.1", "layer2")``);
        their names are accepted by :func:`truncate` as aliases of ``name``.
    """

    name: str
    op: str
    target: str
    shape: tuple[int, ...] | None
    ends: tuple[str, ...] = ()


class _TraceFailure(Exception):
    """Internal: tracing failed; ``str()`` says where and why."""


class _Tracer(fx.Tracer):
    """An fx tracer that remembers where it was when tracing failed and what each
    container module returned (to accept container paths as cut points)."""

    def __init__(self) -> None:
        super().__init__()
        self.failed_in: str | None = None
        self.module_outputs: dict[str, fx.Node] = {}

    def call_module(self, m: nn.Module, forward: Any, args: Any, kwargs: Any) -> Any:
        path = self.path_of_module(m)
        n_before = len(self.graph.nodes)
        try:
            out = super().call_module(m, forward, args, kwargs)
        except Exception:
            if self.failed_in is None:  # the innermost module is the one that failed
                self.failed_in = f"{path} ({type(m).__name__})"
            raise
        # Containers that added no node (an empty ``nn.Sequential`` shortcut is the
        # identity) have no output of their own and are not cut points.
        grew = len(self.graph.nodes) > n_before
        if isinstance(out, fx.Proxy) and grew and not self.is_leaf_module(m, path):
            self.module_outputs.setdefault(path, out.node)
        return out


def _trace(model: nn.Module) -> tuple[fx.GraphModule, dict[str, fx.Node]]:
    """Trace ``model``; return the graph module and the container outputs."""
    tracer = _Tracer()
    try:
        graph = tracer.trace(model)
    except Exception as exc:
        frames = [
            f
            for f in traceback.extract_tb(exc.__traceback__)
            if not f.filename.startswith(_TORCH_DIR)
        ]
        where = ""
        if frames:
            f = frames[-1]
            where = f" at {os.path.basename(f.filename)}:{f.lineno} `{(f.line or '').strip()}`"
        inside = (
            f" inside module {tracer.failed_in}"
            if tracer.failed_in
            else " in the top-level forward"
        )
        raise _TraceFailure(
            f"torch.fx could not trace {type(model).__name__}: tracing stopped{inside}{where} "
            f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})"
        ) from exc
    gm = fx.GraphModule(tracer.root, graph, type(model).__name__)
    return gm, tracer.module_outputs


def _node_names(graph: fx.Graph) -> OrderedDict[str, fx.Node]:
    """Cut-point names of ``graph`` in execution order (first call of a module gets its path)."""
    names: OrderedDict[str, fx.Node] = OrderedDict()
    for node in graph.nodes:
        if node.op not in _CUT_OPS:
            continue
        if node.op == "call_module" and node.target not in names:
            names[str(node.target)] = node
        else:  # functional ops, and repeated calls of one module, keep the unique fx name
            names[node.name] = node
    return names


def _lookup(gm: fx.GraphModule, outputs: dict[str, fx.Node], node: str | NodeInfo) -> fx.Node:
    """Find the graph node called ``node`` (a cut-point name, fx name or container path)."""
    name = node.name if isinstance(node, NodeInfo) else node
    names = _node_names(gm.graph)
    if isinstance(name, str):
        if name in names:
            return names[name]
        if name in outputs and outputs[name].graph is gm.graph:
            return outputs[name]
        for n in names.values():  # the fx spelling ("layer3_1_bn1") is an accepted alias
            if n.name == name:
                return n
    valid = list(names) + [p for p in outputs if p not in names]
    raise NeuralError(
        f"node={name!r} is not a node of the traced model. " + suggest(str(name), valid)
    )


def _module_label(gm: fx.GraphModule, node: fx.Node) -> str:
    if node.op == "call_module":
        return type(gm.get_submodule(str(node.target))).__name__
    return getattr(node.target, "__name__", str(node.target))


class _ShapeProp(fx.Interpreter):
    """Shape propagation: run the graph once and record each node's output shape.

    Like :class:`torch.fx.passes.shape_prop.ShapeProp`, but it remembers the node it
    was running when it failed and does not print a traceback of its own.
    """

    current: fx.Node | None = None

    def run_node(self, n: fx.Node) -> Any:
        self.current = n
        result = super().run_node(n)
        n.meta["vinet_shape"] = tuple(result.shape) if isinstance(result, torch.Tensor) else None
        return result


def _states(model: nn.Module) -> list[tuple[nn.Module, bool]]:
    return [(m, m.training) for m in model.modules()]


def _restore(states: list[tuple[nn.Module, bool]]) -> None:
    for m, training in states:
        m.training = training


def list_nodes(model: nn.Module, example_input: torch.Tensor) -> list[NodeInfo]:
    """List the cut points of ``model`` in execution order with their output shapes.

    Parameters
    ----------
    model : nn.Module
        Any model that :mod:`torch.fx` can trace; for one it cannot, the module
        boundaries are listed instead (with a warning that says why).
    example_input : torch.Tensor of shape (N, ...)
        A batch the model accepts, e.g. ``torch.zeros(1, 3, 32, 32)``; it runs in
        eval mode without gradients, and the model's train/eval state is restored.

    Returns
    -------
    list of NodeInfo
        One entry per node: ``name`` (what :func:`truncate` takes), ``op``,
        ``target``, output ``shape`` and the containers the node ``ends``.

    Raises
    ------
    NeuralError
        If ``example_input`` does not fit the model (the message names the shape the
        first layer expects).
    """
    check_module(model)
    if not isinstance(example_input, torch.Tensor):
        raise NeuralError(
            f"example_input must be a torch.Tensor batch, got {type(example_input).__name__}; "
            "pass e.g. torch.zeros(1, 3, 32, 32)."
        )
    try:
        gm, outputs = _trace(model)
    except _TraceFailure as failure:
        warnings.warn(f"{failure}; listing module boundaries instead.", UserWarning, stacklevel=2)
        return _list_module_boundaries(model, example_input)
    states = _states(gm)
    prop = _ShapeProp(gm)
    x = to_model_input(example_input, example_input.device, model_dtype(model))
    try:
        gm.eval()
        with torch.no_grad():
            prop.run(x)
    except INPUT_ERRORS as exc:
        failed = prop.current
        culprit = (
            gm.get_submodule(str(failed.target))
            if failed is not None and failed.op == "call_module"
            else gm
        )
        expected = expected_input(culprit)
        if failed is not None and culprit is not gm and expected and x.is_floating_point():
            raise NeuralError(
                f"example_input of shape {tuple(example_input.shape)} does not fit the model: "
                f"node {failed.target!r} ({type(culprit).__name__}) expects input of shape "
                f"{expected}; pass a batch of the shape the model was built for "
                f"(torch said: {torch_message(exc)})."
            ) from exc
        raise shape_error(model, x.shape, exc, "example_input", x.dtype) from exc
    finally:
        _restore(states)
    ends: dict[fx.Node, list[str]] = {}
    for path, n in outputs.items():
        ends.setdefault(n, []).append(path)
    infos = []
    for name, n in _node_names(gm.graph).items():
        shape = n.meta.get("vinet_shape")
        op = n.op.removeprefix("call_")
        containers = tuple(sorted(ends.get(n, ()), key=len, reverse=True))
        infos.append(NodeInfo(name, op, _module_label(gm, n), shape, containers))
    return infos


def _list_module_boundaries(model: nn.Module, example_input: torch.Tensor) -> list[NodeInfo]:
    """The fallback of :func:`list_nodes`: submodule outputs captured by forward hooks."""
    seen: list[NodeInfo] = []
    handles = []
    for path, module in model.named_modules():
        if not path:
            continue

        def hook(mod: nn.Module, args: Any, out: Any, path: str = path) -> None:
            if not any(info.name == path for info in seen):
                shape = tuple(out.shape) if isinstance(out, torch.Tensor) else None
                seen.append(NodeInfo(path, "module", type(mod).__name__, shape))

        handles.append(module.register_forward_hook(hook))
    _run_once(model, model, example_input, handles)
    return seen


def _run_once(model: nn.Module, forward: Any, example_input: torch.Tensor,
              handles: list[Any]) -> None:
    """Run ``forward`` (``model``, or a module wrapping it) once on ``example_input``, in
    eval mode and without gradients; then restore every module's train/eval state and
    remove the hooks ``handles``."""
    states = _states(model)
    x = to_model_input(example_input, example_input.device, model_dtype(model))
    try:
        model.eval()
        with torch.no_grad():
            forward(x)
    except INPUT_ERRORS as exc:
        raise shape_error(model, x.shape, exc, "example_input", x.dtype) from exc
    finally:
        _restore(states)
        for h in handles:
            h.remove()


def truncate(
    model: nn.Module, node: str | NodeInfo, *, example_input: torch.Tensor | None = None
) -> nn.Module:
    """Return a new module that computes ``model`` up to and including ``node``.

    Parameters
    ----------
    model : nn.Module
        The full network (left unchanged).
    node : str or NodeInfo
        A cut point from :func:`list_nodes`: a module path (``"layer3.1.bn1"``), a
        functional node (``"add_3"``), its fx spelling (``"layer3_1_bn1"``) or a
        container module (``"layer2"``, meaning its output).
    example_input : torch.Tensor, optional
        A batch the model accepts. Used only when torch.fx cannot trace the model and
        ``node`` is a submodule that is not a prefix of an ``nn.Sequential``: the model
        then runs once on it (eval mode, no gradients), and the modules that start only
        after ``node`` has produced its output are dropped from the cut.

    Returns
    -------
    nn.Module
        A :class:`torch.fx.GraphModule` (a deep copy: it shares no tensors with
        ``model``) mapping the model's input to the activation at ``node``, e.g.
        ``(N, C, H, W)``. Modules after the cut and their parameters are gone; the
        device, dtype and train/eval state of every kept module are those of
        ``model``. For a model fx cannot trace: an ``nn.Sequential`` prefix, or a
        module that runs a copy of the model and stops at ``node`` (the modules that
        ran only after it replaced by parameterless placeholders that raise a
        :class:`NeuralError` if an input ever reaches them).

    Raises
    ------
    NeuralError
        If ``node`` is unknown (the message lists the closest and the valid names), or
        if the model cannot be traced and ``node`` is not a module boundary (the
        message names the operation that stopped tracing), or needs ``example_input``
        and none was given.

    Warns
    -----
    UserWarning
        When tracing fails and the cut falls back to a module boundary.
    """
    check_module(model)
    try:
        gm, outputs = _trace(model)
    except _TraceFailure as failure:
        return _fallback_cut(model, node, failure, example_input)
    target = _lookup(gm, outputs, node)
    graph = gm.graph
    nodes = list(graph.nodes)
    output = nodes[-1]
    output.args = (target,)
    # Erase everything after the cut in reverse order, so every node's users are gone
    # before it is; eliminate_dead_code alone would keep impure (in-place) nodes.
    for n in reversed(nodes[nodes.index(target) + 1 : -1]):
        graph.erase_node(n)
    graph.eliminate_dead_code()
    graph.lint()
    gm.delete_all_unused_submodules()
    used_attrs = {str(n.target) for n in graph.nodes if n.op == "get_attr"}
    for attr in [*gm._parameters, *gm._buffers]:  # root-level tensors only reached by erased nodes
        if attr not in used_attrs:
            delattr(gm, attr)
    gm.recompile()
    gm.training = model.training
    # The graph module shares its submodules with ``model``; a deep copy of the (now
    # small) graph module makes the cut independent without copying the dropped tail.
    return copy.deepcopy(gm)


class _HookCut(nn.Module):
    """Fallback cut for a model fx cannot trace: run it and stop at submodule ``path``.

    A forward hook on ``path`` raises :class:`_StopForward` with its output, so nothing
    after the cut runs. The modules that ran only after the cut on the example input are
    replaced by :class:`_Dropped` placeholders (see :func:`_hook_cut`), so their
    parameters are gone as they are from a traced cut.
    """

    def __init__(self, model: nn.Module, path: str) -> None:
        super().__init__()
        self.model = model
        self.path = path
        self.training = model.training

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        captured: list[Any] = []

        def stop(mod: nn.Module, inputs: Any, out: Any) -> None:
            captured.append(out)
            raise _StopForward

        handle = self.model.get_submodule(self.path).register_forward_hook(stop)
        try:
            self.model(*args, **kwargs)
        except _StopForward:
            return captured[0]
        finally:
            handle.remove()
        raise NeuralError(
            f"The truncated model never reached node={self.path!r}: the module was not "
            "called in the forward pass; pick a module that the forward pass uses."
        )

    def extra_repr(self) -> str:
        return f"stops after {self.path!r}"


class _Dropped(nn.Module):
    """What a :class:`_HookCut` keeps of a module that ran only after the cut: nothing.

    Parameters
    ----------
    path, node : str
        The dropped module and the cut point.
    """

    def __init__(self, path: str, node: str) -> None:
        super().__init__()
        self.path = path
        self.node = node

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NeuralError(
            f"Module {self.path!r} was dropped by the cut at node={self.node!r} (on the example "
            "input it ran only after the cut), but this input reached it before the cut: the "
            "model's control flow depends on its input. Cut at a module every input reaches "
            f"after {self.path!r} runs, or make the model traceable by torch.fx."
        )

    def extra_repr(self) -> str:
        return f"dropped {self.path!r}: runs only after the cut at {self.node!r}"


class _StopForward(BaseException):
    """Internal: raised by the hook of :class:`_HookCut` to end the forward pass.

    A ``BaseException``, so a model's own ``except Exception`` cannot swallow it.
    """


def _hook_cut(model: nn.Module, name: str, example_input: torch.Tensor) -> nn.Module:
    """A :class:`_HookCut` of a copy of ``model`` whose modules after the cut are dropped.

    Without a graph, the modules after the cut are found by running the model once on
    ``example_input``: a forward pre-hook on every submodule records which ones start
    before the cut's output exists. Every other module (with its children) is replaced
    by a parameterless :class:`_Dropped`; a module used both before and after the cut
    is kept.
    """
    if not isinstance(example_input, torch.Tensor):
        raise NeuralError(
            f"example_input must be a torch.Tensor batch, got {type(example_input).__name__}; "
            "pass e.g. torch.zeros(1, 3, 32, 32)."
        )
    copied = copy.deepcopy(model)
    started: set[str] = set()
    handles = []
    for path, module in copied.named_modules():
        if path:
            handles.append(module.register_forward_pre_hook(
                lambda mod, args, path=path: started.add(path)))
    cut = _HookCut(copied, name)
    _run_once(copied, cut, example_input, handles)
    for path, _ in list(copied.named_modules()):
        parent, _, child = path.rpartition(".")
        if path and path not in started and (not parent or parent in started):
            copied.get_submodule(parent).add_module(child, _Dropped(path, name))
    return cut


def _sequential_prefix(seq: nn.Sequential, parts: list[str]) -> nn.Sequential | None:
    """The prefix of nested Sequentials ending at ``parts``; None if not all Sequential."""
    kept: OrderedDict[str, nn.Module] = OrderedDict()
    for key, child in seq.named_children():
        if key != parts[0]:
            kept[key] = child
            continue
        if len(parts) == 1:
            kept[key] = child
        elif isinstance(child, nn.Sequential):
            inner = _sequential_prefix(child, parts[1:])
            if inner is None:
                return None
            kept[key] = inner
        else:
            return None
        return nn.Sequential(kept)
    return None


def _fallback_cut(
    model: nn.Module,
    node: str | NodeInfo,
    failure: _TraceFailure,
    example_input: torch.Tensor | None,
) -> nn.Module:
    name = node.name if isinstance(node, NodeInfo) else node
    modules = [p for p, _ in model.named_modules() if p]
    if not isinstance(name, str) or name not in modules:
        raise NeuralError(
            f"{failure}. Without a trace only cuts at module boundaries are possible, and "
            f"node={name!r} is not a submodule; make the model traceable or pick a module. "
            + suggest(str(name), modules)
        ) from failure
    if isinstance(model, nn.Sequential):
        prefix = _sequential_prefix(model, name.split("."))
        if prefix is not None:
            warnings.warn(
                f"{failure}; cut the nn.Sequential after {name!r} instead.",
                UserWarning,
                stacklevel=3,
            )
            prefix.training = model.training
            return copy.deepcopy(prefix)
    if example_input is None:
        raise NeuralError(
            f"{failure}. Without a trace, cutting after {name!r} needs one run of the model to "
            "find the modules that run after the cut: pass example_input=, a batch the model "
            "accepts (e.g. torch.zeros(1, 3, 224, 224)), or make the forward traceable by "
            "torch.fx."
        ) from failure
    cut = _hook_cut(model, name, example_input)
    dropped = sum(isinstance(m, _Dropped) for m in cut.modules())
    warnings.warn(
        f"{failure}; cutting with a forward hook that stops after {name!r} instead, with the "
        f"{dropped} module(s) that ran only after it on example_input dropped.",
        UserWarning,
        stacklevel=3,
    )
    return cut
