"""Pictures: sample grids and PNG/GIF files (:mod:`~minnet.figures.images`), curves
(:mod:`~minnet.figures.plots`), text and file writing (:mod:`~minnet.figures.drawing`), and the
figures a training run redraws after every epoch (:mod:`~minnet.figures.run_figures`)."""
