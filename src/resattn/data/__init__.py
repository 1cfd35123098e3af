"""Data layer: datasets, transform presets, splits, label noise and samplers for Residual Attention Networks."""

from .cifar import CIFAR, CIFAR10_CLASSES
from .datasets import DATASET_NAMES, create_dataset, dataset_info
from .fake import FakeDataset
from .fashion_mnist import (
    DATA_ENV_VAR,
    FASHION_MNIST_CLASSES,
    FashionMNIST,
    fashion_mnist_search_dirs,
    load_fashion_mnist,
)
from .folder import ImageFolderDataset, ImageLoadError, load_rgb_image
from .idx import read_idx
from .label_noise import NoisyLabels, apply_label_noise
from .lighting import PCALighting
from .samplers import GlobalBatchSampler
from .soft_targets import SoftTargets
from .splits import train_val_split
from .tensor_transforms import NormalizeUint8, RandomHorizontalFlip, RandomPadCrop, ToFloatTensor, ToUint8Tensor
from .transforms import (
    CIFAR10_MEAN,
    CIFAR10_STD,
    CIFAR100_MEAN,
    CIFAR100_STD,
    DEFAULT_CROP_PCT,
    FASHION_MNIST_MEAN,
    FASHION_MNIST_STD,
    IMAGENET_MEAN,
    IMAGENET_STD,
    TRANSFORM_PRESETS,
    create_transform,
)
from .views import IndexedSubset, dataset_targets, with_transform

__all__ = [
    "CIFAR",
    "CIFAR10_CLASSES",
    "CIFAR10_MEAN",
    "CIFAR10_STD",
    "CIFAR100_MEAN",
    "CIFAR100_STD",
    "DATASET_NAMES",
    "DATA_ENV_VAR",
    "DEFAULT_CROP_PCT",
    "FASHION_MNIST_CLASSES",
    "FASHION_MNIST_MEAN",
    "FASHION_MNIST_STD",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "TRANSFORM_PRESETS",
    "GlobalBatchSampler",
    "FakeDataset",
    "FashionMNIST",
    "ImageFolderDataset",
    "ImageLoadError",
    "IndexedSubset",
    "NoisyLabels",
    "NormalizeUint8",
    "PCALighting",
    "RandomHorizontalFlip",
    "RandomPadCrop",
    "SoftTargets",
    "ToFloatTensor",
    "ToUint8Tensor",
    "apply_label_noise",
    "create_dataset",
    "create_transform",
    "dataset_info",
    "dataset_targets",
    "fashion_mnist_search_dirs",
    "load_fashion_mnist",
    "load_rgb_image",
    "read_idx",
    "train_val_split",
    "with_transform",
]
