"""`genmodels train {sparse,denoising,contractive}_autoencoder`: regularised AEs.

One module serves the three task names (registered in `tasks.TASKS`); the
options common to every autoencoder come from `tasks.autoencoder`, whose
`train` does the rest (fit, save, picture, export) with the model built
here.
"""

from keras_genmodels.tasks import autoencoder as _autoencoder

KINDS = ("sparse", "denoising", "contractive")


def _kind(name):
    for kind in KINDS:
        if name.endswith(f"{kind}_autoencoder"):
            return kind
    raise ValueError(f"expected one of {[k + '_autoencoder' for k in KINDS]}; received {name!r}")


def add_arguments(parser):
    _autoencoder.add_arguments(parser)
    parser.add_argument("--dropout", type=float, default=0.0,
                        help="dropout after each hidden layer (default 0)")
    kind = _kind(parser.prog.split()[-1])
    if kind == "sparse":
        parser.add_argument("--sparsity", choices=["kl", "l1"], default="kl")
        parser.add_argument("--sparsity-target", type=float, default=0.05, help="ρ (default 0.05)")
        parser.add_argument("--sparsity-weight", type=float, default=None,
                            help="β (default 3 for kl, 1e-3 for l1)")
    elif kind == "denoising":
        parser.add_argument("--corruption", choices=["gaussian", "masking", "salt_and_pepper"],
                            default="gaussian")
        parser.add_argument("--noise-level", type=float, default=0.5,
                            help="gaussian stddev or corruption probability (default 0.5)")
    else:
        parser.add_argument("--contractive-weight", type=float, default=1e-3, help="λ")
        parser.add_argument("--jacobian", choices=["auto", "closed_form", "exact", "vjp", "jvp"],
                            default="auto")
        parser.add_argument("--num-projections", type=int, default=1)


def build(args, input_shape):
    from keras_genmodels.models import regularized

    hidden = tuple(int(u) for u in args.hidden_units.split(",") if u.strip())
    common = dict(architecture=args.architecture, hidden_units=hidden,
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
    # Needs `tasks.autoencoder.train(args, build=build)` (a one-line change
    # proposed to the lead: `train(args, build=build)` there).
    return _autoencoder.train(args, build=build)
