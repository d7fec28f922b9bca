"""Knowledge: the YAML catalog (cards, compatibility tables, model presets), loaded and validated.

Public entry point: ``load_knowledge(extra_dir)`` → ``Knowledge``. No torch, no NVML here.
"""
