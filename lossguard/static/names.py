"""The PyTorch names the static observer recognises, as data: activations, layers, casts, one-hot builders.

Qualified names are canonical (`torch.nn.Sigmoid`, `torch.nn.functional.softmax`); `canonical()` maps the
internal module paths users sometimes import from (`torch.nn.modules.activation.Sigmoid`) onto them.
"""

from __future__ import annotations

from lossguard.contracts import BY_FUNCTIONAL, BY_MODULE, Kind, LossContract

P, D, L, N = Kind.PROBABILITIES, Kind.DISTRIBUTION, Kind.LOG_DISTRIBUTION, Kind.NONNEGATIVE

# Functions whose result has a known kind, given the tensor they are applied to.
ACTIVATION_FUNCTIONS: dict[str, Kind] = {
    "torch.sigmoid": P, "torch.nn.functional.sigmoid": P, "torch.special.expit": P,
    "torch.softmax": D, "torch.nn.functional.softmax": D, "torch.special.softmax": D,
    "torch.log_softmax": L, "torch.nn.functional.log_softmax": L, "torch.special.log_softmax": L,
    "torch.relu": N, "torch.nn.functional.relu": N, "torch.nn.functional.softplus": N, "torch.exp": N,
}

# Tensor methods with the same meaning: `logits.sigmoid()`.
ACTIVATION_METHODS: dict[str, Kind] = {
    "sigmoid": P, "softmax": D, "log_softmax": L, "relu": N, "exp": N,
}

# Layers that apply an activation: `nn.Sigmoid()` at the end of a Sequential or stored on self.
ACTIVATION_LAYERS: dict[str, Kind] = {
    "torch.nn.Sigmoid": P, "torch.nn.Softmax": D, "torch.nn.LogSoftmax": L,
    "torch.nn.ReLU": N, "torch.nn.Softplus": N, "torch.nn.ReLU6": N,
}

# Layers whose output is an affine map with no activation: a head built from one of these returns logits.
LINEAR_LAYERS = frozenset({"torch.nn.Linear", "torch.nn.LazyLinear", "torch.nn.Bilinear"})

SEQUENTIAL = "torch.nn.Sequential"

# Layers whose output is their input as far as a loss is concerned: regularisation and normalisation.
TRANSPARENT_LAYERS = frozenset({
    "torch.nn.Dropout", "torch.nn.Dropout1d", "torch.nn.Dropout2d", "torch.nn.AlphaDropout", "torch.nn.Identity",
})
# Functions that join tensors: the result holds what every part holds.
JOINING_FUNCTIONS = frozenset({"torch.cat", "torch.stack", "torch.concat", "torch.concatenate"})

# Methods that move or copy a tensor without changing what its values mean, its shape or its dtype (reshapes and
# casts have their own handling; `view_as`/`reshape_as`/`type_as` take another tensor's shape or dtype).
PRESERVING_METHODS = frozenset({"cuda", "cpu", "contiguous", "clone", "detach", "clamp", "clamp_", "clip", "clip_", "clamp_min", "clamp_min_"})
TAKING_OTHERS_METADATA = frozenset({"view_as", "reshape_as", "type_as"})
# In-place methods that give a tensor new values and keep its shape and dtype.
FILLING_METHODS = frozenset({"fill_", "zero_", "uniform_", "normal_", "random_", "bernoulli_"})
# Wrappers that return their tensor argument unchanged (the pre-0.4 autograd API).
IDENTITY_FUNCTIONS = frozenset({
    "torch.autograd.Variable", "torch.autograd.variable.Variable",
    "copy.copy", "copy.deepcopy",  # a copy of a loss or a model is the same kind of object
})
PRESERVING_FUNCTIONS = frozenset({
    "torch.squeeze", "torch.unsqueeze", "torch.flatten", "torch.reshape", "torch.clamp", "torch.clip", "torch.clamp_min",
    "torch.transpose", "torch.permute",
})

# Casts to a floating dtype, by tensor method and by dtype name.
FLOAT_CAST_METHODS = {"float": "float32", "double": "float64", "half": "float16", "bfloat16": "bfloat16"}
INTEGER_CAST_METHODS = {"long": "int64", "int": "int32", "short": "int16", "byte": "uint8", "bool": "bool"}
DTYPES = {
    "torch.float": "float32", "torch.float32": "float32", "torch.float64": "float64", "torch.double": "float64",
    "torch.float16": "float16", "torch.half": "float16", "torch.bfloat16": "bfloat16",
    "torch.long": "int64", "torch.int64": "int64", "torch.int": "int32", "torch.int32": "int32",
    "torch.int16": "int16", "torch.short": "int16", "torch.uint8": "uint8", "torch.bool": "bool",
    "torch.FloatTensor": "float32", "torch.DoubleTensor": "float64", "torch.LongTensor": "int64",
    "torch.cuda.FloatTensor": "float32", "torch.cuda.LongTensor": "int64",
}
# Constructors whose dtype is in the name: torch.FloatTensor(labels).
TYPED_CONSTRUCTORS = {
    "torch.FloatTensor": "float32", "torch.DoubleTensor": "float64", "torch.HalfTensor": "float16",
    "torch.LongTensor": "int64", "torch.IntTensor": "int32",
    "torch.cuda.FloatTensor": "float32", "torch.cuda.LongTensor": "int64",
}
# Constructors that take `dtype=`: torch.tensor(labels, dtype=torch.float32).
DTYPE_CONSTRUCTORS = frozenset({"torch.tensor", "torch.as_tensor", "torch.asarray", "torch.from_numpy"})

ONE_HOT_FUNCTIONS = frozenset({
    "torch.nn.functional.one_hot", "keras.utils.to_categorical", "tensorflow.keras.utils.to_categorical",
    "keras.utils.np_utils.to_categorical", "pandas.get_dummies",
})
EYE_FUNCTIONS = frozenset({"torch.eye", "numpy.eye", "numpy.identity"})

# Context managers and decorators under which a loss call is evaluation, not training.
NO_GRAD = frozenset({"torch.no_grad", "torch.inference_mode", "torch.autograd.no_grad"})
INFERENCE_METHODS = frozenset({
    "predict", "predict_proba", "predict_step", "inference", "validation_step", "test_step",
    "on_validation_epoch_end", "on_test_epoch_end",
})


def canonical(qualified: str) -> str:
    """Map internal torch module paths onto the public ones: torch.nn.modules.loss.BCELoss -> torch.nn.BCELoss."""
    if qualified.startswith("torch.nn.modules."):
        return "torch.nn." + qualified.rsplit(".", 1)[-1]
    return qualified


def loss_module(qualified: str) -> LossContract | None:
    if qualified.startswith("torch.nn.") and qualified.count(".") == 2:
        return BY_MODULE.get(qualified[len("torch.nn."):])
    return None


def loss_function(qualified: str) -> LossContract | None:
    if qualified.startswith("torch.nn.functional."):
        return BY_FUNCTIONAL.get(qualified[len("torch.nn.functional."):])
    return None

# Layers whose output is a sequence, rank 3: (batch, length, features) or (length, batch, features).
RECURRENT_LAYERS = frozenset({"torch.nn.LSTM", "torch.nn.GRU", "torch.nn.RNN"})  # return (output, state)
SEQUENCE_LAYERS = frozenset({
    "torch.nn.TransformerEncoder", "torch.nn.TransformerDecoder", "torch.nn.Transformer",
    "torch.nn.TransformerEncoderLayer", "torch.nn.TransformerDecoderLayer",
})

# Factories whose shape the size arguments give, and their default dtype.
SIZED_FACTORIES = {
    "torch.zeros": "float32", "torch.ones": "float32", "torch.rand": "float32", "torch.randn": "float32",
    "torch.empty": "float32", "numpy.zeros": "float64", "numpy.ones": "float64",
}
ZERO_FACTORIES = frozenset({"torch.zeros", "numpy.zeros"})
SCATTER_METHODS = frozenset({"scatter", "scatter_"})
RANDINT = "torch.randint"

# Operations that cut the autograd graph: their result cannot train anything.
NONDIFF_FUNCTIONS = {"torch.argmax": "argmax", "torch.argmin": "argmin", "torch.round": "round"}
NONDIFF_METHODS = {"argmax": "argmax", "argmin": "argmin", "round": "round"}

LOG_FUNCTIONS = frozenset({"torch.log"})

# Module methods that return the module itself, and wrappers whose call runs the wrapped model's forward.
MODULE_RETURNS_SELF = frozenset({
    "to", "cuda", "cpu", "double", "float", "half", "bfloat16", "train", "eval", "requires_grad_", "type",
    "to_empty", "share_memory",
})
# Module methods that read the module and never set its attributes: an object given attributes keeps them.
MODULE_READS = frozenset({
    "parameters", "named_parameters", "buffers", "named_buffers", "children", "named_children", "modules",
    "named_modules", "state_dict", "zero_grad",
})
MODEL_WRAPPERS = frozenset({
    "torch.nn.DataParallel", "torch.nn.parallel.DataParallel", "torch.nn.parallel.DistributedDataParallel",
    "torch.nn.parallel.distributed.DistributedDataParallel", "torch.compile", "torch.jit.script",
    # quantization and pruning preparation return the same model, with observers or masks added
    "torch.quantization.prepare", "torch.quantization.prepare_qat", "torch.ao.quantization.prepare",
    "torch.ao.quantization.prepare_qat", "torch.quantization.fuse_modules", "torch.ao.quantization.fuse_modules",
    "torch.nn.SyncBatchNorm.convert_sync_batchnorm",
})
BACKWARD_CALLS = frozenset({"backward", "manual_backward"})  # loss.backward(), accelerator.backward(loss)
REDUCING_METHODS = frozenset({"mean", "sum"})
MEANS = frozenset({"torch.mean"})

# Factories of record types: calling what they return makes a record with these fields.
RECORD_FACTORIES = frozenset({"collections.namedtuple", "typing.NamedTuple"})
# The data pipeline: loaders iterate batches of a dataset's samples (see data.py).
DATA_LOADERS = frozenset({"torch.utils.data.DataLoader", "torch.utils.data.dataloader.DataLoader"})
TENSOR_DATASETS = frozenset({"torch.utils.data.TensorDataset", "torch.utils.data.dataset.TensorDataset"})
DATASET_SPLITS = frozenset({"torch.utils.data.random_split", "torch.utils.data.Subset",
                            "torch.utils.data.dataset.random_split", "torch.utils.data.dataset.Subset"})
LIGHTNING_TRAINERS = frozenset({
    "pytorch_lightning.Trainer", "pytorch_lightning.trainer.Trainer", "lightning.Trainer", "lightning.pytorch.Trainer",
    "lightning.pytorch.trainer.Trainer", "lightning.fabric.Trainer",
})
PROGRESS_BARS = frozenset({"tqdm", "tqdm.tqdm", "tqdm.auto.tqdm", "tqdm.notebook.tqdm", "tqdm.autonotebook.tqdm"})
ARGUMENT_PARSER = "argparse.ArgumentParser"


def is_known(qualified: str) -> bool:
    """True for a torch name the observer models (what `from torch.nn import *` may bring into a module)."""
    return (loss_module(qualified) is not None or loss_function(qualified) is not None
            or qualified in ACTIVATION_FUNCTIONS or qualified in ACTIVATION_LAYERS or qualified in LINEAR_LAYERS
            or qualified == SEQUENTIAL or qualified in RECURRENT_LAYERS or qualified in SEQUENCE_LAYERS
            or qualified in ONE_HOT_FUNCTIONS or qualified in MODEL_WRAPPERS)

# Import roots that are never the project's own code: no file lookup for them.
EXTERNAL_ROOTS = frozenset({
    "torch", "numpy", "np", "pandas", "scipy", "sklearn", "torchvision", "torchaudio", "torchtext", "keras",
    "tensorflow", "jax", "transformers", "pytorch_lightning", "lightning", "os", "sys", "math", "random",
    "collections", "typing", "functools", "itertools", "dataclasses", "pathlib", "json", "time", "logging",
    "argparse", "timm", "tqdm", "matplotlib", "PIL", "cv2", "yaml", "wandb", "re", "copy", "abc", "enum",
})
# Clamps that bound a value from below when given a minimum: (where the minimum is, positionally, for the method form).
CLAMP_METHODS = frozenset({"clamp", "clamp_", "clip", "clip_", "clamp_min", "clamp_min_"})
CLAMP_FUNCTIONS = frozenset({"torch.clamp", "torch.clip", "torch.clamp_min"})
