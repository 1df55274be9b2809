"""Figures (matplotlib, Agg backend): image grids, latent maps, curves."""
