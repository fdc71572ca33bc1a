"""What makes minnet fast, kept out of the layers' first read: CPU threads for memory-bound
copies (:mod:`~minnet.speed.threads`), keeping freed memory for reuse
(:mod:`~minnet.speed.memory`) and the fused CUDA kernels (:mod:`~minnet.speed.kernels`)."""
