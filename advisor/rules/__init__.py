"""Rules: pure functions from facts (Machine, bench results, Knowledge) to findings and recommendations.

No I/O and no torch/pynvml imports here. Each module owns one area: ``software`` (driver, CUDA and
PyTorch stack), ``health``, ``capabilities``, ``require``, ``performance`` and ``fit``.
"""
