"""neural.truncate / list_nodes: cut outputs equal hooked activations of the full model."""

import warnings

import pytest
import torch
from torch import nn

from neural import NeuralError, NodeInfo, digits_resnet, list_nodes, resnet18, truncate


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    m = digits_resnet()
    # Non-trivial batch-norm statistics, so eval-mode BN is not the identity.
    with torch.no_grad():
        m.train()
        m(torch.rand(64, 1, 8, 8))
    return m.eval()


@pytest.fixture(scope="module")
def x():
    return torch.rand(5, 1, 8, 8, generator=torch.Generator().manual_seed(1))


def hooked(model, x, *paths):
    """Outputs of the submodules ``paths`` during one forward pass (the oracle)."""
    acts = {}
    handles = [
        model.get_submodule(p).register_forward_hook(
            lambda m, i, o, p=p: acts.__setitem__(p, o.detach().clone())
        )
        for p in paths
    ]
    with torch.no_grad():
        model(x)
    for h in handles:
        h.remove()
    return acts


@pytest.mark.parametrize(
    "node, oracle",
    [
        ("conv1", lambda a: a["conv1"]),
        ("layer1.0.bn1", lambda a: a["layer1.0.bn1"]),  # inside a residual block
        ("layer3.0.bn1", lambda a: a["layer3.0.bn1"]),
        ("layer2.0.shortcut.1", lambda a: a["layer2.0.shortcut.1"]),
        ("layer3_0_conv2", lambda a: a["layer3.0.conv2"]),  # the fx spelling is an alias
        # The functional residual sum in block layer2.0: bn2(...) + shortcut(...).
        ("add_1", lambda a: a["layer2.0.bn2"] + a["layer2.0.shortcut"]),
        # relu_4 is the block's output; a container path means the same node.
        ("relu_4", lambda a: a["layer2.0"]),
        ("layer2", lambda a: a["layer2.0"]),
        ("fc", lambda a: a["fc"]),
    ],
)
def test_cut_equals_hooked_activation(model, x, node, oracle):
    acts = hooked(
        model,
        x,
        "conv1",
        "layer1.0.bn1",
        "layer3.0.bn1",
        "layer2.0.shortcut.1",
        "layer3.0.conv2",
        "layer2.0.bn2",
        "layer2.0.shortcut",
        "layer2.0",
        "fc",
    )
    cut = truncate(model, node)
    with torch.no_grad():
        out = cut(x)
    torch.testing.assert_close(out, oracle(acts), rtol=0, atol=0)


def test_resnet18_cut_inside_residual_block():
    torch.manual_seed(0)
    model = resnet18().eval()
    x = torch.rand(2, 3, 16, 16)
    expected = hooked(model, x, "layer3.1.bn1")["layer3.1.bn1"]
    cut = truncate(model, "layer3.1.bn1")
    with torch.no_grad():
        torch.testing.assert_close(cut(x), expected, rtol=0, atol=0)
    # Exactly the parameters of the modules up to the cut remain: no layer4, no fc, and
    # nothing of layer3.1 after bn1 (conv2, bn2).
    kept_prefixes = (
        "conv1.",
        "bn1.",
        "layer1.",
        "layer2.",
        "layer3.0.",
        "layer3.1.conv1.",
        "layer3.1.bn1.",
    )
    expected_keys = {k for k in model.state_dict() if k.startswith(kept_prefixes)}
    assert set(cut.state_dict()) == expected_keys
    n_expected = sum(p.numel() for n, p in model.named_parameters() if n.startswith(kept_prefixes))
    assert sum(p.numel() for p in cut.parameters()) == n_expected


def test_dead_shortcut_branch_is_removed(model):
    # Cutting at layer3.0.bn1 makes the shortcut of layer3.0 dead code: it is only
    # consumed by the residual sum after the cut.
    cut = truncate(model, "layer3.0.bn1")
    keys = set(cut.state_dict())
    assert not any(k.startswith(("layer3.0.shortcut", "layer3.0.conv2", "fc")) for k in keys)
    assert "layer3.0.bn1.running_mean" in keys


def test_cut_is_independent_of_the_original(model, x):
    before = {k: v.clone() for k, v in model.state_dict().items()}
    cut = truncate(model, "layer2")
    with torch.no_grad():
        for p in cut.parameters():
            p.add_(1.0)
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k])


def test_device_dtype_and_train_state_are_kept():
    m = digits_resnet().double().train()
    m.layer1.eval()  # a mixed state must survive too
    cut = truncate(m, "layer2.0.bn2")
    assert cut.training
    assert all(p.dtype == torch.float64 for p in cut.parameters())
    assert not cut.get_submodule("layer1.0.bn1").training
    assert cut.get_submodule("layer2.0.bn1").training
    out = cut(torch.rand(3, 1, 8, 8, dtype=torch.float64))
    assert out.dtype == torch.float64
    m.eval()
    assert not truncate(m, "conv1").training


def test_list_nodes_order_and_shapes(model, x):
    nodes = list_nodes(model, x)
    assert all(isinstance(n, NodeInfo) for n in nodes)
    # Shapes of module nodes equal the hooked output shapes, and module nodes come in
    # the order the leaf modules run.
    # (the empty identity shortcuts are containers that fx inlines, not nodes)
    leaves = [
        p
        for p, m in model.named_modules()
        if p and not list(m.children()) and not isinstance(m, nn.Sequential)
    ]
    order, shapes = [], {}

    def record(m, i, o, p):
        order.append(p)
        shapes[p] = tuple(o.shape)

    handles = [
        model.get_submodule(p).register_forward_hook(lambda m, i, o, p=p: record(m, i, o, p))
        for p in leaves
    ]
    with torch.no_grad():
        model(x)
    for h in handles:
        h.remove()
    module_nodes = [n for n in nodes if n.op == "module"]
    assert [n.name for n in module_nodes] == order
    assert all(n.shape == shapes[n.name] for n in module_nodes)
    by_name = {n.name: n for n in nodes}
    assert by_name["add_1"].op == "function" and by_name["add_1"].shape == (5, 32, 4, 4)
    assert "layer2" in by_name["relu_4"].ends
    # every listed node is a valid cut whose output has the listed shape
    for n in nodes[::7]:
        with torch.no_grad():
            assert tuple(truncate(model, n)(x).shape) == n.shape


def test_unknown_node_names_closest_and_valid_nodes(model):
    with pytest.raises(
        NeuralError,
        match=r"node='layer3\.0\.bm1' is not a node.*Did you mean 'layer3\.0\.bn1'.*"
        r"Valid values are: 'conv1'",
    ):
        truncate(model, "layer3.0.bm1")


def test_wrong_input_shape_names_expected_shape(model):
    with pytest.raises(
        NeuralError,
        match=r"shape \(2, 3, 8, 8\) does not fit.*expects input of shape \(N, 1, H, W\)",
    ):
        list_nodes(model, torch.zeros(2, 3, 8, 8))
    with pytest.raises(NeuralError, match=r"example_input must be a torch\.Tensor"):
        list_nodes(model, [[0.0]])


class Gate(nn.Module):
    """Data-dependent control flow: fx cannot trace it."""

    def forward(self, x):
        if x.sum() > 0:
            return x
        return -x


class Untraceable(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Linear(4, 6)
        self.gate = Gate()
        self.b = nn.Linear(6, 3)

    def forward(self, x):
        return self.b(self.gate(torch.relu(self.a(x))))


def test_untraceable_model_error_names_the_operation():
    with pytest.raises(
        NeuralError,
        match=r"tracing stopped inside module gate \(Gate\) at test_truncate\.py:\d+ "
        r"`if x\.sum\(\) > 0:`.*not a submodule",
    ):
        truncate(Untraceable(), "relu")


def test_untraceable_model_is_cut_with_hooks_and_its_tail_dropped():
    torch.manual_seed(0)
    m = Untraceable()
    x = torch.randn(7, 4)
    with pytest.raises(NeuralError, match=r"tracing stopped inside module gate.*pass "
                                          r"example_input="):
        truncate(m, "gate")
    with pytest.warns(UserWarning, match=r"forward hook that stops after 'gate' instead, with "
                                         r"the 1 module\(s\) that ran only after it"):
        cut = truncate(m, "gate", example_input=x[:1])
    with torch.no_grad():
        torch.testing.assert_close(cut(x), hooked(m, x, "gate")["gate"], rtol=0, atol=0)
    # b (6*3 + 3 parameters) ran after the cut: it is gone, a's 4*6 + 6 remain.
    assert sum(p.numel() for p in cut.parameters()) == 4 * 6 + 6
    assert not any(name.startswith("model.b.") for name in cut.state_dict())
    assert all(p.data_ptr() != q.data_ptr() for p in cut.parameters() for q in m.parameters())
    with pytest.warns(UserWarning, match="listing module boundaries"):
        nodes = list_nodes(m, x)
    assert [(n.name, n.shape) for n in nodes] == [("a", (7, 6)), ("gate", (7, 6)), ("b", (7, 3))]


class Branchy(nn.Module):
    """Which module runs before the gate depends on the input."""

    def __init__(self):
        super().__init__()
        self.pos = nn.Linear(4, 4)
        self.neg = nn.Linear(4, 4)
        self.gate = Gate()
        self.head = nn.Linear(4, 2)

    def forward(self, x):
        x = self.pos(x) if x.sum() > 0 else self.neg(x)
        return self.head(self.gate(x))


def test_a_dropped_module_reached_by_another_input_raises():
    m = Branchy()
    with pytest.warns(UserWarning, match=r"the 2 module\(s\)"):  # neg and head
        cut = truncate(m, "gate", example_input=torch.ones(1, 4))
    assert cut(torch.ones(3, 4)).shape == (3, 4)
    with pytest.raises(NeuralError, match=r"Module 'neg' was dropped by the cut at "
                                          r"node='gate'.*control flow depends on its input"):
        cut(-torch.ones(3, 4))


def test_untraceable_sequential_is_cut_as_a_prefix():
    torch.manual_seed(0)
    seq = nn.Sequential(
        nn.Linear(4, 6), nn.Sequential(Gate(), nn.Linear(6, 5), nn.Linear(5, 5)), nn.Linear(5, 2)
    )
    x = torch.randn(3, 4)
    with pytest.warns(UserWarning, match="cut the nn.Sequential after '1.1'"):
        cut = truncate(seq, "1.1")
    assert isinstance(cut, nn.Sequential)
    # The later modules and their parameters are gone: 4*6+6 + 6*5+5.
    assert sum(p.numel() for p in cut.parameters()) == 4 * 6 + 6 + 6 * 5 + 5
    with torch.no_grad():
        torch.testing.assert_close(cut(x), hooked(seq, x, "1.1")["1.1"], rtol=0, atol=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(NeuralError, match=r"node='1\.7' is not a submodule"):
            truncate(seq, "1.7")


def test_cut_state_dict_and_pickle_round_trip(model, x, tmp_path):
    # What saving a VI-Net needs: a fresh cut of a fresh model loads the saved cut's
    # state, and a whole cut pickles.
    cut = truncate(model, "layer3.0.bn1")
    fresh = truncate(digits_resnet(), "layer3.0.bn1")
    fresh.load_state_dict(cut.state_dict())
    torch.save(cut, tmp_path / "cut.pt")
    loaded = torch.load(tmp_path / "cut.pt", weights_only=False)
    with torch.no_grad():
        torch.testing.assert_close(fresh.eval()(x), cut(x), rtol=0, atol=0)
        torch.testing.assert_close(loaded(x), cut(x), rtol=0, atol=0)


def test_list_nodes_input_dtype_rank_and_model_type(model, x):
    # float64 input is cast to the model's float32: same nodes and shapes
    assert list_nodes(model, x.double()) == list_nodes(model, x)
    # batch norm raises ValueError (not RuntimeError) for a 3-D input
    with pytest.raises(NeuralError, match=r"example_input of shape \(5, 8, 8\) does not fit"):
        list_nodes(model, x[:, 0])
    with pytest.raises(NeuralError, match=r"example_input of dtype torch\.uint8 does not fit"):
        list_nodes(model, x.to(torch.uint8))
    with pytest.raises(NeuralError, match=r"model must be a torch\.nn\.Module, got str"):
        truncate("resnet18", "fc")
    with pytest.raises(NeuralError, match=r"model must be a torch\.nn\.Module, got dict"):
        list_nodes({}, x)


def test_hook_cut_at_a_module_the_forward_never_calls():
    m = Untraceable()
    m.spare = nn.Linear(6, 6)  # registered, never called in forward
    with pytest.raises(NeuralError, match=r"never reached node='spare'.*pick a module that the "
                                          r"forward pass uses"):
        truncate(m, "spare", example_input=torch.randn(2, 4))
