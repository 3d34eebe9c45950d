#!/usr/bin/python3
"""fit-size.py: fits hl-triage's learned size model (sizemodel.c).

Reads the SIZEROW lines that test_triage_eval prints with HL_EVAL_SIZES=1 on
the TUNING sets only (HL_EVAL_TUNING_ONLY=1): per appeal its set, the true
size, and the model's inputs exactly as sizemodel.c computed them (hashed
character 1-3-gram buckets, the rules' verdict, the channel). Fits a
multinomial logistic regression (scikit-learn, Debian's python3-sklearn;
deterministic) and writes services/triage/size_model.h:

  HL_EVAL_TUNING_ONLY=1 HL_EVAL_SIZES=1 build/tests/test_triage_eval | \\
      scripts/fit-size.py > services/triage/size_model.h

--oof FILE writes, for HL_EVAL_SIZES_FROM, each appeal's size as the model
fitted without its fold decides it (for fitting the pair model on sizes as
good as they are on unseen text). --cv instead prints, for each C of the grid, the accuracy out of fold: fitted
on the other folds and scored on each fold in turn, a fold being one or two
whole tuning sets (one writer each), and the rules' own accuracy beside it.
The rule fixed before looking: the C with the best out-of-fold accuracy,
the smaller on a tie; FIT_C sets it for the export.
"""
import math
import os
import sys

import numpy as np
from scipy.sparse import csr_matrix, hstack
from sklearn.linear_model import LogisticRegression

SIZES = ["wish", "small", "large"]
# Folds by tuning set (the eval numbers its sets 0..10 in the order it
# reads them): the same grouping as scripts/cv-scorer.sh.
FOLDS = [(0, 1), (2, 3), (4, 5), (6, 7), (8,), (9,), (10,)]
GRID = [1, 3, 10, 30, 100]
C_DEFAULT = float(os.environ.get("FIT_C", 100))


def read(keys):
    sets, want, rules, buckets, dense = [], [], [], [], []
    nb = nd = None
    for line in sys.stdin:
        if not line.startswith("SIZEROW\t"):
            continue
        f = line.rstrip("\n").split("\t")
        sets.append(int(f[1].rsplit(".", 1)[1]))
        want.append(SIZES.index(f[4]))
        rules.append(SIZES.index(f[5]))
        buckets.append([int(b) for b in f[8].split(",")] if f[8] else [])
        dense.append([float(d) for d in f[9].split(",")])
        keys.append((f[2], f[10]))
    if not want:
        sys.exit("fit-size.py: no SIZEROW lines on stdin (HL_EVAL_SIZES=1)")
    return np.array(sets), np.array(want), np.array(rules), buckets, np.array(dense)


def matrix(buckets, dense, nbuckets):
    ind, ptr, val = [], [0], []
    for bs in buckets:
        u = 1 / math.sqrt(len(bs)) if bs else 0.0
        ind.extend(bs)
        val.extend([u] * len(bs))
        ptr.append(len(ind))
    grams = csr_matrix((val, ind, ptr), shape=(len(buckets), nbuckets))
    return hstack([grams, csr_matrix(dense)]).tocsr()


def fit(x, y, c):
    return LogisticRegression(C=c, max_iter=10000).fit(x, y)


def main():
    cv = sys.argv[1:] == ["--cv"]
    oof = sys.argv[1] if len(sys.argv) == 3 and sys.argv[2] == "--oof" else None
    oof = sys.argv[2] if len(sys.argv) == 3 and sys.argv[1] == "--oof" else oof
    if sys.argv[1:] and not cv and not oof:
        sys.exit("usage: fit-size.py [--cv | --oof FILE] < SIZEROW lines")
    nbuckets = int(os.environ.get("FIT_BUCKETS", 4096))
    keys = []
    sets, want, rules, buckets, dense = read(keys)
    x = matrix(buckets, dense, nbuckets)
    if oof:
        # Each appeal sized by the model fitted without its fold (C as for
        # the export), for HL_EVAL_SIZES_FROM: id, body, size a line.
        got = np.empty_like(want)
        for fold in FOLDS:
            test = np.isin(sets, fold)
            got[test] = fit(x[~test], want[~test], C_DEFAULT).predict(x[test])
        with open(oof, "w") as f:
            for (ident, body), g in zip(keys, got):
                f.write("%s\t%s\t%s\n" % (ident, body, SIZES[g]))
        print("fit-size.py: out-of-fold sizes for %d appeals (accuracy %.4f) in %s"
              % (len(want), (got == want).mean(), oof), file=sys.stderr)
        return
    if cv:
        print("rules alone: accuracy %.4f on %d appeals" % ((rules == want).mean(), len(want)))
        for c in GRID:
            oof = np.empty_like(want)
            for fold in FOLDS:
                test = np.isin(sets, fold)
                oof[test] = fit(x[~test], want[~test], c).predict(x[test])
            per = " ".join("%.3f" % (oof[np.isin(sets, f)] == want[np.isin(sets, f)]).mean()
                           for f in FOLDS)
            print("C %-5g out of fold %.4f   by fold %s" % (c, (oof == want).mean(), per))
        return
    m = fit(x, want, C_DEFAULT)
    assert list(m.classes_) == [0, 1, 2]
    w = m.coef_.astype(np.float32)
    b = m.intercept_.astype(np.float32)
    # What C will compute, from the weights as written: every appeal must
    # get sklearn's probabilities.
    z = x @ w.astype(np.float64).T + b.astype(np.float64)
    z -= z.max(axis=1, keepdims=True)
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    gap = np.abs(p - m.predict_proba(x)).max()
    if gap > 1e-4:
        sys.exit("fit-size.py: the exported weights stray from sklearn by %g" % gap)
    acc = (p.argmax(axis=1) == want).mean()
    out = sys.stdout
    out.write("/* size_model.h: GENERATED by scripts/fit-size.py from %d tuning appeals\n"
              " * (C %g; accuracy on them %.4f, the rules' %.4f). Do not edit. */\n"
              % (len(want), C_DEFAULT, acc, (rules == want).mean()))
    out.write("// clang-format off\n")
    out.write("#define S_SIZE_BUCKETS %d\n#define S_SIZE_DENSE %d\n" % (nbuckets, dense.shape[1]))
    out.write("static const float s_size_b[3] = {%s};\n" % ", ".join("%.9g" % v for v in b))
    out.write("static const float s_size_w[3][S_SIZE_BUCKETS + S_SIZE_DENSE] = {\n")
    for k in range(3):
        vals = ["%.9g" % v for v in w[k]]
        out.write("    {")
        for i in range(0, len(vals), 12):
            out.write(("" if i == 0 else "\n     ") + ", ".join(vals[i:i + 12]) + ",")
        out.write("},\n")
    out.write("};\n// clang-format on\n")
    print("fit-size.py: %d appeals, %d inputs, largest gap to sklearn %.2g"
          % (len(want), x.shape[1], gap), file=sys.stderr)


if __name__ == "__main__":
    main()
