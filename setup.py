"""Builds the Cython engine: package ``damo_engine``, sources in ``engine/damo_engine/``."""
import glob
import os

from Cython.Build import cythonize
from setuptools import Extension, setup

ENGINE_DIR = os.path.join("engine", "damo_engine")

extensions = [
    Extension("damo_engine." + os.path.splitext(os.path.basename(src))[0], [src],
              extra_compile_args=["-O2"])
    for src in sorted(glob.glob(os.path.join(ENGINE_DIR, "*.pyx")))
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
