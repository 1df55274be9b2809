"""`genmodels train {sparse,denoising,contractive}_autoencoder`: regularised AEs.

One module serves the three task names (registered in `tasks.TASKS`); the
options common to every autoencoder come from `tasks.autoencoder`, whose
`train` does the rest (fit, save, picture, export) with the model built
here.
"""

from keras_genmodels.tasks import autoencoder as _autoencoder
from keras_genmodels.tasks.arguments import (non_negative_float, open_probability,
                                             positive_int, probability)

KINDS = ("sparse", "denoising", "contractive")


def _kind(name):
    for kind in KINDS:
        if name.endswith(f"{kind}_autoencoder"):
            return kind
    raise ValueError(f"expected one of {[k + '_autoencoder' for k in KINDS]}; received {name!r}")


def add_arguments(parser):
    _autoencoder.add_arguments(parser)
    parser.add_argument("--dropout", type=probability, default=0.0,
                        help="dropout after each hidden layer (default 0)")
    kind = _kind(parser.prog.split()[-1])
    if kind == "sparse":
        parser.add_argument("--sparsity", choices=["kl", "l1"], default="kl")
        parser.add_argument("--sparsity-target", type=open_probability, default=0.05,
                            help="ρ (default 0.05)")
        parser.add_argument("--sparsity-weight", type=non_negative_float, default=None,
                            help="β (default 3 for kl, 1e-3 for l1)")
    elif kind == "denoising":
        parser.add_argument("--corruption", choices=["gaussian", "masking", "salt_and_pepper"],
                            default="gaussian")
        parser.add_argument("--noise-level", type=non_negative_float, default=0.5,
                            help="gaussian stddev or corruption probability (default 0.5)")
    else:
        parser.add_argument("--contractive-weight", type=non_negative_float, default=1e-3,
                            help="λ")
        parser.add_argument("--jacobian", choices=["auto", "closed_form", "exact", "vjp", "jvp"],
                            default="auto")
        parser.add_argument("--num-projections", type=positive_int, default=1)


def build(args, input_shape):
    from keras_genmodels.models import regularized

    common = dict(architecture=args.architecture, hidden_units=tuple(args.hidden_units),
                  reconstruction_loss=args.loss, dropout=args.dropout)
    kind = _kind(args.model)
    if kind == "sparse":
        return regularized.SparseAutoencoder(
            input_shape, args.code_size, sparsity=args.sparsity,
            sparsity_target=args.sparsity_target, sparsity_weight=args.sparsity_weight,
            code_activation="sigmoid" if args.sparsity == "kl" else "relu", **common)
    if kind == "denoising":
        return regularized.DenoisingAutoencoder(
            input_shape, args.code_size, corruption=args.corruption,
            noise_level=args.noise_level, seed=args.seed, **common)
    return regularized.ContractiveAutoencoder(
        input_shape, args.code_size, contractive_weight=args.contractive_weight,
        jacobian=args.jacobian, num_projections=args.num_projections, seed=args.seed,
        **common)


def train(args):
    return _autoencoder.train(args, build=build)
