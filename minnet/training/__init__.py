"""Training runs: the loop over epochs (:mod:`~minnet.training.runner`), the checkpoint file
(:mod:`~minnet.training.checkpoint`) and the progress bar (:mod:`~minnet.training.progress`)."""
