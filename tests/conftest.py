"""Strict settings for the whole suite: JAX raises on implicit rank promotion."""

from __future__ import annotations

import jax

jax.config.update("jax_numpy_rank_promotion", "raise")
