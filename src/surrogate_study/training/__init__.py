"""Training runs: one run or K grid cells at once with checkpoints and divergence handling (:mod:`.trainer`),
per-cell Adam (:mod:`.optim`) and the allocator setting for long jobs (:mod:`.allocator`)."""
