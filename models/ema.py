"""An exponential moving average of a network's weights, for sampling a GAN's generator.

A GAN's generator never settles: each update answers the discriminator of the moment, so its
weights circle around a good solution, and samples from any single step carry that step's
fashion (a stroke too thick, a 2 whose tail curls this week). Averaging the weights over the
last few hundred steps (Yazici et al. 2019, "The unusual effectiveness of averaging in GAN
training"; Karras et al. 2018 and Brock et al. 2019 sample from such an average) cancels the
circling. The average is only read, never trained: the generator keeps its own weights.

After update number t, with theta the network's weights and beta the decay::

    theta_avg <- d_t theta_avg + (1 - d_t) theta,    d_t = beta (1 - beta^(t-1)) / (1 - beta^t)

which makes theta_avg exactly the normalised exponential average
``sum_s beta^(t-s) theta_s / sum_s beta^(t-s)`` of the weights after updates 1..t: the
first update copies the weights (d_1 = 0), nothing of the random initial weights remains,
and the window is about ``1 / (1 - beta)`` updates from the start (the bias correction of
Adam's moments, in the form of a weight). Batch-norm running statistics are averaged in the
same way, so the average network normalises with statistics of weights like its own.
"""

import copy

import numpy as np


class WeightAverage:
    """The moving average of ``network``'s parameters and buffers, as a network of its own.

    Parameters
    ----------
    network : Layer
        The network being trained; :meth:`update` reads its current weights.
    decay : float in (0, 1)
        beta above; the average spans about ``1 / (1 - decay)`` updates.

    Attributes
    ----------
    network : Layer
        A copy of the trained network holding the average (use it in inference mode).
    updates : int
        t above, the number of updates so far (saved with the average).
    """

    def __init__(self, network, decay):
        self.source = network
        self.network = copy.deepcopy(network)
        self.decay = decay
        self.updates = 0

    def update(self):
        """Move the average towards the source's current weights (one step of the formula)."""
        self.updates += 1
        beta, t = self.decay, self.updates
        d = beta * (1 - beta ** (t - 1)) / (1 - beta**t)
        for average, current in zip(self._arrays(self.network), self._arrays(self.source), strict=True):
            average *= d
            average += (1 - d) * current

    @staticmethod
    def _arrays(network):
        """Every parameter and buffer of ``network``, in a fixed order."""
        yield from (owner.params[key] for _, owner, key in network.parameter_slots())
        yield from (owner.buffers[key] for _, owner, key in network.buffer_slots())

    def state_dict(self):
        """The average's weights by qualified name, and ``"updates"``."""
        return {**self.network.state_dict(), "updates": np.asarray(self.updates)}

    def load_state_dict(self, state):
        """Restore from :meth:`state_dict`; raises KeyError/ValueError naming a bad entry."""
        self.network.load_state_dict({k: v for k, v in state.items() if k != "updates"})
        self.updates = int(state["updates"])
