"""The ``minnet`` command line (click): parsing and wiring only; the work lives in minnet."""
