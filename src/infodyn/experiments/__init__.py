"""Experiments: run directories, configs, sweeps and reports."""

from infodyn.experiments.rundir import RunDir

__all__ = ["RunDir"]
