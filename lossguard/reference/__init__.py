"""Reference models: the right model/loss/target combination for each task, their broken twins, and the demo.

Needs torch; nothing in `lossguard check` imports it. `models` holds the three correct models and target helpers,
`twins` one broken variant per runtime-detected pitfall, `data` seeded synthetic data, `training` the `fit` loop,
`floors` the lowest loss each pitfall allows, `outcomes` runs a task's variants under both observers, and `demo`
is `lossguard demo`.
"""

from lossguard.reference.data import Dataset, binary_data, make_data, multiclass_data, regression_data
from lossguard.reference.models import (
    REFERENCES,
    LinearRegressor,
    LogisticClassifier,
    SoftmaxClassifier,
    binary_target,
    multiclass_target,
    regression_target,
)
from lossguard.reference.training import History, fit, fit_reference, seeded

__all__ = [
    "REFERENCES", "Dataset", "History", "LinearRegressor", "LogisticClassifier", "SoftmaxClassifier",
    "binary_data", "binary_target", "fit", "fit_reference", "make_data", "multiclass_data", "multiclass_target",
    "regression_data", "regression_target", "seeded",
]
