"""The array backends of the portable tier: array-api-strict, torch (CPU) and JAX (CPU).

Each backend is a fixture parameter; a backend that is not installed is
skipped. JAX runs with 64-bit floats enabled (``jax_enable_x64``), so that
float64 is tested on it as on the others.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest


@dataclass(frozen=True)
class Backend:
    """How a test makes arrays of one namespace and reads them back."""

    name: str
    xp: Any
    floats: tuple[str, ...]  # the float dtypes this backend has

    def asarray(self, a: Any, dtype: str | None = None) -> Any:
        a = np.asarray(a)
        if dtype is not None:
            a = a.astype(dtype)
        if self.name == "torch":
            import torch

            return torch.from_numpy(np.array(a))
        return self.xp.asarray(a)

    def numpy(self, a: Any) -> np.ndarray:
        if self.name == "torch":
            return a.detach().cpu().numpy()
        if self.name == "strict":
            return np.from_dlpack(a)
        return np.asarray(a)

    def dtype(self, name: str) -> Any:
        return getattr(self.xp, name)


def _strict() -> Backend:
    import array_api_strict

    return Backend("strict", array_api_strict, ("float32", "float64"))


def _torch() -> Backend:
    import torch

    return Backend("torch", torch, ("float16", "float32", "float64"))


def _jax() -> Backend:
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    return Backend("jax", jnp, ("float16", "float32", "float64"))


_MAKERS = {
    "strict": ("array_api_strict", _strict),
    "torch": ("torch", _torch),
    "jax": ("jax", _jax),
}


@pytest.fixture(params=list(_MAKERS))
def backend(request) -> Backend:
    module, make = _MAKERS[request.param]
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is not installed")
    return make()


@pytest.fixture(params=["torch", "jax"])
def autodiff(request) -> Backend:
    """The backends with automatic differentiation."""
    module, make = _MAKERS[request.param]
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is not installed")
    return make()


def grad(backend: Backend, f, *args: np.ndarray, argnum: int = 0) -> np.ndarray:
    """The gradient of the scalar ``f`` in argument ``argnum``, by the backend's autodiff."""
    if backend.name == "torch":
        import torch

        tensors = [torch.tensor(a, requires_grad=(i == argnum)) for i, a in enumerate(args)]
        (g,) = torch.autograd.grad(f(*tensors), tensors[argnum])
        return g.numpy()
    import jax

    return np.asarray(jax.grad(f, argnums=argnum)(*(backend.asarray(a) for a in args)))
