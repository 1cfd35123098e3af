"""SoftTargets: each training image's target mixes its label with the teacher's row for that image."""

import pytest
import torch
from torch.utils.data import Dataset

from resattn.data import IndexedSubset, SoftTargets


class Labelled(Dataset):
    def __init__(self, labels):
        self.targets = labels
        self.transform = None

    def __len__(self):
        return len(self.targets)

    def __getitem__(self, i):
        return torch.full((1,), float(i)), self.targets[i]


def test_a_target_takes_the_teacher_row_of_the_image_in_the_full_split():
    parent = Labelled([0, 1, 2, 0, 1, 2])
    teacher = torch.tensor([[0.1, 0.2, 0.7], [0.3, 0.3, 0.4], [0.5, 0.5, 0.0],
                            [0.0, 0.0, 1.0], [0.6, 0.2, 0.2], [0.2, 0.2, 0.6]])
    soft = SoftTargets(IndexedSubset(parent, [1, 3, 5]), teacher, weight=0.25)
    image, target = soft[1]  # parent item 3: label 0, teacher row [0, 0, 1]
    assert image.item() == 3.0
    assert torch.allclose(target, torch.tensor([0.75, 0.0, 0.25]))
    assert torch.allclose(torch.stack([soft[i][1] for i in range(len(soft))]).sum(dim=1), torch.ones(3))
    assert soft.targets.tolist() == [1, 0, 2]


def test_bad_weights_and_short_tables_are_refused():
    subset = IndexedSubset(Labelled([0, 1, 2]), [0, 2])
    with pytest.raises(ValueError, match="weight"):
        SoftTargets(subset, torch.full((3, 3), 1 / 3), weight=1.5)
    with pytest.raises(ValueError, match="2 rows"):
        SoftTargets(subset, torch.full((2, 3), 1 / 3), weight=0.5)
