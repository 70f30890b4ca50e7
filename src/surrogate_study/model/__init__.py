"""The spiking network: surrogate shapes as autograd Functions (:mod:`.surrogates`), the reference LIF and readout
dynamics (:mod:`.lif`), the classifier of K grid cells (:mod:`.network`), activity regularizers
(:mod:`.regularizers`) and the shapes as snnTorch ``spike_grad`` (:mod:`.snntorch_compat`)."""
