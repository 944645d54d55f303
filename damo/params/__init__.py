"""The parameter layer: DAMON's monitoring parameters (``damon``), DAMOS schemes
(``schemes``), the kernel modules' and samples' presets (``presets``), in damo's
kdamonds layout."""
