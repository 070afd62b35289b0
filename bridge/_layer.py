"""``PolynomialLayer``: a set of polynomials compiled into one torch module.

The layer evaluates ``z ↦ |C·μ(z)|`` where ``μ(z)`` is the vector of monomials of an
order ideal and ``C`` the coefficient matrix, exactly the representation of
:class:`algebra.PolynomialSet` (``terms``, ``coef`` and the ``(parent, var)`` chain).
This is the polynomial layer of VI-Net (Pelleriti, Zimmer, Wirth, Pokutta, ICML 2025,
arXiv 2502.15051, Sec. 3): each output is the absolute value of one generator of a
class's approximate vanishing ideal.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from algebra import (
    PolynomialSet,
    get_term_order,
    is_order_ideal,
    monomial_chain,
    total_degree,
)
from bridge._errors import BridgeError

__all__ = ["PolynomialLayer"]

#: The term order of a layer's internal monomial list. Degree-compatible, so the
#: monomials of each degree form one contiguous slice (one level of the chain).
_LAYER_ORDER = "deglex"


def _as_terms(terms: Any) -> np.ndarray:
    """Validate an exponent matrix and return it as a C-contiguous int64 array."""
    E = np.asarray(terms.detach().cpu() if isinstance(terms, torch.Tensor) else terms)
    if E.ndim != 2 or E.shape[0] == 0 or E.shape[1] == 0:
        raise BridgeError(
            f"terms must be a non-empty 2-D exponent matrix of shape (n_terms, n_vars), "
            f"got shape {E.shape}; pass one row of non-negative integer exponents per monomial."
        )
    if not np.issubdtype(E.dtype, np.integer):
        if not np.all(np.isfinite(E)) or np.any(E != np.round(E)):
            raise BridgeError(
                "terms must hold integer exponents, got non-integer values; pass an int array."
            )
    E = np.ascontiguousarray(E, dtype=np.int64)
    if E.min() < 0:
        raise BridgeError(
            f"terms must hold non-negative exponents, got {int(E.min())}; "
            "negative powers are not monomials."
        )
    if np.unique(E, axis=0).shape[0] != E.shape[0]:
        raise BridgeError("terms has repeated rows; pass each monomial once.")
    return E


def _row_lookup(rows: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """Index of each query row in ``rows`` (rows are distinct; queries must be present)."""
    where = {tuple(r): i for i, r in enumerate(rows.tolist())}
    return np.fromiter((where[tuple(q)] for q in queries.tolist()), np.int64, len(queries))


class PolynomialLayer(nn.Module):
    r"""Evaluate ``p`` polynomials over a shared order ideal of ``t`` monomials.

    ``forward(z) = |μ(z) @ C|`` (or without the absolute value), where ``μ(z)`` holds
    the ``t`` monomials of :attr:`terms` and ``C`` the ``(t, p)`` coefficient matrix,
    zero outside a fixed support (the mask). Only the coefficients inside the support
    are stored (:attr:`values`, one per nonzero, at the flat positions
    :attr:`support`), so ``sum(p.numel() for p in layer.parameters())`` is the number
    of nonzero coefficients, the layer's parameter count (:func:`neural.count_parameters`),
    and the saved state is as small. Monomials are computed along
    the chain ``μ_i = μ_{parent[i]} · z_{var[i]}`` one degree level at a time: a
    single vectorised gather-multiply per degree, never a Python loop per monomial.

    Parameters
    ----------
    terms : array_like of int, shape (t, n)
        Exponent vectors of the monomials. Must be an order ideal (closed under
        division, so it contains the constant term); any order of rows. They are
        stored sorted in degree-lexicographic order.
    out_features : int
        Number of polynomials ``p`` (outputs).
    mask : array_like of bool, shape (t, p), optional
        Fixed sparsity pattern of the coefficients, rows aligned with ``terms`` as
        given. Entries outside the mask stay zero during training. Default: dense.
    absolute : bool, default=True
        Return ``|C·μ(z)|`` (the VI-Net feature map); ``False`` returns the signed values.
    labels : array_like of int, shape (p,), optional
        The class that owns each polynomial (``-1`` when none), kept as a buffer.
    device, dtype
        Factory keyword arguments for the coefficient parameter, as in
        :class:`torch.nn.Linear`.

    Attributes
    ----------
    values : torch.nn.Parameter of shape (nnz,)
        The coefficients inside the support, in the order of :attr:`support`.
    support : torch.Tensor of int32 (int64 for huge layers), shape (nnz,)
        Increasing flat row-major positions ``row * p + column`` of the stored
        coefficients in ``C`` (buffer).
    coef, masked_coef : torch.Tensor of shape (t, p)
        The dense coefficient matrix ``C`` built from :attr:`values` (zero outside the
        support; differentiable in :attr:`values`). Rows follow :attr:`terms`.
    terms : torch.Tensor of int64, shape (t, n)
        The monomials, sorted in degree-lexicographic order (buffer).
    parent, var : torch.Tensor of int64, shape (t,)
        The monomial chain ``terms[i] = terms[parent[i]] + e_{var[i]}``; ``-1`` for the
        constant term (buffers).
    mask : torch.Tensor of bool, shape (t, p)
        The fixed sparsity pattern, built from :attr:`support`.
    labels : torch.Tensor of int64, shape (p,)
        Owning class of each output (buffer).

    Notes
    -----
    Input ``(..., n)``, output ``(..., p)``. Build one from fitted generators with
    :meth:`from_polynomials` or from sympy expressions with :meth:`from_sympy`.

    Examples
    --------
    >>> import torch
    >>> layer = PolynomialLayer([[0, 0], [1, 0], [0, 1], [2, 0]], 3)
    >>> layer(torch.rand(5, 2)).shape
    torch.Size([5, 3])
    """

    in_features: int
    out_features: int
    n_terms: int
    absolute: bool
    #: At inference (no autograd), layers with at least ``sparse_min_terms`` monomials
    #: and at most this share of unmasked coefficients multiply with a sparse CSR copy
    #: of the coefficients: faster there on CPU (``benchmarks/bench_layer.py``), never
    #: used for training.
    sparse_max_density: float = 0.1
    sparse_min_terms: int = 256
    values: nn.Parameter
    support: torch.Tensor
    terms: torch.Tensor
    parent: torch.Tensor
    var: torch.Tensor
    labels: torch.Tensor

    def __init__(
        self,
        terms: Any,
        out_features: int,
        mask: Any = None,
        *,
        absolute: bool = True,
        labels: Any = None,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        E = _as_terms(terms)
        if not is_order_ideal(E):
            raise BridgeError(
                "terms is not an order ideal: some divisor of a monomial is missing, so the "
                "monomial chain cannot be built; close it with "
                "algebra.order_ideal_closure(terms) or build the layer with "
                "PolynomialLayer.from_polynomials, which closes it for you."
            )
        if int(out_features) != out_features or out_features < 1:
            raise BridgeError(
                f"out_features must be a positive integer, got {out_features!r}; pass the "
                "number of polynomials."
            )
        out_features = int(out_features)
        # Sort once into degree levels; `perm` maps stored rows back to the rows given.
        perm = get_term_order(_LAYER_ORDER).argsort(E)
        E = E[perm]
        if mask is None:
            M = np.ones((E.shape[0], out_features), dtype=bool)
        else:
            M = np.asarray(mask.detach().cpu() if isinstance(mask, torch.Tensor) else mask)
            if M.shape != (E.shape[0], out_features):
                raise BridgeError(
                    f"mask must have shape (n_terms, out_features) = "
                    f"{(E.shape[0], out_features)}, got {M.shape}; pass one row per term."
                )
            M = M.astype(bool)[perm]
        if labels is None:
            lab = np.full(out_features, -1, dtype=np.int64)
        else:
            lab = np.asarray(labels, dtype=np.int64).reshape(-1)
            if lab.shape != (out_features,):
                raise BridgeError(
                    f"labels must have one entry per output ({out_features}), got "
                    f"{lab.shape[0]}; pass the owning class of each polynomial."
                )
        parent, var = monomial_chain(E)

        self.in_features = int(E.shape[1])
        self.out_features = out_features
        self.n_terms = int(E.shape[0])
        self.absolute = bool(absolute)
        factory = {"device": device, "dtype": dtype}
        flat = np.flatnonzero(M)  # row-major, increasing
        # int32 positions: 8 bytes per stored coefficient in a float32 file.
        index_dtype = torch.int32 if M.size < 2**31 else torch.int64
        self.values = nn.Parameter(torch.empty(flat.shape[0], **factory))
        self.register_buffer("support", torch.as_tensor(flat, dtype=index_dtype, device=device))
        self.register_buffer("terms", torch.as_tensor(E, device=device))
        self.register_buffer("parent", torch.as_tensor(parent, device=device))
        self.register_buffer("var", torch.as_tensor(var, device=device))
        self.register_buffer("labels", torch.as_tensor(lab, device=device))
        self._weight_cache: tuple[Any, torch.Tensor, torch.Tensor | None] | None = None
        self._build_levels()
        self._build_support()
        self.register_load_state_dict_post_hook(PolynomialLayer._after_load)
        self.reset_parameters()

    # -- structure ----------------------------------------------------------------------

    def _build_levels(self) -> None:
        """Derive the per-degree index buffers from :attr:`terms`, :attr:`parent`, :attr:`var`.

        Level ``d`` holds the monomials of degree ``d``; each has its parent in level
        ``d - 1``, so ``level_d = level_{d-1}[parent_local] * z[var]`` is one gather and
        one multiply. Level 0 is the constant, folded into a bias in :meth:`forward`.
        The buffers are not persistent: they are recomputed after ``load_state_dict``.
        """
        E = self.terms.cpu().numpy()
        deg = total_degree(E)
        if E.shape[0] == 0 or deg[0] != 0:
            raise BridgeError("terms must contain the constant monomial (all exponents zero).")
        self.max_degree = int(deg.max())
        offsets = np.searchsorted(deg, np.arange(self.max_degree + 2))
        # Rows of level d in the (t - 1, m) monomial matrix (constant excluded):
        # [_level_bounds[d - 1], _level_bounds[d]).
        self._level_bounds = [int(o) - 1 for o in offsets[1:]]
        parent = self.parent.cpu().numpy()
        var = self.var.cpu().numpy()
        device = self.terms.device
        for d in range(1, self.max_degree + 1):
            lo, hi = int(offsets[d]), int(offsets[d + 1])
            local = parent[lo:hi] - int(offsets[d - 1])
            self.register_buffer(
                f"_level{d}_parent", torch.as_tensor(local, device=device), persistent=False
            )
            self.register_buffer(
                f"_level{d}_var", torch.as_tensor(var[lo:hi], device=device), persistent=False
            )
        self._refresh_levels()

    def _build_support(self) -> None:
        """The int64 flat and column indices of :attr:`support` (not persistent).

        torch's scatter takes int64 indices; the persistent buffer stays int32 so that
        the saved file holds 8 bytes per nonzero coefficient.
        """
        flat = self.support.long()
        self.register_buffer("_flat", flat, persistent=False)
        self.register_buffer("_cols", flat % self.out_features, persistent=False)

    def _refresh_levels(self) -> None:
        # A plain tuple of the level buffers, so that forward does no per-call module
        # attribute lookups (a measurable share of a small layer's time); rebuilt
        # whenever the buffers are replaced (``.to()``, ``load_state_dict``).
        self._levels = tuple(
            (self._buffers[f"_level{d}_parent"], self._buffers[f"_level{d}_var"])
            for d in range(1, self.max_degree + 1)
        )

    def _apply(self, fn: Any, recurse: bool = True) -> PolynomialLayer:
        super()._apply(fn, recurse)
        self._refresh_levels()
        return self

    @staticmethod
    def _after_load(module: nn.Module, incompatible_keys: Any) -> None:
        # A loaded state dict may carry a different chain of the same size.
        assert isinstance(module, PolynomialLayer)
        module._build_levels()
        module._build_support()

    def _load_from_state_dict(
        self, state_dict, prefix, local_metadata, strict, missing, unexpected, errors
    ):
        # A state with another support of the same (t, p) loads: take its sizes. A
        # state written before the compact storage (a dense ``coef`` and a bool
        # ``mask``) is converted to the values at the mask's positions.
        coef, mask = state_dict.get(prefix + "coef"), state_dict.get(prefix + "mask")
        if prefix + "values" not in state_dict and coef is not None and mask is not None:
            flat = torch.flatten(mask.bool()).nonzero().flatten()
            state_dict[prefix + "values"] = coef.flatten()[flat]
            state_dict[prefix + "support"] = flat.to(self.support.dtype)
            del state_dict[prefix + "coef"], state_dict[prefix + "mask"]
        for name in ("values", "support"):
            saved = state_dict.get(prefix + name)
            mine = getattr(self, name)
            if isinstance(saved, torch.Tensor) and saved.shape != mine.shape:
                fresh = torch.empty(saved.shape, dtype=mine.dtype, device=mine.device)
                if name == "values":
                    self.values = nn.Parameter(fresh, requires_grad=mine.requires_grad)
                else:
                    self.support = fresh
        super()._load_from_state_dict(
            state_dict, prefix, local_metadata, strict, missing, unexpected, errors
        )

    def reset_parameters(self) -> None:
        """Draw random coefficients inside the mask (zero outside it).

        Uniform in ``±1/sqrt(k)`` with ``k`` the number of unmasked coefficients of the
        output, the fan-in rule of :meth:`torch.nn.Linear.reset_parameters`. Layers
        compiled from polynomials overwrite these with the fitted coefficients.
        """
        fan_in = torch.bincount(self._cols, minlength=self.out_features).clamp(min=1)
        with torch.no_grad():
            nn.init.uniform_(self.values, -1.0, 1.0)
            self.values.div_(fan_in.to(self.values.dtype).sqrt()[self._cols])

    @property
    def nnz(self) -> int:
        """Number of stored coefficients (the support's size): the layer's parameter count."""
        return int(self.values.numel())

    def _dense(self, values: torch.Tensor) -> torch.Tensor:
        """Scatter ``values`` into the dense ``(t, p)`` matrix (differentiable in them)."""
        flat = values.new_zeros(self.n_terms * self.out_features)
        return flat.scatter(0, self._flat, values).view(self.n_terms, self.out_features)

    @property
    def coef(self) -> torch.Tensor:
        """The dense coefficient matrix ``C``, shape (t, p), zero outside the support.

        Built from :attr:`values` on each access (write coefficients with
        :meth:`set_coefficients` or into :attr:`values`).
        """
        return self._dense(self.values)

    @property
    def mask(self) -> torch.Tensor:
        """The fixed sparsity pattern, bool of shape (t, p), built from :attr:`support`."""
        flat = torch.zeros(self.n_terms * self.out_features, dtype=torch.bool,
                           device=self.support.device)
        flat[self._flat] = True
        return flat.view(self.n_terms, self.out_features)

    @property
    def masked_coef(self) -> torch.Tensor:
        """The effective coefficients ``coef * mask``, shape (t, p).

        One row per monomial of :attr:`terms`, one column per output: the layout of
        :attr:`coef`, :attr:`mask` and :attr:`algebra.PolynomialSet.coef`, which is the
        *transpose* of the ``(out_features, in_features)`` of
        :attr:`torch.nn.Linear.weight`.  (It was called ``weight``; that name, which
        suggests the ``nn.Linear`` layout, is deprecated.) The same matrix as :attr:`coef`,
        which is zero outside the mask by construction.
        """
        return self._dense(self.values)

    @property
    def weight(self) -> torch.Tensor:
        """Deprecated alias of :attr:`masked_coef` (shape (t, p), not ``nn.Linear``'s (p, t))."""
        warnings.warn(
            "PolynomialLayer.weight is deprecated: it is coef * mask of shape (t, p), the "
            "transpose of nn.Linear.weight's layout; use PolynomialLayer.masked_coef.",
            DeprecationWarning, stacklevel=2,
        )
        return self.masked_coef

    @property
    def degrees(self) -> torch.Tensor:
        """Total degree of each output polynomial, shape (p,) (``0`` for an all-zero column)."""
        deg = self.terms.sum(dim=1)
        nonzero = (self.masked_coef != 0).detach()
        return torch.where(nonzero, deg[:, None], torch.zeros_like(deg)[:, None]).amax(dim=0)

    def extra_repr(self) -> str:
        nnz = self.nnz
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"n_terms={self.n_terms}, max_degree={self.max_degree}, "
            f"nnz={nnz}/{self.n_terms * self.out_features}, absolute={self.absolute}"
        )

    # -- evaluation ---------------------------------------------------------------------

    def monomials(self, z: torch.Tensor) -> torch.Tensor:
        """The non-constant monomials ``μ(z)[1:]``, in the layer's term order.

        Parameters
        ----------
        z : torch.Tensor of shape (m, n)
            The points, one per row, in the coefficients' dtype.

        Returns
        -------
        torch.Tensor of shape (t - 1, m)
            Transposed (one row per monomial): gathering whole rows is contiguous and
            several times faster than gathering columns of an ``(m, t)`` matrix.
        """
        zt = z.t().contiguous()
        # In-place writes are invisible to autograd and to torch.compile's tracing, so
        # the buffered path serves plain eager evaluation only.
        needs_graph = torch.is_grad_enabled() and z.requires_grad
        if not needs_graph and not torch.compiler.is_compiling():
            return self._monomials_into(zt)
        levels = []
        prev = zt
        for d, (parent, var) in enumerate(self._levels, start=1):
            x = zt.index_select(0, var)
            # Degree-1 parents are all the constant 1: skip the multiply.
            prev = x if d == 1 else prev.index_select(0, parent) * x
            levels.append(prev)
        return torch.cat(levels, dim=0)

    def _monomials_into(self, zt: torch.Tensor) -> torch.Tensor:
        """:meth:`monomials` without autograd: every level written into one buffer.

        One allocation instead of two temporaries per level plus the concatenation;
        large CPU allocations are fresh pages each time, so this roughly halves the
        cost of the monomials at inference (``benchmarks/bench_layer.py``).
        """
        out = zt.new_empty((self.n_terms - 1, zt.shape[1]))
        bounds = self._level_bounds
        for d, (parent, var) in enumerate(self._levels, start=1):
            rows = out[bounds[d - 1] : bounds[d]]
            if d == 1:
                torch.index_select(zt, 0, var, out=rows)
            else:
                prev = out[bounds[d - 2] : bounds[d - 1]]
                torch.index_select(prev, 0, parent, out=rows)
                rows.mul_(zt.index_select(0, var))
        return out

    def _masked_weight(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The dense ``C``, and at inference the transposed product weight.

        Training scatters :attr:`values` into ``C`` in every forward, so gradients
        reach the stored coefficients only and the support never changes. At inference
        the matrix is cached: every in-place update (optimiser steps, ``load_state_dict``,
        ``set_coefficients``) bumps the tensors' version counters, which are part of
        the cache key, so a stale product is never used. A large, sparse layer (see
        :attr:`sparse_max_density`) also caches the transposed non-constant rows as a
        CSR matrix, the others as a contiguous dense one: the second element of the
        result, ``(p, t - 1)``; it is None when autograd records.
        """
        values, support = self._parameters["values"], self._buffers["_flat"]
        if torch.is_grad_enabled() or torch.compiler.is_compiling():
            return self._dense(values), None
        # A new dtype or device means new storage, hence a new data_ptr.
        key = (values._version, support._version, values.data_ptr(), support.data_ptr(),
               self.sparse_max_density, self.sparse_min_terms)
        cache = self._weight_cache
        if cache is None or cache[0] != key:
            w = self._dense(values.detach())
            density = values.numel() / max(1, self.n_terms * self.out_features)
            if (self.n_terms >= self.sparse_min_terms and density <= self.sparse_max_density
                    and w.device.type == "cpu"):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # "sparse CSR support is in beta"
                    wt = w[1:].t().contiguous().to_sparse_csr()
            else:
                # Dense inference multiplies (p, t-1) @ (t-1, m): both operands row-major,
                # the plain GEMM case, a little faster than a transposed operand.
                wt = w[1:].t().contiguous()
            cache = self._weight_cache = (key, w, wt)
        return cache[1], cache[2]

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Evaluate the polynomials.

        Parameters
        ----------
        z : torch.Tensor of shape (..., n)
            The (preprocessed) latents, in the coefficients' dtype.

        Returns
        -------
        torch.Tensor of shape (..., p)
            ``|C·μ(z)|``, or ``C·μ(z)`` when ``absolute=False``.

        Raises
        ------
        BridgeError
            If ``z`` is not a tensor with ``n`` columns, or its dtype is not the
            coefficients' dtype (outside autocast).
        """
        if not isinstance(z, torch.Tensor) or z.shape[-1:] != (self.in_features,):
            # index_select would silently ignore extra columns: check the width here.
            got = tuple(z.shape) if isinstance(z, torch.Tensor) else type(z).__name__
            raise BridgeError(
                f"z must be a tensor of shape (..., {self.in_features}) (one column per "
                f"variable of the layer), got {got}; pass the preprocessed latents the "
                "polynomials were fitted on."
            )
        # Under autocast the products choose their own dtype, so a half-precision input
        # to a float32 layer is what autocast produces, not a mistake.
        dtype = self.values.dtype
        if z.dtype != dtype and not torch.is_autocast_enabled(z.device.type):
            raise BridgeError(
                f"z has dtype {z.dtype} but the layer's coefficients are {dtype}; "
                f"cast the input with z.to({dtype}) or the layer with layer.to({z.dtype})."
            )
        flat = z.dim() == 2
        z2 = z if flat else z.reshape(-1, self.in_features)
        w, wt = self._masked_weight()
        if self.max_degree == 0:
            out = w[0].expand(z2.shape[0], self.out_features)
        elif wt is not None:  # inference: sparse CSR or contiguous transposed weight
            out = torch.addmm(w[0][:, None], wt, self.monomials(z2)).t()
        else:
            # The constant monomial (row 0) is a bias; the rest is one dense matmul.
            out = torch.addmm(w[0], self.monomials(z2).t(), w[1:])
        if self.absolute:
            # In place when nothing records the graph (``out`` is fresh; the constant-only
            # case aliases the weight, so it takes the out-of-place path).
            inplace = (not torch.is_grad_enabled() and self.max_degree > 0
                       and not torch.compiler.is_compiling())
            out = out.abs_() if inplace else out.abs()
        return out if flat else out.reshape(*z.shape[:-1], self.out_features)

    # -- conversion ---------------------------------------------------------------------

    @classmethod
    def from_polynomials(
        cls,
        polys: PolynomialSet,
        *,
        absolute: bool = True,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> PolynomialLayer:
        """Compile an :class:`algebra.PolynomialSet` into a layer.

        Parameters
        ----------
        polys : algebra.PolynomialSet
            ``p`` polynomials in ``n`` variables over ``t`` terms (float or exact
            coefficients; exact ones are rounded to the layer's dtype).
        absolute : bool, default=True
            Output ``|C·μ(z)|`` (VI-Net's features); ``False`` the signed values.
        device, dtype
            Factory keyword arguments.

        Returns
        -------
        PolynomialLayer
            ``n`` inputs, ``p`` outputs, over the terms of ``polys`` (an order ideal).
            The mask is the non-zero pattern of ``polys.coef``, so fine-tuning keeps
            each polynomial's support. Integer ``polys.labels`` become :attr:`labels`.
        """
        if not isinstance(polys, PolynomialSet):
            raise BridgeError(
                f"polys must be an algebra.PolynomialSet, got {type(polys).__name__}; use "
                "PolynomialLayer.from_sympy for sympy expressions."
            )
        if len(polys) == 0:
            raise BridgeError(
                "polys holds no polynomials, so the layer would have no outputs; fit with a "
                "larger psi or keep more generators when pruning."
            )
        # A PolynomialSet's terms are already a sorted order ideal (docs/design.md).
        E = np.asarray(polys.terms, dtype=np.int64)
        C = np.asarray(polys.coef, dtype=np.float64)
        labels = polys.labels
        if labels is not None and not np.issubdtype(np.asarray(labels).dtype, np.integer):
            labels = None  # string class names have no place in an int64 buffer
        layer = cls(
            E,
            C.shape[1],
            mask=C != 0,
            absolute=absolute,
            labels=labels,
            device=device,
            dtype=dtype,
        )
        layer.set_coefficients(E, C)
        return layer

    @classmethod
    def from_sympy(
        cls,
        exprs: Sequence[Any],
        gens: Sequence[Any],
        *,
        absolute: bool = True,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> PolynomialLayer:
        """Compile sympy polynomial expressions into a layer.

        Parameters
        ----------
        exprs : sequence of sympy expressions, length p
            Polynomials in ``gens`` (any sympy expression that expands to one).
        gens : sequence of sympy symbols, length n
            The variables, in the order of the layer's input columns.
        absolute, device, dtype
            As in :meth:`from_polynomials`.

        Returns
        -------
        PolynomialLayer
            ``n`` inputs, ``p`` outputs; see :meth:`from_polynomials`.
        """
        polys = PolynomialSet.from_sympy(list(exprs), list(gens))
        return cls.from_polynomials(polys, absolute=absolute, device=device, dtype=dtype)

    def set_coefficients(self, terms: Any, coef: Any) -> None:
        """Overwrite the coefficients, rows given for the monomials ``terms``.

        Parameters
        ----------
        terms : array_like of int, shape (s, n)
            A subset of the layer's monomials, any order.
        coef : array_like of float, shape (s, p)
            Their coefficients (finite); monomials not listed get zero, and entries
            outside the layer's support are dropped (the support is fixed).

        Raises
        ------
        BridgeError
            If a monomial is not one of the layer's, ``coef`` has the wrong shape or
            holds NaN or infinity.
        """
        E = _as_terms(terms)
        C = np.asarray(coef, dtype=np.float64)
        if C.shape != (E.shape[0], self.out_features):
            raise BridgeError(
                f"coef must have shape {(E.shape[0], self.out_features)} (one row per term, "
                f"one column per output), got {C.shape}."
            )
        if not np.all(np.isfinite(C)):
            bad = np.argwhere(~np.isfinite(C))[0].tolist()
            raise BridgeError(
                f"coef holds a non-finite value ({C[tuple(bad)]} at row {bad[0]}, column "
                f"{bad[1]}); every output would be NaN or infinite. Refit the generators "
                "or pass finite coefficients."
            )
        mine = self.terms.cpu().numpy()
        known = {tuple(r) for r in mine.tolist()}
        missing = [r for r in E.tolist() if tuple(r) not in known]
        if missing:
            raise BridgeError(
                f"terms contains {missing[0]}, which is not a monomial of this layer; build a "
                "new layer with PolynomialLayer.from_polynomials."
            )
        full = np.zeros((self.n_terms, self.out_features))
        full[_row_lookup(mine, E)] = C
        # Only the support is stored: coefficients given outside it are dropped.
        picked = full.reshape(-1)[self._flat.cpu().numpy()]
        with torch.no_grad():
            self.values.copy_(torch.as_tensor(picked, dtype=self.values.dtype))

    def to_polynomials(self) -> PolynomialSet:
        """The layer's current polynomials as an :class:`algebra.PolynomialSet`.

        Returns
        -------
        algebra.PolynomialSet
            ``p`` polynomials over the layer's ``t`` terms (deglex), float64
            coefficients ``coef * mask``, and the layer's ``labels``.
        """
        labels = self.labels.cpu().numpy()
        return PolynomialSet(
            self.terms.cpu().numpy(),
            self.masked_coef.detach().cpu().double().numpy(),
            order=_LAYER_ORDER,
            labels=None if np.all(labels < 0) else labels,
        )

    def feature_scale_(self, z: torch.Tensor | None = None, eps: float = 1e-12, *,
                       rms: Any = None) -> torch.Tensor:
        """Rescale each polynomial so its output has unit root-mean-square on ``z``.

        ``|c·g| = c·|g|`` for ``c > 0``, so this changes no zero set; it puts the
        outputs of generators with very different magnitudes on one scale before a
        linear head is trained on them.

        Parameters
        ----------
        z : torch.Tensor of shape (m, n), optional
            The training latents the outputs are measured on.
        eps : float, default=1e-12
            Outputs with a smaller RMS are left unscaled.
        rms : array_like of shape (p,), optional
            The outputs' RMS measured elsewhere, instead of ``z`` (for latents too many
            to hold: from :func:`algebra.class_sums` over shards of them).

        Returns
        -------
        torch.Tensor of shape (p,)
            The factors applied.
        """
        if (z is None) == (rms is None):
            raise BridgeError("feature_scale_ takes the latents z or the outputs' rms, "
                              "exactly one of them.")
        with torch.no_grad():
            if rms is None:
                rms = self(z).pow(2).mean(dim=0).sqrt()
            rms = torch.as_tensor(rms, dtype=self.values.dtype, device=self.values.device)
            if rms.shape != (self.out_features,):
                raise BridgeError(f"rms must have one entry per output ({self.out_features}), "
                                  f"got shape {tuple(rms.shape)}.")
            scale = torch.where(rms > eps, 1.0 / rms.clamp(min=eps), torch.ones_like(rms))
            self.values.mul_(scale[self._cols])
        return scale

