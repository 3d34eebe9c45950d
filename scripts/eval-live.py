#!/usr/bin/env python3
"""eval-live.py: posts one labelled set of appeals to a running hl-intake, waits
until hl-triage has decided every one, and scores the decisions as stored in
PostgreSQL — what a new user would measure, through the real daemons.

  scripts/eval-live.py URL PSQL-ARGS SET.jsonl

URL is hl-intake's base URL; PSQL-ARGS the arguments psql needs to reach the
database (one string, split on spaces). Appeals are posted one at a time in
file order (the order the offline replay uses). Prints one line of figures and
one "COUNTS" line (n sized routed tp fp fn) for eval-live.sh to add up.

Size is scored twice: the rules' (triage.case.size) and as routed (the size
of the item the appeal is in, what hl-intake shows). Pairs are all pairs of
appeals whose compounds lie in one community (the org tree's), as in
tests/unit/test_triage_eval.c. Plain Python, no packages.
"""
import json
import subprocess
import sys
import time
import urllib.request


CHANNELS = ("qr", "mailbox", "visit", "web", "platform", "phone")


def post(url, row):
    # A channel the API does not know (one old set says "mixed") goes as web.
    channel = row["channel"] if row["channel"] in CHANNELS else "web"
    body = json.dumps({
        "channel": channel,
        "org_unit": "cp%03d" % row["compound"],
        "body": row["body"],
    }).encode()
    req = urllib.request.Request(url + "/v1/appeals", data=body,
                                 headers={"Content-Type": "application/json"})
    for attempt in range(20):
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return json.loads(r.read())["id"]
        except urllib.error.HTTPError as e:
            if e.code in (429, 503):
                time.sleep(0.2 * (attempt + 1))
                continue
            sys.exit("eval-live: %s refused %s: %s" % (url, row["id"], e.read()[:300]))
    sys.exit("eval-live: %s kept refusing %s" % (url, row["id"]))


def psql(args, sql):
    out = subprocess.run(["psql", "-X", "-qAt", "-F", "\t"] + args.split() + ["-c", sql],
                         check=True, capture_output=True, text=True).stdout
    return [line.split("\t") for line in out.splitlines() if line]


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    url, args, path = sys.argv[1], sys.argv[2], sys.argv[3]
    rows = [json.loads(line) for line in open(path, encoding="utf-8") if line.strip()]
    ids = [post(url, r) for r in rows]
    want = {i: r for i, r in zip(ids, rows)}
    id_list = "'{" + ",".join(ids) + "}'"
    deadline = time.time() + 300
    while True:
        n = int(psql(args, "SELECT count(*) FROM triage.case WHERE appeal_id = ANY(%s::uuid[])"
                     % id_list)[0][0])
        if n == len(ids):
            break
        if time.time() > deadline:
            sys.exit("eval-live: only %d of %d appeals have a case after 300 s" % (n, len(ids)))
        time.sleep(0.5)
    got = {}
    for appeal, item, size, routed, community in psql(
            args,
            "SELECT c.appeal_id, c.item_id, c.size, i.size, i.community FROM triage.case c"
            " JOIN triage.item i ON i.id = c.item_id WHERE c.appeal_id = ANY(%s::uuid[])"
            % id_list):
        got[appeal] = (item, size, routed, community)
    n = len(ids)
    sized = sum(got[a][1] == want[a]["size"] for a in ids)
    routed = sum(got[a][2] == want[a]["size"] for a in ids)
    tp = fp = fn = 0
    for x in range(n):
        for y in range(x + 1, n):
            a, b = ids[x], ids[y]
            if got[a][3] != got[b][3]:
                continue  # two communities: never one item
            same = got[a][0] == got[b][0]
            truth = want[a]["matter"] == want[b]["matter"]
            tp += same and truth
            fp += same and not truth
            fn += truth and not same
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    items = len({got[a][0] for a in ids})
    print("%s: %d appeals, size %.3f (routed %.3f); precision %.3f recall %.3f F1 %.3f; %d items"
          % (path, n, sized / n, routed / n, p, r, f1, items))
    print("COUNTS %d %d %d %d %d %d" % (n, sized, routed, tp, fp, fn))


if __name__ == "__main__":
    main()
