"""``damo autotune``'s parts: the search space (space), the objectives
(objectives), the optuna search over damo.evaluation (search), and what it
shows and writes (report)."""
