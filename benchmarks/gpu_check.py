"""One-shot GPU check: VI-Net and PolynomialLayer on CUDA against the CPU, and GPU throughput.

Run on a machine with CUDA: ``python benchmarks/gpu_check.py [--out DIR]``. It trains the
digits baseline (one CPU thread), builds VI-Net at the demo's middle cut on the CPU,
moves both to the GPU, checks that the GPU outputs equal the CPU outputs, and measures
images/s at batch 256 and 4096 of the full network and VI-Net on the GPU, plus the
PolynomialLayer against an ``nn.Linear`` doing the same multiply-adds on precomputed
monomials (eager and ``torch.compile``). Prints a table and writes ``gpu_check.json``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import torch

from bridge import build_vinet
from bridge.commands.demo import DEFAULT_NODES
from neural import accuracy, load_digits, pretrained_digits_model, throughput


def _sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def _layer_vs_linear(layer: torch.nn.Module, batch: int, compiled: bool, device: str) -> dict:
    """Samples/s of a PolynomialLayer and of the Linear on its precomputed monomials."""
    z = torch.rand(batch, layer.in_features, device=device) * 2 - 1
    with torch.no_grad():
        mu = layer.monomials(z).t().contiguous()
    lin = torch.nn.Linear(mu.shape[1], layer.out_features, device=device)
    f_layer = torch.compile(layer, fullgraph=True) if compiled else layer
    f_lin = torch.compile(lin, fullgraph=True) if compiled else lin

    def rate(fn, x):
        with torch.no_grad():
            for _ in range(5):
                fn(x)
            _sync(device)
            t0 = time.perf_counter()
            for _ in range(50):
                fn(x)
            _sync(device)
        return 50 * batch / (time.perf_counter() - t0)

    a, b = rate(f_layer, z), rate(f_lin, mu)
    return {"layer_per_s": a, "linear_per_s": b, "ratio": a / b}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=".", help="folder for gpu_check.json")
    parser.add_argument("--device", default="cuda", help="cuda (default), or cpu to dry-run")
    args = parser.parse_args()
    dev = args.device
    if dev == "cuda" and not torch.cuda.is_available():
        raise SystemExit("gpu_check: CUDA is not available on this machine.")
    torch.set_num_threads(1)
    name = torch.cuda.get_device_name(0) if dev == "cuda" else "cpu"
    report: dict = {"device": name, "torch": torch.__version__}
    model = pretrained_digits_model(cache_dir=tempfile.mkdtemp())
    train, test = load_digits("train"), load_digits("test")
    node = DEFAULT_NODES[-1]  # relu_4, the ~33% cut
    vinet = build_vinet(model, node, train, progress=False).eval()  # the defaults
    x = test[0]
    with torch.no_grad():
        cpu_out = vinet(x).double()
        vinet_gpu = vinet.to(dev)
        gpu_out = vinet_gpu(x.to(dev)).double().cpu()
    report["max_abs_diff_cpu_gpu_logits"] = float((cpu_out - gpu_out).abs().max())
    report["vinet_acc_gpu"] = accuracy(vinet_gpu, test, device=dev)
    report["full_acc_gpu"] = accuracy(model.to(dev), test, device=dev)
    for batch in (256, 4096):
        full = throughput(model, (1, 8, 8), batch, device=dev, repeats=20)
        vi = throughput(vinet_gpu, (1, 8, 8), batch, device=dev, repeats=20)
        report[f"batch{batch}"] = {"full_img_s": full.median, "vinet_img_s": vi.median,
                                   "ratio": vi.median / full.median}
    layer = vinet_gpu.poly
    for compiled in (False, True):
        key = "layer_vs_linear_compiled" if compiled else "layer_vs_linear_eager"
        report[key] = _layer_vs_linear(layer, 65536, compiled, dev)
    print(json.dumps(report, indent=2))
    Path(args.out).mkdir(parents=True, exist_ok=True)
    (Path(args.out) / "gpu_check.json").write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
