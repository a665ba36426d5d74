"""The simulation engine: model state in arrays, the weekly schedule, kernels, outputs of one run.

Everything that steps a model lives here; studies, the dashboard and the workshop
are clients of :func:`copsim.engine.runner.simulate` and :class:`CopModel`.
"""
