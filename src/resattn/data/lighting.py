"""AlexNet-style PCA lighting noise (Krizhevsky et al., 2012), the "colour augmentation" of the ImageNet recipe."""

from __future__ import annotations

from collections.abc import Sequence

import torch

__all__ = ["IMAGENET_PCA_EIGVAL", "IMAGENET_PCA_EIGVEC", "PCALighting"]

# Eigen-decomposition of the RGB pixel covariance of ImageNet training images, pixels scaled to [0, 1].
# Columns of the eigenvector matrix are the principal components.
IMAGENET_PCA_EIGVAL: tuple[float, float, float] = (0.2175, 0.0188, 0.0045)
IMAGENET_PCA_EIGVEC: tuple[tuple[float, float, float], ...] = (
    (-0.5675, 0.7192, 0.4009),
    (-0.5808, -0.0045, -0.8140),
    (-0.5836, -0.6948, 0.4203),
)


class PCALighting:
    """Adds ``eigvec @ (alpha * eigval)`` to every pixel, with ``alpha ~ N(0, alpha_std^2)`` drawn per image.

    This shifts the image colour along the principal components of natural-image colour, so the net learns invariance
    to illumination intensity and colour. Apply to float RGB tensors in ``[0, 1]`` before normalisation.

    Args:
        alpha_std: Standard deviation of the per-component coefficients (0.1 in AlexNet).
        eigval: Principal-component variances (3 values).
        eigvec: 3x3 matrix whose columns are the principal components.
    """

    def __init__(
        self,
        alpha_std: float = 0.1,
        eigval: Sequence[float] = IMAGENET_PCA_EIGVAL,
        eigvec: Sequence[Sequence[float]] = IMAGENET_PCA_EIGVEC,
    ) -> None:
        if alpha_std < 0:
            raise ValueError(f"PCALighting alpha_std must be >= 0, got {alpha_std}")
        self.alpha_std = alpha_std
        self.eigval = torch.tensor(eigval, dtype=torch.float32)
        self.eigvec = torch.tensor(eigvec, dtype=torch.float32)
        if self.eigval.shape != (3,) or self.eigvec.shape != (3, 3):
            raise ValueError("PCALighting needs 3 eigenvalues and a 3x3 eigenvector matrix")

    def __call__(self, image: torch.Tensor) -> torch.Tensor:
        if self.alpha_std == 0:
            return image
        if not image.is_floating_point() or image.shape[-3] != 3:
            raise TypeError(f"PCALighting expects a float RGB (3, H, W) tensor, got {image.dtype} {tuple(image.shape)}")
        alpha = torch.randn(3) * self.alpha_std
        offset = self.eigvec @ (alpha * self.eigval)
        return image + offset.view(3, 1, 1)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(alpha_std={self.alpha_std})"
