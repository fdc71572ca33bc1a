"""Sample-quality and likelihood measures (:mod:`~minnet.evaluation.metrics`) and the Fréchet
distance under FID (:mod:`~minnet.evaluation.frechet`)."""
