"""nablakit.training: the chapters' one namespace gathers the topic modules and defines nothing itself."""

import importlib

import nablakit.training as tr


def test_every_name_comes_from_its_topic_module():
    public = {name for name in vars(tr) if name.isidentifier() and not name.startswith("_") and name != "annotations"}
    assert sorted(tr.__all__) == sorted(public)
    for name in tr.__all__:
        obj = getattr(tr, name)
        if callable(obj):
            home = importlib.import_module(obj.__module__)
            assert obj.__module__ != "nablakit.training" and getattr(home, name) is obj, name


def test_the_names_the_chapters_use_are_there():
    used = {"train_mlp", "mlp_loss_stack", "clip_by_value", "clip_by_global_norm", "angle_between",
            "micro_batch_slices", "accumulated_mse_gradient", "equal_weight_mse_gradient", "checkpoint_table",
            "float16_roundtrip", "underflow_fraction", "overflow_fraction", "gaussian_loglik_grad",
            "gaussian_fisher", "gaussian_natural_gradient", "gaussian_ngd_path", "gaussian_gd_path"}
    assert used <= set(tr.__all__)
