"""Builds the Cython engine: package ``damo_engine``, sources in ``engine/damo_engine/``."""
import glob
import os
import platform

from Cython.Build import cythonize
from setuptools import Extension, setup

ENGINE_DIR = os.path.join("engine", "damo_engine")
CFLAGS = ["-O2"]
if platform.machine() in ("x86_64", "AMD64"):
    CFLAGS.append("-mpopcnt")       # page-bit counting; every x86-64 since 2008 has it

extensions = [
    Extension("damo_engine." + os.path.splitext(os.path.basename(src))[0], [src],
              include_dirs=[ENGINE_DIR], extra_compile_args=CFLAGS)
    for src in sorted(glob.glob(os.path.join(ENGINE_DIR, "*.pyx")))
] + [
    # the inner loops of reading and printing recordings (optional: damo.records
    # and damo.reports fall back to numpy when it is not built)
    Extension("damo.records._cscan", [os.path.join("damo", "records", "_cscan.pyx")],
              extra_compile_args=["-O2"]),
    # report trace's lines of decoded perf.data (optional as well)
    Extension("damo.reports._ctrace", [os.path.join("damo", "reports", "_ctrace.pyx")],
              extra_compile_args=["-O2"]),
    # report heatmap's pixels (optional as well), without FMA contraction:
    # its heats must round as numpy's separate multiply and add do
    Extension("damo.reports._cpaint", [os.path.join("damo", "reports", "_cpaint.pyx")],
              extra_compile_args=["-O2", "-ffp-contract=off"]),
]

setup(
    ext_modules=cythonize(
        extensions,
        include_path=["engine"],
        compiler_directives={
            "language_level": 3,
            "boundscheck": False,
            "wraparound": False,
            "initializedcheck": False,
            "cdivision": True,
            "embedsignature": True,
        },
    ),
)
