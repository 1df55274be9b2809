"""Translation quality: exact match, token accuracy, corpus BLEU (sacrebleu).

All functions take `hypotheses` and `references` as equal-length lists of strings and return
a float in [0, 1] (exact match, token accuracy) or in [0, 100] (BLEU).
"""


def _check(hypotheses, references):
    hypotheses, references = list(hypotheses), list(references)
    if len(hypotheses) != len(references):
        raise ValueError(f"expected as many hypotheses as references, received "
                         f"{len(hypotheses)} and {len(references)}")
    if not references:
        raise ValueError("expected at least one reference, received none")
    return hypotheses, references


def _tokens(s, level):
    return list(s) if level == "char" else s.split()


def exact_match(hypotheses, references):
    """Share of hypotheses equal to their reference (after stripping outer whitespace)."""
    hypotheses, references = _check(hypotheses, references)
    return sum(h.strip() == r.strip() for h, r in zip(hypotheses, references)) / len(references)


def token_accuracy(hypotheses, references, level="char"):
    """Position-wise token accuracy: matching tokens / max(len(hyp), len(ref)), pooled.

    Extra or missing tokens count as errors, so an empty hypothesis scores 0 and only an
    exact match of every sentence scores 1.
    """
    hypotheses, references = _check(hypotheses, references)
    hits = total = 0
    for h, r in zip(hypotheses, references):
        h, r = _tokens(h, level), _tokens(r, level)
        hits += sum(a == b for a, b in zip(h, r))
        total += max(len(h), len(r))
    return hits / total if total else 1.0


def corpus_bleu(hypotheses, references, level="word"):
    """Corpus BLEU (0-100) with sacrebleu; `level="char"` uses sacrebleu's char tokenizer.

    Word level uses sacrebleu's default "13a" tokenisation, so scores are comparable with
    published sacreBLEU figures.
    """
    import sacrebleu

    hypotheses, references = _check(hypotheses, references)
    tokenize = "char" if level == "char" else "13a"
    return float(sacrebleu.corpus_bleu(hypotheses, [references], tokenize=tokenize).score)
