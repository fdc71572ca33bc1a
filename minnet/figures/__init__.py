"""Pictures: sample grids and PNG/GIF files (:mod:`~minnet.figures.images`), curves
(:mod:`~minnet.figures.plots`), text and file writing (:mod:`~minnet.figures.drawing`)."""
