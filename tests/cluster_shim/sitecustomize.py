"""Test-only start-up hook for the Ray cluster tests: give one node recorded GPU facts, or a check that hangs.

Put on a node's PYTHONPATH through the raylet's environment (``Cluster.add_node(env_vars=...)``); every Python
the node starts runs it, so it acts only inside `python -m advisor check` (``ADVISOR_TEST_*`` variables):
- ``ADVISOR_TEST_FAKE_NVML=<nvidia-smi -q -x dump>`` (+ ``ADVISOR_TEST_DRIVER``): the fake NVML fed from it;
- ``ADVISOR_TEST_CHECK_SLEEP=<seconds>``: the check sleeps first (a wedged driver, or time to kill the node).
"""

import os
import sys


def _in_advisor_check() -> bool:
    argv = getattr(sys, "orig_argv", sys.argv)
    return "advisor" in argv and "check" in argv


if _in_advisor_check():
    if os.environ.get("ADVISOR_TEST_CHECK_SLEEP"):
        import time

        time.sleep(float(os.environ["ADVISOR_TEST_CHECK_SLEEP"]))
    if os.environ.get("ADVISOR_TEST_FAKE_NVML"):
        from pathlib import Path

        sys.path.insert(0, os.environ["ADVISOR_TEST_REPO"])
        from tests.fakes.fake_nvml import FakeNvml, load_smi_xml

        dump = Path(os.environ["ADVISOR_TEST_FAKE_NVML"])
        driver = os.environ.get("ADVISOR_TEST_DRIVER", "590.44.01")
        sys.modules["pynvml"] = FakeNvml(load_smi_xml(dump), driver_version=driver)  # type: ignore[assignment]
