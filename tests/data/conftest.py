"""Every data test runs cut off from real data, the user's cache and the network."""

from tests.data import helpers

fake_mnist = helpers.fake_mnist
isolated = helpers.isolated
