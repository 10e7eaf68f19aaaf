"""Relative Gaussian weight noise: the perturbation the weight-perturbation probe evaluates under.

``Perturbation(sigma, seed, layers)`` adds to every selected floating-point parameter tensor W (all of
them, or those whose name matches the glob ``layers``, e.g. ``transformer.h.1.*``) the noise
``sigma * RMS(W) * eps``, eps ~ N(0, 1) elementwise, RMS(W) = sqrt(mean(W^2)) of the unperturbed tensor.
The noise of a tensor is drawn on the CPU from a generator seeded by (seed, parameter name), so it does
not depend on the device, the dtype or which other tensors are selected: a (checkpoint, sigma, seed,
layers) names exactly one set of weights. Tied parameters (GPT-2's embedding and output head) are one
tensor and get one draw. Its label ``sigma:seed[:layers]`` is the backend signature's ``perturb=``
option and the metric signature's ``perturb`` field, so perturbed values are stored in cells of their
own and never compare with the checkpoint's.
"""
from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from fnmatch import fnmatch
from typing import Any

from .errors import CrevalError
from .records import canonical_number


@dataclass(frozen=True)
class Perturbation:
    sigma: float
    seed: int
    layers: str | None = None  # a glob over parameter names; None: every parameter

    def __post_init__(self) -> None:
        if not (math.isfinite(self.sigma) and self.sigma > 0):
            raise CrevalError(f"perturbation scale sigma must be a number > 0, got {self.sigma!r}")
        if self.layers is not None and (not self.layers or any(c in self.layers for c in ":|")):
            raise CrevalError(f"--layers {self.layers!r}: give a glob over parameter names without ':' or '|'")

    @property
    def label(self) -> str:
        return ":".join([canonical_number(float(self.sigma)), str(self.seed), *([self.layers] if self.layers else [])])

    @classmethod
    def parse(cls, label: str) -> Perturbation:
        parts = label.split(":")
        try:
            if len(parts) not in (2, 3):
                raise ValueError
            return cls(float(parts[0]), int(parts[1]), parts[2] if len(parts) == 3 else None)
        except ValueError:
            raise CrevalError(f"perturbation {label!r}: expected SIGMA:SEED[:LAYERS], e.g. 0.01:0") from None

    def selected(self, model: Any) -> list[tuple[str, Any]]:
        """(name, parameter) of the tensors this perturbation changes; a glob that matches none is an error."""
        params = [(n, p) for n, p in model.named_parameters() if p.is_floating_point()]
        chosen = [(n, p) for n, p in params if self.layers is None or fnmatch(n, self.layers)]
        if not chosen:
            names = ", ".join(n for n, _ in params[:6])
            raise CrevalError(f"--layers {self.layers!r} matches no parameter of the model (some are: {names} ...)")
        return chosen

    def apply(self, model: Any, keep: bool = True) -> dict[str, Any]:
        """Add the noise to ``model``'s parameters in place; returns (``keep``) the changed tensors'
        unperturbed values, CPU copies by parameter name, for ``restore``."""
        import torch

        chosen = self.selected(model)
        scales = {name: float(param.detach().double().pow(2).mean().sqrt()) for name, param in chosen}
        if not any(scales.values()):
            raise CrevalError(f"--layers {self.layers!r} selects only all-zero tensors ({', '.join(list(scales)[:4])} ...): "
                              "noise relative to their RMS (0) would leave the weights unchanged")
        saved = {name: param.detach().to("cpu", copy=True) for name, param in chosen} if keep else {}
        with torch.no_grad():
            for name, param in chosen:
                rms = scales[name]
                digest = hashlib.sha256(f"{self.seed}\0{name}".encode()).digest()
                generator = torch.Generator().manual_seed(int.from_bytes(digest[:8], "little") & ((1 << 63) - 1))
                noise = torch.randn(tuple(param.shape), generator=generator, dtype=torch.float32)
                param.add_((noise * (self.sigma * rms)).to(device=param.device, dtype=param.dtype))
        return saved


def restore(model: Any, saved: dict[str, Any]) -> None:
    """Put back the values ``Perturbation.apply`` returned: the weights are again exactly the unperturbed ones."""
    import torch

    params = dict(model.named_parameters())
    with torch.no_grad():
        for name, value in saved.items():
            params[name].copy_(value)
