"""The classification datasets: one module per dataset (catalog entry,
metadata, converter) and their shared helpers.

Converters need the extra: ``pip install "dings-sets[classification]"``.
"""
