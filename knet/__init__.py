"""knet: a knowledge network node for municipalities."""
