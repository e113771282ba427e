"""Old home of the pipeline's figures, kept as an alias of
:mod:`infodyn.experiments.pipeline.figures`."""

from infodyn.experiments.pipeline.figures import *  # noqa: F403
