"""Training runs: the loop over epochs (:mod:`~minnet.training.runner`), the checkpoint file
(:mod:`~minnet.training.checkpoint`), the JSON-lines logs (:mod:`~minnet.training.logs`) and the
progress bar (:mod:`~minnet.training.progress`)."""
