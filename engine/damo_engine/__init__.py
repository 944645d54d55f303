"""damo_engine: the Cython core that simulates memory and runs DAMON on it."""
